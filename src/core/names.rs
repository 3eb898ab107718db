//! The rule for topic and group names, shared by every engine depot creates things on.

use super::Invalid;

/// The longest topic or group name (Kafka's limit). The embedded engine derives one path
/// component from a topic name, its directory `topics/NAME`; the directories it builds a topic in
/// and moves a deleted one to have short names of their own, so every component fits in the
/// 255 bytes a file name may have.
pub const MAX_NAME_LEN: usize = 249;

/// Checks a topic or group name: 1..=249 characters of `A-Z a-z 0-9 . _ -`, not `.` or `..`,
/// not starting with `.` (names starting with `.` are the engine's own). `kind` ("topic",
/// "group") names it in the message.
pub fn validate_name(kind: &str, name: &str) -> Result<(), Invalid> {
    let ok_chars = name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'_' || b == b'-');
    if name.is_empty() || name.len() > MAX_NAME_LEN || !ok_chars || name == "." || name == ".." || name.starts_with('.')
    {
        return Err(Invalid(format!(
            "{kind} name {name:?} is not allowed: use 1 to 249 characters of letters, digits, '.', '_' and '-', not starting with '.'"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_checked() {
        assert!(validate_name("topic", "orders.v2_eu-1").is_ok());
        for bad in ["", ".", "..", ".hidden", "a/b", "a b", &"x".repeat(250)] {
            assert!(validate_name("topic", bad).is_err(), "{bad:?} accepted");
        }
        let e = validate_name("group", "a b").unwrap_err().to_string();
        assert!(e.starts_with("group name \"a b\" is not allowed"), "{e}");
    }
}
