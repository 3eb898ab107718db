//! `/metrics` in Prometheus text format: engine state (offsets, sizes, lag) read at scrape time,
//! plus request counts and latency histograms recorded by a middleware.

use crate::backend::Backend;
use crate::core::{GroupInfo, PartitionInfo, PartitionLag, TopicInfo};
use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::Response;
use parking_lot::Mutex;
use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Arc;
use std::time::Instant;

const BUCKETS: [f64; 12] = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0];

#[derive(Default)]
struct Histogram {
    counts: [u64; BUCKETS.len()],
    sum: f64,
    count: u64,
}

/// Request counters and latency histograms.
#[derive(Default)]
pub struct HttpMetrics {
    requests: Mutex<BTreeMap<(String, String, u16), u64>>,
    latency: Mutex<BTreeMap<(String, String), Histogram>>,
}

/// A label value as the Prometheus text format writes it: `\\`, `"` and a newline escaped, so
/// no value (a name from an old journal, a route) can end its sample or add one.
pub fn label(v: &str) -> Cow<'_, str> {
    if !v.contains(['\\', '"', '\n']) {
        return Cow::Borrowed(v);
    }
    let mut out = String::with_capacity(v.len() + 8);
    for c in v.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// The methods counted by name; any other is counted as `other`, so a client cannot add series.
fn method_label(m: &str) -> &'static str {
    ["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"].into_iter().find(|k| *k == m).unwrap_or("other")
}

impl HttpMetrics {
    fn observe(&self, method: &str, route: &str, status: u16, secs: f64) {
        *self.requests.lock().entry((method.to_string(), route.to_string(), status)).or_insert(0) += 1;
        let mut lat = self.latency.lock();
        let h = lat.entry((method.to_string(), route.to_string())).or_default();
        for (i, b) in BUCKETS.iter().enumerate() {
            if secs <= *b {
                h.counts[i] += 1;
            }
        }
        h.sum += secs;
        h.count += 1;
    }

    fn render(&self, out: &mut String) {
        out.push_str("# HELP depot_http_requests_total HTTP requests by method, route and status.\n");
        out.push_str("# TYPE depot_http_requests_total counter\n");
        for ((m, r, s), n) in self.requests.lock().iter() {
            let (m, r) = (label(m), label(r));
            let _ = writeln!(out, "depot_http_requests_total{{method=\"{m}\",route=\"{r}\",status=\"{s}\"}} {n}");
        }
        out.push_str("# HELP depot_http_request_duration_seconds HTTP request latency.\n");
        out.push_str("# TYPE depot_http_request_duration_seconds histogram\n");
        for ((m, r), h) in self.latency.lock().iter() {
            let (m, r) = (label(m), label(r));
            for (i, b) in BUCKETS.iter().enumerate() {
                let _ = writeln!(
                    out,
                    "depot_http_request_duration_seconds_bucket{{method=\"{m}\",route=\"{r}\",le=\"{b}\"}} {}",
                    h.counts[i]
                );
            }
            let _ = writeln!(
                out,
                "depot_http_request_duration_seconds_bucket{{method=\"{m}\",route=\"{r}\",le=\"+Inf\"}} {}",
                h.count
            );
            let _ = writeln!(out, "depot_http_request_duration_seconds_sum{{method=\"{m}\",route=\"{r}\"}} {}", h.sum);
            let _ =
                writeln!(out, "depot_http_request_duration_seconds_count{{method=\"{m}\",route=\"{r}\"}} {}", h.count);
        }
    }
}

/// Middleware recording every request under its route pattern (not the raw path).
pub async fn track(State(m): State<Arc<HttpMetrics>>, req: Request, next: Next) -> Response {
    let method = method_label(req.method().as_str()).to_string();
    let route =
        req.extensions().get::<MatchedPath>().map(|p| p.as_str().to_string()).unwrap_or_else(|| "unmatched".into());
    let start = Instant::now();
    let resp = next.run(req).await;
    m.observe(&method, &route, resp.status().as_u16(), start.elapsed().as_secs_f64());
    resp
}

/// Renders the whole exposition.
pub async fn render(backend: &dyn Backend, http: &HttpMetrics) -> String {
    let mut out = String::new();
    if let Ok(topics) = backend.list_topics().await {
        partition_gauges(&mut out, &topics);
    }
    if let Ok(groups) = backend.list_groups().await {
        group_gauges(&mut out, &groups);
    }
    http.render(&mut out);
    out
}

/// One gauge: its help and type lines, then a sample per (labels, value).
fn gauge<V: std::fmt::Display>(out: &mut String, name: &str, help: &str, samples: impl Iterator<Item = (String, V)>) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} gauge");
    for (labels, value) in samples {
        let _ = writeln!(out, "{name}{{{labels}}} {value}");
    }
}

