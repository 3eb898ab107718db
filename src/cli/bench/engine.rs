//! `depot bench engine`: the engine's speed figures, measured the same way every time.
//!
//! 1. publish: one partition, `sync=interval`, batches of `--batch` records of `--value-size` bytes
//! 2. catch-up read of everything just written (from the page cache)
//! 3. group commit: `sync=always`, one writer vs. `--writers` concurrent writers (records/s and ratio)
//! 4. open time of a partition holding `--open-records` records (after a clean close)

use crate::core::TopicConfig;
use crate::engine::{Engine, EngineConfig, NewRecord, SyncMode};
use anyhow::{Context, Result};
use bytes::Bytes;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Options of the engine benchmark.
#[derive(Debug, Clone, clap::Args)]
pub struct BenchArgs {
    /// Scratch directory (default: a fresh temporary directory, removed afterwards).
    #[arg(long)]
    pub dir: Option<PathBuf>,
    /// Records for the publish and read runs.
    #[arg(long, default_value_t = 5_000_000)]
    pub records: u64,
    /// Bytes per value.
    #[arg(long, default_value_t = 100)]
    pub value_size: usize,
    /// Records per batch for the publish run.
    #[arg(long, default_value_t = 1000)]
    pub batch: usize,
    /// Concurrent writers in the group-commit run.
    #[arg(long, default_value_t = 8)]
    pub writers: usize,
    /// Records per batch in the group-commit run (1 = every record waits for its own fsync).
    #[arg(long, default_value_t = 1)]
    pub commit_batch: usize,
    /// Seconds each group-commit run lasts.
    #[arg(long, default_value_t = 3)]
    pub commit_seconds: u64,
    /// Records in the partition whose open time is measured.
    #[arg(long, default_value_t = 10_000_000)]
    pub open_records: u64,
    /// Print one JSON object instead of a table.
    #[arg(long)]
    pub json: bool,
}

fn batch(value_size: usize, n: usize) -> Vec<NewRecord> {
    let value = Bytes::from(vec![b'x'; value_size]);
    (0..n).map(|_| NewRecord::value(value.clone())).collect()
}

fn engine(dir: &Path, sync: SyncMode) -> Result<Engine> {
    let cfg = EngineConfig { sync, ..EngineConfig::default() };
    Engine::open(dir, cfg).with_context(|| format!("open {}", dir.display()))
}

