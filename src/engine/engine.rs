//! The engine façade: a data directory of topics and groups, opened exclusively by one process.
//! This file opens and closes it and runs the maintenance thread; what the engine does is in
//! the files beside it, one `impl Engine` block per area (topics, produce, fetch, groups, consume,
//! resets, replay, lock).

use super::clock::Clock;
use super::config::{EngineConfig, SyncMode};
use super::error::{EngineError, IoContext, Result};
use super::fds::{FdCache, OPEN_SEALED_SEGMENTS};
use super::lock;
use super::log::{LogConfig, PartitionLog};
use super::offsets::GroupsState;
use super::producer_ids::ProducerIds;
use super::storage::StorageFile;
use super::topic::Topic;
use super::topics;
use event_listener::Event;
use parking_lot::{Condvar, Mutex, RwLock};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

/// What every clone of an [`Engine`] shares.
pub(super) struct Inner {
    pub dir: PathBuf,
    pub config: EngineConfig,
    pub log_config: LogConfig,
    pub lock_file: Arc<dyn StorageFile>,
    pub topics: RwLock<BTreeMap<String, Arc<Topic>>>,
    pub groups: Mutex<GroupsState>,
    /// The producer ids handed out to Kafka producers.
    pub producer_ids: Mutex<ProducerIds>,
    /// Notified after every append, for members waiting on any of their partitions.
    pub any_append: Event,
    /// Notified after every change of a client-assigned group, for joins and syncs waiting on it.
    pub group_changed: Event,
    closed: AtomicBool,
    stop: Arc<(Mutex<bool>, Condvar)>,
    maintenance: Mutex<Option<std::thread::JoinHandle<()>>>,
}

/// The embedded engine. Cheap to clone; closes when [`Engine::close`] is called or the last clone drops.
#[derive(Clone)]
pub struct Engine {
    pub(super) inner: Arc<Inner>,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Engine({})", self.inner.dir.display())
    }
}

impl Engine {
    /// Opens (creating if needed) the data directory `dir`.
    pub fn open(dir: impl AsRef<Path>, config: EngineConfig) -> Result<Engine> {
        let dir = dir.as_ref().to_path_buf();
        let storage = config.storage.clone();
        storage.create_dir_all(&dir).ctx(|| format!("create data directory {}", dir.display()))?;
        let lock_file = lock::lock_dir(storage.as_ref(), &dir)?;
        let topics_dir = dir.join("topics");
        let groups_dir = dir.join("groups");
        let fresh = storage.stat(&groups_dir).ctx(|| format!("look at {}", groups_dir.display()))?.is_none();
        for d in [&topics_dir, &groups_dir] {
            storage.create_dir_all(d).ctx(|| format!("create {}", d.display()))?;
        }
        // New directories survive a power loss only once their parents are fsynced.
        super::files::sync_dir(storage.as_ref(), &dir)?;
        if let Some(parent) = dir.parent().filter(|p| !p.as_os_str().is_empty())
            && let Err(e) = storage.sync_dir(parent)
        {
            tracing::debug!("could not fsync {}: {e}", parent.display());
        }
        let log_config = LogConfig {
            sync: config.sync,
            segment_bytes: config.segment_bytes,
            index_interval: config.index_interval_bytes,
            clock: config.clock.clone(),
            storage: storage.clone(),
            fds: Arc::new(FdCache::new(storage.clone(), OPEN_SEALED_SEGMENTS)),
        };
        let (topics, graves) = topics::load(&topics_dir, &log_config)?;
        // Member ids of a reopened directory carry a number no earlier open used.
        let incarnation = if fresh { 0 } else { super::offsets::incarnation(config.clock.as_ref()) };
        let mut groups =
            GroupsState::open(&storage, &groups_dir, config.sync, &topics, config.clock.clone(), incarnation)?;
        super::delete::finish_graves(storage.as_ref(), &topics_dir, graves, &mut groups)?;
        let remembered = topics.values().flat_map(|t| t.partitions.iter()).filter_map(|l| l.max_producer_id()).max();
        let producer_ids = ProducerIds::open(&storage, &dir, remembered)?;
        let stop = Arc::new((Mutex::new(false), Condvar::new()));
        let tick = match config.sync {
            SyncMode::Interval(d) => d.min(config.maintenance_interval),
            _ => config.maintenance_interval,
        };
        let inner = Arc::new(Inner {
            dir,
            config,
            log_config,
            lock_file,
            topics: RwLock::new(topics),
            groups: Mutex::new(groups),
            producer_ids: Mutex::new(producer_ids),
            any_append: Event::new(),
            group_changed: Event::new(),
            closed: AtomicBool::new(false),
            stop: stop.clone(),
            maintenance: Mutex::new(None),
        });
        let weak = Arc::downgrade(&inner);
        let handle = std::thread::Builder::new()
            .name("depot-maintenance".into())
            .spawn(move || maintenance_loop(weak, stop, tick))
            .ctx(|| "start the maintenance thread".to_string())?;
        *inner.maintenance.lock() = Some(handle);
        Ok(Engine { inner })
    }