/// A gauge of a partition: its name, its help, and its value.
type PartitionGauge = (&'static str, &'static str, fn(&PartitionInfo) -> u64);

const PARTITION_GAUGES: [PartitionGauge; 3] = [
    ("depot_partition_end_offset", "Offset after the last record of a partition.", |p| p.end_offset),
    ("depot_partition_log_start_offset", "First offset still in a partition.", |p| p.log_start),
    ("depot_partition_size_bytes", "Bytes on disk of a partition.", |p| p.size_bytes),
];

/// Offsets and sizes of every partition.
fn partition_gauges(out: &mut String, topics: &[TopicInfo]) {
    for (name, help, value) in PARTITION_GAUGES {
        let samples = topics.iter().flat_map(|t| {
            t.partitions
                .iter()
                .map(move |p| (format!("topic=\"{}\",partition=\"{}\"", label(&t.name), p.partition), value(p)))
        });
        gauge(out, name, help, samples);
    }
}

/// Every group's lag per partition (in records and in seconds) and its live members.
fn group_gauges(out: &mut String, groups: &[GroupInfo]) {
    let lag = per_partition(groups, |p| p.lag);
    gauge(out, "depot_group_lag_messages", "Records a group has not consumed yet.", lag);
    let lag_s = per_partition(groups, |p| p.lag_ms as f64 / 1000.0);
    gauge(out, "depot_group_lag_seconds", "Age of the oldest record a group has not consumed.", lag_s);
    let members = groups.iter().map(|g| (format!("group=\"{}\"", label(&g.name)), g.members.len()));
    gauge(out, "depot_group_members", "Live members of a group.", members);
}

