//! `depot bench http`: through the real HTTP API on loopback — batched publish throughput, and
//! long-poll delivery latency (publish → a waiting fetch receives it).

use crate::backend::open::{Target, open};
use crate::core::{OutRecord, Payload, PublishRequest, TopicConfig};
use crate::engine::{Engine, EngineConfig, SyncMode};
use crate::server::{self, ServeOptions};
use anyhow::{Context, Result};
use std::time::{Duration, Instant};

#[derive(Debug, Clone, clap::Args)]
pub struct HttpBenchArgs {
    /// Concurrent publishing clients.
    #[arg(long, default_value_t = 4)]
    pub clients: usize,
    /// Records per publish request.
    #[arg(long, default_value_t = 1000)]
    pub batch: usize,
    #[arg(long, default_value_t = 100)]
    pub value_size: usize,
    /// Seconds of publishing.
    #[arg(long, default_value_t = 5)]
    pub seconds: u64,
    /// Long-poll round trips to time.
    #[arg(long, default_value_t = 500)]
    pub polls: usize,
    #[arg(long)]
    pub json: bool,
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

pub async fn run(a: &HttpBenchArgs) -> Result<()> {
    let tmp = tempfile::Builder::new().prefix("depot-bench-http-").tempdir_in(std::env::current_dir()?)?;
    let engine = Engine::open(
        tmp.path(),
        EngineConfig { sync: SyncMode::Interval(Duration::from_millis(200)), ..EngineConfig::default() },
    )?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let app = server::router(open(&Target::Engine(engine.clone()), false).await?.backend, ServeOptions::default());
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let srv = tokio::spawn(server::serve(listener, app, async {
        let _ = stop_rx.await;
    }));
    let client = open(&Target::Remote { url: format!("http://{addr}"), token: None }, false).await?.backend;
    client.create_topic("bench", TopicConfig::with_partitions(1)).await.map_err(anyhow::Error::msg)?;
    client.create_topic("latency", TopicConfig::with_partitions(1)).await.map_err(anyhow::Error::msg)?;

    // Throughput.
    let value = "x".repeat(a.value_size);
    let req = PublishRequest {
        records: (0..a.batch)
            .map(|_| OutRecord { value: Some(Payload::text(&value)), partition: Some(0), ..OutRecord::default() })
            .collect(),
        producer: None,
    };
    let deadline = Instant::now() + Duration::from_secs(a.seconds);
    let t = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..a.clients {
        let c = client.clone();
        let r = req.clone();
        tasks.push(tokio::spawn(async move {
            let mut n = 0u64;
            while Instant::now() < deadline {
                let acks = c.publish("bench", r.clone()).await.map_err(anyhow::Error::msg)?;
                n += acks.len() as u64;
            }
            anyhow::Ok(n)
        }));
    }
    let mut total = 0;
    for t in tasks {
        total += t.await.context("publisher task")??;
    }
    let publish_rate = total as f64 / t.elapsed().as_secs_f64();

    // Long-poll latency.
    let mut lat = Vec::with_capacity(a.polls);
    for i in 0..a.polls as u64 {
        let c = client.clone();
        let waiter = tokio::spawn(async move { c.fetch("latency", 0, i, 10, 5_000).await });
        tokio::time::sleep(Duration::from_millis(1)).await; // let the fetch reach the server and wait
        let sent = Instant::now();
        client
            .publish("latency", PublishRequest { records: vec![OutRecord::text("ping")], producer: None })
            .await
            .map_err(anyhow::Error::msg)?;
        let got = waiter.await.context("fetch task")?.map_err(anyhow::Error::msg)?;
        anyhow::ensure!(got.first().map(|m| m.offset) == Some(i), "long poll returned the wrong record");
        lat.push(sent.elapsed().as_secs_f64() * 1000.0);
    }
    lat.sort_by(|x, y| x.total_cmp(y));
    let _ = stop_tx.send(());
    let _ = srv.await;
    engine.close()?;

    let (p50, p99, max) = (percentile(&lat, 0.5), percentile(&lat, 0.99), lat.last().copied().unwrap_or(0.0));
    if a.json {
        println!(
            "{}",
            serde_json::json!({"publish_records_per_s": publish_rate, "long_poll_p50_ms": p50, "long_poll_p99_ms": p99, "long_poll_max_ms": max})
        );
    } else {
        println!("depot HTTP benchmark (loopback, {} B values)", a.value_size);
        println!(
            "  publish, {} clients, batches of {}                {:>10.0} records/s",
            a.clients, a.batch, publish_rate
        );
        println!(
            "  long-poll delivery (publish → waiting fetch), {} rounds: p50 {p50:.2} ms, p99 {p99:.2} ms, max {max:.2} ms",
            a.polls
        );
    }
    Ok(())
}