    pub fn dir(&self) -> &Path {
        &self.inner.dir
    }

    pub fn config(&self) -> &EngineConfig {
        &self.inner.config
    }

    /// The clock the engine reads (its config's).
    pub fn clock(&self) -> &dyn Clock {
        self.inner.config.clock.as_ref()
    }

    /// Syncs everything and stops background work. Later calls fail with a clear error.
    pub fn close(&self) -> Result<()> {
        self.inner.close()
    }

    pub(super) fn check_open(&self) -> Result<()> {
        if self.inner.closed.load(Ordering::Acquire) {
            return Err(EngineError::Refused("the engine is closed".into()));
        }
        Ok(())
    }

    /// fsyncs every partition and the offsets journal now.
    pub fn flush(&self) -> Result<()> {
        self.inner.flush()
    }
}

impl Inner {
    fn all_logs(&self) -> Vec<Arc<PartitionLog>> {
        self.topics.read().values().flat_map(|t| t.partitions.iter().cloned()).collect()
    }

    fn flush(&self) -> Result<()> {
        let mut first_err = None;
        for log in self.all_logs() {
            if let Err(e) = log.flush() {
                tracing::error!("{}/{}: {e}", log.topic, log.partition);
                first_err.get_or_insert(e);
            }
        }
        if let Err(e) = self.groups.lock().offsets.flush() {
            tracing::error!("{e}");
            first_err.get_or_insert(e);
        }
        first_err.map_or(Ok(()), Err)
    }

    fn close(&self) -> Result<()> {
        if self.closed.swap(true, Ordering::AcqRel) {
            return Ok(());
        }
        *self.stop.0.lock() = true;
        self.stop.1.notify_all();
        if let Some(h) = self.maintenance.lock().take()
            && h.thread().id() != std::thread::current().id()
        {
            let _ = h.join();
        }
        let mut first_err = None;
        for log in self.all_logs() {
            if let Err(e) = log.close() {
                first_err.get_or_insert(e);
            }
        }
        if let Err(e) = self.groups.lock().offsets.flush() {
            first_err.get_or_insert(e);
        }
        // Release the data directory now, not when the last handle drops, so it can be reopened.
        if let Err(e) = lock::unlock(self.lock_file.as_ref(), &self.dir) {
            first_err.get_or_insert(e);
        }
        first_err.map_or(Ok(()), Err)
    }
}

impl Drop for Inner {
    fn drop(&mut self) {
        if let Err(e) = self.close() {
            tracing::error!("closing {} failed: {e}", self.dir.display());
        }
    }
}

/// Wakes every `tick` (real time): fsyncs in interval mode when due, and every maintenance
/// interval evicts timed-out members and enforces retention (both decided on the engine's clock).
fn maintenance_loop(weak: Weak<Inner>, stop: Arc<(Mutex<bool>, Condvar)>, tick: Duration) {
    let mut last_flush = Instant::now();
    let mut last_maint = Instant::now();
    loop {
        {
            let mut stopped = stop.0.lock();
            if *stopped {
                return;
            }
            stop.1.wait_for(&mut stopped, tick);
            if *stopped {
                return;
            }
        }
        let Some(inner) = weak.upgrade() else { return };
        if let SyncMode::Interval(every) = inner.config.sync
            && last_flush.elapsed() >= every
        {
            last_flush = Instant::now();
            // Errors are logged inside and make the partition refuse writes: never swallowed.
            let _ = inner.flush();
        }
        if last_maint.elapsed() >= inner.config.maintenance_interval {
            last_maint = Instant::now();
            let engine = Engine { inner };
            engine.expire_members();
            if let Err(e) = engine.enforce_retention() {
                tracing::error!("retention: {e}");
            }
        }
    }
}
