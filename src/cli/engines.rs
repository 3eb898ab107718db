//! Connecting to the external engines a context names.

use crate::backend::context::Context;
use crate::backend::kafka::{self, KafkaConfig};
use crate::backend::nats::{self, NatsConfig};
use crate::backend::redis::{self, RedisConfig};
use crate::backend::{Backend, BackendError};
use std::sync::Arc;

pub async fn nats(c: &Context) -> Result<Arc<dyn Backend>, BackendError> {
    let cfg = NatsConfig {
        url: c.need("url")?,
        token: c.get("token").map(str::to_string),
        user: c.get("user").map(str::to_string),
        password: c.get("password").map(str::to_string),
        creds_file: c.path("creds_file"),
    };
    Ok(Arc::new(nats::connect(&cfg).await?))
}

pub async fn redis(c: &Context) -> Result<Arc<dyn Backend>, BackendError> {
    Ok(Arc::new(redis::connect(&RedisConfig { url: c.need("url")? }).await?))
}

pub async fn kafka(c: &Context) -> Result<Arc<dyn Backend>, BackendError> {
    let batch_records = match c.get("batch_records") {
        None => None,
        Some(v) => Some(v.parse::<u32>().map_err(|_| {
            BackendError::BadRequest(format!("context {}: batch_records = {v:?} is not a number", c.name))
        })?),
    };
    let cfg = KafkaConfig {
        brokers: c.need("brokers")?,
        sasl_mechanism: c.get("sasl_mechanism").map(str::to_string),
        username: c.get("username").map(str::to_string),
        password: c.get("password").map(str::to_string),
        tls: c.flag("tls"),
        ca_file: c.path("ca_file"),
        batch_records,
    };
    Ok(Arc::new(kafka::connect(&cfg).await?))
}
