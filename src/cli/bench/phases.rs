//! One target's round, phase by phase: open the group's members (and let the group settle) and
//! the producers; publish `count` records; consume them all as the group (catch-up); then the
//! fixed-rate latency phase through the same producers and members. Every phase is timed, its CPU
//! measured, and watched: a phase that makes no progress for [`STALL`] fails with what it got.

use super::cpu::Meter;
use super::latency::{self, Schedule};
use super::progress::{Progress, group};
use super::record::{self, Mark, Tally, now_ns};
use super::report::{Consumed, Latency, RunResult, Throughput};
use super::target::{BenchTarget, Consumer, Producer, Workload};
use anyhow::{Context, Result, anyhow};
use hdrhistogram::Histogram;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};
use tokio::sync::Notify;
use tokio::task::JoinSet;

/// A phase that gets nothing done for this long fails.
pub const STALL: Duration = Duration::from_secs(30);
/// How long one poll waits for records.
const POLL_WAIT: Duration = Duration::from_millis(100);
/// How long the group may take to settle (a Kafka join can take seconds).
const SETTLE: Duration = Duration::from_secs(60);

/// What a round runs against.
pub struct Round<'a> {
    pub target: &'a dyn BenchTarget,
    pub topic: &'a str,
    pub group: &'a str,
    pub w: &'a Workload,
    /// e.g. "nats round 2/3".
    pub label: String,
    pub progress: Progress,
    pub server_pid: Option<u32>,
}

/// Where every consumed record is counted: this round's catch-up records, its latency records,
/// and anything else.
struct Sink {
    catchup: Tally,
    latency: Tally,
    received: AtomicU64,
    foreign: AtomicU64,
}

impl Sink {
    fn take(&self, v: &[u8], now: u64, h: &mut Histogram<u64>) {
        self.received.fetch_add(1, Ordering::Relaxed);
        let Some((sent, seq)) = record::decode(v) else {
            self.foreign.fetch_add(1, Ordering::Relaxed);
            return;
        };
        if self.catchup.covers(seq) {
            self.catchup.mark(seq);
        } else if self.latency.mark(seq) == Mark::New {
            latency::record(h, sent, now);
        } else if !self.latency.covers(seq) {
            self.foreign.fetch_add(1, Ordering::Relaxed);
        }
    }
}

/// Runs every phase, filling `r` as each completes.
pub async fn run(rd: &Round<'_>, r: &mut RunResult) -> Result<()> {
    let w = rd.w;
    let mut consumers = open_consumers(rd).await?;
    let mut producers = Vec::with_capacity(w.producers);
    for i in 0..w.producers {
        producers.push(rd.target.producer(rd.topic, i, w).await.with_context(|| format!("producer {i}"))?);
    }
    let sink = Arc::new(Sink {
        catchup: Tally::new(0, w.count),
        latency: Tally::new(w.count, w.latency_records()),
        received: AtomicU64::new(0),
        foreign: AtomicU64::new(0),
    });
    let (producers, published) = publish(rd, producers).await?;
    r.publish = Some(published);
    let (cs, consumed) = consume(rd, consumers, &sink).await?;
    consumers = cs;
    r.consume = Some(consumed);
    if w.latency_records() > 0 {
        let (cs, lat, h) = latency_phase(rd, producers, consumers, &sink).await?;
        consumers = cs;
        r.latency = Some(lat);
        r.histogram = Some(h);
    }
    let mut redelivered = rd.target.redelivered(rd.topic, rd.group).await.context("asking for redeliveries")?;
    for c in &mut consumers {
        redelivered += c.redelivered();
        c.close().await.context("closing a consumer")?;
    }
    if let Some(c) = &mut r.consume {
        c.duplicates = sink.catchup.duplicates();
        c.redelivered = redelivered;
        c.foreign = sink.foreign.load(Ordering::Relaxed);
    }
    if let Some(l) = &mut r.latency {
        l.duplicates = sink.latency.duplicates();
    }
    Ok(())
}

/// Opens the members and waits until their group has settled: every partition owned, and every
/// member owning some when there are enough partitions.
async fn open_consumers(rd: &Round<'_>) -> Result<Vec<Box<dyn Consumer>>> {
    let w = rd.w;
    let mut cs = Vec::with_capacity(w.consumers);
    for i in 0..w.consumers {
        cs.push(rd.target.consumer(rd.topic, rd.group, i, w).await.with_context(|| format!("consumer {i}"))?);
    }
    let deadline = Instant::now() + SETTLE;
    loop {
        let mut owned = Vec::with_capacity(cs.len());
        for c in &mut cs {
            owned.push(c.assigned(Duration::from_millis(200)).await?);
        }
        if owned.iter().all(Option::is_none) {
            return Ok(cs);
        }
        let counts: Vec<usize> = owned.iter().map(|o| o.unwrap_or(0)).collect();
        let total: usize = counts.iter().sum();
        if total == w.partitions as usize && (w.consumers > w.partitions as usize || counts.iter().all(|n| *n > 0)) {
            return Ok(cs);
        }
        if Instant::now() > deadline {
            anyhow::bail!("the group did not settle within {} s: members own {counts:?} partitions", SETTLE.as_secs());
        }
    }
}

