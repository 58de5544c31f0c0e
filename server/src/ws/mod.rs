//! The WebSocket adapter: `GET /ws/{room}?token=` speaking y-websocket.
//!
//! After the upgrade the connection is its TCP stream, shared three ways:
//! - the reader (this connection's task) decodes client frames (`frame.rs`) and checks every
//!   message (framing, update decoding, read-only role) before anything reaches the room, so a
//!   malformed message closes only its own connection;
//! - the room's actor writes framed messages straight into the socket through the connection's
//!   `socket::SocketOutlet` while nothing waits before them;
//! - the writer task writes what did not fit (bounded: a full backlog puts the connection behind),
//!   sends keepalives, and closes the socket with the code the room or the reader chose.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use axum::body::Body;
use axum::extract::{Path, Query, Request, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, Version, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use bytes::Bytes;
use hyper::upgrade::OnUpgrade;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::{Instant, timeout};
use tungstenite::handshake::derive_accept_key;
use yrs::StateVector;
use yrs::updates::decoder::Decode;

use crate::Error;
use crate::auth::{TokenQuery, authorize_holder};
use crate::close::CloseCode;
use crate::ids::{Role, RoomId, TokenHash};
use crate::listen::{Counted, Permit};
use crate::metrics::{Metrics, dec, inc};
use crate::queue::error::TrySendError;
use crate::room::{
    ConnControl, ConnHandle, ConnId, Inbound, Outgoing, Outlet, RoomCommand, RoomHandle, Side,
};
use crate::state::AppState;
use crate::sync::{ClientMessage, guard, parse_frame, protocol};

pub mod frame;
mod socket;

pub use frame::FRAGMENT_BYTES;
use frame::{Decoder, FrameError, Incoming};
use socket::{SocketOutlet, WriteError};

/// The stock client reconnects after 30 s without a message; we send something well before that.
const KEEPALIVE: Duration = Duration::from_secs(10);
/// A connection that sends nothing (not even a pong) for this long is closed.
const READ_TIMEOUT: Duration = Duration::from_secs(30);
/// The smallest outbox a connection gets, whatever the configuration says.
const MIN_OUTBOX: usize = 8;
/// How long the writer tries to deliver a close frame.
const CLOSE_GRACE: Duration = Duration::from_secs(5);
/// After the server refuses a client with a code that tells it to stop (44xx), how long it keeps
/// reading (and discarding) what the client still sends, so the close frame is not lost to a reset.
const CLOSE_DRAIN: Duration = Duration::from_secs(3);
/// A read-only client that keeps sending updates is told so at most this often.
const READ_ONLY_NOTICE: Duration = Duration::from_secs(1);
/// How much a read asks the socket for at least. The buffer exists only while bytes wait in it
/// (`frame::Decoder`), so an idle connection holds none.
const READ_CHUNK: usize = 4096;
/// The largest message read (and discarded) from a client that is being refused.
const MAX_DISCARDED: usize = 64 * 1024;

/// Why the server ends a connection: a code of the one table, and a detail for the log and the
/// close frame (e.g. which part of a message was malformed).
#[derive(Debug)]
struct Closing {
    code: CloseCode,
    detail: Option<String>,
}

impl Closing {
    fn new(code: CloseCode) -> Closing {
        Closing { code, detail: None }
    }

    fn malformed(detail: String) -> Closing {
        Closing {
            code: CloseCode::Malformed,
            detail: Some(detail),
        }
    }

    fn text(&self) -> String {
        match &self.detail {
            Some(detail) => format!("{}: {detail}", self.code.reason()),
            None => self.code.reason().to_string(),
        }
    }
}

impl From<&Error> for Closing {
    fn from(e: &Error) -> Closing {
        Closing {
            code: e.close_code(),
            detail: Some(e.to_string()),
        }
    }
}

pub async fn handler(
    State(state): State<AppState>,
    Path(room): Path<String>,
    Query(query): Query<TokenQuery>,
    headers: HeaderMap,
    mut req: Request,
) -> Response {
    let (key, on_upgrade) = match handshake(&mut req) {
        Ok(accepted) => accepted,
        Err(refusal) => return refusal.into_response(),
    };
    // Before the upgrade: a page from another site gets a 403 and no socket at all.
    if let Err(e) = crate::browser::check_origin(&headers, &state.config.allowed_origins) {
        tracing::info!(room = %room, reason = %e, "websocket refused");
        inc(&state.metrics.rejected_messages, 1);
        return e.into_response();
    }
    // Authorise before upgrading, but refuse through a close code after the upgrade: the stock client
    // stops reconnecting on 44xx, while a refused upgrade makes it retry forever.
    let verdict = authorize_holder(&state, &room, &query, &headers).await;
    let tracker = state.connections.clone();
    tokio::spawn(tracker.track_future(async move {
        // Resolves once hyper has written the 101 below and handed over the connection.
        let upgraded = match on_upgrade.await {
            Ok(upgraded) => upgraded,
            Err(e) => {
                tracing::debug!(room = %room, error = %e, "websocket upgrade failed");
                return;
            }
        };
        let Some(conn) = Upgraded::take(upgraded) else {
            tracing::error!(room = %room, "websocket upgrade: the connection is not a TCP stream");
            return;
        };
        // Boxed: this task lives as long as the connection, and a future is as large as its
        // largest state. Inline, `serve` (with the join and every rare step) made each idle
        // connection hold 11 KB here; boxed, only the small `serve` state it is in is allocated.
        match verdict {
            Ok((room_id, role, token)) => {
                // One after the other, each boxed: the join's states are freed before the
                // connection idles in `Connection::serve` (BENCHMARKS.md, scenario 4).
                let joined = Box::pin(join(conn, state, room_id, role, token)).await;
                if let Some(connection) = joined {
                    Box::pin(connection.serve()).await;
                }
            }
            Err(e) => {
                tracing::info!(room = %room, reason = %e, "websocket refused");
                inc(&state.metrics.rejected_messages, 1);
                Box::pin(close_now(conn, Closing::from(&e))).await;
            }
        }
    }));
    Response::builder()
        .status(StatusCode::SWITCHING_PROTOCOLS)
        .header(header::CONNECTION, HeaderValue::from_static("upgrade"))
        .header(header::UPGRADE, HeaderValue::from_static("websocket"))
        .header(
            header::SEC_WEBSOCKET_ACCEPT,
            derive_accept_key(key.as_bytes()),
        )
        .body(Body::empty())
        .unwrap_or_else(|e| Error::Internal(format!("101 response: {e}")).into_response())
}

/// Why a request on the WebSocket endpoint is not upgraded.
enum Refusal {
    /// 400: not a well-formed handshake.
    BadRequest(&'static str),
    /// 426: a request for another protocol or WebSocket version.
    UpgradeRequired(&'static str),
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        match self {
            Refusal::BadRequest(why) => {
                Error::BadRequest(format!("not a WebSocket handshake: {why}")).into_response()
            }
            Refusal::UpgradeRequired(why) => {
                // With the headers RFC 7231 §6.5.15 and RFC 6455 §4.4 ask for.
                let mut response = Error::UpgradeRequired(why.to_string()).into_response();
                let headers = response.headers_mut();
                headers.insert(header::UPGRADE, HeaderValue::from_static("websocket"));
                headers.insert(header::CONNECTION, HeaderValue::from_static("upgrade"));
                headers.insert(
                    header::SEC_WEBSOCKET_VERSION,
                    HeaderValue::from_static("13"),
                );
                response
            }
        }
    }
}

/// Checks an RFC 6455 opening handshake (HTTP/1.1 only) and takes the connection's upgrade handle.
/// Returns the client's `Sec-WebSocket-Key`.
fn handshake(req: &mut Request) -> Result<(HeaderValue, OnUpgrade), Refusal> {
    if req.version() != Version::HTTP_11 {
        return Err(Refusal::BadRequest("it must be an HTTP/1.1 request"));
    }
    if req.method() != Method::GET {
        return Err(Refusal::BadRequest("it must be a GET request"));
    }
    let headers = req.headers();
    if !has_token(headers, header::CONNECTION, "upgrade")
        || !has_token(headers, header::UPGRADE, "websocket")
    {
        return Err(Refusal::UpgradeRequired(
            "this endpoint speaks WebSocket only (Connection: upgrade, Upgrade: websocket)",
        ));
    }
    if headers
        .get(header::SEC_WEBSOCKET_VERSION)
        .is_none_or(|v| v.as_bytes() != b"13")
    {
        return Err(Refusal::UpgradeRequired(
            "only WebSocket version 13 is supported",
        ));
    }
    // RFC 6455 §4.1: the key is the base64 of 16 random bytes.
    let key = match headers.get(header::SEC_WEBSOCKET_KEY) {
        Some(key)
            if base64::engine::general_purpose::STANDARD
                .decode(key.as_bytes())
                .is_ok_and(|k| k.len() == 16) =>
        {
            key.clone()
        }
        Some(_) => {
            return Err(Refusal::BadRequest(
                "Sec-WebSocket-Key is not 16 bytes in base64",
            ));
        }
        None => return Err(Refusal::BadRequest("Sec-WebSocket-Key is missing")),
    };
    // axum::serve serves connections with upgrades enabled (that is where this handle comes from),
    // so it is only missing when something in between cannot hand the connection over.
    let Some(on_upgrade) = req.extensions_mut().remove::<OnUpgrade>() else {
        return Err(Refusal::UpgradeRequired(
            "this connection cannot be upgraded",
        ));
    };
    Ok((key, on_upgrade))
}

/// Whether any of the header's comma-separated values is `token` (case-insensitive), as in
/// `Connection: keep-alive, Upgrade`.
fn has_token(headers: &HeaderMap, name: HeaderName, token: &str) -> bool {
    headers.get_all(name).iter().any(|value| {
        value
            .as_bytes()
            .split(|&b| b == b',')
            .any(|part| part.trim_ascii().eq_ignore_ascii_case(token.as_bytes()))
    })
}

/// An upgraded connection: its TCP stream, its place in the connection caps (held as long as the
/// connection is served), and any bytes the HTTP layer read past the handshake.
struct Upgraded {
    stream: TcpStream,
    permit: Permit,
    early: Bytes,
}

impl Upgraded {
    /// The TCP stream under hyper's upgrade (the `listen::Counted` that `listen::serve` accepted):
    /// the connection's own socket from here on, which the room writes to directly (`socket.rs`).
    fn take(upgraded: hyper::upgrade::Upgraded) -> Option<Upgraded> {
        let parts = upgraded.downcast::<TokioIo<Counted>>().ok()?;
        let (stream, permit) = parts.io.into_inner().into_parts();
        Some(Upgraded {
            stream,
            permit,
            early: parts.read_buf,
        })
    }
}

/// Refuses a connection that was never joined: the close frame, then a moment for the client's
/// answer, so the code is not lost to a reset (the stock client stops reconnecting on 44xx only if
/// it sees the code).
async fn close_now(conn: Upgraded, reason: Closing) {
    let Upgraded {
        mut stream,
        permit: _permit,
        early,
    } = conn;
    let frame = frame::close(reason.code.code(), &reason.text());
    if !matches!(
        timeout(CLOSE_GRACE, stream.write_all(&frame)).await,
        Ok(Ok(()))
    ) {
        return;
    }
    let mut decoder = Decoder::new(MAX_DISCARDED);
    decoder.extend(&early);
    let _ = timeout(Duration::from_secs(2), async {
        loop {
            match decoder.decode() {
                Ok(Some(Incoming::Close(_))) | Err(_) => return,
                Ok(Some(_)) => continue,
                Ok(None) => decoder.compact(),
            }
            match stream.read_buf(decoder.read_buf(READ_CHUNK)).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
        }
    })
    .await;
}

/// Joins the room; `None` when the join failed (the client was told why).
async fn join(
    conn: Upgraded,
    state: AppState,
    room_id: RoomId,
    role: Role,
    token: TokenHash,
) -> Option<Connection> {
    let stream = Arc::new(conn.stream);
    let conn_id = ConnId::next();
    let control = Arc::new(ConnControl::default());
    // The greeting alone is up to five messages (step 1, awareness, session, validation, saved): a
    // smaller outbox would drop part of it when the socket is slow to take it.
    let outlet = Arc::new(SocketOutlet::new(
        stream.clone(),
        state.config.outbox_capacity.max(MIN_OUTBOX),
        control.clone(),
    ));
    let handle = ConnHandle {
        id: conn_id,
        role,
        token: Some(token),
        outbox: outlet.clone(),
        control: control.clone(),
    };

    // Boxed, as every step a connection goes through once: it is freed before the connection
    // idles, instead of widening the connection's future for its whole life.
    let room = match Box::pin(state.rooms.join(&room_id, handle)).await {
        Ok(room) => room,
        Err(e) => {
            tracing::error!(room = %room_id, error = %e, "join failed");
            let code = e.close_code().code();
            Box::pin(close(&outlet, code, &e.to_string(), &state)).await;
            return None;
        }
    };
    let mut decoder = Decoder::new(state.config.max_message_bytes);
    decoder.extend(&conn.early);
    Some(Connection {
        stream,
        _permit: conn.permit,
        decoder,
        state,
        room_id,
        role,
        conn_id,
        control,
        outlet,
        room,
        writer: None,
    })
}

/// A joined connection: what its reader and its close need.
struct Connection {
    stream: Arc<TcpStream>,
    /// Its place in the connection caps, given back when the connection ends.
    _permit: Permit,
    /// The client's bytes not parsed yet (none while idle).
    decoder: Decoder,
    state: AppState,
    room_id: RoomId,
    role: Role,
    conn_id: ConnId,
    control: Arc<ConnControl>,
    outlet: Arc<SocketOutlet>,
    room: RoomHandle,
    /// The task writing the backlog, while there is one.
    writer: Option<tokio::task::JoinHandle<()>>,
}

impl Connection {
    /// Serves the connection until it ends. Its own future, apart from the join's: it is what an
    /// idle connection holds, so none of the join's states are in it.
    async fn serve(mut self) {
        let metrics = self.state.metrics.clone();
        inc(&metrics.connections, 1);
        inc(&metrics.connections_total, 1);
        tracing::debug!(room = %self.room_id, conn = self.conn_id.0, role = self.role.as_str(), "connected");

        let peer_gone = match self.read_loop().await {
            Ok(ReadEnd::PeerGone) => true,
            Ok(ReadEnd::Stopped) => false,
            Err(reason) => {
                tracing::warn!(room = %self.room_id, conn = self.conn_id.0, code = reason.code.code(), reason = %reason.text(), "closing connection");
                inc(&metrics.rejected_messages, 1);
                self.control.close(reason.code);
                false
            }
        };
        self.control.stop();
        let leave = RoomCommand::Leave { conn: self.conn_id };
        let _ = Box::pin(self.room.tx.send(leave)).await;
        if let Some(writer) = self.writer.take() {
            let _ = writer.await;
        }
        let code = self.control.code();
        Box::pin(close(&self.outlet, code.code(), code.reason(), &self.state)).await;
        if !peer_gone && !code.reconnects() {
            Box::pin(drain(&self.stream)).await;
        }
        dec(&metrics.connections);
        tracing::debug!(room = %self.room_id, conn = self.conn_id.0, "disconnected");
    }

    /// Reads, checks and passes on the client's messages until the connection ends or is refused.
    async fn read_loop(&mut self) -> Result<ReadEnd, Closing> {
        let mut last_notice: Option<Instant> = None;
        // Both created once, not per message: a fresh timeout would re-arm a timer per message. Silence
        // is checked on a coarse tick instead.
        let mut cancelled = self.control.stopped(Side::Reader);
        let mut idle_check = coarse_tick(KEEPALIVE / 2);
        let mut last_received = Instant::now();
        loop {
            // Every whole message already read.
            loop {
                let incoming = match self.decoder.decode() {
                    Ok(Some(incoming)) => incoming,
                    Ok(None) => break,
                    Err(FrameError::TooLarge { .. }) => {
                        return Err(Closing::new(CloseCode::TooLarge));
                    }
                    // An unmasked client frame, a bad opcode, a reserved bit: RFC 6455 §7.4.1 says 1002.
                    Err(FrameError::Protocol(why)) => {
                        return Err(Closing {
                            code: CloseCode::ProtocolError,
                            detail: Some(why.to_string()),
                        });
                    }
                };
                let message = match incoming {
                    Incoming::Binary(message) => message,
                    Incoming::Text => {
                        return Err(Closing::malformed(
                            "text frames are not part of the protocol".into(),
                        ));
                    }
                    Incoming::Ping(payload) => {
                        self.outlet.send_control(&frame::pong(&payload));
                        continue;
                    }
                    Incoming::Pong => continue,
                    Incoming::Close(code) => {
                        self.outlet.close_with(Some(close_reply(code)));
                        return Ok(ReadEnd::PeerGone);
                    }
                };
                let inbound = inbound(
                    &message,
                    &self.state,
                    self.role,
                    &self.outlet,
                    &mut last_notice,
                )?;
                if inbound.is_empty() {
                    continue;
                }
                // The room's turn runs here, on this task, when it is free: no mailbox push and no
                // wake-up of the room's task per message (`room/turn.rs`).
                let inbound =
                    match self
                        .room
                        .shared
                        .try_inbound(self.conn_id, &self.control, inbound)
                    {
                        Ok(()) => continue,
                        Err(inbound) => inbound,
                    };
                // Awaiting a mailbox slot slows a flooding client down instead of growing memory. Tried
                // without waiting first, and the wait boxed: a send future inline would be part of every
                // idle connection's reader. Counted first: the connection runs no turn of its own
                // until the room has handled what it queued.
                self.control.queued.fetch_add(1, Ordering::AcqRel);
                let command = RoomCommand::Inbound {
                    conn: self.conn_id,
                    messages: inbound,
                };
                let sent = match self.room.tx.try_send(command) {
                    Ok(()) => Ok(()),
                    Err(TrySendError::Full(command)) => {
                        Box::pin(self.room.tx.send(command)).await.map_err(|_| ())
                    }
                    Err(TrySendError::Closed(_)) => Err(()),
                };
                if sent.is_err() {
                    return Err(Closing::new(CloseCode::TryAgainLater));
                }
            }
            self.decoder.compact();
            tokio::select! {
                biased;
                _ = &mut cancelled => return Ok(ReadEnd::Stopped),
                ready = self.stream.readable() => {
                    if ready.is_err() {
                        return Ok(ReadEnd::PeerGone);
                    }
                }
                () = self.outlet.queued() => {
                    // The socket was full: a writer drains the backlog until it is empty, then ends.
                    self.writer = Some(tokio::spawn(write_backlog(
                        self.outlet.clone(),
                        self.control.clone(),
                        self.state.metrics.clone(),
                        self.state.config.write_timeout(),
                    )));
                    continue;
                }
                _ = idle_check.tick() => {
                    let silent = last_received.elapsed();
                    if silent >= READ_TIMEOUT {
                        tracing::info!(conn = self.conn_id.0, "no message for 30 s: closing");
                        self.control.close(CloseCode::DeadPeer);
                        return Ok(ReadEnd::Stopped);
                    }
                    if self.outlet.keepalive_due() {
                        // An empty awareness update resets the stock client's silence timer; the ping
                        // lets us notice a dead peer.
                        self.outlet.send_control(&frame::binary(&protocol::keepalive()));
                        self.outlet.send_control(&frame::ping());
                    } else if silent >= KEEPALIVE {
                        // A peer that only listens (an observer without presence) sends nothing of its
                        // own while the room keeps writing to it: ask, and its pong keeps it. Without
                        // this such a reader was closed as dead after 30 s (found by scenario 2 when
                        // its joins took longer than that on a loaded machine).
                        self.outlet.send_control(&frame::ping());
                    }
                    continue;
                }
            }
            match read_available(&self.stream, self.decoder.read_buf(READ_CHUNK)) {
                Ok(0) => return Ok(ReadEnd::PeerGone),
                Ok(_) => last_received = Instant::now(),
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
                Err(e) => {
                    tracing::debug!(conn = self.conn_id.0, error = %e, "websocket read error");
                    return Ok(ReadEnd::PeerGone);
                }
            }
        }
    }
}

/// How a connection's reader ended without refusing anything.
enum ReadEnd {
    /// The peer closed, or the socket failed: nobody is left to tell anything.
    PeerGone,
    /// The connection was told to stop (by the room, the writer or a shutdown).
    Stopped,
}

/// Reads and discards what a refused client still sends, until it closes its side or
/// [`CLOSE_DRAIN`] passes. Why: the close frame (4400, 4413, ...) is already on its way; closing the
/// socket with unread bytes in it makes the kernel send a reset, and a client still writing (a
/// stock client sending a 40 MB edit) then sees 1006 instead of the code, so it reconnects and sends
/// the same message again and again (issue 25, item 10). Raw bytes, not WebSocket frames: after an
/// oversized frame the stream is no longer at a frame boundary, and nothing read here is kept.
async fn drain(stream: &TcpStream) {
    let mut scratch = [0u8; 8 * 1024];
    let _ = timeout(CLOSE_DRAIN, async {
        loop {
            if stream.readable().await.is_err() {
                return;
            }
            match stream.try_read(&mut scratch) {
                Ok(0) => return,
                Ok(_) => {}
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
                Err(_) => return,
            }
        }
    })
    .await;
}

/// The close frame that answers a client's (RFC 6455 §5.5.1): its code when it is one an endpoint
/// may send, else 1000.
fn close_reply(code: Option<u16>) -> Bytes {
    match code {
        Some(code @ (1000..=1003 | 1007..=1014 | 3000..=4999)) => frame::close(code, ""),
        _ => frame::close(CloseCode::Normal.code(), ""),
    }
}

/// Checks one client message (framing, update decoding, read-only role) and turns it into what the
/// room takes.
fn inbound(
    frame: &Bytes,
    state: &AppState,
    role: Role,
    outlet: &SocketOutlet,
    last_notice: &mut Option<Instant>,
) -> Result<Vec<Inbound>, Closing> {
    let messages = parse_frame(frame).map_err(|e| Closing {
        code: e.close_code(),
        detail: Some(e.to_string()),
    })?;
    let mut inbound = Vec::with_capacity(messages.len());
    let only_one = messages.len() == 1;
    for message in messages {
        match message {
            ClientMessage::SyncStep1(sv) => {
                // Before yrs decodes it: a count the bytes cannot hold would make yrs reserve
                // memory for it first (sync::guard::precheck).
                guard::precheck(&sv)
                    .map_err(|e| Closing::malformed(format!("bad state vector: {e}")))?;
                let sv = decode_guarded("state vector", || StateVector::decode_v1(&sv))?;
                inbound.push(Inbound::SyncStep1(sv));
            }
            ClientMessage::SyncStep2(update) | ClientMessage::Update(update) => {
                if !role.can_edit() {
                    // `[0, 0]` is the empty step 2 every client sends after connecting.
                    if update.len() > 2 {
                        inc(&state.metrics.rejected_messages, 1);
                        let now = Instant::now();
                        if last_notice.is_none_or(|at| now.duration_since(at) >= READ_ONLY_NOTICE) {
                            *last_notice = Some(now);
                            let json = r#"{"type":"error","code":"read_only","message":"this link is view-only: edits are not applied"}"#;
                            let _ =
                                outlet.try_send(&Outgoing::new(protocol::encode_tierboard(json)));
                        }
                    }
                    continue;
                }
                guard::precheck(&update)
                    .map_err(|e| Closing::malformed(format!("bad update: {e}")))?;
                let decoded = decode_guarded("update", || protocol::decode_update_exact(&update))?;
                inbound.push(Inbound::Update(decoded, update));
            }
            ClientMessage::Awareness(update) => {
                // The message's only content, in the shortest framing: relayed as it came.
                if only_one && protocol::encode_awareness_len(update.len()) == frame.len() {
                    inbound.push(Inbound::AwarenessMessage {
                        update,
                        message: frame.clone(),
                    });
                } else {
                    inbound.push(Inbound::Awareness(update));
                }
            }
            ClientMessage::QueryAwareness => inbound.push(Inbound::QueryAwareness),
            ClientMessage::Auth => {}
            ClientMessage::Tierboard(json) => inbound.push(Inbound::Tierboard(json)),
        }
    }
    Ok(inbound)
}

/// Reads what the socket holds into `buf`'s spare room, as `try_read_buf` does, and clears the
/// socket's read readiness after a short read.
///
/// Why: a read that returns less than it had room for took everything the kernel held, yet Tokio
/// keeps the socket marked readable until a read fails with `WouldBlock`. Every message that arrived
/// alone (a cursor move, an edit) then cost the reader a second pass: another look at its `select!`,
/// another 4 KiB buffer and a `recv` that found nothing. Clearing readiness here is safe because
/// Tokio clears it only if no readiness event arrived since the one this read started from
/// (`Registration::try_io` compares the event's tick), and bytes that reach the socket after the
/// `recv` raise a new edge-triggered event, which wakes the reader again.
fn read_available(stream: &TcpStream, buf: &mut Vec<u8>) -> std::io::Result<usize> {
    let mut short = None;
    let result = stream.try_io(tokio::io::Interest::READABLE, || {
        let spare = buf.spare_capacity_mut();
        let room = spare.len();
        let n = socket2::SockRef::from(stream).recv(spare)?;
        // SAFETY: `recv` initialised the first `n` bytes of the spare capacity.
        unsafe { buf.set_len(buf.len() + n) };
        if n > 0 && n < room {
            short = Some(n);
            // Tells `try_io` that the socket is drained, so it clears readiness (see above).
            return Err(std::io::ErrorKind::WouldBlock.into());
        }
        Ok(n)
    });
    match short {
        Some(n) => Ok(n),
        None => result,
    }
}

/// A tick every `period`, first one `period` from now, never bursting after a stall: the connection
/// tasks check silence on it instead of re-arming a timer per message.
fn coarse_tick(period: Duration) -> tokio::time::Interval {
    let mut tick = tokio::time::interval_at(Instant::now() + period, period);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    tick
}

/// Decodes with a panic guard: a hostile update must never take the process down.
fn decode_guarded<T, E: std::fmt::Display>(
    what: &str,
    decode: impl FnOnce() -> Result<T, E> + std::panic::UnwindSafe,
) -> Result<T, Closing> {
    match std::panic::catch_unwind(decode) {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(e)) => Err(Closing::malformed(format!("bad {what}: {e}"))),
        Err(_) => Err(Closing::malformed(format!("bad {what}: decoder panicked"))),
    }
}

/// Writes the backlog the room could not write straight into the socket, until it is empty; a
/// connection has this task only while it has a backlog.
///
/// Every wait for the socket is raced against the stop signal and bounded by the write timeout.
/// Why: a peer that stops reading leaves a write parked on a full socket forever, and with it the
/// connection, its backlog and its place in `/healthz` (issue 25, item 1). The room closing it as a
/// slow consumer ends the wait at once; a wait with no progress for the timeout ends it even when
/// the backlog never fills.
async fn write_backlog(
    outlet: Arc<SocketOutlet>,
    control: Arc<ConnControl>,
    metrics: Arc<Metrics>,
    write_timeout: Duration,
) {
    let mut cancelled = control.stopped(Side::Writer);
    match outlet
        .drain(write_timeout, Some(&mut cancelled), &metrics)
        .await
    {
        // Drained; or told to stop, and the connection's task closes it.
        Ok(()) | Err(WriteError::Stopped) => {}
        Err(WriteError::Socket) => control.stop(),
        Err(WriteError::Blocked) => {
            tracing::info!(
                secs = write_timeout.as_secs(),
                "a write made no progress: dropping the connection"
            );
            inc(&metrics.slow_consumers, 1);
            // No close frame: the socket it would go through is the one that does not drain.
            control.close(CloseCode::SlowConsumer);
            outlet.abandon();
        }
    }
}

/// Ends a connection's sending side: the close frame after what is already waiting. A slow
/// consumer must read what waits before it sees the close frame: it gets time, but not forever (a
/// dead peer must not hold the task).
async fn close(outlet: &SocketOutlet, code: u16, reason: &str, state: &AppState) {
    outlet.close_with(Some(frame::close(code, reason)));
    let drained = outlet.drain(state.config.write_timeout(), None, &state.metrics);
    let _ = timeout(CLOSE_GRACE, drained).await;
}
