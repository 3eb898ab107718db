//! `depot bench run`: the harness. It opens every target the options name (`--data DIR`: the
//! embedded engine; `--connect URL`: a depot server; each `--context NAME`), then runs the rounds
//! — every target once per round, in turn, so drift on a shared machine hits them all alike — each
//! on a fresh topic that is deleted afterwards, also after an error or ctrl-c. A target that
//! cannot be reached is reported as a failed row; the others still run.

use super::cpu;
use super::depot_http::HttpTarget;
use super::embedded::EmbeddedTarget;
use super::kafka::KafkaTarget;
use super::nats::NatsTarget;
use super::phases::{self, Round};
use super::plot;
use super::progress::Progress;
use super::record::HEADER;
use super::redis::RedisTarget;
use super::report::{Report, RunResult, TargetInfo};
use super::table;
use super::target::{BenchTarget, Workload};
use crate::backend::context::{self, Context as BackendContext, Kind};
use crate::backend::open::default_data_dir;
use crate::cli::args::{BenchRunArgs, Global};
use anyhow::{Result, anyhow};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;
use tokio::sync::watch;

/// How long removing a round's topic and group may take.
const CLEANUP: Duration = Duration::from_secs(60);

/// Set once on ctrl-c (SIGINT); a second ctrl-c exits at once.
#[derive(Clone)]
struct Stop(watch::Receiver<bool>);

impl Stop {
    fn on_ctrl_c() -> Result<Stop> {
        use tokio::signal::unix::{SignalKind, signal};
        // Registered now, so a ctrl-c from the first moment on stops the run cleanly.
        let mut sigint = signal(SignalKind::interrupt())?;
        let (tx, rx) = watch::channel(false);
        tokio::spawn(async move {
            if sigint.recv().await.is_some() {
                eprintln!(
                    "bench: interrupted: stopping and removing the temporary topics (ctrl-c again quits at once)"
                );
                let _ = tx.send(true);
                if sigint.recv().await.is_some() {
                    std::process::exit(130);
                }
            }
        });
        Ok(Stop(rx))
    }

    fn is_set(&self) -> bool {
        *self.0.borrow()
    }

    async fn wait(&self) {
        let mut rx = self.0.clone();
        if rx.wait_for(|v| *v).await.is_err() {
            std::future::pending::<()>().await;
        }
    }
}

/// What the options name, before it is opened.
enum Spec {
    Embedded(PathBuf),
    Http { url: String, token: Option<String> },
    Context(BackendContext),
}

struct Named {
    name: String,
    kind: String,
    spec: Result<Spec, String>,
}

fn kind_of(c: &BackendContext) -> &'static str {
    match c.kind {
        Kind::Depot if c.get("url").is_some() => "depot-http",
        Kind::Depot => "embedded",
        Kind::Kafka => "kafka",
        Kind::Nats => "nats",
        Kind::Redis => "redis",
    }
}

/// The targets, in the order they run: `--data`, `--connect`, then each `--context`.
fn targets(g: &Global) -> Vec<Named> {
    let mut out = Vec::new();
    if let Some(dir) = &g.data {
        out.push(Named { name: "embedded".into(), kind: "embedded".into(), spec: Ok(Spec::Embedded(dir.clone())) });
    }
    if let Some(url) = &g.connect {
        let spec = Ok(Spec::Http { url: url.clone(), token: g.token.clone() });
        out.push(Named { name: "depot-http".into(), kind: "depot-http".into(), spec });
    }
    for name in &g.context {
        out.push(match context::find(name) {
            Ok(c) => Named { name: name.clone(), kind: kind_of(&c).into(), spec: Ok(Spec::Context(c)) },
            Err(e) => Named { name: name.clone(), kind: "context".into(), spec: Err(format!("context {name}: {e}")) },
        });
    }
    out
}

