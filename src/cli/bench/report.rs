//! What `bench run` found: a result per target and round, the medians over rounds with ratios to
//! the first target, and the whole report as JSON (`--json`). The table is [`super::table`]'s,
//! the SVG [`super::plot`]'s.

use super::cpu::CpuUse;
use super::latency::Percentiles;
use super::target::{Method, Workload};
use hdrhistogram::Histogram;
use serde::Serialize;

/// Records and bytes moved in a phase, and how fast.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Throughput {
    pub records: u64,
    pub bytes: u64,
    pub seconds: f64,
    pub records_per_s: f64,
    pub mb_per_s: f64,
    pub cpu: CpuUse,
}

impl Throughput {
    pub fn new(records: u64, size: usize, seconds: f64, cpu: CpuUse) -> Throughput {
        let secs = seconds.max(1e-9);
        let bytes = records * size as u64;
        Throughput {
            records,
            bytes,
            seconds,
            records_per_s: records as f64 / secs,
            mb_per_s: bytes as f64 / secs / 1e6,
            cpu,
        }
    }
}

/// The catch-up consume phase: its speed, and whether every record arrived exactly once.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Consumed {
    #[serde(flatten)]
    pub throughput: Throughput,
    /// Records the publish phase had acknowledged.
    pub sent: u64,
    /// Distinct ones of them the group received (by sequence number).
    pub received_unique: u64,
    /// Copies received beyond the first, until the end of the round.
    pub duplicates: u64,
    /// What the engine (or its client) says it delivered again, over the whole round; Kafka
    /// and Redis (reading only new entries) count none.
    pub redelivered: u64,
    /// Records that were none of this round's.
    pub foreign: u64,
}

/// The fixed-rate latency phase.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Latency {
    /// The schedule's rate.
    pub rate_per_s: u64,
    pub seconds: f64,
    pub sent: u64,
    pub received_unique: u64,
    pub duplicates: u64,
    #[serde(flatten)]
    pub percentiles: Percentiles,
    pub cpu: CpuUse,
}

/// One target in one round.
#[derive(Clone, Debug, Serialize)]
pub struct RunResult {
    pub target: String,
    pub round: usize,
    pub ok: bool,
    pub error: Option<String>,
    pub interrupted: bool,
    pub topic: String,
    pub publish: Option<Throughput>,
    pub consume: Option<Consumed>,
    pub latency: Option<Latency>,
    /// The round's topic or group could not be removed.
    pub cleanup_error: Option<String>,
    #[serde(skip)]
    pub histogram: Option<Histogram<u64>>,
}

impl RunResult {
    pub fn new(target: &str, round: usize, topic: &str) -> RunResult {
        RunResult {
            target: target.to_string(),
            round,
            ok: false,
            error: None,
            interrupted: false,
            topic: topic.to_string(),
            publish: None,
            consume: None,
            latency: None,
            cleanup_error: None,
            histogram: None,
        }
    }
}

/// A target as the report names it.
#[derive(Clone, Debug, Serialize)]
pub struct TargetInfo {
    pub name: String,
    /// embedded, depot-http, kafka, nats or redis.
    pub kind: String,
    pub method: Option<Method>,
    /// Why it could not be measured at all (unreachable, unknown context).
    pub error: Option<String>,
}

/// Ratios of a target's medians to the first target's.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Ratios {
    pub publish: Option<f64>,
    pub consume: Option<f64>,
    pub p99: Option<f64>,
}

/// Medians over a target's successful rounds.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Summary {
    pub target: String,
    pub rounds_ok: usize,
    pub publish_records_per_s: Option<f64>,
    pub publish_mb_per_s: Option<f64>,
    pub consume_records_per_s: Option<f64>,
    pub p50_ms: Option<f64>,
    pub p90_ms: Option<f64>,
    pub p99_ms: Option<f64>,
    pub p999_ms: Option<f64>,
    pub max_ms: Option<f64>,
    pub client_cpu_publish_pct: Option<f64>,
    pub client_cpu_consume_pct: Option<f64>,
    pub server_cpu_publish_pct: Option<f64>,
    pub server_cpu_consume_pct: Option<f64>,
    pub vs_first: Ratios,
}

/// Everything `bench run` reports.
#[derive(Debug, Serialize)]
pub struct Report {
    pub workload: Workload,
    /// How latency is measured (the same for every target).
    pub latency_method: String,
    pub targets: Vec<TargetInfo>,
    pub runs: Vec<RunResult>,
    pub summary: Vec<Summary>,
    pub interrupted: bool,
}

pub const LATENCY_METHOD: &str = "each record carries the time it was due on a fixed schedule (--rate records/s for \
     --seconds, spread over the producers); latency = receive time - that intended send time, so a stall counts \
     against every record that should have been sent during it (corrected for coordinated omission); \
     HdrHistogram, 3 significant digits";

fn median(mut v: Vec<f64>) -> Option<f64> {
    v.retain(|x| x.is_finite());
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let n = v.len();
    Some(if n % 2 == 1 { v[n / 2] } else { (v[n / 2 - 1] + v[n / 2]) / 2.0 })
}

fn ratio(a: Option<f64>, b: Option<f64>) -> Option<f64> {
    match (a, b) {
        (Some(a), Some(b)) if b > 0.0 => Some(a / b),
        _ => None,
    }
}

