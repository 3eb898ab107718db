//! The report as text: the workload, each target's method, then one table — a row per target
//! and round, a median row per target when there were several rounds — and what failed.

use super::progress::group;
use super::report::{Report, RunResult, Summary};
use crate::core::table::Table;
use std::fmt::Write as _;

const HEADERS: &[&str] = &[
    "TARGET",
    "ROUND",
    ">PUBLISH/S",
    ">MB/S",
    ">CONSUME/S",
    ">P50 ms",
    ">P99 ms",
    ">P99.9 ms",
    ">MAX ms",
    ">CLIENT CPU % pub/con",
    ">SERVER CPU % pub/con",
    ">× FIRST pub/con",
    "NOTE",
];

fn rate(v: Option<f64>) -> String {
    v.map_or("-".into(), |v| group(v.round() as u64))
}

fn mb(v: Option<f64>) -> String {
    v.map_or("-".into(), |v| format!("{v:.1}"))
}

/// Milliseconds to three significant digits.
pub fn ms(v: Option<f64>) -> String {
    match v {
        None => "-".into(),
        Some(v) if v < 1.0 => format!("{v:.3}"),
        Some(v) if v < 10.0 => format!("{v:.2}"),
        Some(v) if v < 100.0 => format!("{v:.1}"),
        Some(v) => format!("{v:.0}"),
    }
}

fn pair(a: Option<f64>, b: Option<f64>, digits: usize) -> String {
    let f = |v: Option<f64>| v.map_or("-".into(), |v| format!("{v:.digits$}"));
    if a.is_none() && b.is_none() { "-".into() } else { format!("{}/{}", f(a), f(b)) }
}

/// The cells of one round.
fn round_row(r: &RunResult, first: Option<&RunResult>, note: String) -> Vec<String> {
    let p = r.publish.as_ref();
    let c = r.consume.as_ref();
    let l = r.latency.as_ref().map(|l| &l.percentiles);
    let ratio = |a: Option<f64>, b: Option<f64>| match (a, b) {
        (Some(a), Some(b)) if b > 0.0 => Some(a / b),
        _ => None,
    };
    let first_pub = first.and_then(|f| f.publish.as_ref()).map(|p| p.records_per_s);
    let first_con = first.and_then(|f| f.consume.as_ref()).map(|c| c.throughput.records_per_s);
    vec![
        r.target.clone(),
        r.round.to_string(),
        rate(p.map(|p| p.records_per_s)),
        mb(p.map(|p| p.mb_per_s)),
        rate(c.map(|c| c.throughput.records_per_s)),
        ms(l.map(|l| l.p50_ms)),
        ms(l.map(|l| l.p99_ms)),
        ms(l.map(|l| l.p999_ms)),
        ms(l.map(|l| l.max_ms)),
        pair(p.map(|p| p.cpu.client_pct), c.map(|c| c.throughput.cpu.client_pct), 0),
        pair(p.and_then(|p| p.cpu.server_pct), c.and_then(|c| c.throughput.cpu.server_pct), 0),
        pair(ratio(p.map(|p| p.records_per_s), first_pub), ratio(c.map(|c| c.throughput.records_per_s), first_con), 2),
        note,
    ]
}

fn median_row(s: &Summary) -> Vec<String> {
    vec![
        s.target.clone(),
        "median".into(),
        rate(s.publish_records_per_s),
        mb(s.publish_mb_per_s),
        rate(s.consume_records_per_s),
        ms(s.p50_ms),
        ms(s.p99_ms),
        ms(s.p999_ms),
        ms(s.max_ms),
        pair(s.client_cpu_publish_pct, s.client_cpu_consume_pct, 0),
        pair(s.server_cpu_publish_pct, s.server_cpu_consume_pct, 0),
        pair(s.vs_first.publish, s.vs_first.consume, 2),
        format!("over {} rounds", s.rounds_ok),
    ]
}

/// Copies the consumers got beyond the first of a record, and records that were none of the
/// round's: said in the row, next to what the engine says it redelivered.
fn delivery_note(r: &RunResult) -> Option<String> {
    let c = r.consume.as_ref()?;
    let copies = c.duplicates + r.latency.as_ref().map_or(0, |l| l.duplicates);
    let mut parts = Vec::new();
    if copies > 0 || c.redelivered > 0 {
        parts.push(format!("{} duplicates ({} redelivered)", group(copies), group(c.redelivered)));
    }
    if c.foreign > 0 {
        parts.push(format!("{} not this round's", group(c.foreign)));
    }
    (!parts.is_empty()).then(|| parts.join(", "))
}