async fn open(spec: &Spec, g: &Global) -> Result<Box<dyn BenchTarget>> {
    match spec {
        Spec::Embedded(dir) => {
            let (d, sync) = (dir.clone(), g.sync_mode()?);
            let t = tokio::task::spawn_blocking(move || EmbeddedTarget::open(&d, sync)).await??;
            Ok(Box::new(t))
        }
        Spec::Http { url, token } => {
            let t = HttpTarget::connect(url, token.clone()).await.map_err(|e| anyhow!("--connect {url}: {e:#}"))?;
            Ok(Box::new(t))
        }
        Spec::Context(c) => {
            let named = |e: anyhow::Error| anyhow!("context {}: {e:#}", c.name);
            anyhow::ensure!(
                !c.read_only,
                "context {} is read-only, and bench run creates, fills and deletes a topic on each target",
                c.name
            );
            c.check_env().map_err(|e| named(e.into()))?;
            let t: Box<dyn BenchTarget> = match c.kind {
                Kind::Depot => match c.get("url") {
                    Some(url) => {
                        Box::new(HttpTarget::connect(url, c.get("token").map(str::to_string)).await.map_err(named)?)
                    }
                    None => {
                        let dir = match c.path("data") {
                            Some(d) => d,
                            None => default_data_dir()?,
                        };
                        let sync = g.sync_mode()?;
                        Box::new(
                            tokio::task::spawn_blocking(move || EmbeddedTarget::open(&dir, sync))
                                .await?
                                .map_err(named)?,
                        )
                    }
                },
                Kind::Kafka => Box::new(KafkaTarget::connect(c).await.map_err(named)?),
                Kind::Nats => Box::new(NatsTarget::connect(c).await.map_err(named)?),
                Kind::Redis => Box::new(RedisTarget::connect(c).await.map_err(named)?),
            };
            Ok(t)
        }
    }
}

/// The workload the options describe, checked.
fn workload(a: &BenchRunArgs) -> Result<Workload> {
    let check = |ok: bool, what: &str| if ok { Ok(()) } else { Err(anyhow!("{what}")) };
    check(
        a.size >= HEADER && a.size <= 1 << 20,
        "--size must be 32 B to 1 MiB (each record carries 32 B of send time and sequence number)",
    )?;
    check((1..=1_000_000_000).contains(&a.count), "--count must be 1 to 1,000,000,000")?;
    check((1..=100_000).contains(&a.batch), "--batch must be 1 to 100,000")?;
    check(a.batch * a.size <= 8 << 20, "--batch × --size must stay within 8 MiB (one request to a depot server)")?;
    check((1..=256).contains(&a.producers), "--producers must be 1 to 256")?;
    check((1..=256).contains(&a.consumers), "--consumers must be 1 to 256")?;
    check((1..=10_000).contains(&a.partitions), "--partitions must be 1 to 10,000")?;
    check(a.seconds.is_finite() && (0.0..=3600.0).contains(&a.seconds), "--seconds must be 0 to 3600")?;
    check((1..=10_000_000).contains(&a.rate), "--rate must be 1 to 10,000,000 records/s")?;
    check(a.rate as f64 * a.seconds <= 1e9, "--rate × --seconds must stay within 1,000,000,000 records")?;
    check((1..=100).contains(&a.rounds), "--rounds must be 1 to 100")?;
    Ok(Workload {
        size: a.size,
        count: a.count,
        batch: a.batch,
        producers: a.producers,
        consumers: a.consumers,
        partitions: a.partitions,
        rate: a.rate,
        seconds: a.seconds,
        rounds: a.rounds,
    })
}

/// `--server-pid [TARGET=]PID` per target name; a bare PID belongs to the one target with a
/// server of its own.
fn server_pids(given: &[String], targets: &[Named]) -> Result<BTreeMap<String, u32>> {
    let served: Vec<&str> = targets.iter().filter(|t| t.kind != "embedded").map(|t| t.name.as_str()).collect();
    let mut out = BTreeMap::new();
    for s in given {
        let (name, pid) = match s.split_once('=') {
            Some((n, p)) => (n.to_string(), p),
            None => match served.as_slice() {
                [one] => (one.to_string(), s.as_str()),
                _ => anyhow::bail!(
                    "--server-pid {s}: say which target it is, as NAME=PID (targets with a server: {})",
                    if served.is_empty() { "none".to_string() } else { served.join(", ") }
                ),
            },
        };
        let pid: u32 = pid.parse().map_err(|_| anyhow!("--server-pid {s}: {pid:?} is not a process id"))?;
        anyhow::ensure!(served.contains(&name.as_str()), "--server-pid {s}: no target with a server is named {name}");
        anyhow::ensure!(
            cpu::of_pid(pid).is_some(),
            "--server-pid {s}: cannot read /proc/{pid}/stat (no such process?)"
        );
        out.insert(name, pid);
    }
    Ok(out)
}

