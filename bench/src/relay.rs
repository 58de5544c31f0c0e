//! A null y-websocket server: the machine's own floor for scenarios 1 to 3.
//!
//! Every y-websocket server has to do at least this much per edit: read the writer's frame and send
//! its bytes to every other connection of the room. The relay does that and nothing else: no
//! document (so nothing is applied, stored or validated), awareness forwarded but not kept, no
//! keepalives. It
//! answers a client's sync step 1 with an empty step 2, which is the truth for the rooms of scenarios
//! 1 to 3: they start empty and every edit reaches every client through the relay. Each broadcast is
//! framed once and written straight to each socket from the reader's task (`try_write`, no queue, no
//! task wake per delivery); only a socket that cannot take the bytes at once gets them queued for its
//! writer task.
//!
//! What it is for: run against the same generator on the same cores, it measures what the machine
//! leaves for a server. A figure the relay cannot reach, no y-websocket server can reach on this
//! machine with this generator, since each of them does the relay's work and more.
//!
//! Bounds: frames above [`MAX_FRAME`] close the connection, fragmented client messages are refused,
//! a connection whose queued bytes pass [`MAX_BACKLOG`] is dropped, the HTTP request head is read up
//! to 8 KiB. It listens on loopback only.

use std::collections::{HashMap, VecDeque};
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use anyhow::{Context, Result, anyhow, bail};
use bytes::Bytes;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Notify;
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;

/// The largest client frame accepted.
const MAX_FRAME: usize = 64 * 1024 * 1024;
/// Queued bytes at which a peer that does not read is dropped.
const MAX_BACKLOG: usize = 64 * 1024 * 1024;
/// The longest HTTP request head accepted.
const MAX_HEAD: usize = 8 * 1024;

/// A sync step 2 carrying the empty update `[0, 0]`: message type 0, step 2, two bytes.
const EMPTY_STEP2: [u8; 5] = [0, 1, 2, 0, 0];

/// Listens on `127.0.0.1:port` and relays until the process is stopped.
pub async fn serve(port: u16) -> Result<()> {
    let listener = TcpListener::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, port)))
        .await
        .with_context(|| format!("binding 127.0.0.1:{port}"))?;
    eprintln!("relay listening on {}", listener.local_addr()?);
    relay(listener).await
}

/// Relays on an open listener until the task is dropped.
async fn relay(listener: TcpListener) -> Result<()> {
    let rooms: Rooms = Arc::new(Mutex::new(HashMap::new()));
    loop {
        let (stream, _) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(e) => {
                // Out of file descriptors, mostly: keep serving the connections there are.
                eprintln!("relay: accept failed: {e}");
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                continue;
            }
        };
        let rooms = rooms.clone();
        tokio::spawn(async move {
            if let Err(e) = connection(stream, rooms).await {
                eprintln!("relay: connection ended: {e:#}");
            }
        });
    }
}

type Rooms = Arc<Mutex<HashMap<String, Arc<Room>>>>;

/// The connections of one room. A std mutex: it is held to copy the list or change it, never across
/// an `.await`.
#[derive(Default)]
struct Room {
    peers: Mutex<Vec<Arc<Peer>>>,
}

/// One connection's sending side.
struct Peer {
    stream: Arc<TcpStream>,
    /// Bytes that did not fit into the socket yet, in order; while any wait, new ones queue behind
    /// them. Held for one `try_write` at most (a non-blocking system call), never across an `.await`.
    backlog: Mutex<Backlog>,
    /// Wakes the writer task when bytes were queued.
    queued: Notify,
    closed: AtomicBool,
}

#[derive(Default)]
struct Backlog {
    frames: VecDeque<Bytes>,
    bytes: usize,
}

impl Peer {
    /// Sends a whole frame: straight into the socket when nothing waits, else behind what waits.
    fn send(&self, frame: &Bytes) {
        if self.closed.load(Ordering::Relaxed) {
            return;
        }
        let mut backlog = self.backlog.lock().expect("backlog lock");
        if backlog.frames.is_empty() {
            let mut written = 0;
            while written < frame.len() {
                match self.stream.try_write(&frame[written..]) {
                    Ok(n) => written += n,
                    Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => break,
                    Err(_) => {
                        self.closed.store(true, Ordering::Relaxed);
                        return;
                    }
                }
            }
            if written == frame.len() {
                return;
            }
            backlog.frames.push_back(frame.slice(written..));
            backlog.bytes += frame.len() - written;
        } else {
            backlog.frames.push_back(frame.clone());
            backlog.bytes += frame.len();
        }
        if backlog.bytes > MAX_BACKLOG {
            self.closed.store(true, Ordering::Relaxed);
        }
        drop(backlog);
        self.queued.notify_one();
    }