/// Waits for every task; the first error (or a stall of [`STALL`] in `progress`) fails them all.
async fn gather<T: 'static>(mut tasks: JoinSet<Result<T>>, what: &str, progress: &dyn Fn() -> u64) -> Result<Vec<T>> {
    let mut out = Vec::new();
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    let (mut seen, mut since) = (progress(), Instant::now());
    loop {
        tokio::select! {
            r = tasks.join_next() => match r {
                None => return Ok(out),
                Some(Ok(Ok(v))) => out.push(v),
                Some(Ok(Err(e))) => return Err(e.context(what.to_string())),
                Some(Err(e)) => return Err(anyhow!("{what}: a task failed: {e}")),
            },
            _ = tick.tick() => {
                let n = progress();
                if n != seen {
                    (seen, since) = (n, Instant::now());
                } else if since.elapsed() > STALL {
                    anyhow::bail!("{what} stalled: nothing new for {} s, {} so far", STALL.as_secs(), group(n));
                }
            }
        }
    }
}

async fn publish(rd: &Round<'_>, producers: Vec<Box<dyn Producer>>) -> Result<(Vec<Box<dyn Producer>>, Throughput)> {
    let w = rd.w;
    let acked = Arc::new(AtomicU64::new(0));
    let a = acked.clone();
    let phase =
        rd.progress.phase(format!("{} publish", rd.label), w.count, Arc::new(move || a.load(Ordering::Relaxed)));
    let cpu = Meter::start(rd.server_pid);
    let t = Instant::now();
    let p = producers.len() as u64;
    let mut tasks = JoinSet::new();
    for (k, mut prod) in producers.into_iter().enumerate() {
        let (from, to) = (w.count * k as u64 / p, w.count * (k as u64 + 1) / p);
        let (acked, size, batch) = (acked.clone(), w.size, w.batch as u64);
        tasks.spawn(async move {
            let mut seq = from;
            while seq < to {
                let end = (seq + batch).min(to);
                let values = (seq..end).map(|s| record::value(now_ns(), s, size)).collect();
                prod.send(values).await?;
                acked.fetch_add(end - seq, Ordering::Relaxed);
                seq = end;
            }
            prod.flush().await?;
            Ok(prod)
        });
    }
    let a = acked.clone();
    let producers = gather(tasks, "publishing", &move || a.load(Ordering::Relaxed)).await?;
    let out = Throughput::new(w.count, w.size, t.elapsed().as_secs_f64(), cpu.stop());
    phase.finish(&format!("{} records/s", group(out.records_per_s as u64)));
    Ok((producers, out))
}

/// A member that finished a phase, with the latencies it recorded.
type Member = (Box<dyn Consumer>, Histogram<u64>);

/// Members consume until `done`, counting into the sink; each returns itself and the latencies
/// it recorded.
fn spawn_consumers(
    consumers: Vec<Box<dyn Consumer>>,
    sink: &Arc<Sink>,
    done: fn(&Sink) -> bool,
) -> JoinSet<Result<Member>> {
    let mut tasks = JoinSet::new();
    for mut c in consumers {
        let sink = sink.clone();
        tasks.spawn(async move {
            let mut h = latency::histogram();
            while !done(&sink) {
                let batch = c.poll(POLL_WAIT).await?;
                let now = now_ns();
                for v in &batch {
                    sink.take(v, now, &mut h);
                }
                c.commit().await?;
            }
            Ok((c, h))
        });
    }
    tasks
}

async fn consume(
    rd: &Round<'_>,
    consumers: Vec<Box<dyn Consumer>>,
    sink: &Arc<Sink>,
) -> Result<(Vec<Box<dyn Consumer>>, Consumed)> {
    let w = rd.w;
    let s = sink.clone();
    let phase = rd.progress.phase(format!("{} consume", rd.label), w.count, Arc::new(move || s.catchup.unique()));
    let cpu = Meter::start(rd.server_pid);
    let start = now_ns();
    let tasks = spawn_consumers(consumers, sink, |s| s.catchup.complete());
    let s = sink.clone();
    let done = gather(tasks, "consuming", &move || s.catchup.unique()).await?;
    // Timed to the last record's arrival, not to the members' last (empty) polls returning.
    let end = sink.catchup.completed_ns().unwrap_or_else(now_ns);
    let throughput = Throughput::new(w.count, w.size, end.saturating_sub(start) as f64 / 1e9, cpu.stop());
    phase.finish(&format!("{} records/s", group(throughput.records_per_s as u64)));
    let out = Consumed {
        throughput,
        sent: w.count,
        received_unique: sink.catchup.unique(),
        duplicates: sink.catchup.duplicates(),
        ..Consumed::default()
    };
    Ok((done.into_iter().map(|(c, _)| c).collect(), out))
}

