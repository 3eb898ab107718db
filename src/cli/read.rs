//! Reading verbs: `peek` (no commit), `pull` (as a group member), `export` and `import`.

use super::args::{ExportArgs, ExportFormat, Global, ImportArgs, PeekArgs, PullArgs};
use super::records::print_messages;
use super::{backend_err, print_json};
use crate::backend::Backend;
use crate::core::time::parse_time_now;
use crate::core::{Header, OutRecord, Payload, PeekFrom, PeekRequest, PublishRequest, PullRequest};
use anyhow::{Context, Result, bail};
use serde::Deserialize;
use std::io::{BufRead, Write};

pub async fn peek(b: &dyn Backend, g: &Global, a: PeekArgs) -> Result<()> {
    let from = if let Some(o) = a.offset {
        PeekFrom::Offset(o)
    } else if let Some(t) = &a.from_time {
        PeekFrom::Time(parse_time_now(t)?)
    } else if let Some(n) = a.last {
        PeekFrom::Latest(n)
    } else {
        PeekFrom::Earliest
    };
    if a.max == 0 {
        bail!("--max must be at least 1");
    }
    let req = PeekRequest { partition: a.partition, from, max: a.max };
    // What the log holds before the peek: the peek sees at least that much.
    let there = records_there(b, &a.topic, &req).await?;
    let msgs = b.peek(&a.topic, req).await.map_err(backend_err)?;
    print_messages(&msgs, g.json)?;
    if msgs.is_empty() && !g.json {
        eprintln!("no records there");
    }
    if msgs.len() < a.max {
        // Fewer than asked: say so when the log held more (a server's bound), never silently.
        if let Some(there) = there
            && there > msgs.len() as u64
        {
            let rest = match (a.partition, msgs.last()) {
                (Some(p), Some(m)) => format!("; peek --partition {p} --offset {} for the rest", m.offset + 1),
                _ => String::new(),
            };
            eprintln!(
                "note: {} of the {there} record(s) asked for came back: the backend bounds one answer{rest}",
                msgs.len()
            );
        }
    }
    Ok(())
}

/// How many records `req` covers in the log as it is now (at most `req.max`); `None` for a peek
/// from a time, whose start only the engine knows.
async fn records_there(b: &dyn Backend, topic: &str, req: &PeekRequest) -> Result<Option<u64>> {
    let info = b.describe_topic(topic).await.map_err(backend_err)?;
    let mut there = 0u64;
    for (p, pi) in info.partitions.iter().enumerate() {
        if req.partition.is_some_and(|want| want as usize != p) {
            continue;
        }
        let (start, end) = (pi.log_start, pi.end_offset);
        there += match req.from {
            PeekFrom::Earliest => end - start.min(end),
            PeekFrom::Latest(n) => n.min(end.saturating_sub(start)),
            PeekFrom::Offset(o) => end.saturating_sub(o.max(start)),
            PeekFrom::Time(_) => return Ok(None),
        };
    }
    Ok(Some(there.min(req.max as u64)))
}

pub async fn pull(b: &dyn Backend, g: &Global, a: PullArgs) -> Result<()> {
    if a.max == 0 {
        bail!("--max must be at least 1");
    }
    let req = PullRequest { topic: a.topic.clone(), max: a.max, commit: !a.no_commit, wait_ms: a.wait };
    let r = b.pull(&a.group, req).await.map_err(backend_err)?;
    print_messages(&r.messages, g.json)?;
    if !g.json {
        if r.messages.is_empty() {
            eprintln!("nothing to pull: group {} has consumed everything in {}", a.group, a.topic);
        } else if r.committed {
            eprintln!("pulled {} record(s) as group {} and committed", r.messages.len(), a.group);
        } else {
            eprintln!(
                "pulled {} record(s) as group {}; NOT committed: the group will get them again",
                r.messages.len(),
                a.group
            );
        }
    }
    Ok(())
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) { format!("\"{}\"", s.replace('"', "\"\"")) } else { s.to_string() }
}

/// The CSV export's `headers` column: empty when there are none, else the headers as the JSON
/// export writes them, a JSON array of `{"name": ..., "value": ...}` (a value is a string when it
/// is UTF-8 text, else `{"base64": "..."}`).
fn csv_headers(headers: &[Header]) -> Result<String> {
    if headers.is_empty() { Ok(String::new()) } else { Ok(serde_json::to_string(headers)?) }
}