    /// The writer task: drains the backlog whenever the socket can take more.
    async fn drain(self: Arc<Self>) {
        loop {
            self.queued.notified().await;
            loop {
                if self.closed.load(Ordering::Relaxed) {
                    return;
                }
                if self.stream.writable().await.is_err() {
                    self.closed.store(true, Ordering::Relaxed);
                    return;
                }
                let mut guard = self.backlog.lock().expect("backlog lock");
                let backlog = &mut *guard;
                while let Some(front) = backlog.frames.front_mut() {
                    match self.stream.try_write(front) {
                        Ok(n) if n == front.len() => {
                            backlog.bytes -= n;
                            backlog.frames.pop_front();
                        }
                        Ok(n) => {
                            backlog.bytes -= n;
                            *front = front.slice(n..);
                        }
                        Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => break,
                        Err(_) => {
                            self.closed.store(true, Ordering::Relaxed);
                            return;
                        }
                    }
                }
                if backlog.frames.is_empty() {
                    break;
                }
            }
        }
    }
}

async fn connection(mut stream: TcpStream, rooms: Rooms) -> Result<()> {
    stream.set_nodelay(true)?;
    let (path, key, mut buf) = read_head(&mut stream).await?;
    let room_name = path.split('?').next().unwrap_or("/").to_string();
    let response = format!(
        "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Accept: {}\r\n\r\n",
        derive_accept_key(key.as_bytes())
    );
    stream.write_all(response.as_bytes()).await?;

    let stream = Arc::new(stream);
    let me = Arc::new(Peer {
        stream: stream.clone(),
        backlog: Mutex::new(Backlog::default()),
        queued: Notify::new(),
        closed: AtomicBool::new(false),
    });
    let room = rooms
        .lock()
        .expect("rooms lock")
        .entry(room_name.clone())
        .or_default()
        .clone();
    room.peers.lock().expect("peers lock").push(me.clone());
    let writer = tokio::spawn(me.clone().drain());

    let result = read_loop(&stream, &mut buf, &me, &room).await;

    me.closed.store(true, Ordering::Relaxed);
    me.queued.notify_one();
    writer.abort();
    let empty = {
        let mut peers = room.peers.lock().expect("peers lock");
        peers.retain(|p| !Arc::ptr_eq(p, &me));
        peers.is_empty()
    };
    if empty {
        let mut rooms = rooms.lock().expect("rooms lock");
        if rooms
            .get(&room_name)
            .is_some_and(|r| r.peers.lock().expect("peers lock").is_empty())
        {
            rooms.remove(&room_name);
        }
    }
    result
}

/// Reads the HTTP upgrade request: returns the path, the `Sec-WebSocket-Key` and any bytes read past
/// the head.
async fn read_head(stream: &mut TcpStream) -> Result<(String, String, Vec<u8>)> {
    let mut buf = Vec::with_capacity(1024);
    let mut chunk = [0u8; 1024];
    let end = loop {
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            bail!("closed during the handshake");
        }
        buf.extend_from_slice(&chunk[..n]);
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        if buf.len() > MAX_HEAD {
            bail!("request head over {MAX_HEAD} bytes");
        }
    };
    let head = std::str::from_utf8(&buf[..end]).context("request head is not UTF-8")?;
    let mut lines = head.split("\r\n");
    let request = lines.next().unwrap_or_default();
    let mut parts = request.split(' ');
    if parts.next() != Some("GET") {
        bail!("not a GET request: {request}");
    }
    let path = parts
        .next()
        .ok_or_else(|| anyhow!("no path in {request}"))?
        .to_string();
    let key = lines
        .filter_map(|l| l.split_once(':'))
        .find(|(name, _)| name.trim().eq_ignore_ascii_case("sec-websocket-key"))
        .map(|(_, v)| v.trim().to_string())
        .ok_or_else(|| anyhow!("no Sec-WebSocket-Key"))?;
    let rest = buf[end..].to_vec();
    Ok((path, key, rest))
}

