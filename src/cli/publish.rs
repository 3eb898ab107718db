//! `depot publish`: one record, or one record per stdin line, batched as lines arrive. Each
//! record's topic, partition and offset is printed as soon as it is acknowledged.

use super::args::{Global, PublishArgs};
use super::backend_err;
use crate::backend::Backend;
use crate::core::{Header, OutRecord, Payload, PublishRequest};
use anyhow::{Result, bail};
use std::io::{BufRead, Write};

const MAX_BATCH: usize = 1000;

fn headers(raw: &[String]) -> Result<Vec<Header>> {
    raw.iter()
        .map(|h| match h.split_once('=') {
            Some((n, v)) if !n.is_empty() => Ok(Header::text(n, v)),
            _ => bail!("header {h:?} is not NAME=VALUE"),
        })
        .collect()
}

pub async fn run(b: &dyn Backend, g: &Global, a: PublishArgs) -> Result<()> {
    let headers = headers(&a.headers)?;
    let make = |v: Vec<u8>| OutRecord {
        key: a.key.as_deref().map(Payload::text),
        value: Some(Payload(v.into())),
        headers: headers.clone(),
        partition: a.partition,
    };
    if let Some(v) = a.value {
        return send(b, g, &a.topic, vec![make(v.into_bytes())]).await;
    }
    // Lines are read on a thread and handed over in batches of whatever has arrived. A line is
    // bytes, not necessarily UTF-8 (values are binary-safe); "\n" or "\r\n" ends it.
    let (tx, mut rx) = tokio::sync::mpsc::channel::<std::io::Result<Vec<u8>>>(4 * MAX_BATCH);
    std::thread::spawn(move || {
        for line in std::io::stdin().lock().split(b'\n') {
            let stop = line.is_err();
            let line = line.map(|mut l| {
                if l.last() == Some(&b'\r') {
                    l.pop();
                }
                l
            });
            if tx.blocking_send(line).is_err() || stop {
                break;
            }
        }
    });
    while let Some(first) = rx.recv().await {
        let mut batch = vec![make(first?)];
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(line) => batch.push(make(line?)),
                Err(_) => break,
            }
        }
        send(b, g, &a.topic, batch).await?;
    }
    Ok(())
}

async fn send(b: &dyn Backend, g: &Global, topic: &str, records: Vec<OutRecord>) -> Result<()> {
    let acks = b.publish(topic, PublishRequest { records, producer: None }).await.map_err(backend_err)?;
    let mut out = std::io::stdout().lock();
    for ack in &acks {
        if g.json {
            writeln!(out, "{}", serde_json::to_string(ack)?)?;
        } else {
            writeln!(out, "{}\t{}\t{}", ack.topic, ack.partition, ack.offset)?;
        }
    }
    out.flush()?;
    Ok(())
}
