//! The command line: global options, the verbs, and how each one runs.

pub mod bench;

use crate::engine::{Engine, EngineConfig, NewRecord, SyncMode, TopicConfig};
use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use std::io::BufRead;
use std::path::PathBuf;

/// depot — a terminal console for message queues, on an embedded durable queue engine.
#[derive(Debug, Parser)]
#[command(name = "depot", version, about, propagate_version = true)]
pub struct Cli {
    /// Data directory of the embedded engine (default: the platform data directory, e.g. ~/.local/share/depot).
    #[arg(long, global = true, env = "DEPOT_DATA")]
    pub data: Option<PathBuf>,
    /// When appends are made durable: always | interval:MS | never.
    #[arg(long, global = true, default_value = "interval:200")]
    pub sync: String,
    #[command(subcommand)]
    pub verb: Option<Verb>,
}

#[derive(Debug, Subcommand)]
pub enum Verb {
    /// List topics with partitions, backlog and size.
    Topics,
    /// Create, describe or delete a topic.
    Topic {
        #[command(subcommand)]
        action: TopicAction,
    },
    /// Publish one record, or one record per line of stdin when no VALUE is given.
    Publish {
        topic: String,
        #[arg(long)]
        key: Option<String>,
        #[arg(long)]
        partition: Option<u32>,
        value: Option<String>,
    },
    /// Read records without committing anything.
    Peek {
        topic: String,
        #[arg(long, default_value_t = 0)]
        partition: u32,
        #[arg(long)]
        offset: Option<u64>,
        #[arg(long, default_value_t = 20)]
        max: usize,
    },
    /// List consumer groups with their lag.
    Groups,
    /// Measure the engine's speed (see `depot bench engine --help`).
    Bench {
        #[command(subcommand)]
        what: BenchWhat,
    },
}

#[derive(Debug, Subcommand)]
pub enum TopicAction {
    /// Create a topic.
    Create {
        name: String,
        #[arg(long, default_value_t = 1)]
        partitions: u32,
        #[arg(long)]
        retention_ms: Option<u64>,
        #[arg(long)]
        retention_bytes: Option<u64>,
    },
    /// Show a topic's partitions.
    Describe { name: String },
    /// Delete a topic and its data.
    Delete { name: String },
}

#[derive(Debug, Subcommand)]
pub enum BenchWhat {
    /// Publish, catch-up read, group commit and open time of the embedded engine.
    Engine(bench::BenchArgs),
}

/// The default data directory: `$XDG_DATA_HOME/depot` or the platform's equivalent.
pub fn default_data_dir() -> Result<PathBuf> {
    directories::ProjectDirs::from("", "", "depot")
        .map(|d| d.data_dir().to_path_buf())
        .context("cannot find a home directory for the default data directory; pass --data DIR")
}

fn open(cli: &Cli) -> Result<Engine> {
    let dir = match &cli.data {
        Some(d) => d.clone(),
        None => default_data_dir()?,
    };
    let sync: SyncMode = cli.sync.parse()?;
    let cfg = EngineConfig { sync, ..EngineConfig::default() };
    Ok(Engine::open(&dir, cfg)?)
}

fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = n as f64;
    let mut u = 0;
    while v >= 1024.0 && u < UNITS.len() - 1 {
        v /= 1024.0;
        u += 1;
    }
    if u == 0 { format!("{n} B") } else { format!("{v:.1} {}", UNITS[u]) }
}

/// Runs the parsed command line.
pub fn run(cli: Cli) -> Result<()> {
    let Some(verb) = &cli.verb else {
        let e = open(&cli)?;
        let topics = e.list_topics();
        println!("depot data directory: {}", e.dir().display());
        if topics.is_empty() {
            println!("no topics yet — create one with: depot topic create orders --partitions 3");
        }
        for t in topics {
            println!("topic {:<30} partitions {:>3}  backlog {:>10}  size {:>10}", t.name, t.partitions.len(), t.backlog(), human_bytes(t.size_bytes()));
        }
        for g in e.list_groups() {
            println!("group {:<30} {:<7} members {:>3}  lag {:>10}", g.name, g.state, g.members.len(), g.total_lag());
        }
        return Ok(());
    };
    match verb {
        Verb::Bench { what: BenchWhat::Engine(args) } => bench::run(args),
        Verb::Topics => {
            let e = open(&cli)?;
            println!("{:<30} {:>10} {:>12} {:>12}", "TOPIC", "PARTITIONS", "BACKLOG", "SIZE");
            for t in e.list_topics() {
                println!("{:<30} {:>10} {:>12} {:>12}", t.name, t.partitions.len(), t.backlog(), human_bytes(t.size_bytes()));
            }
            Ok(())
        }
        Verb::Topic { action } => {
            let e = open(&cli)?;
            match action {
                TopicAction::Create { name, partitions, retention_ms, retention_bytes } => {
                    let cfg = TopicConfig { partitions: *partitions, retention_ms: *retention_ms, retention_bytes: *retention_bytes, segment_bytes: None };
                    e.create_topic(name, cfg)?;
                    println!("created topic {name} with {partitions} partition(s)");
                }
                TopicAction::Describe { name } => {
                    let t = e.describe_topic(name)?;
                    println!("{:>9} {:>12} {:>12} {:>12}", "PARTITION", "LOG-START", "END", "SIZE");
                    for p in t.partitions {
                        println!("{:>9} {:>12} {:>12} {:>12}", p.partition, p.log_start, p.end_offset, human_bytes(p.size_bytes));
                    }
                }
                TopicAction::Delete { name } => {
                    e.delete_topic(name)?;
                    println!("deleted topic {name}");
                }
            }
            Ok(())
        }
        Verb::Publish { topic, key, partition, value } => {
            let e = open(&cli)?;
            let send = |v: String| -> Result<()> {
                let rec = NewRecord { key: key.clone().map(Into::into), value: v.into(), headers: Vec::new() };
                let (p, o) = match partition {
                    Some(p) => (*p, e.append(topic, *p, &[rec], None)?.base_offset),
                    None => e.publish(topic, vec![rec])?[0],
                };
                println!("{topic}\t{p}\t{o}");
                Ok(())
            };
            match value {
                Some(v) => send(v.clone())?,
                None => {
                    for line in std::io::stdin().lock().lines() {
                        send(line.context("read stdin")?)?;
                    }
                }
            }
            Ok(())
        }
        Verb::Peek { topic, partition, offset, max } => {
            let e = open(&cli)?;
            let start = match offset {
                Some(o) => *o,
                None => e.describe_topic(topic)?.partitions.get(*partition as usize).map(|p| p.log_start).unwrap_or(0),
            };
            for r in e.fetch(topic, *partition, start, *max, 1 << 20)? {
                let key = r.key.as_ref().map(|k| String::from_utf8_lossy(k).to_string()).unwrap_or_default();
                println!("{}\t{}\t{}\t{}", r.offset, crate::engine::reset::fmt_ms(r.timestamp), key, String::from_utf8_lossy(&r.value));
            }
            Ok(())
        }
        Verb::Groups => {
            let e = open(&cli)?;
            println!("{:<30} {:<7} {:>7} {:>10} {:>10}", "GROUP", "STATE", "MEMBERS", "LAG", "LAG-TIME");
            for g in e.list_groups() {
                println!("{:<30} {:<7} {:>7} {:>10} {:>9}s", g.name, g.state, g.members.len(), g.total_lag(), g.max_lag_ms() / 1000);
            }
            Ok(())
        }
    }
}