pub async fn export(b: &dyn Backend, a: ExportArgs) -> Result<()> {
    let info = b.describe_topic(&a.topic).await.map_err(backend_err)?;
    let parts: Vec<u32> = match a.partition {
        Some(p) => vec![p],
        None => (0..info.partitions.len() as u32).collect(),
    };
    // Check before writing anything, so a bad --partition leaves stdout empty.
    if let Some(p) = parts.iter().find(|&&p| p as usize >= info.partitions.len()) {
        bail!("partition {p} does not exist: {} has partitions 0..{}", a.topic, info.partitions.len());
    }
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    if matches!(a.format, ExportFormat::Csv) {
        writeln!(out, "partition,offset,timestamp,key,value,headers")?;
    }
    for p in parts {
        let pi = &info.partitions[p as usize];
        let mut at = a.from_offset.unwrap_or(pi.log_start).max(pi.log_start);
        let end = a.to_offset.unwrap_or(pi.end_offset).min(pi.end_offset);
        while at < end {
            let msgs = b.fetch(&a.topic, p, at, 1000, 0).await.map_err(backend_err)?;
            let Some(last) = msgs.last().map(|m| m.offset) else { break };
            for m in msgs.iter().filter(|m| m.offset < end) {
                match a.format {
                    ExportFormat::Json => writeln!(out, "{}", serde_json::to_string(m)?)?,
                    ExportFormat::Csv => writeln!(
                        out,
                        "{},{},{},{},{},{}",
                        m.partition,
                        m.offset,
                        m.timestamp,
                        csv_field(&m.key.as_ref().map(|k| k.display()).unwrap_or_default()),
                        csv_field(&crate::core::display_value(m.value.as_ref())),
                        csv_field(&csv_headers(&m.headers)?)
                    )?,
                }
            }
            at = last + 1;
        }
    }
    out.flush()?;
    Ok(())
}

/// A line of an import file: what export writes (extra fields such as offset are ignored).
#[derive(Deserialize)]
struct ImportLine {
    #[serde(default)]
    key: Option<Payload>,
    /// Required; `null` is a tombstone (as export writes it).
    #[serde(deserialize_with = "crate::core::message::nullable")]
    value: Option<Payload>,
    #[serde(default)]
    headers: Vec<Header>,
    #[serde(default)]
    partition: Option<u32>,
}

pub async fn import(b: &dyn Backend, g: &Global, a: ImportArgs) -> Result<()> {
    // An unknown topic is an error even when the file turns out to be empty.
    let info = b.describe_topic(&a.topic).await.map_err(backend_err)?;
    let reader: Box<dyn BufRead> = if a.file.as_os_str() == "-" {
        Box::new(std::io::BufReader::new(std::io::stdin()))
    } else {
        let f = std::fs::File::open(&a.file).with_context(|| format!("open {}", a.file.display()))?;
        Box::new(std::io::BufReader::new(f))
    };
    // Read and check the whole file first, so a bad line publishes nothing.
    let mut records = Vec::new();
    for (i, line) in reader.lines().enumerate() {
        let line = line.with_context(|| format!("read {}", a.file.display()))?;
        if line.trim().is_empty() {
            continue;
        }
        let l: ImportLine = serde_json::from_str(&line)
            .with_context(|| format!("{} line {}: not a record (nothing was imported)", a.file.display(), i + 1))?;
        let partition = if a.keep_partitions { l.partition } else { None };
        if let Some(p) = partition.filter(|&p| p as usize >= info.partitions.len()) {
            bail!(
                "{} line {}: partition {p} does not exist: {} has partitions 0..{} (nothing was imported)",
                a.file.display(),
                i + 1,
                a.topic,
                info.partitions.len()
            );
        }
        records.push(OutRecord { key: l.key, value: l.value, headers: l.headers, partition });
    }
    let total = records.len();
    let mut done = 0;
    while !records.is_empty() {
        let rest = records.split_off(records.len().min(1000));
        let batch = std::mem::replace(&mut records, rest);
        let n = batch.len();
        b.publish(&a.topic, PublishRequest { records: batch, producer: None })
            .await
            .map_err(|e| anyhow::anyhow!("{e} (after {done} of {total} records were imported)"))?;
        done += n;
    }
    if g.json {
        return print_json(&serde_json::json!({"imported": done, "topic": a.topic}));
    }
    outln!("imported {done} record(s) into {}", a.topic)?;
    Ok(())
}
