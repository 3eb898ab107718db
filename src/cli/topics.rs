//! `depot topics`, `depot topic create|describe|delete`, and the overview printed with no verb.

use super::args::{Global, TopicAction};
use super::{backend_err, print_json, print_list};
use crate::backend::Backend;
use crate::core::format::{bytes, duration_ms, rate};
use crate::core::table::Table;
use crate::core::{TopicConfig, TopicInfo};
use anyhow::Result;

/// The topics as a table (shared by `topics` and the overview).
fn topics_table(topics: &[TopicInfo]) -> Table {
    let mut t = Table::new(&["TOPIC", ">PARTITIONS", ">BACKLOG", ">SIZE", ">IN", ">OUT"]);
    for x in topics {
        t.row(vec![
            x.name.clone(),
            x.partitions.len().to_string(),
            x.backlog().to_string(),
            bytes(x.size_bytes()),
            rate(x.rate_in()),
            rate(x.rate_out()),
        ]);
    }
    t
}

pub async fn overview(b: &dyn Backend, g: &Global) -> Result<()> {
    let topics = b.list_topics().await.map_err(backend_err)?;
    let groups = b.list_groups().await.map_err(backend_err)?;
    if g.json {
        return print_json(&serde_json::json!({"target": b.target(), "topics": topics, "groups": groups}));
    }
    outln!("depot — {}", b.target())?;
    if topics.is_empty() {
        outln!()?;
        outln!("No topics yet. Create one and publish into it:")?;
        outln!("  depot topic create orders --partitions 3")?;
        outln!("  echo hello | depot publish orders")?;
        return Ok(());
    }
    outln!()?;
    let t = topics_table(&topics);
    outln!("{}", t.render())?;
    if !groups.is_empty() {
        outln!()?;
        outln!("{}", super::groups::groups_table(&groups).render())?;
    }
    Ok(())
}

pub async fn list(b: &dyn Backend, g: &Global) -> Result<()> {
    let topics = b.list_topics().await.map_err(backend_err)?;
    print_list(g, &topics, topics_table, "no topics; create one with: depot topic create NAME --partitions N")
}

pub async fn topic(b: &dyn Backend, g: &Global, action: TopicAction) -> Result<()> {
    match action {
        TopicAction::Create { name, partitions, retention_ms, retention_bytes } => {
            let cfg = TopicConfig { partitions, retention_ms, retention_bytes, segment_bytes: None };
            let t = b.create_topic(&name, cfg).await.map_err(backend_err)?;
            if g.json {
                return print_json(&t);
            }
            outln!("created topic {name} with {partitions} partition(s)")?;
        }
        TopicAction::Describe { name } => {
            let t = b.describe_topic(&name).await.map_err(backend_err)?;
            if g.json {
                return print_json(&t);
            }
            let retention = match (t.config.retention_ms, t.config.retention_bytes) {
                (None, None) => "keep everything".to_string(),
                (ms, by) => {
                    [ms.map(|m| format!("{} old", duration_ms(m))), by.map(|b| format!("{} per partition", bytes(b)))]
                        .into_iter()
                        .flatten()
                        .collect::<Vec<_>>()
                        .join(", ")
                }
            };
            outln!("topic {}: {} partition(s), retention: {retention}", t.name, t.partitions.len())?;
            let mut tab =
                Table::new(&[">PARTITION", ">LOG-START", ">END", ">RECORDS", ">SIZE", ">SEGMENTS", ">IN", ">OUT"]);
            for p in &t.partitions {
                tab.row(vec![
                    p.partition.to_string(),
                    p.log_start.to_string(),
                    p.end_offset.to_string(),
                    (p.end_offset - p.log_start).to_string(),
                    bytes(p.size_bytes),
                    p.segments.to_string(),
                    rate(p.rate_in),
                    rate(p.rate_out),
                ]);
            }
            outln!("{}", tab.render())?;
        }
        TopicAction::Delete { name } => {
            b.delete_topic(&name).await.map_err(backend_err)?;
            if g.json {
                return print_json(&serde_json::json!({"deleted": name}));
            }
            outln!("deleted topic {name}")?;
        }
    }
    Ok(())
}
