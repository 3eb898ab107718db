//! The one error core's rules give: what is wrong and how to fix it, in words for a person.

/// A value that breaks one of core's rules (a name, a topic setting, a time, a range, a plan).
/// The engine turns it into `EngineError::InvalidArgument`, backends into `BackendError::BadRequest`.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Invalid(pub String);

impl Invalid {
    pub fn new(message: impl Into<String>) -> Invalid {
        Invalid(message.into())
    }
}
