//! What `bench run` shows while it runs, on stderr (stdout keeps the table or the JSON): a
//! progress bar per phase when stderr is a terminal (indicatif), else plain lines — one when a
//! phase starts, one a second while it runs, one when it ends.
//!
//! The hot paths only bump counters; a ticker task reads them.

use indicatif::{ProgressBar, ProgressStyle};
use std::io::IsTerminal;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::task::JoinHandle;

/// How far a phase got: a count read by the ticker.
pub type Count = Arc<dyn Fn() -> u64 + Send + Sync>;

/// Where progress goes.
#[derive(Clone, Copy, Debug)]
pub struct Progress {
    bars: bool,
}

impl Progress {
    /// Bars when stderr is a terminal, plain lines otherwise.
    pub fn new() -> Progress {
        Progress { bars: std::io::stderr().is_terminal() }
    }

    /// A line of its own (a connection failure, a cleanup problem).
    pub fn note(&self, line: &str) {
        eprintln!("bench: {line}");
    }

    /// Starts showing a phase of `total` units whose progress `count` reads.
    pub fn phase(&self, label: String, total: u64, count: Count) -> Phase {
        let started = Instant::now();
        if self.bars {
            let style = ProgressStyle::with_template(
                "{prefix:<36} {bar:30} {human_pos:>11}/{human_len:<11} {msg:>12} {elapsed:>4}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar());
            let bar = ProgressBar::new(total).with_style(style).with_prefix(label.clone());
            let (b, c) = (bar.clone(), count.clone());
            let ticker = tokio::spawn(async move {
                let mut every = tokio::time::interval(Duration::from_millis(100));
                loop {
                    every.tick().await;
                    let n = c().min(total);
                    b.set_position(n);
                    let per_s = n as f64 / started.elapsed().as_secs_f64().max(1e-3);
                    b.set_message(format!("{}/s", group(per_s as u64)));
                }
            });
            return Phase { label, total, count, started, bar: Some(bar), ticker };
        }
        eprintln!("bench: {label}: {} to go", group(total));
        let (l, c) = (label.clone(), count.clone());
        let ticker = tokio::spawn(async move {
            let mut every = tokio::time::interval(Duration::from_secs(1));
            every.tick().await;
            loop {
                every.tick().await;
                let n = c().min(total);
                eprintln!(
                    "bench: {l}: {} of {} ({:.0} %)",
                    group(n),
                    group(total),
                    100.0 * n as f64 / total.max(1) as f64
                );
            }
        });
        Phase { label, total, count, started, bar: None, ticker }
    }
}

impl Default for Progress {
    fn default() -> Self {
        Progress::new()
    }
}

/// A phase being shown; stops showing when finished or dropped.
pub struct Phase {
    label: String,
    total: u64,
    count: Count,
    started: Instant,
    bar: Option<ProgressBar>,
    ticker: JoinHandle<()>,
}

impl Phase {
    /// Ends the phase with a summary line (`what` happened, e.g. "1,000,000 records/s").
    pub fn finish(self, what: &str) {
        let n = (self.count)().min(self.total);
        let line = format!("{}: {} in {:.2} s, {what}", self.label, group(n), self.started.elapsed().as_secs_f64());
        match &self.bar {
            Some(bar) => {
                bar.set_position(n);
                bar.finish_and_clear();
                eprintln!("bench: {line}");
            }
            None => eprintln!("bench: {line}"),
        }
    }
}

impl Drop for Phase {
    fn drop(&mut self) {
        self.ticker.abort();
        if let Some(bar) = &self.bar
            && !bar.is_finished()
        {
            bar.abandon();
        }
    }
}

/// `1234567` as `1,234,567`.
pub fn group(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::with_capacity(s.len() + s.len() / 3);
    for (i, ch) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_are_grouped_in_thousands() {
        assert_eq!(group(0), "0");
        assert_eq!(group(999), "999");
        assert_eq!(group(1000), "1,000");
        assert_eq!(group(1_234_567), "1,234,567");
    }
}
