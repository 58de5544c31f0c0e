//! The WebSocket adapter: `GET /ws/{room}?token=` speaking y-websocket.
//!
//! Each connection has two halves. The reader parses and checks every frame (framing, update
//! decoding, read-only role) before anything reaches the room, so a malformed message closes only its
//! own connection. The writer drains the bounded outbox the room fills, sends keepalives, and closes
//! the socket with the code the room or the reader chose.

use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::extract::{Path, Query, Request, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, Version, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use bytes::Bytes;
use futures::stream::{SplitSink, SplitStream};
use futures::{SinkExt, StreamExt};
use hyper::upgrade::{OnUpgrade, Upgraded};
use hyper_util::rt::TokioIo;
use tokio::time::{Instant, timeout};
use tokio_tungstenite::WebSocketStream;
use tungstenite::handshake::derive_accept_key;
use tungstenite::protocol::frame::coding::{Data, OpCode};
use tungstenite::protocol::frame::{CloseFrame, Frame, Utf8Bytes};
use tungstenite::protocol::{Message, Role as WsRole, WebSocketConfig};
use yrs::StateVector;
use yrs::updates::decoder::Decode;

use crate::Error;
use crate::auth::{TokenQuery, authorize_holder};
use crate::close::CloseCode;
use crate::ids::{Role, RoomId, TokenHash};
use crate::metrics::{Metrics, dec, inc};
use crate::queue::{self, error::TrySendError};
use crate::room::{ConnControl, ConnHandle, ConnId, Inbound, RoomCommand, RoomHandle, Side};
use crate::state::AppState;
use crate::sync::{ClientMessage, guard, parse_frame, protocol};

/// The stock client reconnects after 30 s without a message; we send something well before that.
const KEEPALIVE: Duration = Duration::from_secs(10);
/// A connection that sends nothing (not even a pong) for this long is closed.
const READ_TIMEOUT: Duration = Duration::from_secs(30);
/// The smallest outbox a connection gets, whatever the configuration says.
const MIN_OUTBOX: usize = 8;
/// The most queued messages the writer takes at once (merging runs of updates among them).
const WRITE_BATCH: usize = 64;
/// How long the writer tries to deliver a close frame.
const CLOSE_GRACE: Duration = Duration::from_secs(5);
/// After the server refuses a client with a code that tells it to stop (44xx), how long it keeps
/// reading (and discarding) what the client still sends, so the close frame is not lost to a reset.
const CLOSE_DRAIN: Duration = Duration::from_secs(3);
/// A read-only client that keeps sending updates is told so at most this often.
const READ_ONLY_NOTICE: Duration = Duration::from_secs(1);
/// Outgoing messages larger than this are sent as a fragmented WebSocket message, in fragments of
/// this size, each a zero-copy slice of the shared `Bytes`. Why: tungstenite copies every frame it
/// sends into the connection's own output buffer, which keeps its capacity for the connection's
/// life. A large full state sent to many joiners as one frame each left a document-sized buffer
/// behind in every one of them (BENCHMARKS.md, scenario 7); in fragments, each buffer grows to one
/// fragment at most. 256 KiB keeps the number of frames (and
/// write calls) per large message small while bounding that leftover at 256 KiB per connection.
/// Every message below it (nearly all of them) is one frame, as before.
pub const FRAGMENT_BYTES: usize = 256 * 1024;

/// tungstenite's read buffer per connection (see `handler`).
const READ_BUFFER: usize = 1024;

/// The upgraded connection.
type Socket = WebSocketStream<TokioIo<Upgraded>>;

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
    let cfg = &state.config;
    let config = WebSocketConfig::default()
        .max_message_size(Some(cfg.max_message_bytes))
        .max_frame_size(Some(cfg.max_message_bytes))
        // Small buffers: most connections are idle most of the time, and 10,000 of them must fit
        // in a few hundred megabytes. Large messages still work; the read buffer grows as needed,
        // and the writer never hands tungstenite more than one fragment at a time (FRAGMENT_BYTES).
        // The read buffer is kept for the connection's life, so its size is paid by every idle
        // connection: 1 KiB holds the messages clients send all the time (awareness, small edits)
        // in one read; a larger edit takes a read per KiB (BENCHMARKS.md, scenario 4).
        .read_buffer_size(READ_BUFFER)
        .write_buffer_size(0);

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
        let socket =
            WebSocketStream::from_raw_socket(TokioIo::new(upgraded), WsRole::Server, Some(config))
                .await;
        // Boxed: this task lives as long as the connection, and a future is as large as its
        // largest state. Inline, `serve` (with the join and every rare step) made each idle
        // connection hold 11 KB here; boxed, only the small `serve` state it is in is allocated.
        match verdict {
            Ok((room_id, role, token)) => {
                Box::pin(serve(socket, state, room_id, role, token)).await
            }
            Err(e) => {
                tracing::info!(room = %room, reason = %e, "websocket refused");
                inc(&state.metrics.rejected_messages, 1);
                Box::pin(close_now(socket, Closing::from(&e))).await;
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

async fn close_now(mut socket: Socket, reason: Closing) {
    let frame = CloseFrame {
        code: reason.code.code().into(),
        reason: Utf8Bytes::from(reason.text()),
    };
    let _ = socket.send(Message::Close(Some(frame))).await;
    // Give the client a moment to see the close frame before the TCP connection goes.
    let _ = timeout(Duration::from_secs(2), socket.next()).await;
}

async fn serve(socket: Socket, state: AppState, room_id: RoomId, role: Role, token: TokenHash) {
    let conn_id = ConnId::next();
    // The greeting alone is up to five messages (step 1, awareness, session, validation, saved): a
    // smaller outbox would drop part of it.
    let (outbox_tx, outbox_rx) = queue::channel(state.config.outbox_capacity.max(MIN_OUTBOX));
    let control = Arc::new(ConnControl::default());
    let conn = ConnHandle {
        id: conn_id,
        role,
        token: Some(token),
        outbox: outbox_tx.clone(),
        control: control.clone(),
    };

    let (sink, stream) = socket.split();
    // Boxed, as every step a connection goes through once: it is freed before the connection
    // idles, instead of widening the connection's future for its whole life.
    let room = match Box::pin(state.rooms.join(&room_id, conn)).await {
        Ok(room) => room,
        Err(e) => {
            tracing::error!(room = %room_id, error = %e, "join failed");
            let mut sink = sink;
            let frame = CloseFrame {
                code: e.close_code().code().into(),
                reason: Utf8Bytes::from(e.to_string()),
            };
            let _ = Box::pin(sink.send(Message::Close(Some(frame)))).await;
            return;
        }
    };
    inc(&state.metrics.connections, 1);
    inc(&state.metrics.connections_total, 1);
    tracing::debug!(room = %room_id, conn = conn_id.0, role = role.as_str(), "connected");

    let writer = tokio::spawn(write_loop(
        sink,
        outbox_rx,
        control.clone(),
        state.metrics.clone(),
        state.config.write_timeout(),
    ));
    let mut stream = stream;
    let ended = read_loop(
        &mut stream,
        &state,
        &room,
        conn_id,
        role,
        &outbox_tx,
        &control,
    )
    .await;
    let peer_gone = match ended {
        Ok(ReadEnd::PeerGone) => true,
        Ok(ReadEnd::Stopped) => false,
        Err(reason) => {
            tracing::warn!(room = %room_id, conn = conn_id.0, code = reason.code.code(), reason = %reason.text(), "closing connection");
            inc(&state.metrics.rejected_messages, 1);
            control.close(reason.code);
            false
        }
    };
    control.stop();
    let _ = Box::pin(room.tx.send(RoomCommand::Leave { conn: conn_id })).await;
    drop(outbox_tx);
    let sink = writer.await;
    if !peer_gone
        && !control.code().reconnects()
        && let Ok(sink) = sink
        && let Ok(socket) = sink.reunite(stream)
    {
        Box::pin(drain(socket)).await;
    }
    dec(&state.metrics.connections);
    tracing::debug!(room = %room_id, conn = conn_id.0, "disconnected");
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
async fn drain(mut socket: Socket) {
    use tokio::io::AsyncReadExt;
    let io = socket.get_mut();
    let mut scratch = [0u8; 8 * 1024];
    let _ = timeout(CLOSE_DRAIN, async {
        while matches!(io.read(&mut scratch).await, Ok(n) if n > 0) {}
    })
    .await;
}

async fn read_loop(
    stream: &mut SplitStream<Socket>,
    state: &AppState,
    room: &RoomHandle,
    conn: ConnId,
    role: Role,
    outbox: &queue::Sender<Bytes>,
    control: &ConnControl,
) -> Result<ReadEnd, Closing> {
    let mut last_notice: Option<Instant> = None;
    // Both created once, not per message: a fresh timeout would re-arm a timer per message. Silence
    // is checked on a coarse tick instead.
    let mut cancelled = control.stopped(Side::Reader);
    let mut idle_check = coarse_tick(READ_TIMEOUT / 6);
    let mut last_received = Instant::now();
    loop {
        let next = tokio::select! {
            biased;
            _ = &mut cancelled => return Ok(ReadEnd::Stopped),
            next = stream.next() => next,
            _ = idle_check.tick() => {
                if last_received.elapsed() >= READ_TIMEOUT {
                    tracing::info!(conn = conn.0, "no message for 30 s: closing");
                    control.close(CloseCode::DeadPeer);
                    return Ok(ReadEnd::Stopped);
                }
                continue;
            }
        };
        last_received = Instant::now();
        let message = match next {
            None => return Ok(ReadEnd::PeerGone),
            Some(Err(tungstenite::Error::Capacity(_))) => {
                return Err(Closing::new(CloseCode::TooLarge));
            }
            // An unmasked client frame, a bad opcode, a reserved bit: RFC 6455 §7.4.1 says 1002.
            Some(Err(tungstenite::Error::Protocol(e))) => {
                return Err(Closing {
                    code: CloseCode::ProtocolError,
                    detail: Some(e.to_string()),
                });
            }
            Some(Err(e)) => {
                tracing::debug!(conn = conn.0, error = %e, "websocket read error");
                return Ok(ReadEnd::PeerGone);
            }
            Some(Ok(message)) => message,
        };
        let frame = match message {
            Message::Binary(frame) => frame,
            Message::Text(_) => {
                return Err(Closing::malformed(
                    "text frames are not part of the protocol".into(),
                ));
            }
            Message::Close(_) => return Ok(ReadEnd::PeerGone),
            // Raw frames are only ever written; tungstenite answers pings itself.
            Message::Ping(_) | Message::Pong(_) | Message::Frame(_) => continue,
        };
        let messages = parse_frame(&frame).map_err(|e| Closing {
            code: e.close_code(),
            detail: Some(e.to_string()),
        })?;
        let mut inbound = Vec::with_capacity(messages.len());
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
                            if last_notice
                                .is_none_or(|at| now.duration_since(at) >= READ_ONLY_NOTICE)
                            {
                                last_notice = Some(now);
                                let json = r#"{"type":"error","code":"read_only","message":"this link is view-only: edits are not applied"}"#;
                                let _ = outbox.try_send(protocol::encode_tierboard(json));
                            }
                        }
                        continue;
                    }
                    let size = update.len();
                    guard::precheck(&update)
                        .map_err(|e| Closing::malformed(format!("bad update: {e}")))?;
                    let decoded =
                        decode_guarded("update", || protocol::decode_update_exact(&update))?;
                    inbound.push(Inbound::Update(decoded, size));
                }
                ClientMessage::Awareness(update) => inbound.push(Inbound::Awareness(update)),
                ClientMessage::QueryAwareness => inbound.push(Inbound::QueryAwareness),
                ClientMessage::Auth => {}
                ClientMessage::Tierboard(json) => inbound.push(Inbound::Tierboard(json)),
            }
        }
        if inbound.is_empty() {
            continue;
        }
        // Awaiting a mailbox slot slows a flooding client down instead of growing memory. Tried
        // without waiting first, and the wait boxed: a send future inline would be part of every
        // idle connection's reader.
        let command = RoomCommand::Inbound {
            conn,
            messages: inbound,
        };
        let sent = match room.tx.try_send(command) {
            Ok(()) => Ok(()),
            Err(TrySendError::Full(command)) => {
                Box::pin(room.tx.send(command)).await.map_err(|_| ())
            }
            Err(TrySendError::Closed(_)) => Err(()),
        };
        if sent.is_err() {
            return Err(Closing::new(CloseCode::TryAgainLater));
        }
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

/// Why the writer stopped writing before the connection was told to stop.
enum WriteError {
    /// The socket failed (the peer went away).
    Socket,
    /// A frame or a flush made no progress within the write timeout: the peer stopped reading.
    Blocked,
}

impl From<tungstenite::Error> for WriteError {
    fn from(_: tungstenite::Error) -> WriteError {
        WriteError::Socket
    }
}

/// Runs one step of a write under the write timeout: the timeout measures a lack of progress (one
/// frame of at most [`FRAGMENT_BYTES`], or a flush), not the time a large message takes as a whole.
async fn timed<T>(
    limit: Duration,
    step: impl Future<Output = tungstenite::Result<T>>,
) -> Result<T, WriteError> {
    match timeout(limit, step).await {
        Ok(result) => Ok(result?),
        Err(_) => Err(WriteError::Blocked),
    }
}

/// Feeds a batch in order, then flushes once.
async fn write_batch(
    sink: &mut SplitSink<Socket, Message>,
    batch: &mut Vec<Bytes>,
    limit: Duration,
) -> Result<(), WriteError> {
    for message in batch.drain(..) {
        feed(sink, message, limit).await?;
    }
    timed(limit, sink.flush()).await
}

/// The keepalive: an empty awareness update resets the stock client's silence timer; the ping lets
/// us notice a dead peer.
async fn write_keepalive(
    sink: &mut SplitSink<Socket, Message>,
    limit: Duration,
) -> Result<(), WriteError> {
    timed(limit, sink.feed(Message::Binary(protocol::keepalive()))).await?;
    timed(limit, sink.feed(Message::Ping(Bytes::new()))).await?;
    timed(limit, sink.flush()).await
}

/// Drains the outbox to the socket until the connection is told to stop or the socket fails or
/// blocks; returns the sink so the caller can finish the close (see [`finish_close`]).
///
/// Every write is raced against the stop signal and bounded by the write timeout. Why: a peer that
/// stops reading leaves a write parked on a full socket forever, and with it the connection, its
/// outbox (and every update queued there) and its place in `/healthz` (issue 25, item 1). The room
/// closing it as a slow consumer now ends the write at once; a write with no progress for the
/// timeout ends it even when the outbox never fills.
async fn write_loop(
    mut sink: SplitSink<Socket, Message>,
    mut outbox: queue::Receiver<Bytes>,
    control: Arc<ConnControl>,
    metrics: Arc<Metrics>,
    write_timeout: Duration,
) -> SplitSink<Socket, Message> {
    let mut cancelled = control.stopped(Side::Writer);
    // Grows on use: most of ten thousand idle connections never queue more than their greeting.
    let mut batch: Vec<Bytes> = Vec::new();
    // The keepalive check ticks at half the keepalive period and sends only after a silence, so the
    // hot path never re-arms a timer; the longest silence is 1.5 × KEEPALIVE, well under 30 s.
    let mut keepalive = coarse_tick(KEEPALIVE / 2);
    let mut last_sent = Instant::now();
    loop {
        let written = tokio::select! {
            biased;
            _ = &mut cancelled => break,
            taken = outbox.recv_many(&mut batch, WRITE_BATCH) => {
                if taken == 0 {
                    break;
                }
                // Everything already queued (up to a batch): merge runs of updates, feed the rest
                // in order, then flush once.
                let merged = protocol::coalesce_updates(&mut batch);
                if merged > 0 {
                    inc(&metrics.updates_coalesced, merged as u64);
                }
                tokio::select! {
                    biased;
                    _ = &mut cancelled => break,
                    // Boxed (here and below): allocated per write, not held by an idle writer.
                    written = Box::pin(write_batch(&mut sink, &mut batch, write_timeout)) => written,
                }
            }
            _ = keepalive.tick() => {
                if last_sent.elapsed() < KEEPALIVE {
                    continue;
                }
                tokio::select! {
                    biased;
                    _ = &mut cancelled => break,
                    written = Box::pin(write_keepalive(&mut sink, write_timeout)) => written,
                }
            }
        };
        match written {
            Ok(()) => last_sent = Instant::now(),
            Err(WriteError::Socket) => {
                control.stop();
                return sink;
            }
            Err(WriteError::Blocked) => {
                tracing::info!(
                    secs = write_timeout.as_secs(),
                    "a write made no progress: dropping the connection"
                );
                inc(&metrics.slow_consumers, 1);
                // No close frame: the socket it would go through is the one that does not drain.
                control.close(CloseCode::SlowConsumer);
                return sink;
            }
        }
    }
    batch.clear();
    drop(outbox);
    let code = control.code();
    let frame = CloseFrame {
        code: code.code().into(),
        reason: Utf8Bytes::from_static(code.reason()),
    };
    // A slow consumer must read what is already buffered before it sees the close frame: give it
    // time, but not forever (a dead peer must not hold the task).
    let _ = Box::pin(timeout(CLOSE_GRACE, sink.send(Message::Close(Some(frame))))).await;
    sink
}

/// Feeds one outgoing message: one frame, or above [`FRAGMENT_BYTES`] a fragmented message (a
/// binary frame without FIN, continuation frames, the last with FIN; RFC 6455 §5.4) whose payloads
/// are slices of the shared `Bytes`, so nothing is copied until tungstenite frames each fragment.
/// With `write_buffer_size(0)` tungstenite writes each frame to the socket as it is fed, and `feed`
/// waits for a blocked socket to drain before taking the next, so the connection's output buffer
/// holds one fragment at most. Pongs may go out between fragments, as RFC 6455 allows.
async fn feed(
    sink: &mut SplitSink<Socket, Message>,
    message: Bytes,
    limit: Duration,
) -> Result<(), WriteError> {
    let len = message.len();
    if len <= FRAGMENT_BYTES {
        return timed(limit, sink.feed(Message::Binary(message))).await;
    }
    let mut start = 0;
    while start < len {
        let end = (start + FRAGMENT_BYTES).min(len);
        let opcode = if start == 0 {
            OpCode::Data(Data::Binary)
        } else {
            OpCode::Data(Data::Continue)
        };
        let frame = Frame::message(message.slice(start..end), opcode, end == len);
        timed(limit, sink.feed(Message::Frame(frame))).await?;
        start = end;
    }
    Ok(())
}