/// One target's round on its own topic, which is removed afterwards whatever happened.
async fn round(t: &dyn BenchTarget, rd: Round<'_>, name: &str, round: usize, stop: &Stop) -> RunResult {
    let mut r = RunResult::new(name, round, rd.topic);
    let created = tokio::select! {
        c = t.create_topic(rd.topic, rd.w) => c,
        _ = stop.wait() => { r.interrupted = true; return r; }
    };
    if let Err(e) = created {
        r.error = Some(format!("cannot create topic {}: {e:#}", rd.topic));
        return r;
    }
    let outcome = tokio::select! {
        o = phases::run(&rd, &mut r) => Some(o),
        _ = stop.wait() => None,
    };
    match outcome {
        Some(Ok(())) => r.ok = true,
        Some(Err(e)) => r.error = Some(format!("{e:#}")),
        None => r.interrupted = true,
    }
    match tokio::time::timeout(CLEANUP, t.cleanup(rd.topic, rd.group)).await {
        Ok(Ok(())) => {}
        Ok(Err(e)) => r.cleanup_error = Some(format!("{e:#}")),
        Err(_) => r.cleanup_error = Some(format!("no answer within {} s", CLEANUP.as_secs())),
    }
    if let Some(e) = &r.cleanup_error {
        rd.progress.note(&format!("{}: the topic {} may be left behind: {e}", rd.label, rd.topic));
    }
    r
}

/// Runs the benchmark and prints the table (or the JSON) and, with `--plot`, writes the SVG.
pub async fn run(g: &Global, a: &BenchRunArgs) -> Result<()> {
    anyhow::ensure!(!g.read_only, "bench run creates, fills and deletes a topic on each target: drop --read-only");
    let w = workload(a)?;
    let named = targets(g);
    anyhow::ensure!(
        !named.is_empty(),
        "name what to measure: --data DIR (the embedded engine), --connect URL (a depot server), --context NAME (repeatable)"
    );
    let pids = server_pids(&a.server_pid, &named)?;
    let progress = Progress::new();
    let stop = Stop::on_ctrl_c()?;
    let mut infos = Vec::new();
    let mut opened: Vec<Option<Box<dyn BenchTarget>>> = Vec::new();
    for n in &named {
        let t = match &n.spec {
            Err(e) => Err(anyhow!("{e}")),
            Ok(spec) => tokio::select! {
                t = open(spec, g) => t,
                _ = stop.wait() => Err(anyhow!("interrupted while connecting")),
            },
        };
        match t {
            Ok(t) => {
                infos.push(TargetInfo {
                    name: n.name.clone(),
                    kind: n.kind.clone(),
                    method: Some(t.method(&w)),
                    error: None,
                });
                opened.push(Some(t));
            }
            Err(e) => {
                let e = format!("{e:#}");
                progress.note(&format!("{}: not measured: {e}", n.name));
                infos.push(TargetInfo { name: n.name.clone(), kind: n.kind.clone(), method: None, error: Some(e) });
                opened.push(None);
            }
        }
    }
    let mut runs = Vec::new();
    let pid = std::process::id();
    'rounds: for k in 1..=w.rounds {
        for (i, (t, n)) in opened.iter().zip(&named).enumerate() {
            let Some(t) = t else { continue };
            if stop.is_set() {
                break 'rounds;
            }
            let topic = format!("depot-bench-{pid}-{i}-{k}");
            let group = format!("{topic}-g");
            let rd = Round {
                target: t.as_ref(),
                topic: &topic,
                group: &group,
                w: &w,
                label: format!("{} round {k}/{}", n.name, w.rounds),
                progress,
                server_pid: pids.get(&n.name).copied(),
            };
            let r = round(t.as_ref(), rd, &n.name, k, &stop).await;
            if let Some(e) = &r.error {
                progress.note(&format!("{} round {k}: {e}", n.name));
            }
            runs.push(r);
        }
    }
    for (t, n) in opened.iter().zip(&named) {
        if let Some(t) = t
            && let Err(e) = t.close().await
        {
            progress.note(&format!("{}: closing: {e:#}", n.name));
        }
    }
    let report = Report::new(w, infos, runs, stop.is_set());
    if g.json {
        crate::cli::print_json(&report)?;
    } else {
        outln!("{}", table::render(&report).trim_end())?;
    }
    if let Some(path) = &a.plot {
        plot::write(path, &report)?;
        progress.note(&format!("wrote {}", path.display()));
    }
    if report.interrupted {
        anyhow::bail!("interrupted by ctrl-c; the partial results are above and the temporary topics removed");
    }
    match report.failures() {
        0 => Ok(()),
        n => Err(anyhow!("{n} of the runs or targets failed; see the notes under the table")),
    }
}
