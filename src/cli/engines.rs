//! Connecting to external engines named by a context.

use crate::backend::context::Context;
use crate::backend::{Backend, BackendError};
use std::sync::Arc;

pub async fn nats(c: &Context) -> Result<Arc<dyn Backend>, BackendError> {
    let _ = c;
    Err(BackendError::Unsupported("the NATS backend is being built".into()))
}

pub async fn redis(c: &Context) -> Result<Arc<dyn Backend>, BackendError> {
    let _ = c;
    Err(BackendError::Unsupported("the Redis backend is being built".into()))
}

pub async fn kafka(c: &Context) -> Result<Arc<dyn Backend>, BackendError> {
    let _ = c;
    Err(BackendError::Unsupported("the Kafka backend is being built".into()))
}
