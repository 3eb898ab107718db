//! `depot serve`: the embedded engine over HTTP (and to Kafka clients with `--kafka-listen`) until
//! SIGINT/SIGTERM, then a clean close.

use super::args::{Global, ServeArgs};
use crate::backend::open::{Target, open};
use crate::engine::{Engine, EngineConfig};
use crate::server::{self, ServeOptions};
use anyhow::{Context, Result};
use std::net::SocketAddr;

/// Resolves when the process gets SIGINT or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::error!("cannot listen for Ctrl-C: {e}");
            std::future::pending::<()>().await;
        }
    };
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(e) => {
                tracing::error!("cannot listen for SIGTERM: {e}");
                std::future::pending::<()>().await;
            }
        }
    };
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
}

pub async fn run(g: &Global, a: &ServeArgs) -> Result<()> {
    if g.connect.is_some() {
        anyhow::bail!("serve runs an embedded engine; it cannot --connect to another server");
    }
    let addr: SocketAddr =
        a.listen.parse().with_context(|| format!("--listen {:?} is not an address like 127.0.0.1:7878", a.listen))?;
    server::check_bind(&addr, g.token.as_deref()).map_err(anyhow::Error::msg)?;
    let engine = Engine::open(g.data_dir()?, EngineConfig { sync: g.sync_mode()?, ..EngineConfig::default() })?;
    let listener = tokio::net::TcpListener::bind(addr).await.with_context(|| format!("cannot listen on {addr}"))?;
    let local = listener.local_addr()?;
    engine.advertise(Some(&local.to_string()))?;
    // The server refuses writes itself when read-only (with a 403 naming the server).
    let backend = open(&Target::Engine(engine.clone()), false).await?.backend;
    let mut limits = a.limits();
    limits.max_connections = server::connection_limit(limits.max_connections, server::raise_open_file_limit());
    let opts = ServeOptions { token: g.token.clone(), read_only: g.read_only, limits: limits.clone() };
    let app = server::router(backend, opts);
    let kafka = match &a.kafka.kafka_listen {
        Some(listen) => {
            Some(server::kafka::start(listen, engine.clone(), a.kafka.options(g)).await.map_err(anyhow::Error::msg)?)
        }
        None => None,
    };
    eprintln!(
        "depot serving {} on http://{local}{}{}{} (sync {}, up to {} connections); Ctrl-C stops",
        engine.dir().display(),
        kafka.as_ref().map(|k| format!(" and to Kafka clients on {}", k.addr)).unwrap_or_default(),
        if g.token.is_some() { ", token required" } else { "" },
        if g.read_only { ", read-only" } else { "" },
        engine.config().sync,
        limits.max_connections
    );
    let served = server::serve_with(listener, app, &limits, shutdown_signal()).await.context("HTTP server failed");
    if let Some(k) = kafka {
        k.stop().await;
    }
    served?;
    eprintln!("depot: shutting down; syncing data");
    engine.close()?;
    Ok(())
}
