//! The WebSocket adapter: `GET /ws/{room}?token=` speaking y-websocket.
//!
//! Each connection has two halves. The reader parses and checks every frame (framing, update
//! decoding, read-only role) before anything reaches the room, so a malformed message closes only its
//! own connection. The writer drains the bounded outbox the room fills, sends keepalives, and closes
//! the socket with the code the room or the reader chose.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket, WebSocketUpgrade};
use axum::extract::{Path, Query, State};
use axum::response::Response;
use bytes::Bytes;
use futures::stream::{SplitSink, SplitStream};
use futures::{SinkExt, StreamExt};
use tokio::sync::mpsc;
use tokio::time::{Instant, timeout};
use yrs::StateVector;
use yrs::updates::decoder::Decode;

use crate::http::{AppState, TokenQuery};
use crate::ids::{Role, RoomId, Token};
use crate::metrics::{dec, inc};
use crate::room::{ConnControl, ConnHandle, ConnId, Inbound, RoomCommand, RoomHandle};
use crate::sync::{ClientMessage, parse_frame, protocol};

/// The stock client reconnects after 30 s without a message; we send something well before that.
const KEEPALIVE: Duration = Duration::from_secs(10);
/// A connection that sends nothing (not even a pong) for this long is closed.
const READ_TIMEOUT: Duration = Duration::from_secs(30);
/// The smallest outbox a connection gets, whatever the configuration says.
const MIN_OUTBOX: usize = 8;
/// How long the writer tries to deliver a close frame.
const CLOSE_GRACE: Duration = Duration::from_secs(5);
/// A read-only client that keeps sending updates is told so at most this often.
const READ_ONLY_NOTICE: Duration = Duration::from_secs(1);

/// Why the server ends a connection, with its close code (docs/PROTOCOL.md §2).
#[derive(Debug)]
enum CloseReason {
    Malformed(String),
    TooLarge,
    Unauthorized,
    UnknownRoom,
    Unavailable,
}

impl CloseReason {
    fn code(&self) -> u16 {
        match self {
            CloseReason::Malformed(_) => 4400,
            CloseReason::TooLarge => 4413,
            CloseReason::Unauthorized => 4401,
            CloseReason::UnknownRoom => 4404,
            CloseReason::Unavailable => 1013,
        }
    }

    fn text(&self) -> String {
        match self {
            CloseReason::Malformed(why) => format!("malformed message: {why}"),
            CloseReason::TooLarge => "message too large".into(),
            CloseReason::Unauthorized => "missing or invalid token".into(),
            CloseReason::UnknownRoom => "no such room".into(),
            CloseReason::Unavailable => "room unavailable, retry".into(),
        }
    }
}

pub async fn handler(
    ws: WebSocketUpgrade,
    State(state): State<AppState>,
    Path(room): Path<String>,
    Query(query): Query<TokenQuery>,
) -> Response {
    let cfg = &state.config;
    let ws = ws
        .max_message_size(cfg.max_message_bytes)
        .max_frame_size(cfg.max_message_bytes)
        // Small buffers: most connections are idle most of the time, and 10,000 of them must fit
        // in a few hundred megabytes. Large messages still work; the buffers grow as needed.
        .read_buffer_size(4 * 1024)
        .write_buffer_size(0);

    // Authorise before upgrading, but refuse through a close code after the upgrade: the stock client
    // stops reconnecting on 44xx, while a refused upgrade makes it retry forever.
    let verdict = authorize(&state, &room, query.token.as_deref()).await;
    let tracker = state.connections.clone();
    ws.on_upgrade(move |socket| {
        tracker.track_future(async move {
            match verdict {
                Ok((room_id, role)) => serve(socket, state, room_id, role).await,
                Err(reason) => {
                    tracing::info!(room = %room, reason = %reason.text(), "websocket refused");
                    inc(&state.metrics.rejected_messages, 1);
                    close_now(socket, reason).await;
                }
            }
        })
    })
}

async fn authorize(
    state: &AppState,
    room: &str,
    token: Option<&str>,
) -> Result<(RoomId, Role), CloseReason> {
    let room_id = RoomId::parse(room).ok_or(CloseReason::UnknownRoom)?;
    let token = token
        .filter(|t| !t.is_empty())
        .ok_or(CloseReason::Unauthorized)?;
    match state
        .store
        .role_for(&room_id, &Token::from_user(token).hash())
        .await
    {
        Ok(Some(role)) => Ok((room_id, role)),
        Ok(None) => match state.store.room(&room_id).await {
            Ok(Some(_)) => Err(CloseReason::Unauthorized),
            Ok(None) => Err(CloseReason::UnknownRoom),
            Err(_) => Err(CloseReason::Unavailable),
        },
        Err(e) => {
            tracing::error!(error = %e, "token check failed");
            Err(CloseReason::Unavailable)
        }
    }
}

