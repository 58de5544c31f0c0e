//! Accepting connections: a cap on open connections per client address and in total, and a
//! header-read timeout, in front of the HTTP service (issue 25, item 6: slowloris).
//!
//! `axum::serve` neither limits connections nor sets hyper's timer, so a request whose headers
//! trickle in (or never come) held its socket forever. This loop serves each accepted connection with
//! hyper directly: HTTP/1 with a timer and `header_read_timeout`, upgrades enabled for `/ws`. Each
//! connection carries a [`Permit`] inside its socket ([`Counted`]), so a WebSocket keeps its place in
//! the counts for as long as it is open (hyper hands the same socket to the upgrade), and the count
//! drops when the socket is closed. A connection over a cap is closed at once, before any byte is
//! read; the request's `ConnectInfo<SocketAddr>` carries the peer address for handlers.

use std::collections::HashMap;
use std::net::IpAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio_util::sync::CancellationToken;
use tower_service::Service;

/// How long a shutdown waits for HTTP requests in progress (WebSockets are closed by the rooms).
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// The connection caps; 0 means no cap.
#[derive(Debug)]
pub struct Limits {
    per_address: usize,
    total: usize,
    /// Open connections per address, and their sum. One short lock per accept and per close.
    open: Mutex<(HashMap<IpAddr, usize>, usize)>,
}

impl Limits {
    pub fn new(per_address: usize, total: usize) -> Arc<Limits> {
        Arc::new(Limits {
            per_address,
            total,
            open: Mutex::new((HashMap::new(), 0)),
        })
    }

    /// A place for a connection from `ip`, or `None` when a cap is reached.
    pub fn admit(self: &Arc<Self>, ip: IpAddr) -> Option<Permit> {
        let mut open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        let (by_address, total) = &mut *open;
        let here = by_address.get(&ip).copied().unwrap_or(0);
        if (self.total > 0 && *total >= self.total)
            || (self.per_address > 0 && here >= self.per_address)
        {
            return None;
        }
        by_address.insert(ip, here + 1);
        *total += 1;
        Some(Permit {
            limits: self.clone(),
            ip,
        })
    }

    /// Open connections in total.
    pub fn open(&self) -> usize {
        self.open.lock().unwrap_or_else(|e| e.into_inner()).1
    }
}

/// One admitted connection; gives its place back when dropped.
#[derive(Debug)]
pub struct Permit {
    limits: Arc<Limits>,
    ip: IpAddr,
}

impl Drop for Permit {
    fn drop(&mut self) {
        let mut open = self.limits.open.lock().unwrap_or_else(|e| e.into_inner());
        let (by_address, total) = &mut *open;
        *total = total.saturating_sub(1);
        if let Some(here) = by_address.get_mut(&self.ip) {
            *here -= 1;
            if *here == 0 {
                by_address.remove(&self.ip);
            }
        }
    }
}

/// A TCP stream that holds its connection's [`Permit`] for as long as it exists.
pub struct Counted {
    tcp: TcpStream,
    _permit: Permit,
}

impl Counted {
    /// The stream and its permit, for a WebSocket that serves the stream itself (`ws`).
    pub fn into_parts(self) -> (TcpStream, Permit) {
        (self.tcp, self._permit)
    }
}

impl AsyncRead for Counted {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.tcp).poll_read(cx, buf)
    }
}

impl AsyncWrite for Counted {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.tcp).poll_write(cx, data)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.tcp).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.tcp.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.tcp).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.tcp).poll_shutdown(cx)
    }
}

/// Accepts and serves connections until `stop` is cancelled, then waits (briefly) for requests in
/// progress.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    limits: Arc<Limits>,
    header_timeout: Duration,
    stop: CancellationToken,
) {
    // HTTP/1 only: hyper's automatic version detection reads the first bytes before any HTTP/1
    // timer runs, so a connection that sends nothing was never timed out. (Browsers speak HTTP/1.1
    // to a plain-TCP server; HTTP/2 comes with TLS, at the proxy in front.)
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(header_timeout);
    let requests = tokio_util::task::TaskTracker::new();
    loop {
        let (tcp, peer) = tokio::select! {
            biased;
            _ = stop.cancelled() => break,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of file descriptors, typically: wait instead of spinning.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let Some(permit) = limits.admit(peer.ip()) else {
            tracing::info!(peer = %peer.ip(), "connection refused: connection cap reached");
            continue;
        };
        // No Nagle: a room's updates are small, and each is written once, whole (the writer already
        // batches what is queued); waiting for the peer's ACK before sending the next would add up to
        // a delayed-ACK period to an update's latency.
        if let Err(e) = tcp.set_nodelay(true) {
            tracing::debug!(error = %e, "TCP_NODELAY not set");
        }
        let io = TokioIo::new(Counted {
            tcp,
            _permit: permit,
        });
        let app = app.clone();
        let service = hyper::service::service_fn(move |mut req: hyper::Request<Incoming>| {
            req.extensions_mut().insert(ConnectInfo(peer));
            let mut app = app.clone();
            async move { app.call(req).await }
        });
        let connection = builder.serve_connection(io, service).with_upgrades();
        let stop = stop.clone();
        requests.spawn(async move {
            let mut connection = std::pin::pin!(connection);
            let ended = tokio::select! {
                ended = connection.as_mut() => ended,
                _ = stop.cancelled() => {
                    // Finish the request in progress, then close; an upgraded WebSocket has left
                    // this future already (the rooms close those).
                    connection.as_mut().graceful_shutdown();
                    connection.await
                }
            };
            if let Err(e) = ended {
                tracing::debug!(peer = %peer, error = %e, "connection ended with an error");
            }
        });
    }
    requests.close();
    if tokio::time::timeout(SHUTDOWN_GRACE, requests.wait())
        .await
        .is_err()
    {
        tracing::warn!("some HTTP requests did not finish within 5 s");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caps_per_address_and_in_total() {
        let limits = Limits::new(2, 3);
        let a: IpAddr = "10.0.0.1".parse().unwrap();
        let b: IpAddr = "10.0.0.2".parse().unwrap();
        let a1 = limits.admit(a).unwrap();
        let _a2 = limits.admit(a).unwrap();
        assert!(limits.admit(a).is_none(), "per address");
        let _b1 = limits.admit(b).unwrap();
        assert!(limits.admit(b).is_none(), "in total");
        drop(a1);
        assert_eq!(limits.open(), 2);
        assert!(limits.admit(b).is_some());
        let unlimited = Limits::new(0, 0);
        let permits: Vec<_> = (0..100).map(|_| unlimited.admit(a).unwrap()).collect();
        assert_eq!(unlimited.open(), 100);
        drop(permits);
        assert_eq!(unlimited.open(), 0);
    }
}
