//! The command line's shape (clap), and what the global options name as a backend [`Target`].

use crate::backend::context;
use crate::backend::open::{SyncMode, Target, default_data_dir};
use crate::server::kafka::KafkaOptions;
use anyhow::Result;
use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

/// depot — a terminal console for message queues, on an embedded durable queue engine.
#[derive(Debug, Parser)]
#[command(name = "depot", version, about, propagate_version = true)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(flatten)]
    pub console: ConsoleArgs,
    #[command(subcommand)]
    pub verb: Option<Verb>,
}

/// Options of the console (`depot` with no verb).
#[derive(Debug, Clone, Args)]
pub struct ConsoleArgs {
    /// Also serve the HTTP API while the console runs on the embedded engine ("off" to disable).
    #[arg(long, default_value = "127.0.0.1:7878", value_name = "ADDR|off")]
    pub listen: String,
    /// Colour theme: dark, light, high-contrast, or a file in <config dir>/themes/ [default: from the config file, else dark].
    #[arg(long, value_name = "NAME")]
    pub theme: Option<String>,
    #[command(flatten)]
    pub kafka: KafkaArgs,
}

/// The Kafka listener's options (`serve` and the console's embedded engine).
#[derive(Debug, Clone, Args)]
pub struct KafkaArgs {
    /// Also answer Kafka clients on this address, e.g. 127.0.0.1:9092 (off unless given).
    #[arg(long, value_name = "ADDR")]
    pub kafka_listen: Option<String>,
    /// Create the topics Kafka clients name in Metadata and Produce requests.
    #[arg(long)]
    pub kafka_auto_create: bool,
    /// Partitions of a topic created over the Kafka protocol when the client leaves it to the broker.
    #[arg(long, default_value_t = 1, value_name = "N")]
    pub kafka_default_partitions: u32,
}

/// Options every verb takes.
#[derive(Debug, Clone, Args)]
pub struct Global {
    /// Data directory of the embedded engine [default: the platform data directory, e.g. ~/.local/share/depot].
    #[arg(long, global = true, env = "DEPOT_DATA", value_name = "DIR")]
    pub data: Option<PathBuf>,
    /// Talk to a depot server instead of an embedded engine, e.g. http://127.0.0.1:7878.
    #[arg(long, global = true, env = "DEPOT_CONNECT", value_name = "URL")]
    pub connect: Option<String>,
    /// A named connection from the config file's [contexts.NAME] (kubeconfig-style); `bench run` takes several.
    #[arg(long, global = true, env = "DEPOT_CONTEXT", value_name = "NAME")]
    pub context: Vec<String>,
    /// Token for the server (sent as `Authorization: Bearer TOKEN`); `serve` requires it from clients.
    #[arg(long, global = true, env = "DEPOT_TOKEN", value_name = "TOKEN", hide_env_values = true)]
    pub token: Option<String>,
    /// When the embedded engine makes appends durable: always | interval:MS | never.
    #[arg(long, global = true, default_value = "interval:200", value_name = "MODE")]
    pub sync: String,
    /// Refuse every write.
    #[arg(long, global = true)]
    pub read_only: bool,
    /// Print JSON (one object per line for streams of records) instead of tables.
    #[arg(long, global = true)]
    pub json: bool,
}

impl Global {
    /// The data directory the options point at.
    pub fn data_dir(&self) -> Result<PathBuf> {
        match &self.data {
            Some(d) => Ok(d.clone()),
            None => Ok(default_data_dir()?),
        }
    }

    /// `--sync`, checked whichever backend ends up serving, so a bad value never passes silently.
    pub fn sync_mode(&self) -> Result<SyncMode> {
        Ok(self.sync.parse()?)
    }

    /// What the options name: `--context`, else `--connect`, else the data directory.
    pub fn target(&self) -> Result<Target> {
        let sync = self.sync_mode()?;
        match self.context.as_slice() {
            [] => {}
            [name] => return Ok(Target::Context { context: context::find(name)?, sync }),
            names => anyhow::bail!(
                "--context is given {} times ({}): only `bench run` measures several targets at once",
                names.len(),
                names.join(", ")
            ),
        }
        if let Some(url) = &self.connect {
            return Ok(Target::Remote { url: url.clone(), token: self.token.clone() });
        }
        Ok(Target::Data { dir: self.data_dir()?, sync, token: self.token.clone() })
    }
}

