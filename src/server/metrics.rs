//! `/metrics` in Prometheus text format: engine state (offsets, sizes, lag) read at scrape time,
//! plus request counts and latency histograms recorded by a middleware.

use crate::backend::Backend;
use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::Response;
use parking_lot::Mutex;
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
            let _ = writeln!(out, "depot_http_requests_total{{method=\"{m}\",route=\"{r}\",status=\"{s}\"}} {n}");
        }
        out.push_str("# HELP depot_http_request_duration_seconds HTTP request latency.\n");
        out.push_str("# TYPE depot_http_request_duration_seconds histogram\n");
        for ((m, r), h) in self.latency.lock().iter() {
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
    let method = req.method().to_string();
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
        out.push_str("# HELP depot_partition_end_offset Offset after the last record of a partition.\n");
        out.push_str("# TYPE depot_partition_end_offset gauge\n");
        for t in &topics {
            for p in &t.partitions {
                let _ = writeln!(
                    out,
                    "depot_partition_end_offset{{topic=\"{}\",partition=\"{}\"}} {}",
                    t.name, p.partition, p.end_offset
                );
            }
        }
        out.push_str("# HELP depot_partition_log_start_offset First offset still in a partition.\n");
        out.push_str("# TYPE depot_partition_log_start_offset gauge\n");
        for t in &topics {
            for p in &t.partitions {
                let _ = writeln!(
                    out,
                    "depot_partition_log_start_offset{{topic=\"{}\",partition=\"{}\"}} {}",
                    t.name, p.partition, p.log_start
                );
            }
        }
        out.push_str("# HELP depot_partition_size_bytes Bytes on disk of a partition.\n");
        out.push_str("# TYPE depot_partition_size_bytes gauge\n");
        for t in &topics {
            for p in &t.partitions {
                let _ = writeln!(
                    out,
                    "depot_partition_size_bytes{{topic=\"{}\",partition=\"{}\"}} {}",
                    t.name, p.partition, p.size_bytes
                );
            }
        }
    }
    if let Ok(groups) = backend.list_groups().await {
        out.push_str("# HELP depot_group_lag_messages Records a group has not consumed yet.\n");
        out.push_str("# TYPE depot_group_lag_messages gauge\n");
        for g in &groups {
            for p in &g.partitions {
                let _ = writeln!(
                    out,
                    "depot_group_lag_messages{{group=\"{}\",topic=\"{}\",partition=\"{}\"}} {}",
                    g.name, p.topic, p.partition, p.lag
                );
            }
        }
        out.push_str("# HELP depot_group_lag_seconds Age of the oldest record a group has not consumed.\n");
        out.push_str("# TYPE depot_group_lag_seconds gauge\n");
        for g in &groups {
            for p in &g.partitions {
                let _ = writeln!(
                    out,
                    "depot_group_lag_seconds{{group=\"{}\",topic=\"{}\",partition=\"{}\"}} {}",
                    g.name,
                    p.topic,
                    p.partition,
                    p.lag_ms as f64 / 1000.0
                );
            }
        }
        out.push_str("# HELP depot_group_members Live members of a group.\n");
        out.push_str("# TYPE depot_group_members gauge\n");
        for g in &groups {
            let _ = writeln!(out, "depot_group_members{{group=\"{}\"}} {}", g.name, g.members.len());
        }
    }
    http.render(&mut out);
    out
}
