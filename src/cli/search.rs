//! `depot search`: the engine's bounded search, its matches as a table (or the whole answer as
//! JSON), and on stderr how far it got and how to continue.

use super::args::{Global, SearchArgs};
use super::records::print_messages;
use super::{backend_err, print_json};
use crate::backend::Backend;
use crate::core::format::{bytes, parse_bytes};
use crate::core::time::{parse_duration_ms, parse_time_now};
use crate::core::{HeaderMatch, SearchCursor, SearchRequest, SearchResult};
use anyhow::{Context, Result, bail};

/// `P:OFFSET,...` as cursors.
fn parse_resume(s: &str) -> Result<Vec<SearchCursor>> {
    s.split(',')
        .filter(|c| !c.trim().is_empty())
        .map(|c| {
            let (p, o) = c.trim().split_once(':').with_context(|| format!("--resume {c:?}: give P:OFFSET"))?;
            Ok(SearchCursor {
                partition: p.parse().with_context(|| format!("--resume {c:?}: {p:?} is not a partition"))?,
                offset: o.parse().with_context(|| format!("--resume {c:?}: {o:?} is not an offset"))?,
                done: false,
            })
        })
        .collect()
}

/// The request the arguments describe.
pub fn request(a: &SearchArgs) -> Result<SearchRequest> {
    if a.max == 0 {
        bail!("--max must be at least 1");
    }
    let max_bytes = parse_bytes(&a.max_bytes).context("--max-bytes")?;
    if max_bytes == 0 {
        bail!("--max-bytes must be at least 1");
    }
    let max_ms = parse_duration_ms(&a.max_time).context("--max-time")?.max(1);
    Ok(SearchRequest {
        partition: a.partition,
        key: a.key.clone(),
        header: a.header.as_deref().map(HeaderMatch::parse).transpose().context("--header")?,
        value: a.value.clone(),
        regex: a.regex.clone(),
        from_offset: a.from_offset,
        to_offset: a.to_offset,
        since_ms: a.since.as_deref().map(parse_time_now).transpose().context("--since")?,
        until_ms: a.until.as_deref().map(parse_time_now).transpose().context("--until")?,
        backward: a.backward,
        resume: a.resume.as_deref().map(parse_resume).transpose()?.unwrap_or_default(),
        max_matches: a.max,
        max_bytes,
        max_ms,
    })
}

/// What the search did, in one line for stderr.
pub fn summary(r: &SearchResult) -> String {
    let scanned = format!(
        "{} match{} in {} record{} ({} scanned)",
        r.matches.len(),
        if r.matches.len() == 1 { "" } else { "es" },
        r.scanned,
        if r.scanned == 1 { "" } else { "s" },
        bytes(r.scanned_bytes)
    );
    let line = match r.stopped {
        None if r.gone.is_empty() => format!("{scanned}; the whole range was searched"),
        None => format!("{scanned}; the rest of the range was searched"),
        Some(bound) => {
            let resume: Vec<String> =
                r.next.iter().filter(|c| !c.done).map(|c| format!("{}:{}", c.partition, c.offset)).collect();
            format!("{scanned}; stopped at {}: continue with --resume {}", bound.describe(), resume.join(","))
        }
    };
    match r.gone.as_slice() {
        [] => line,
        gone => {
            let what: Vec<String> = gone.iter().map(|g| g.describe()).collect();
            format!("{line}\nnot searched, deleted by retention before the search reached them: {}", what.join("; "))
        }
    }
}

pub async fn run(b: &dyn Backend, g: &Global, a: SearchArgs) -> Result<()> {
    let req = request(&a)?;
    let r = b.search(&a.topic, req).await.map_err(backend_err)?;
    if g.json {
        return print_json(&r);
    }
    if !r.matches.is_empty() {
        print_messages(&r.matches, false)?;
    }
    eprintln!("{}", summary(&r));
    Ok(())
}