impl KafkaArgs {
    /// The listener's options: the token and the read-only flag are the HTTP API's.
    pub fn options(&self, g: &Global) -> KafkaOptions {
        KafkaOptions {
            token: g.token.clone(),
            read_only: g.read_only,
            auto_create: self.kafka_auto_create,
            default_partitions: self.kafka_default_partitions,
            ..KafkaOptions::default()
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum Verb {
    /// Serve the embedded engine over HTTP (the API under /v1/, /healthz, /metrics), and to Kafka clients with --kafka-listen.
    Serve(ServeArgs),
    /// List topics: partitions, backlog, size, rates.
    Topics,
    /// Create, describe or delete a topic.
    Topic {
        #[command(subcommand)]
        action: TopicAction,
    },
    /// Publish VALUE, or one record per line of stdin; prints each record's partition and offset once acknowledged.
    Publish(PublishArgs),
    /// Read records without committing anything.
    Peek(PeekArgs),
    /// Search a topic by the engine: key, header, value text or regex, offsets, time; bounded.
    Search(SearchArgs),
    /// Pull records as a member of a consumer group (commits unless --no-commit).
    Pull(PullArgs),
    /// List consumer groups with their lag.
    Groups,
    /// Describe a consumer group.
    Group {
        #[command(subcommand)]
        action: GroupAction,
    },
    /// Reset a group's committed offsets (a dry run unless --execute).
    Reset(ResetArgs),
    /// Undo the group's last reset (a dry run unless --execute).
    Undo(UndoArgs),
    /// Copy a range of a topic to the same or another topic (a dry run unless --execute).
    Replay(ReplayArgs),
    /// Write a topic's records to stdout as JSON lines or CSV.
    Export(ExportArgs),
    /// Publish the records of a JSON-lines file (as written by export).
    Import(ImportArgs),
    /// Workshop mode: the console on a fresh engine with simulated producers and consumers.
    Demo(DemoArgs),
    /// Measure speed: `bench run` (one workload on any engines, side by side), `bench engine`, `bench http`.
    Bench {
        #[command(subcommand)]
        what: BenchWhat,
    },
}

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// A built-in scenario (see --list) or a scenario file (.toml) [default: lag].
    pub scenario: Option<String>,
    /// List the built-in scenarios.
    #[arg(long)]
    pub list: bool,
    /// Seed of the simulation's random choices (keys, amounts).
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Run without the console, as fast as possible, printing the state every simulated second.
    #[arg(long)]
    pub headless: bool,
    /// With --headless: how many simulated seconds to run.
    #[arg(long, default_value_t = 20)]
    pub seconds: u64,
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:7878", value_name = "ADDR")]
    pub listen: String,
    #[command(flatten)]
    pub kafka: KafkaArgs,
    /// Connections served at once (lowered to fit the open-file limit); at the limit the idlest
    /// connection makes room for a new one.
    #[arg(long, default_value_t = 1024, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    pub max_connections: u32,
    /// Pulls and fetches waiting for records at once; beyond it 503 with Retry-After.
    #[arg(long, default_value_t = 1024, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    pub max_waiters: u32,
    /// MiB of request bodies read at once (4× that for bodies being decoded and answered); a body
    /// that does not fit waits 2 s, then gets 503.
    #[arg(long, default_value_t = 64, value_name = "MIB", value_parser = clap::value_parser!(u32).range(16..=4095))]
    pub body_budget_mib: u32,
    /// A request's headers must arrive within this (also how long an idle connection is kept).
    #[arg(long, default_value_t = 10_000, value_name = "MS", value_parser = clap::value_parser!(u64).range(100..=3_600_000))]
    pub header_timeout_ms: u64,
    /// A request's body must arrive within this once its headers have; else 408.
    #[arg(long, default_value_t = 30_000, value_name = "MS", value_parser = clap::value_parser!(u64).range(100..=3_600_000))]
    pub body_timeout_ms: u64,
    /// On SIGINT/SIGTERM, how long in-flight requests may take to finish before their connections are closed.
    #[arg(long, default_value_t = 5_000, value_name = "MS", value_parser = clap::value_parser!(u64).range(0..=600_000))]
    pub shutdown_grace_ms: u64,
}

impl ServeArgs {
    /// The server's limits, as asked for (the connection limit before the open-file limit lowers it).
    pub fn limits(&self) -> crate::server::Limits {
        use std::time::Duration;
        crate::server::Limits {
            max_connections: self.max_connections as usize,
            header_timeout: Duration::from_millis(self.header_timeout_ms),
            body_timeout: Duration::from_millis(self.body_timeout_ms),
            max_waiters: self.max_waiters as usize,
            body_budget: (self.body_budget_mib as usize) << 20,
            shutdown_grace: Duration::from_millis(self.shutdown_grace_ms),
            ..crate::server::Limits::default()
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum TopicAction {
    /// Create a topic.
    Create {
        name: String,
        #[arg(long, default_value_t = 1)]
        partitions: u32,
        /// Delete whole segments older than this many milliseconds.
        #[arg(long, value_name = "MS")]
        retention_ms: Option<u64>,
        /// Delete the oldest whole segments while a partition is larger than this.
        #[arg(long, value_name = "BYTES")]
        retention_bytes: Option<u64>,
    },
    /// Show a topic's partitions.
    Describe { name: String },
    /// Delete a topic and its data.
    Delete { name: String },
}

#[derive(Debug, Args)]
pub struct PublishArgs {
    pub topic: String,
    /// Key (records with a key go to its murmur2 partition, as in Kafka).
    #[arg(long)]
    pub key: Option<String>,
    /// Header NAME=VALUE (repeatable).
    #[arg(long = "header", value_name = "NAME=VALUE")]
    pub headers: Vec<String>,
    /// Explicit partition.
    #[arg(long)]
    pub partition: Option<u32>,
    /// The value; without it, every line of stdin is a record.
    pub value: Option<String>,
}

#[derive(Debug, Args)]
pub struct PeekArgs {
    pub topic: String,
    /// One partition (default: all, merged by time).
    #[arg(long)]
    pub partition: Option<u32>,
    /// Start at this offset.
    #[arg(long, conflicts_with_all = ["from_time", "last"])]
    pub offset: Option<u64>,
    /// Start at this time: RFC 3339 (2026-11-25T17:00:00Z), ms since the epoch, or -DURATION ago (-15m).
    #[arg(long, value_name = "TIME", conflicts_with = "last", allow_hyphen_values = true)]
    pub from_time: Option<String>,
    /// The last N records of each partition.
    #[arg(long, value_name = "N")]
    pub last: Option<u64>,
    /// At most this many records.
    #[arg(long, default_value_t = 20)]
    pub max: usize,
}

/// `depot search`: every criterion given must hold. The search stops after --max matches or
/// --max-bytes scanned (or --max-time) and says so, with the --resume that continues it.
#[derive(Debug, Args)]
pub struct SearchArgs {
    pub topic: String,
    /// One partition (default: every partition, in turn).
    #[arg(long)]
    pub partition: Option<u32>,
    /// The key, exactly.
    #[arg(long, value_name = "K")]
    pub key: Option<String>,
    /// A header: the name exactly, the value containing the text.
    #[arg(long, value_name = "NAME=VALUE")]
    pub header: Option<String>,
    /// Text the value contains.
    #[arg(long, value_name = "TEXT", conflicts_with = "regex")]
    pub value: Option<String>,
    /// A regex the value matches.
    #[arg(long, value_name = "RE")]
    pub regex: Option<String>,
    #[arg(long, value_name = "A")]
    pub from_offset: Option<u64>,
    /// Stop before this offset (exclusive).
    #[arg(long, value_name = "B")]
    pub to_offset: Option<u64>,
    /// Records at or after this time: RFC 3339, ms since the epoch, or -DURATION ago (-15m).
    #[arg(long, value_name = "T", allow_hyphen_values = true)]
    pub since: Option<String>,
    /// Records before this time.
    #[arg(long, value_name = "T", allow_hyphen_values = true)]
    pub until: Option<String>,
    /// From the end towards the start (the newest match first).
    #[arg(long)]
    pub backward: bool,
    /// Continue a search where it stopped: P:OFFSET,... as the last one printed.
    #[arg(long, value_name = "P:OFFSET,...")]
    pub resume: Option<String>,
    /// Stop after this many matches (at most 10000).
    #[arg(long, value_name = "M", default_value_t = 100)]
    pub max: usize,
    /// Stop after scanning this many bytes of keys, values and headers (k, M, G suffixes).
    #[arg(long, value_name = "S", default_value = "256M")]
    pub max_bytes: String,
    /// Stop after this long (at most 60s).
    #[arg(long, value_name = "DURATION", default_value = "5s")]
    pub max_time: String,
}

#[derive(Debug, Args)]
pub struct PullArgs {
    pub topic: String,
    #[arg(long)]
    pub group: String,
    #[arg(long, default_value_t = 10)]
    pub max: usize,
    /// Do not commit what was pulled (the group will get it again).
    #[arg(long)]
    pub no_commit: bool,
    /// Wait up to this many milliseconds for records when there are none.
    #[arg(long, default_value_t = 0, value_name = "MS")]
    pub wait: u64,
}

#[derive(Debug, Subcommand)]
pub enum GroupAction {
    /// Members, assignment, committed offsets and lag per partition.
    Describe { name: String },
    /// Delete a group that has no live members.
    Delete { name: String },
}

#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("mode").required(true).args(["to_earliest", "to_latest", "to_offset", "shift_by", "to_datetime", "by_duration"])))]
pub struct ResetArgs {
    pub group: String,
    #[arg(long)]
    pub topic: String,
    #[arg(long)]
    pub to_earliest: bool,
    #[arg(long)]
    pub to_latest: bool,
    #[arg(long, value_name = "N")]
    pub to_offset: Option<u64>,
    /// Move by N (negative: back).
    #[arg(long, value_name = "N", allow_hyphen_values = true)]
    pub shift_by: Option<i64>,
    /// RFC 3339, ms since the epoch, or -DURATION ago.
    #[arg(long, value_name = "TIME", allow_hyphen_values = true)]
    pub to_datetime: Option<String>,
    /// Back to the records of this long ago, e.g. 15m, 2h, 1d.
    #[arg(long, value_name = "DURATION")]
    pub by_duration: Option<String>,
    /// Only these partitions (repeatable; default all).
    #[arg(long = "partition", value_name = "P")]
    pub partitions: Vec<u32>,
    /// Apply the plan (otherwise only show it).
    #[arg(long)]
    pub execute: bool,
    /// Apply even while the group has live members.
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, Args)]
pub struct UndoArgs {
    pub group: String,
    #[arg(long)]
    pub execute: bool,
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, Args)]
pub struct ReplayArgs {
    pub topic: String,
    /// Only these partitions (repeatable; default all).
    #[arg(long = "partition", value_name = "P")]
    pub partitions: Vec<u32>,
    #[arg(long, value_name = "A", requires = "to_offset", conflicts_with_all = ["since", "until"])]
    pub from_offset: Option<u64>,
    /// End of the range (exclusive).
    #[arg(long, value_name = "B", requires = "from_offset")]
    pub to_offset: Option<u64>,
    /// Start of the time window: RFC 3339, ms since the epoch, or -DURATION ago.
    #[arg(long, value_name = "TIME", allow_hyphen_values = true, requires = "until")]
    pub since: Option<String>,
    /// End of the time window (exclusive).
    #[arg(long, value_name = "TIME", allow_hyphen_values = true, requires = "since")]
    pub until: Option<String>,
    /// Target topic (default: the same topic).
    #[arg(long, value_name = "TOPIC")]
    pub to: Option<String>,
    #[arg(long)]
    pub execute: bool,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ExportFormat {
    Json,
    Csv,
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    pub topic: String,
    /// json: one record per line, as peek --json prints it (import reads it back). csv: a header
    /// line, then partition,offset,timestamp,key,value,headers; keys and values are text, or
    /// base64:... for other bytes; the headers column is empty when a record has none, else a JSON
    /// array of {"name": ..., "value": ...} (a value is a string when it is UTF-8 text, else
    /// {"base64": "..."}). Fields with a comma, quote or newline are quoted, quotes doubled.
    #[arg(long, value_enum, default_value = "json")]
    pub format: ExportFormat,
    #[arg(long)]
    pub partition: Option<u32>,
    #[arg(long, value_name = "A")]
    pub from_offset: Option<u64>,
    /// Stop before this offset (exclusive).
    #[arg(long, value_name = "B")]
    pub to_offset: Option<u64>,
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    pub topic: String,
    /// JSON lines, one record each: {"key": ..., "value": ..., "headers": [...]} ("-" for stdin).
    pub file: PathBuf,
    /// Keep each record's "partition" field instead of choosing by key.
    #[arg(long)]
    pub keep_partitions: bool,
}

#[derive(Debug, Subcommand)]
pub enum BenchWhat {
    /// One workload on each engine the options name (--data, --connect, every --context), side by side.
    Run(BenchRunArgs),
    /// Publish, catch-up read, group commit and open time of the embedded engine.
    Engine(super::bench::engine::BenchArgs),
    /// Batched publish throughput and long-poll latency through the HTTP API on loopback.
    Http(super::bench::http::HttpBenchArgs),
    /// Frame time and memory of the console with 1,000 topics × 8 partitions and 200 groups.
    Console(ConsoleBenchArgs),
}

/// `bench run`: what to send and how. The targets are the global `--data DIR` (the embedded
/// engine), `--connect URL` (a depot server) and each `--context NAME`, run in that order.
#[derive(Debug, Clone, Args)]
pub struct BenchRunArgs {
    /// Bytes per record value (at least 32: each carries its send time and a sequence number).
    #[arg(long, default_value_t = 100, value_name = "BYTES")]
    pub size: usize,
    /// Records to publish, and then consume, per target and round.
    #[arg(long, default_value_t = 1_000_000)]
    pub count: u64,
    /// Records per publish request, pipeline or window of unacknowledged records; most per poll.
    #[arg(long, default_value_t = 1000)]
    pub batch: usize,
    /// Concurrent producers.
    #[arg(long, default_value_t = 2)]
    pub producers: usize,
    /// Members of the consumer group.
    #[arg(long, default_value_t = 2)]
    pub consumers: usize,
    /// Partitions of the topic (depot and Kafka; a NATS or Redis stream is one partition).
    #[arg(long, default_value_t = 4)]
    pub partitions: u32,
    /// Records per second in the latency phase, on a fixed schedule.
    #[arg(long, default_value_t = 10_000, value_name = "R")]
    pub rate: u64,
    /// Seconds of the latency phase (0: none).
    #[arg(long, default_value_t = 5.0, value_name = "S")]
    pub seconds: f64,
    /// Rounds; in each, every target runs once, in turn, so drift on a shared machine hits all alike.
    #[arg(long, default_value_t = 1, value_name = "K")]
    pub rounds: usize,
    /// Write an SVG of the throughput per target and the latency CDFs.
    #[arg(long, value_name = "FILE.svg")]
    pub plot: Option<PathBuf>,
    /// A server's process id, for its CPU use: PID when one target has a server, else TARGET=PID (repeatable).
    #[arg(long = "server-pid", value_name = "[TARGET=]PID")]
    pub server_pid: Vec<String>,
}

#[derive(Debug, Clone, Args)]
pub struct ConsoleBenchArgs {
    #[arg(long, default_value_t = 1000)]
    pub topics: usize,
    #[arg(long, default_value_t = 8)]
    pub partitions: u32,
    #[arg(long, default_value_t = 200)]
    pub groups: usize,
    /// Frames to draw per view.
    #[arg(long, default_value_t = 200)]
    pub frames: usize,
    #[arg(long, default_value_t = 200)]
    pub width: u16,
    #[arg(long, default_value_t = 60)]
    pub height: u16,
}