async fn close_now(mut socket: WebSocket, reason: CloseReason) {
    let frame = CloseFrame {
        code: reason.code(),
        reason: Utf8Bytes::from(reason.text()),
    };
    let _ = socket.send(Message::Close(Some(frame))).await;
    // Give the client a moment to see the close frame before the TCP connection goes.
    let _ = timeout(Duration::from_secs(2), socket.next()).await;
}

async fn serve(socket: WebSocket, state: AppState, room_id: RoomId, role: Role) {
    let conn_id = ConnId::next();
    // The greeting alone is up to five messages (step 1, awareness, session, validation, saved): a
    // smaller outbox would drop part of it.
    let (outbox_tx, outbox_rx) = mpsc::channel(state.config.outbox_capacity.max(MIN_OUTBOX));
    let control = Arc::new(ConnControl::default());
    let conn = ConnHandle {
        id: conn_id,
        role,
        outbox: outbox_tx.clone(),
        control: control.clone(),
    };

    let (sink, stream) = socket.split();
    let room = match state.rooms.join(&room_id, conn).await {
        Ok(room) => room,
        Err(e) => {
            tracing::error!(room = %room_id, error = %e, "join failed");
            let mut sink = sink;
            let frame = CloseFrame {
                code: e.close_code(),
                reason: Utf8Bytes::from(e.to_string()),
            };
            let _ = sink.send(Message::Close(Some(frame))).await;
            return;
        }
    };
    inc(&state.metrics.connections, 1);
    inc(&state.metrics.connections_total, 1);
    tracing::debug!(room = %room_id, conn = conn_id.0, role = role.as_str(), "connected");

    let writer = tokio::spawn(write_loop(sink, outbox_rx, control.clone()));
    if let Err(reason) = read_loop(stream, &state, &room, conn_id, role, &outbox_tx, &control).await
    {
        tracing::warn!(room = %room_id, conn = conn_id.0, code = reason.code(), reason = %reason.text(), "closing connection");
        inc(&state.metrics.rejected_messages, 1);
        control.close(reason.code());
    }
    control.cancel.cancel();
    let _ = room.tx.send(RoomCommand::Leave { conn: conn_id }).await;
    let _ = writer.await;
    dec(&state.metrics.connections);
    tracing::debug!(room = %room_id, conn = conn_id.0, "disconnected");
}

async fn read_loop(
    mut stream: SplitStream<WebSocket>,
    state: &AppState,
    room: &RoomHandle,
    conn: ConnId,
    role: Role,
    outbox: &mpsc::Sender<Bytes>,
    control: &ConnControl,
) -> Result<(), CloseReason> {
    let mut last_notice: Option<Instant> = None;
    // Both created once, not per message: a fresh `cancelled()` future costs a mutex and a fresh
    // timeout re-arms a timer. Silence is checked on a coarse tick instead.
    let cancelled = control.cancel.cancelled();
    tokio::pin!(cancelled);
    let check = READ_TIMEOUT / 6;
    let mut idle_check = tokio::time::interval_at(Instant::now() + check, check);
    idle_check.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut last_received = Instant::now();
    loop {
        let next = tokio::select! {
            biased;
            _ = &mut cancelled => return Ok(()),
            next = stream.next() => next,
            _ = idle_check.tick() => {
                if last_received.elapsed() >= READ_TIMEOUT {
                    tracing::info!(conn = conn.0, "no message for 30 s: closing");
                    control.close(4002);
                    return Ok(());
                }
                continue;
            }
        };
        last_received = Instant::now();
        let message = match next {
            None => return Ok(()),
            Some(Err(e)) => {
                return match e.into_inner().downcast::<tungstenite::Error>() {
                    Ok(err) if matches!(*err, tungstenite::Error::Capacity(_)) => {
                        Err(CloseReason::TooLarge)
                    }
                    Ok(err) => {
                        tracing::debug!(conn = conn.0, error = %err, "websocket read error");
                        Ok(())
                    }
                    Err(other) => {
                        tracing::debug!(conn = conn.0, error = %other, "websocket read error");
                        Ok(())
                    }
                };
            }
            Some(Ok(message)) => message,
        };
        let frame = match message {
            Message::Binary(frame) => frame,
            Message::Text(_) => {
                return Err(CloseReason::Malformed(
                    "text frames are not part of the protocol".into(),
                ));
            }
            Message::Close(_) => return Ok(()),
            Message::Ping(_) | Message::Pong(_) => continue,
        };
        let messages = parse_frame(&frame).map_err(|e| CloseReason::Malformed(e.to_string()))?;
        let mut inbound = Vec::with_capacity(messages.len());
        for message in messages {
            match message {
                ClientMessage::SyncStep1(sv) => {
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
                    let decoded = decode_guarded("update", || yrs::Update::decode_v1(&update))?;
                    inbound.push(Inbound::Update(decoded, size));
                }
                ClientMessage::Awareness(update) => inbound.push(Inbound::Awareness(update)),
                ClientMessage::QueryAwareness => inbound.push(Inbound::QueryAwareness),
                ClientMessage::Auth => {}
            }
        }
        if inbound.is_empty() {
            continue;
        }
        // Awaiting a mailbox slot slows a flooding client down instead of growing memory.
        if room
            .tx
            .send(RoomCommand::Inbound {
                conn,
                messages: inbound,
            })
            .await
            .is_err()
        {
            return Err(CloseReason::Unavailable);
        }
    }
}