/// Runs the benchmark and prints the figures.
pub fn run(args: &BenchArgs) -> Result<()> {
    let tmp;
    let root = match &args.dir {
        Some(d) => d.clone(),
        None => {
            tmp = tempfile::Builder::new().prefix("depot-bench-").tempdir_in(std::env::current_dir()?)?;
            tmp.path().to_path_buf()
        }
    };
    let mut figures = serde_json::Map::new();
    let mut put = |k: &str, v: f64| {
        figures.insert(k.to_string(), serde_json::json!(v));
    };

    // 1 + 2: publish and catch-up read.
    let dir = root.join("publish");
    let e = engine(&dir, SyncMode::Interval(Duration::from_millis(200)))?;
    e.create_topic("bench", TopicConfig::with_partitions(1))?;
    let recs = batch(args.value_size, args.batch);
    let batches = args.records.div_ceil(args.batch as u64);
    let t = Instant::now();
    for _ in 0..batches {
        e.append("bench", 0, &recs, None)?;
    }
    let secs = t.elapsed().as_secs_f64();
    let written = batches * args.batch as u64;
    put("publish_records_per_s", written as f64 / secs);
    put("publish_mb_per_s", written as f64 * args.value_size as f64 / secs / 1e6);
    let t = Instant::now();
    let mut at = 0u64;
    let mut checksum = 0u64;
    while at < written {
        let got = e.fetch("bench", 0, at, 10_000, 16 << 20)?;
        let Some(last) = got.last() else { break };
        checksum =
            checksum.wrapping_add(got.iter().map(|r| r.value.as_ref().map_or(0, |v| v.len() as u64)).sum::<u64>());
        at = last.offset + 1;
    }
    let secs = t.elapsed().as_secs_f64();
    anyhow::ensure!(at == written, "read back {at} records of {written}");
    anyhow::ensure!(checksum == written * args.value_size as u64, "read back wrong value sizes");
    put("read_records_per_s", written as f64 / secs);
    e.close()?;
    drop(e);
    std::fs::remove_dir_all(&dir).ok();

    // 3: group commit.
    let rate = |writers: usize| -> Result<f64> {
        let dir = root.join(format!("commit-{writers}"));
        let e = engine(&dir, SyncMode::Always)?;
        e.create_topic("bench", TopicConfig::with_partitions(1))?;
        let recs = Arc::new(batch(args.value_size, args.commit_batch));
        let deadline = Instant::now() + Duration::from_secs(args.commit_seconds);
        let t = Instant::now();
        let handles: Vec<_> = (0..writers)
            .map(|_| {
                let e = e.clone();
                let recs = recs.clone();
                std::thread::spawn(move || -> Result<u64> {
                    let mut n = 0;
                    while Instant::now() < deadline {
                        e.append("bench", 0, &recs, None)?;
                        n += recs.len() as u64;
                    }
                    Ok(n)
                })
            })
            .collect();
        let mut total = 0;
        for h in handles {
            total += h.join().map_err(|_| anyhow::anyhow!("a writer thread panicked"))??;
        }
        let secs = t.elapsed().as_secs_f64();
        e.close()?;
        drop(e);
        std::fs::remove_dir_all(&dir).ok();
        Ok(total as f64 / secs)
    };
    let one = rate(1)?;
    let many = rate(args.writers)?;
    put("always_1_writer_records_per_s", one);
    put("always_n_writers_records_per_s", many);
    put("group_commit_speedup", many / one);

    // 4: open time of a big partition.
    let dir = root.join("open");
    {
        let e = engine(&dir, SyncMode::Never)?;
        e.create_topic("bench", TopicConfig::with_partitions(1))?;
        let recs = batch(args.value_size, 1000);
        for _ in 0..args.open_records.div_ceil(1000) {
            e.append("bench", 0, &recs, None)?;
        }
        e.close()?;
    }
    let mut best = f64::MAX;
    for _ in 0..3 {
        let t = Instant::now();
        let e = engine(&dir, SyncMode::Never)?;
        let secs = t.elapsed().as_secs_f64();
        let end = e.describe_topic("bench")?.partitions[0].end_offset;
        anyhow::ensure!(end >= args.open_records, "reopened partition ends at {end}");
        e.close()?;
        best = best.min(secs);
    }
    put("open_ms", best * 1000.0);
    std::fs::remove_dir_all(&dir).ok();

    if args.json {
        println!("{}", serde_json::Value::Object(figures));
    } else {
        let f = |k: &str| figures.get(k).and_then(|v| v.as_f64()).unwrap_or(0.0);
        println!("depot engine benchmark ({} B values)", args.value_size);
        println!(
            "  publish, 1 partition, batches of {}, sync=interval:200   {:>12.0} records/s  ({:.0} MB/s)",
            args.batch,
            f("publish_records_per_s"),
            f("publish_mb_per_s")
        );
        println!(
            "  catch-up read (page cache)                               {:>12.0} records/s",
            f("read_records_per_s")
        );
        println!(
            "  sync=always, batches of {}, 1 writer                      {:>12.0} records/s",
            args.commit_batch,
            f("always_1_writer_records_per_s")
        );
        println!(
            "  sync=always, batches of {}, {} writers (group commit)      {:>12.0} records/s  ({:.1}x one writer)",
            args.commit_batch,
            args.writers,
            f("always_n_writers_records_per_s"),
            f("group_commit_speedup")
        );
        println!("  open a partition of {} records (clean close)         {:>12.1} ms", args.open_records, f("open_ms"));
    }
    Ok(())
}