/// The whole text report.
pub fn render(rep: &Report) -> String {
    let w = &rep.workload;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "depot bench run: {} records of {} B per target and round, batches of {}, {} producers, {} consumers{}",
        group(w.count),
        w.size,
        group(w.batch as u64),
        w.producers,
        w.consumers,
        if w.rounds > 1 { format!(", {} rounds (targets alternating)", w.rounds) } else { String::new() },
    );
    if w.latency_records() > 0 {
        let _ = writeln!(out, "latency: {} records/s for {} s; {}", group(w.rate), w.seconds, rep.latency_method);
    }
    for t in &rep.targets {
        let _ = writeln!(out);
        match (&t.method, &t.error) {
            (Some(m), _) => {
                let _ = writeln!(out, "{} ({}): {}", t.name, t.kind, m.client);
                let _ = writeln!(out, "  topic:   {}", m.topic);
                let _ = writeln!(out, "  publish: {}", m.publish);
                let _ = writeln!(out, "  consume: {}", m.consume);
            }
            (None, e) => {
                let _ = writeln!(out, "{} ({}): not measured: {}", t.name, t.kind, e.as_deref().unwrap_or("unknown"));
            }
        }
    }
    let mut table = Table::new(HEADERS);
    let mut notes = Vec::new();
    for t in &rep.targets {
        let runs: Vec<&RunResult> = rep.runs.iter().filter(|r| r.target == t.name).collect();
        if let Some(e) = &t.error {
            notes.push(format!("{}: {e}", t.name));
            let mut row = vec![t.name.clone(), "-".into()];
            row.extend(std::iter::repeat_n("-".to_string(), HEADERS.len() - 3));
            row.push(format!("failed ({})", notes.len()));
            table.row(row);
            continue;
        }
        for r in &runs {
            let first =
                rep.runs.iter().find(|f| f.round == r.round && rep.targets.first().is_some_and(|t| t.name == f.target));
            let mut note = Vec::new();
            if r.interrupted {
                note.push("interrupted".to_string());
            }
            if let Some(e) = &r.error {
                notes.push(format!("{} round {}: {e}", r.target, r.round));
                note.push(format!("failed ({})", notes.len()));
            }
            note.extend(delivery_note(r));
            if let Some(e) = &r.cleanup_error {
                notes.push(format!("{} round {}: topic {} not removed: {e}", r.target, r.round, r.topic));
                note.push(format!("cleanup failed ({})", notes.len()));
            }
            table.row(round_row(r, first.filter(|f| f.ok), note.join(", ")));
        }
        if w.rounds > 1
            && let Some(s) = rep.summary.iter().find(|s| s.target == t.name && s.rounds_ok > 0)
        {
            table.row(median_row(s));
        }
    }
    let _ = writeln!(out);
    let _ = writeln!(out, "{}", table.render());
    if rep.interrupted {
        let _ = writeln!(out, "\ninterrupted: the figures above are what was finished");
    }
    for (i, n) in notes.iter().enumerate() {
        let _ = writeln!(out, "({}) {n}", i + 1);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::report::{Consumed, Latency};
    use super::*;

    #[test]
    fn copies_and_strangers_are_said_in_the_row_and_a_clean_round_says_nothing() {
        let mut r = RunResult::new("t", 1, "topic");
        assert_eq!(delivery_note(&r), None, "nothing consumed");
        r.consume = Some(Consumed::default());
        assert_eq!(delivery_note(&r), None, "every record once");
        r.consume = Some(Consumed { duplicates: 1200, redelivered: 1500, foreign: 3, ..Consumed::default() });
        r.latency = Some(Latency { duplicates: 2, ..Latency::default() });
        assert_eq!(delivery_note(&r).as_deref(), Some("1,202 duplicates (1,500 redelivered), 3 not this round's"));
    }

    #[test]
    fn milliseconds_keep_three_significant_digits() {
        assert_eq!(ms(Some(0.12345)), "0.123");
        assert_eq!(ms(Some(1.2345)), "1.23");
        assert_eq!(ms(Some(12.345)), "12.3");
        assert_eq!(ms(Some(1234.6)), "1235");
        assert_eq!(ms(None), "-");
        assert_eq!(pair(Some(1.0), None, 2), "1.00/-");
        assert_eq!(pair(None, None, 0), "-");
    }
}