/// Decodes with a panic guard: a hostile update must never take the process down.
fn decode_guarded<T, E: std::fmt::Display>(
    what: &str,
    decode: impl FnOnce() -> Result<T, E> + std::panic::UnwindSafe,
) -> Result<T, CloseReason> {
    match std::panic::catch_unwind(decode) {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(e)) => Err(CloseReason::Malformed(format!("bad {what}: {e}"))),
        Err(_) => Err(CloseReason::Malformed(format!(
            "bad {what}: decoder panicked"
        ))),
    }
}

async fn write_loop(
    mut sink: SplitSink<WebSocket, Message>,
    mut outbox: mpsc::Receiver<Bytes>,
    control: Arc<ConnControl>,
) {
    // Created once: registering a fresh `cancelled()` future per message costs a mutex each time.
    let cancelled = control.cancel.cancelled();
    tokio::pin!(cancelled);
    // The keepalive check ticks at half the keepalive period and sends only after a silence, so the
    // hot path never re-arms a timer; the longest silence is 1.5 × KEEPALIVE, well under 30 s.
    let check = KEEPALIVE / 2;
    let mut keepalive = tokio::time::interval_at(Instant::now() + check, check);
    keepalive.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut last_sent = Instant::now();
    loop {
        tokio::select! {
            biased;
            _ = &mut cancelled => break,
            message = outbox.recv() => {
                let Some(first) = message else { break };
                // Feed everything already queued, then flush once.
                let mut batch = 0u64;
                let mut result = sink.feed(Message::Binary(first)).await;
                while result.is_ok() && batch < 64 {
                    match outbox.try_recv() {
                        Ok(next) => {
                            batch += 1;
                            result = sink.feed(Message::Binary(next)).await;
                        }
                        Err(_) => break,
                    }
                }
                if result.is_err() || sink.flush().await.is_err() {
                    control.cancel.cancel();
                    return;
                }
                last_sent = Instant::now();
            }
            _ = keepalive.tick() => {
                if last_sent.elapsed() < KEEPALIVE {
                    continue;
                }
                // An empty awareness update resets the stock client's silence timer; the ping
                // lets us notice a dead peer.
                let ok = sink.feed(Message::Binary(protocol::keepalive())).await.is_ok()
                    && sink.feed(Message::Ping(Bytes::new())).await.is_ok()
                    && sink.flush().await.is_ok();
                if !ok {
                    control.cancel.cancel();
                    return;
                }
                last_sent = Instant::now();
            }
        }
    }
    let code = control.code();
    let reason = match code {
        1001 => "server shutting down",
        4000 => "too slow: resync on reconnect",
        4400 => "malformed message",
        4002 => "nothing received for 30 s",
        4413 => "message too large",
        _ => "",
    };
    let frame = CloseFrame {
        code,
        reason: Utf8Bytes::from_static(reason),
    };
    // A slow consumer must read what is already buffered before it sees the close frame: give it
    // time, but not forever (a dead peer must not hold the task).
    let _ = timeout(CLOSE_GRACE, sink.send(Message::Close(Some(frame)))).await;
}
