//! The embedded engine in this process (`--data DIR`), driven through the engine's own API — no
//! HTTP, no `Backend` in between: `Engine::publish` per batch, and real group members (join,
//! poll, commit, leave). Engine calls block (disk IO, fsync), so each runs on tokio's blocking
//! pool, as depot's embedded backend runs them.

use super::target::{BenchTarget, Consumer, Method, Producer, Workload};
use crate::core::TopicConfig;
use crate::engine::{Engine, EngineConfig, EngineError, JoinRequest, Membership, NewRecord, SyncMode};
use anyhow::{Context, Result};
use async_trait::async_trait;
use bytes::Bytes;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Most bytes one poll returns.
const POLL_BYTES: usize = 16 << 20;
/// Members stay for the whole round (they leave when it ends); the engine's longest session.
const SESSION: Duration = Duration::from_secs(3600);

async fn blocking<T: Send + 'static>(f: impl FnOnce() -> Result<T> + Send + 'static) -> Result<T> {
    tokio::task::spawn_blocking(f).await.context("an engine call on the blocking pool")?
}

/// The engine opened on `--data DIR`.
pub struct EmbeddedTarget {
    engine: Engine,
    dir: PathBuf,
    sync: SyncMode,
}

impl EmbeddedTarget {
    pub fn open(dir: &Path, sync: SyncMode) -> Result<EmbeddedTarget> {
        let engine = Engine::open(dir, EngineConfig { sync, ..EngineConfig::default() })
            .with_context(|| format!("open the engine on {}", dir.display()))?;
        Ok(EmbeddedTarget { engine, dir: dir.to_path_buf(), sync })
    }
}

#[async_trait]
impl BenchTarget for EmbeddedTarget {
    fn method(&self, w: &Workload) -> Method {
        Method {
            client: format!(
                "the depot engine in this process (no network), data in {}, --sync {}",
                self.dir.display(),
                self.sync
            ),
            topic: format!("{} partitions", w.partitions),
            publish: format!(
                "{} producers, each calling Engine::publish with {} records at a time (keyless: one partition per \
                 call, in turn) and waiting for their offsets",
                w.producers, w.batch
            ),
            consume: format!(
                "{} members of one group (join, then poll up to {} records at a time, waiting up to 100 ms, and \
                 commit after each batch)",
                w.consumers, w.batch
            ),
        }
    }

    async fn create_topic(&self, topic: &str, w: &Workload) -> Result<()> {
        let (e, t, n) = (self.engine.clone(), topic.to_string(), w.partitions);
        blocking(move || Ok(e.create_topic(&t, TopicConfig::with_partitions(n)).map(|_| ())?)).await
    }

    async fn producer(&self, topic: &str, _index: usize, _w: &Workload) -> Result<Box<dyn Producer>> {
        Ok(Box::new(EngineProducer { engine: self.engine.clone(), topic: topic.to_string() }))
    }

    async fn consumer(&self, topic: &str, group: &str, _index: usize, w: &Workload) -> Result<Box<dyn Consumer>> {
        let (e, g, t) = (self.engine.clone(), group.to_string(), topic.to_string());
        let member = blocking(move || join(&e, &g, &t)).await?;
        Ok(Box::new(EngineConsumer {
            engine: self.engine.clone(),
            topic: topic.to_string(),
            group: group.to_string(),
            member: Some(member),
            batch: w.batch,
            pending: BTreeMap::new(),
        }))
    }

    async fn redelivered(&self, _topic: &str, group: &str) -> Result<u64> {
        let (e, g) = (self.engine.clone(), group.to_string());
        blocking(move || Ok(e.describe_group(&g)?.redeliveries())).await
    }

    async fn cleanup(&self, topic: &str, group: &str) -> Result<()> {
        let (e, t, g) = (self.engine.clone(), topic.to_string(), group.to_string());
        blocking(move || {
            let topic = e.delete_topic(&t);
            match e.delete_group(&g) {
                Ok(()) | Err(EngineError::NotFound { .. }) => {}
                Err(err) => return Err(err).with_context(|| format!("delete group {g}")),
            }
            topic.with_context(|| format!("delete topic {t}"))
        })
        .await
    }

    async fn close(&self) -> Result<()> {
        let e = self.engine.clone();
        blocking(move || Ok(e.close()?)).await
    }
}

fn join(e: &Engine, group: &str, topic: &str) -> Result<Membership> {
    let mut req = JoinRequest::new("depot-bench", &[topic]);
    req.session_timeout = SESSION;
    Ok(e.join_group(group, req)?)
}