/// A value of every group's every partition, labelled with the three.
fn per_partition<V>(groups: &[GroupInfo], value: fn(&PartitionLag) -> V) -> impl Iterator<Item = (String, V)> {
    groups.iter().flat_map(move |g| {
        g.partitions.iter().map(move |p| {
            (
                format!("group=\"{}\",topic=\"{}\",partition=\"{}\"", label(&g.name), label(&p.topic), p.partition),
                value(p),
            )
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::{MemberInfo, TopicConfig};

    fn partition(partition: u32, log_start: u64, end_offset: u64, size_bytes: u64) -> PartitionInfo {
        PartitionInfo { partition, log_start, end_offset, size_bytes, segments: 1, rate_in: 0.0, rate_out: 0.0 }
    }

    #[test]
    fn partition_gauges_list_every_partition_of_every_topic_under_each_gauge() {
        let topics = [
            TopicInfo {
                name: "a".into(),
                config: TopicConfig::with_partitions(2),
                partitions: vec![partition(0, 1, 5, 90), partition(1, 0, 2, 40)],
            },
            TopicInfo {
                name: "b".into(),
                config: TopicConfig::with_partitions(1),
                partitions: vec![partition(0, 0, u64::MAX, 7)],
            },
        ];
        let mut out = String::new();
        partition_gauges(&mut out, &topics);
        assert_eq!(
            out,
            "# HELP depot_partition_end_offset Offset after the last record of a partition.\n\
             # TYPE depot_partition_end_offset gauge\n\
             depot_partition_end_offset{topic=\"a\",partition=\"0\"} 5\n\
             depot_partition_end_offset{topic=\"a\",partition=\"1\"} 2\n\
             depot_partition_end_offset{topic=\"b\",partition=\"0\"} 18446744073709551615\n\
             # HELP depot_partition_log_start_offset First offset still in a partition.\n\
             # TYPE depot_partition_log_start_offset gauge\n\
             depot_partition_log_start_offset{topic=\"a\",partition=\"0\"} 1\n\
             depot_partition_log_start_offset{topic=\"a\",partition=\"1\"} 0\n\
             depot_partition_log_start_offset{topic=\"b\",partition=\"0\"} 0\n\
             # HELP depot_partition_size_bytes Bytes on disk of a partition.\n\
             # TYPE depot_partition_size_bytes gauge\n\
             depot_partition_size_bytes{topic=\"a\",partition=\"0\"} 90\n\
             depot_partition_size_bytes{topic=\"a\",partition=\"1\"} 40\n\
             depot_partition_size_bytes{topic=\"b\",partition=\"0\"} 7\n"
        );
    }

    #[test]
    fn group_gauges_give_lag_in_records_and_seconds_and_the_members() {
        let lag = |topic: &str, partition: u32, lag: u64, lag_ms: u64| PartitionLag {
            topic: topic.into(),
            partition,
            committed: None,
            log_start: 0,
            end_offset: lag,
            lag,
            lag_ms,
            owner: None,
            redeliveries: 0,
        };
        let member = MemberInfo {
            member_id: "m".into(),
            client_id: "c".into(),
            client_host: String::new(),
            topics: vec!["t".into()],
            assignment: Vec::new(),
            last_seen_ms: 0,
            session_timeout_ms: 10_000,
        };
        let groups = [GroupInfo {
            name: "g".into(),
            state: "stable".into(),
            generation: 1,
            assignor: "range".into(),
            members: vec![member],
            partitions: vec![lag("t", 0, 3, 1500), lag("t", 1, 0, 0)],
            consume_rate: 0.0,
        }];
        let mut out = String::new();
        group_gauges(&mut out, &groups);
        assert_eq!(
            out,
            "# HELP depot_group_lag_messages Records a group has not consumed yet.\n\
             # TYPE depot_group_lag_messages gauge\n\
             depot_group_lag_messages{group=\"g\",topic=\"t\",partition=\"0\"} 3\n\
             depot_group_lag_messages{group=\"g\",topic=\"t\",partition=\"1\"} 0\n\
             # HELP depot_group_lag_seconds Age of the oldest record a group has not consumed.\n\
             # TYPE depot_group_lag_seconds gauge\n\
             depot_group_lag_seconds{group=\"g\",topic=\"t\",partition=\"0\"} 1.5\n\
             depot_group_lag_seconds{group=\"g\",topic=\"t\",partition=\"1\"} 0\n\
             # HELP depot_group_members Live members of a group.\n\
             # TYPE depot_group_members gauge\n\
             depot_group_members{group=\"g\"} 1\n"
        );
    }
    #[test]
    fn label_values_are_escaped_as_the_text_format_says() {
        assert_eq!(label("orders.v2_eu-1"), "orders.v2_eu-1");
        assert_eq!(label("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
    }

    /// A sample's name, labels and value.
    type Sample = (String, Vec<(String, String)>, String);

    /// One sample of the text format: `name{k="v",...} value`, with `\\`, `\"` and `\n` inside
    /// values; `None` when the line is not exactly one sample.
    fn sample(line: &str) -> Option<Sample> {
        let (name, rest) = line.split_once('{')?;
        let mut labels = Vec::new();
        let mut chars = rest.chars();
        loop {
            let key: String = chars.by_ref().take_while(|c| *c != '=').collect();
            if chars.next()? != '"' {
                return None;
            }
            let mut value = String::new();
            loop {
                match chars.next()? {
                    '\\' => value.push(match chars.next()? {
                        'n' => '\n',
                        c @ ('\\' | '"') => c,
                        _ => return None,
                    }),
                    '"' => break,
                    c => value.push(c),
                }
            }
            labels.push((key, value));
            match chars.next()? {
                ',' => continue,
                '}' => break,
                _ => return None,
            }
        }
        let value = chars.as_str().strip_prefix(' ')?;
        (!value.contains(' ')).then(|| (name.to_string(), labels, value.to_string()))
    }

    #[test]
    fn a_hostile_name_stays_inside_its_label() {
        let evil = "evil\"} 1\ninjected_metric 666\n#\\";
        let lag = PartitionLag {
            topic: evil.into(),
            partition: 0,
            committed: None,
            log_start: 0,
            end_offset: 3,
            lag: 3,
            lag_ms: 0,
            owner: None,
            redeliveries: 0,
        };
        let groups = [GroupInfo {
            name: evil.into(),
            state: "empty".into(),
            generation: 0,
            assignor: "range".into(),
            members: Vec::new(),
            partitions: vec![lag],
            consume_rate: 0.0,
        }];
        let topics = [TopicInfo {
            name: evil.into(),
            config: TopicConfig::with_partitions(1),
            partitions: vec![partition(0, 0, 3, 10)],
        }];
        let mut out = String::new();
        partition_gauges(&mut out, &topics);
        group_gauges(&mut out, &groups);
        let http = HttpMetrics::default();
        http.observe(method_label("EVIL\""), evil, 200, 0.001);
        http.render(&mut out);
        let samples: Vec<_> = out.lines().filter(|l| !l.starts_with('#')).collect();
        // 3 partition gauges, 2 lag gauges, members; a counter and a histogram of 12 + 3 lines.
        assert_eq!(samples.len(), 3 + 2 + 1 + 1 + BUCKETS.len() + 3, "{out}");
        for line in samples {
            let (name, labels, _) = sample(line).unwrap_or_else(|| panic!("not one sample: {line:?}"));
            assert!(name.starts_with("depot_"), "{line}");
            for (k, v) in labels {
                if ["topic", "group", "route"].contains(&k.as_str()) {
                    assert_eq!(v, evil, "{line}");
                }
                if k == "method" {
                    assert_eq!(v, "other", "{line}");
                }
            }
        }
    }
}