/// Reads client frames until the connection ends; relays updates, answers step 1 and pings.
async fn read_loop(stream: &TcpStream, buf: &mut Vec<u8>, me: &Peer, room: &Room) -> Result<()> {
    let mut filled = buf.len();
    buf.resize(filled.max(8 * 1024), 0);
    loop {
        // Every whole frame in the buffer.
        let mut start = 0;
        while let Some(frame) = parse_client_frame(&mut buf[start..filled])? {
            let payload = start + frame.payload.0..start + frame.payload.1;
            start += frame.len;
            match frame.opcode {
                0x2 => on_message(&buf[payload], me, room),
                0x8 => return Ok(()),
                0x9 => me.send(&server_frame(0xA, &buf[payload])),
                0xA => {}
                other => bail!("opcode {other:#x} is not supported by the relay"),
            }
        }
        buf.copy_within(start..filled, 0);
        filled -= start;
        if filled == buf.len() {
            let grown = (buf.len() * 2).min(MAX_FRAME + 14);
            if grown == buf.len() {
                bail!("frame over {MAX_FRAME} bytes");
            }
            buf.resize(grown, 0);
        }
        stream.readable().await?;
        match stream.try_read(&mut buf[filled..]) {
            Ok(0) => return Ok(()),
            Ok(n) => filled += n,
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
            Err(e) => return Err(e.into()),
        }
    }
}

/// One y-websocket message from a client.
fn on_message(message: &[u8], me: &Peer, room: &Room) {
    match message {
        // Sync step 1: the room is empty, as far as the relay knows.
        [0, 0, ..] => me.send(&Bytes::from_static(&EMPTY_STEP2_FRAME)),
        // Updates, non-empty step 2s and awareness (presence: cursors, selections): to everyone
        // else, framed once. Awareness is forwarded as it came, not kept: a joiner does not learn the
        // states announced before it, which no scenario measures.
        [0, 2, ..] | [0, 1, ..] | [1, ..] if message != EMPTY_STEP2 => {
            let frame = server_frame(0x2, message);
            let peers = room.peers.lock().expect("peers lock").clone();
            for peer in peers.iter().filter(|p| !std::ptr::eq(p.as_ref(), me)) {
                peer.send(&frame);
            }
        }
        // Awareness queries and anything else: dropped (the least work).
        _ => {}
    }
}

/// The empty step 2, framed (FIN, binary, 5 bytes).
const EMPTY_STEP2_FRAME: [u8; 7] = [0x82, 5, 0, 1, 2, 0, 0];

/// An unmasked server frame with FIN set.
fn server_frame(opcode: u8, payload: &[u8]) -> Bytes {
    Bytes::from(unmasked_frame(0x80 | opcode, payload))
}

/// An unmasked frame (as servers send them) whose first byte is `fin_and_opcode`.
pub fn unmasked_frame(fin_and_opcode: u8, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(payload.len() + 10);
    out.push(fin_and_opcode);
    match payload.len() {
        n if n < 126 => out.push(n as u8),
        n if n <= 0xffff => {
            out.push(126);
            out.extend_from_slice(&(n as u16).to_be_bytes());
        }
        n => {
            out.push(127);
            out.extend_from_slice(&(n as u64).to_be_bytes());
        }
    }
    out.extend_from_slice(payload);
    out
}

/// A parsed client frame: its opcode, where its (unmasked in place) payload is, and its whole length.
struct ClientFrame {
    opcode: u8,
    payload: (usize, usize),
    len: usize,
}