/// Wakes producers when their records fall due. A thread of its own: `thread::sleep` keeps to
/// tens of µs where tokio's timer rounds to whole milliseconds.
fn ticker(schedule: Schedule, total: u64, wake: Vec<Arc<Notify>>, stop: Arc<AtomicBool>) {
    std::thread::spawn(move || {
        let n = wake.len().max(1) as u64;
        for i in 0..total {
            loop {
                if stop.load(Ordering::Relaxed) {
                    return;
                }
                let (due, now) = (schedule.due_ns(i), now_ns());
                if due <= now {
                    break;
                }
                std::thread::sleep(Duration::from_nanos((due - now).min(50_000_000)));
            }
            if let Some(w) = wake.get((i % n) as usize) {
                w.notify_one();
            }
        }
    });
}

/// Stops the ticker when the phase ends, however it ends.
struct StopOnDrop(Arc<AtomicBool>);

impl Drop for StopOnDrop {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

async fn latency_phase(
    rd: &Round<'_>,
    producers: Vec<Box<dyn Producer>>,
    consumers: Vec<Box<dyn Consumer>>,
    sink: &Arc<Sink>,
) -> Result<(Vec<Box<dyn Consumer>>, Latency, Histogram<u64>)> {
    let w = rd.w;
    let total = w.latency_records();
    let s = sink.clone();
    let phase = rd.progress.phase(
        format!("{} latency at {}/s", rd.label, group(w.rate)),
        total,
        Arc::new(move || s.latency.unique()),
    );
    let cpu = Meter::start(rd.server_pid);
    let consuming = spawn_consumers(consumers, sink, |s| s.latency.complete());
    let schedule = Schedule::new(now_ns() + 20_000_000, w.rate);
    let wake: Vec<Arc<Notify>> = producers.iter().map(|_| Arc::new(Notify::new())).collect();
    let stop = StopOnDrop(Arc::new(AtomicBool::new(false)));
    ticker(schedule, total, wake.clone(), stop.0.clone());
    let sent = Arc::new(AtomicU64::new(0));
    let p = producers.len() as u64;
    let mut sending = JoinSet::new();
    for (k, (mut prod, wake)) in producers.into_iter().zip(wake).enumerate() {
        let (sent, size, batch, base) = (sent.clone(), w.size, w.batch, w.count);
        sending.spawn(async move {
            let mut i = k as u64;
            while i < total {
                wake.notified().await;
                let now = now_ns();
                let mut values = Vec::new();
                while i < total && schedule.due_ns(i) <= now && values.len() < batch {
                    values.push(record::value(schedule.due_ns(i), base + i, size));
                    i += p;
                }
                let n = values.len() as u64;
                if n > 0 {
                    prod.send(values).await?;
                    sent.fetch_add(n, Ordering::Relaxed);
                }
                if i < total && schedule.due_ns(i) <= now_ns() {
                    wake.notify_one(); // more fell due while sending
                }
            }
            prod.flush().await?;
            Ok(())
        });
    }
    let s = sent.clone();
    gather(sending, "sending at a fixed rate", &move || s.load(Ordering::Relaxed)).await?;
    drop(stop);
    let l = sink.clone();
    let done = gather(consuming, "receiving at a fixed rate", &move || l.latency.unique()).await?;
    let cpu = cpu.stop();
    let mut h = latency::histogram();
    let mut consumers = Vec::with_capacity(done.len());
    for (c, part) in done {
        h.add(&part).map_err(|e| anyhow!("merging latency histograms: {e:?}"))?;
        consumers.push(c);
    }
    let percentiles = latency::Percentiles::of(&h);
    phase.finish(&format!("p99 {:.2} ms, max {:.2} ms", percentiles.p99_ms, percentiles.max_ms));
    let out = Latency {
        rate_per_s: w.rate,
        seconds: w.seconds,
        sent: sent.load(Ordering::Relaxed),
        received_unique: sink.latency.unique(),
        duplicates: sink.latency.duplicates(),
        percentiles,
        cpu,
    };
    Ok((consumers, out, h))
}
