//! What `bench run` asks of every engine it measures: a [`BenchTarget`] makes and removes the
//! temporary topic and hands out [`Producer`]s and [`Consumer`]s that speak the engine's own client
//! the way its own bench tool does. The harness (`run`, `phases`) drives them all alike.

use anyhow::Result;
use async_trait::async_trait;
use bytes::Bytes;
use serde::Serialize;
use std::time::Duration;

/// The workload every target gets, from the command line.
#[derive(Clone, Debug, Serialize)]
pub struct Workload {
    /// Bytes per record value (the first [`super::record::HEADER`] carry its send time and
    /// sequence number).
    pub size: usize,
    /// Records published and then consumed per target and round.
    pub count: u64,
    /// Records per publish call, pipeline or window of unacknowledged records; most per poll.
    pub batch: usize,
    pub producers: usize,
    pub consumers: usize,
    /// Partitions of the topic where the engine has them (depot, Kafka).
    pub partitions: u32,
    /// Records per second in the latency phase.
    pub rate: u64,
    /// Seconds the latency phase sends for (0: no latency phase).
    pub seconds: f64,
    pub rounds: usize,
}

impl Workload {
    /// Records sent in the latency phase.
    pub fn latency_records(&self) -> u64 {
        (self.rate as f64 * self.seconds).round() as u64
    }
}

/// How a target was driven, printed above the table and kept in the JSON, so anyone can tell
/// what was compared.
#[derive(Clone, Debug, Serialize)]
pub struct Method {
    /// What was measured and through which client.
    pub client: String,
    pub topic: String,
    pub publish: String,
    pub consume: String,
}

/// One engine, as `bench run` measures it.
#[async_trait]
pub trait BenchTarget: Send + Sync {
    /// How this target is driven under `w`.
    fn method(&self, w: &Workload) -> Method;
    /// Creates the round's topic (`w.partitions` partitions where the engine has partitions).
    async fn create_topic(&self, topic: &str, w: &Workload) -> Result<()>;
    /// A producer on `topic`; the `index`-th of `w.producers`.
    async fn producer(&self, topic: &str, index: usize, w: &Workload) -> Result<Box<dyn Producer>>;
    /// A member of `group` consuming `topic` from its start; the `index`-th of `w.consumers`.
    async fn consumer(&self, topic: &str, group: &str, index: usize, w: &Workload) -> Result<Box<dyn Consumer>>;
    /// Records the engine itself counts as delivered again to `group` (0 where it counts none).
    async fn redelivered(&self, _topic: &str, _group: &str) -> Result<u64> {
        Ok(0)
    }
    /// Removes the round's topic and group.
    async fn cleanup(&self, topic: &str, group: &str) -> Result<()>;
    /// Closes what the target opened (the embedded engine: flush and unlock).
    async fn close(&self) -> Result<()> {
        Ok(())
    }
}

/// Publishes records and waits for the engine's acknowledgements.
#[async_trait]
pub trait Producer: Send {
    /// Sends `values`; returns once at most `w.batch` records of this producer are still
    /// unacknowledged (for request/response engines: once these are acknowledged).
    async fn send(&mut self, values: Vec<Bytes>) -> Result<()>;
    /// Waits until every record sent is acknowledged.
    async fn flush(&mut self) -> Result<()>;
}

/// A member of a consumer group.
#[async_trait]
pub trait Consumer: Send {
    /// Waits up to `wait` for this member's partitions to be settled (a group join that
    /// rebalances); how many it owns, or `None` for engines without partitions.
    async fn assigned(&mut self, _wait: Duration) -> Result<Option<usize>> {
        Ok(None)
    }
    /// The next records (at most the batch size), waiting up to `wait` for the first one.
    async fn poll(&mut self, wait: Duration) -> Result<Vec<Bytes>>;
    /// Commits (acknowledges) what the last poll returned; an engine may send it with the next
    /// request, as its own tools pipeline it.
    async fn commit(&mut self) -> Result<()>;
    /// Records this member was handed that the engine marked as delivered before.
    fn redelivered(&self) -> u64 {
        0
    }
    /// Sends any commit still held back and leaves the group.
    async fn close(&mut self) -> Result<()>;
}