/// Parses one masked client frame at the start of `buf` and unmasks its payload in place. `None`
/// when the frame is not all there yet.
fn parse_client_frame(buf: &mut [u8]) -> Result<Option<ClientFrame>> {
    if buf.len() < 2 {
        return Ok(None);
    }
    let fin = buf[0] & 0x80 != 0;
    let opcode = buf[0] & 0x0f;
    if !fin || opcode == 0 {
        bail!("fragmented messages are not supported by the relay");
    }
    if buf[1] & 0x80 == 0 {
        bail!("client frame without a mask");
    }
    let (len, mut at) = match buf[1] & 0x7f {
        126 if buf.len() >= 4 => (u16::from_be_bytes([buf[2], buf[3]]) as usize, 4),
        127 if buf.len() >= 10 => {
            let mut b = [0u8; 8];
            b.copy_from_slice(&buf[2..10]);
            (usize::try_from(u64::from_be_bytes(b))?, 10)
        }
        126 | 127 => return Ok(None),
        n => (n as usize, 2),
    };
    if len > MAX_FRAME {
        bail!("frame of {len} bytes is over {MAX_FRAME}");
    }
    if buf.len() < at + 4 + len {
        return Ok(None);
    }
    let mask = [buf[at], buf[at + 1], buf[at + 2], buf[at + 3]];
    at += 4;
    for (i, b) in buf[at..at + len].iter_mut().enumerate() {
        *b ^= mask[i & 3];
    }
    Ok(Some(ClientFrame {
        opcode,
        payload: (at, at + len),
        len: at + len,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::{self, Cmd, Spec, WsUrl};
    use std::time::Duration;

    fn spec(url: &WsUrl, writer: Option<u32>, observe: Vec<u32>, seq: u64) -> Spec {
        Spec {
            url: url.clone(),
            source_ip: "127.0.0.1".parse().unwrap(),
            writer,
            observe,
            awareness: true,
            seq,
            expect_digest: None,
        }
    }

    #[tokio::test]
    async fn edits_reach_the_other_clients_of_the_room_only() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = tokio::spawn(relay(listener));
        let room = WsUrl::parse(&format!("ws://{addr}/room-a")).unwrap();
        let other_room = WsUrl::parse(&format!("ws://{addr}/room-b?x=1")).unwrap();
        let mut writer = client::connect(spec(&room, Some(0), vec![], 0))
            .await
            .unwrap();
        let mut observer = client::connect(spec(&room, None, vec![0], 1))
            .await
            .unwrap();
        let mut elsewhere = client::connect(spec(&other_room, None, vec![0], 2))
            .await
            .unwrap();
        for c in [&mut writer, &mut observer, &mut elsewhere] {
            tokio::time::timeout(Duration::from_secs(5), c.wait_synced())
                .await
                .expect("synced in time")
                .unwrap();
        }
        for _ in 0..20 {
            writer.cmd(Cmd::Edit).await.unwrap();
        }
        let mut samples = 0;
        for _ in 0..50 {
            samples += observer.drain().await.unwrap().samples.len();
            if samples == 20 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert_eq!(samples, 20, "every edit timed once by the observer");
        let (w, o, e) = (
            writer.report().await.unwrap(),
            observer.report().await.unwrap(),
            elsewhere.report().await.unwrap(),
        );
        assert_eq!(
            w.digest, o.digest,
            "the observer holds the writer's document"
        );
        assert_eq!(w.state_vector, o.state_vector);
        assert_eq!(e.edits_present, 0, "another room hears nothing");
        assert_eq!(o.edits_present, 20);
        server.abort();
    }

    /// Reads one unmasked server frame: (opcode, payload).
    async fn read_server_frame(stream: &mut TcpStream) -> (u8, Vec<u8>) {
        let mut head = [0u8; 2];
        stream.read_exact(&mut head).await.unwrap();
        let len = match head[1] & 0x7f {
            126 => {
                let mut b = [0u8; 2];
                stream.read_exact(&mut b).await.unwrap();
                u16::from_be_bytes(b) as usize
            }
            127 => {
                let mut b = [0u8; 8];
                stream.read_exact(&mut b).await.unwrap();
                u64::from_be_bytes(b) as usize
            }
            n => n as usize,
        };
        let mut payload = vec![0u8; len];
        stream.read_exact(&mut payload).await.unwrap();
        (head[0], payload)
    }

    #[tokio::test]
    async fn a_peer_that_does_not_read_gets_everything_in_order_once_it_does() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = tokio::spawn(relay(listener));
        // A raw peer: the handshake, then nothing read while 16 MiB are relayed to it (more than
        // loopback's socket buffers hold, so most of it waits in the relay's backlog).
        let mut raw = TcpStream::connect(addr).await.unwrap();
        raw.write_all(
            b"GET /big HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
              Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
        )
        .await
        .unwrap();
        let mut head = Vec::new();
        while !head.ends_with(b"\r\n\r\n") {
            head.push(raw.read_u8().await.unwrap());
        }
        assert!(head.starts_with(b"HTTP/1.1 101"));
        let url = WsUrl::parse(&format!("ws://{addr}/big")).unwrap();
        let mut writer = client::connect(spec(&url, Some(0), vec![], 0))
            .await
            .unwrap();
        writer.wait_synced().await.unwrap();
        const CHUNKS: usize = 16;
        for _ in 0..CHUNKS {
            writer.cmd(Cmd::AppendNotes(1 << 20)).await.unwrap();
        }
        // Let the writer's messages all reach the relay before the peer starts reading.
        writer.report().await.unwrap();
        tokio::time::sleep(Duration::from_millis(300)).await;
        let mut updates = Vec::new();
        while updates.len() < CHUNKS {
            let (op, payload) =
                tokio::time::timeout(Duration::from_secs(10), read_server_frame(&mut raw))
                    .await
                    .expect("the backlog drains");
            assert_eq!(op, 0x82, "whole binary frames");
            if payload.starts_with(&[0, 2]) {
                updates.push(payload);
            }
        }
        // Applied in the order received, they rebuild the writer's text exactly.
        let doc = yrs::Doc::new();
        let notes = doc.get_or_insert_text("notes");
        for payload in &updates {
            let update = crate::wire::Reader::new(payload).next_message().unwrap();
            let Some(crate::wire::Incoming::Update(bytes)) = update else {
                panic!("an update message");
            };
            use yrs::updates::decoder::Decode;
            yrs::Transact::transact_mut(&doc)
                .apply_update(yrs::Update::decode_v1(bytes).unwrap())
                .unwrap();
        }
        use yrs::{ReadTxn, Text, Transact};
        let txn = doc.transact();
        assert_eq!(notes.len(&txn) as usize, CHUNKS << 20);
        assert!(
            txn.store().pending_update().is_none(),
            "nothing out of order"
        );
        server.abort();
    }

    fn masked(opcode: u8, payload: &[u8], mask: [u8; 4]) -> Vec<u8> {
        let mut out = vec![0x80 | opcode];
        match payload.len() {
            n if n < 126 => out.push(0x80 | n as u8),
            n => {
                out.push(0x80 | 126);
                out.extend_from_slice(&(n as u16).to_be_bytes());
            }
        }
        out.extend_from_slice(&mask);
        out.extend(payload.iter().enumerate().map(|(i, b)| b ^ mask[i & 3]));
        out
    }

    #[test]
    fn a_masked_frame_is_unmasked_in_place_and_a_partial_one_waits() {
        let payload: Vec<u8> = (0..300u32).map(|i| (i * 7) as u8).collect();
        let mut wire = masked(0x2, &payload, [1, 2, 3, 4]);
        wire.extend(masked(0x9, b"hi", [9, 9, 9, 9]));
        let first = parse_client_frame(&mut wire).unwrap().unwrap();
        assert_eq!(first.opcode, 0x2);
        assert_eq!(&wire[first.payload.0..first.payload.1], &payload[..]);
        let second = parse_client_frame(&mut wire[first.len..]).unwrap().unwrap();
        assert_eq!(second.opcode, 0x9);
        let mut partial = masked(0x2, &payload, [1, 2, 3, 4]);
        partial.truncate(100);
        assert!(parse_client_frame(&mut partial).unwrap().is_none());
    }

    #[test]
    fn fragments_and_unmasked_frames_are_refused() {
        let mut fragment = masked(0x2, b"abc", [1, 1, 1, 1]);
        fragment[0] &= 0x7f;
        assert!(parse_client_frame(&mut fragment).is_err());
        let mut unmasked = vec![0x82, 3, 1, 2, 3];
        assert!(parse_client_frame(&mut unmasked).is_err());
    }

    #[test]
    fn server_frames_carry_the_length_in_the_right_form() {
        assert_eq!(&server_frame(0x2, &[7; 5])[..2], &[0x82, 5]);
        assert_eq!(&server_frame(0x2, &[7; 300])[..4], &[0x82, 126, 1, 44]);
        assert_eq!(server_frame(0x2, &EMPTY_STEP2[..]), &EMPTY_STEP2_FRAME[..]);
    }
}
