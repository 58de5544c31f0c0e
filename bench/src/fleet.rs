//! Groups of clients: connect many at once, wait for them, collect their reports.
//!
//! Every wait here is bounded; a client that fails to connect or sync fails the scenario with the
//! count and the first error rather than hanging it.

use std::net::{IpAddr, Ipv4Addr};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use anyhow::{Context, Result, anyhow, bail};
use futures::StreamExt;

use crate::client::{self, Handle, Report, Spec};

/// Local source addresses: every 127.0.0.x reaches the loopback server, and each brings its own set of
/// ephemeral ports, so tens of thousands of connections never run out of ports.
pub struct Sources {
    next: AtomicUsize,
}

const SOURCE_COUNT: usize = 16;

impl Sources {
    pub fn new() -> Sources {
        Sources {
            next: AtomicUsize::new(0),
        }
    }

    pub fn next(&self) -> IpAddr {
        let i = self.next.fetch_add(1, Ordering::Relaxed) % SOURCE_COUNT;
        IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2 + i as u8))
    }
}

/// Connects every spec, `concurrency` handshakes at a time, in order. Fails if any fails.
pub async fn connect_all(
    specs: Vec<Spec>,
    concurrency: usize,
    limit: Duration,
) -> Result<Vec<Handle>> {
    let total = specs.len();
    let connecting = futures::stream::iter(specs.into_iter().map(client::connect))
        .buffered(concurrency)
        .collect::<Vec<_>>();
    let results = tokio::time::timeout(limit, connecting)
        .await
        .map_err(|_| anyhow!("{total} connections not all open within {limit:?}"))?;
    let mut handles = Vec::with_capacity(total);
    let mut failed = 0;
    let mut first_error = None;
    for r in results {
        match r {
            Ok(h) => handles.push(h),
            Err(e) => {
                failed += 1;
                first_error.get_or_insert(e);
            }
        }
    }
    if let Some(e) = first_error {
        close_all(handles).await;
        return Err(e.context(format!("{failed} of {total} connections failed")));
    }
    Ok(handles)
}

/// Waits until every client has received its first step 2.
pub async fn wait_synced(handles: &mut [Handle], limit: Duration) -> Result<()> {
    let total = handles.len();
    let all = futures::future::join_all(handles.iter_mut().map(|h| h.wait_synced()));
    let results = tokio::time::timeout(limit, all)
        .await
        .map_err(|_| anyhow!("{total} clients not all synced within {limit:?}"))?;
    let failed = results.iter().filter(|r| r.is_err()).count();
    if failed > 0 {
        bail!("{failed} of {total} clients never synced (connection ended first)");
    }
    Ok(())
}

/// Reports of all clients, in order.
pub async fn reports(handles: &[Handle]) -> Result<Vec<Report>> {
    let all = futures::future::join_all(handles.iter().map(|h| h.report()));
    let results = tokio::time::timeout(Duration::from_secs(60), all)
        .await
        .context("collecting client reports")?;
    results.into_iter().collect()
}

/// Closes every client (bounded: each close waits at most a second or two).
pub async fn close_all(handles: Vec<Handle>) {
    futures::stream::iter(handles.into_iter().map(|h| h.close()))
        .buffer_unordered(256)
        .collect::<Vec<_>>()
        .await;
}

/// Connections the server closed, with the first reason.
pub fn lost(reports: &[Report]) -> (usize, Option<String>) {
    let closed: Vec<&String> = reports.iter().filter_map(|r| r.closed.as_ref()).collect();
    (closed.len(), closed.first().map(|s| s.to_string()))
}
