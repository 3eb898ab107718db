//! The user's config file (`<config dir>/config.toml`, e.g. ~/.config/depot/config.toml), read once
//! for every front end: the console interprets `theme`, `refresh_ms` and `[keys]`
//! (`crate::console`), the backends the `[contexts.*]` tables (`crate::backend::context`). A
//! missing file means defaults; a bad one means defaults plus a message saying what was wrong —
//! never a crash. Imports nothing of depot.

use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

#[derive(Debug, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ConfigFile {
    pub theme: Option<String>,
    /// How often the lists refresh, in ms (500..=60000).
    pub refresh_ms: Option<u64>,
    /// action = ["key", ...]
    #[serde(default)]
    pub keys: BTreeMap<String, Vec<String>>,
    /// Named connections (see `depot --context`); kept as raw tables here.
    #[serde(default)]
    pub contexts: BTreeMap<String, toml::Table>,
}

/// The platform config directory for depot.
pub fn config_dir() -> Option<PathBuf> {
    if let Ok(d) = std::env::var("DEPOT_CONFIG_DIR") {
        return Some(PathBuf::from(d));
    }
    directories::ProjectDirs::from("", "", "depot").map(|d| d.config_dir().to_path_buf())
}

/// Reads `dir/config.toml`: the settings and any problems found.
pub fn load(dir: Option<&Path>) -> (ConfigFile, Vec<String>) {
    let Some(dir) = dir else { return (ConfigFile::default(), Vec::new()) };
    let path = dir.join("config.toml");
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return (ConfigFile::default(), Vec::new()),
        Err(e) => return (ConfigFile::default(), vec![format!("cannot read {}: {e}; using defaults", path.display())]),
    };
    parse(&text, &path.display().to_string())
}

/// Parses the text of a config file (`origin` names it in the problems): the settings and any
/// problems found; defaults when it does not parse.
pub fn parse(text: &str, origin: &str) -> (ConfigFile, Vec<String>) {
    match toml::from_str::<ConfigFile>(text) {
        Ok(c) => {
            let mut problems = Vec::new();
            if let Some(r) = c.refresh_ms
                && !(500..=60_000).contains(&r)
            {
                problems.push(format!("{origin}: refresh_ms = {r} is outside 500..60000; using 2000"));
            }
            (c, problems)
        }
        Err(e) => (ConfigFile::default(), vec![format!("{origin}: {}; using defaults", e.to_string().trim())]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_loads_and_bad_files_fall_back() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(load(Some(dir.path())).0, ConfigFile::default());
        std::fs::write(dir.path().join("config.toml"), "theme = \"light\"\n[keys]\npublish = [\"P\"]\n").unwrap();
        let (c, p) = load(Some(dir.path()));
        assert_eq!(c.theme.as_deref(), Some("light"));
        assert_eq!(c.keys["publish"], vec!["P".to_string()]);
        assert!(p.is_empty());
        std::fs::write(dir.path().join("config.toml"), "theme = 5\n").unwrap();
        let (c, p) = load(Some(dir.path()));
        assert_eq!(c, ConfigFile::default());
        assert!(p[0].contains("config.toml") && p[0].contains("line 1"), "{p:?}");
    }
}