impl Summary {
    /// The medians of `target`'s successful rounds in `runs`.
    pub fn of(target: &str, runs: &[RunResult]) -> Summary {
        let ok: Vec<&RunResult> = runs.iter().filter(|r| r.target == target && r.ok).collect();
        let m = |f: &dyn Fn(&RunResult) -> Option<f64>| median(ok.iter().filter_map(|r| f(r)).collect());
        Summary {
            target: target.to_string(),
            rounds_ok: ok.len(),
            publish_records_per_s: m(&|r| r.publish.as_ref().map(|p| p.records_per_s)),
            publish_mb_per_s: m(&|r| r.publish.as_ref().map(|p| p.mb_per_s)),
            consume_records_per_s: m(&|r| r.consume.as_ref().map(|c| c.throughput.records_per_s)),
            p50_ms: m(&|r| r.latency.as_ref().map(|l| l.percentiles.p50_ms)),
            p90_ms: m(&|r| r.latency.as_ref().map(|l| l.percentiles.p90_ms)),
            p99_ms: m(&|r| r.latency.as_ref().map(|l| l.percentiles.p99_ms)),
            p999_ms: m(&|r| r.latency.as_ref().map(|l| l.percentiles.p999_ms)),
            max_ms: m(&|r| r.latency.as_ref().map(|l| l.percentiles.max_ms)),
            client_cpu_publish_pct: m(&|r| r.publish.as_ref().map(|p| p.cpu.client_pct)),
            client_cpu_consume_pct: m(&|r| r.consume.as_ref().map(|c| c.throughput.cpu.client_pct)),
            server_cpu_publish_pct: m(&|r| r.publish.as_ref().and_then(|p| p.cpu.server_pct)),
            server_cpu_consume_pct: m(&|r| r.consume.as_ref().and_then(|c| c.throughput.cpu.server_pct)),
            vs_first: Ratios::default(),
        }
    }

    /// Fills in the ratios to `first`.
    pub fn compare(&mut self, first: &Summary) {
        self.vs_first = Ratios {
            publish: ratio(self.publish_records_per_s, first.publish_records_per_s),
            consume: ratio(self.consume_records_per_s, first.consume_records_per_s),
            p99: ratio(self.p99_ms, first.p99_ms),
        };
    }
}

impl Report {
    pub fn new(workload: Workload, targets: Vec<TargetInfo>, runs: Vec<RunResult>, interrupted: bool) -> Report {
        let mut summary: Vec<Summary> = targets.iter().map(|t| Summary::of(&t.name, &runs)).collect();
        if let Some(first) = summary.first().cloned() {
            for s in &mut summary {
                s.compare(&first);
            }
        }
        Report { workload, latency_method: LATENCY_METHOD.to_string(), targets, runs, summary, interrupted }
    }

    /// Whether anything failed (a target, a round, a cleanup).
    pub fn failures(&self) -> usize {
        self.targets.iter().filter(|t| t.error.is_some()).count()
            + self.runs.iter().filter(|r| r.error.is_some() || r.cleanup_error.is_some()).count()
    }

    /// All rounds' latencies of a target, merged (for the plot).
    pub fn histogram(&self, target: &str) -> Option<Histogram<u64>> {
        let mut merged: Option<Histogram<u64>> = None;
        for h in self.runs.iter().filter(|r| r.target == target && r.ok).filter_map(|r| r.histogram.as_ref()) {
            match &mut merged {
                None => merged = Some(h.clone()),
                Some(m) => {
                    if m.add(h).is_err() {
                        tracing::warn!("could not merge a latency histogram of {target}");
                    }
                }
            }
        }
        merged
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(target: &str, round: usize, publish: f64, consume: f64, ok: bool) -> RunResult {
        let mut r = RunResult::new(target, round, "t");
        r.ok = ok;
        r.publish = Some(Throughput { records_per_s: publish, ..Throughput::default() });
        r.consume = Some(Consumed {
            throughput: Throughput { records_per_s: consume, ..Throughput::default() },
            ..Consumed::default()
        });
        r
    }

    #[test]
    fn medians_skip_failed_rounds_and_ratios_are_to_the_first_target() {
        let runs = vec![
            run("a", 1, 100.0, 50.0, true),
            run("b", 1, 300.0, 10.0, true),
            run("a", 2, 300.0, 70.0, true),
            run("b", 2, 1e9, 1e9, false),
            run("a", 3, 200.0, 60.0, true),
        ];
        let info = |n: &str| TargetInfo { name: n.into(), kind: "x".into(), method: None, error: None };
        let w = Workload {
            size: 100,
            count: 1,
            batch: 1,
            producers: 1,
            consumers: 1,
            partitions: 1,
            rate: 1,
            seconds: 1.0,
            rounds: 3,
        };
        let r = Report::new(w, vec![info("a"), info("b")], runs, false);
        let (a, b) = (&r.summary[0], &r.summary[1]);
        assert_eq!((a.rounds_ok, a.publish_records_per_s, a.consume_records_per_s), (3, Some(200.0), Some(60.0)));
        assert_eq!((b.rounds_ok, b.publish_records_per_s), (1, Some(300.0)), "the failed round is left out");
        assert_eq!((a.vs_first.publish, b.vs_first.publish), (Some(1.0), Some(1.5)));
        assert_eq!(b.vs_first.consume, Some(10.0 / 60.0));
        assert_eq!(b.vs_first.p99, None, "no latency phase, no ratio");
        assert_eq!(median(vec![4.0, 1.0, 3.0, 2.0]), Some(2.5));
    }
}