struct EngineProducer {
    engine: Engine,
    topic: String,
}

#[async_trait]
impl Producer for EngineProducer {
    async fn send(&mut self, values: Vec<Bytes>) -> Result<()> {
        let (e, t, n) = (self.engine.clone(), self.topic.clone(), values.len());
        let records: Vec<NewRecord> = values.into_iter().map(NewRecord::value).collect();
        let placed = blocking(move || Ok(e.publish(&t, records)?)).await?;
        anyhow::ensure!(placed.len() == n, "the engine acknowledged {} of {n} records", placed.len());
        Ok(())
    }

    async fn flush(&mut self) -> Result<()> {
        Ok(())
    }
}

struct EngineConsumer {
    engine: Engine,
    topic: String,
    group: String,
    /// `None` once the member left.
    member: Option<Membership>,
    batch: usize,
    /// The next offset per partition of what the last polls returned, not yet committed.
    pending: BTreeMap<u32, u64>,
}

impl EngineConsumer {
    fn member(&self) -> Result<&Membership> {
        self.member.as_ref().context("the member already left its group")
    }

    /// After a rebalance: the current generation (and assignment), or a new membership when the
    /// engine no longer knows this member.
    async fn refresh(&mut self) -> Result<()> {
        let (e, g, t, id) =
            (self.engine.clone(), self.group.clone(), self.topic.clone(), self.member()?.member_id.clone());
        let m = blocking(move || match e.heartbeat(&g, &id) {
            Ok(m) => Ok(m),
            Err(EngineError::NotFound { .. }) => join(&e, &g, &t),
            Err(err) => Err(err.into()),
        })
        .await?;
        self.member = Some(m);
        Ok(())
    }
}

#[async_trait]
impl Consumer for EngineConsumer {
    async fn assigned(&mut self, _wait: Duration) -> Result<Option<usize>> {
        self.refresh().await?;
        Ok(Some(self.member()?.assignment.len()))
    }

    async fn poll(&mut self, wait: Duration) -> Result<Vec<Bytes>> {
        let m = self.member()?.clone();
        let (e, g, max) = (self.engine.clone(), self.group.clone(), self.batch);
        let got = blocking(move || Ok(e.poll_wait(&g, &m.member_id, m.generation, max, POLL_BYTES, wait))).await?;
        let got = match got {
            Ok(got) => got,
            Err(EngineError::IllegalGeneration { .. } | EngineError::NotFound { .. }) => {
                // A rebalance: what was polled but not committed goes to the partitions' new owners.
                self.pending.clear();
                self.refresh().await?;
                return Ok(Vec::new());
            }
            Err(err) => return Err(err.into()),
        };
        let mut values = Vec::with_capacity(got.len());
        for d in got {
            let next = self.pending.entry(d.partition).or_insert(0);
            *next = (*next).max(d.record.offset + 1);
            values.push(d.record.value.unwrap_or_default());
        }
        Ok(values)
    }

    async fn commit(&mut self) -> Result<()> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let m = self.member()?.clone();
        let offsets: Vec<(String, u32, u64)> =
            std::mem::take(&mut self.pending).into_iter().map(|(p, o)| (self.topic.clone(), p, o)).collect();
        let (e, g) = (self.engine.clone(), self.group.clone());
        match blocking(move || Ok(e.commit(&g, &m.member_id, m.generation, &offsets))).await? {
            Ok(()) => Ok(()),
            // Rebalanced meanwhile: the new owner gets these records again (counted as redelivered).
            Err(EngineError::IllegalGeneration { .. } | EngineError::Refused(_) | EngineError::NotFound { .. }) => {
                self.refresh().await
            }
            Err(err) => Err(err.into()),
        }
    }

    async fn close(&mut self) -> Result<()> {
        self.commit().await?;
        if let Some(m) = self.member.take() {
            let (e, g) = (self.engine.clone(), self.group.clone());
            blocking(move || Ok(e.leave_group(&g, &m.member_id)?)).await?;
        }
        Ok(())
    }
}

impl Drop for EngineConsumer {
    /// A member dropped mid-run (ctrl-c, an error) leaves, so its group can be deleted.
    fn drop(&mut self) {
        if let Some(m) = self.member.take()
            && let Err(e) = self.engine.leave_group(&self.group, &m.member_id)
        {
            tracing::debug!("bench member {} leaving {}: {e}", m.member_id, self.group);
        }
    }
}
