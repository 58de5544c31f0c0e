//! WebSocket framing on a real server and real sockets: a message above `ws::FRAGMENT_BYTES` goes out
//! as a fragmented message that a stock client (tokio-tungstenite here) reassembles into exactly the
//! y-websocket message; smaller messages stay single frames. Also the hand-rolled upgrade's refusals.

mod common;

use std::io::Cursor;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use common::{TestServer, WsClient, sqlite_url};
use futures::{SinkExt, StreamExt};
use tierboard::sync::protocol;
use tierboard::ws::FRAGMENT_BYTES;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::frame::FrameHeader;
use tokio_tungstenite::tungstenite::protocol::frame::coding::{Data, OpCode};
use yrs::updates::decoder::Decode;
use yrs::updates::encoder::Encode;
use yrs::{Doc, GetString, ReadTxn, Text, Transact, Update};

/// A transport that keeps a copy of every byte the server sends, so the test can see the frames the
/// WebSocket client reassembles.
struct Tap {
    inner: TcpStream,
    seen: Arc<Mutex<Vec<u8>>>,
}

impl AsyncRead for Tap {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.inner).poll_read(cx, buf);
        if let Poll::Ready(Ok(())) = polled {
            let fresh = &buf.filled()[before..];
            self.seen.lock().unwrap().extend_from_slice(fresh);
        }
        polled
    }
}

impl AsyncWrite for Tap {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, data)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// One frame header as it came off the wire.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Seen {
    opcode: OpCode,
    fin: bool,
    len: usize,
}

/// Splits the bytes after the 101 response into frame headers (server frames are unmasked).
fn parse_frames(raw: &[u8]) -> Vec<Seen> {
    let start = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("the 101 response ends")
        + 4;
    let mut cursor = Cursor::new(&raw[start..]);
    let mut out = Vec::new();
    while let Some((header, len)) = FrameHeader::parse(&mut cursor).expect("a valid frame header") {
        assert!(header.mask.is_none(), "server frames are never masked");
        out.push(Seen {
            opcode: header.opcode,
            fin: header.is_final,
            len: len as usize,
        });
        cursor.set_position(cursor.position() + len);
        assert!(
            cursor.position() as usize <= raw.len() - start,
            "the tap holds every payload byte the client has read"
        );
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_large_step2_arrives_fragmented_and_reassembles_exactly() {
    let (_dir, url) = sqlite_url();
    let server = TestServer::start(&url).await;
    let (room, edit, _view) = server.create_room("tutorial-simple-blog").await;

    // An editor puts > 1 MB of text in the room and waits until it is stored (so the room has it).
    let content: String = (0..4 * FRAGMENT_BYTES + 12_345)
        .map(|i| char::from(b'a' + (i % 26) as u8))
        .collect();
    let mut writer = WsClient::connect(&server.ws_url(&room, &edit)).await;
    // Taken outside the edit's transaction: getting a root inside one would wait for it forever.
    let writer_notes = writer.doc.get_or_insert_text("notes");
    writer
        .edit(|_, txn| writer_notes.insert(txn, 0, &content))
        .await;
    assert!(
        writer
            .pump_until(Duration::from_secs(20), |c| c.saved())
            .await,
        "the server stored the editor's text"
    );

    // A joiner on a tapped socket asks for everything.
    let seen = Arc::new(Mutex::new(Vec::new()));
    let tcp = TcpStream::connect(server.addr).await.unwrap();
    let tap = Tap {
        inner: tcp,
        seen: seen.clone(),
    };
    let (mut ws, response) = tokio_tungstenite::client_async(server.ws_url(&room, &edit), tap)
        .await
        .expect("websocket handshake");
    assert_eq!(response.status(), 101);
    let empty = Doc::new().transact().state_vector().encode_v1();
    ws.send(Message::Binary(protocol::encode_step1(&empty)))
        .await
        .unwrap();

    let joined = Doc::new();
    let mut messages = 0;
    let step2 = loop {
        let next = tokio::time::timeout(Duration::from_secs(20), ws.next())
            .await
            .expect("the step 2 arrives within 20 s")
            .expect("the connection stays open")
            .expect("no read error");
        let Message::Binary(bytes) = next else {
            continue;
        };
        messages += 1;
        let mut reader = protocol::Reader::new(&bytes);
        if reader.read_var().unwrap() == protocol::MSG_SYNC
            && reader.read_var().unwrap() == protocol::SYNC_STEP2
        {
            let update = reader.read_buf().unwrap();
            assert!(reader.is_empty(), "the step 2 is the whole message");
            joined
                .transact_mut()
                .apply_update(Update::decode_v1(update).unwrap())
                .unwrap();
            break bytes;
        }
    };
    assert!(step2.len() > FRAGMENT_BYTES);
    let notes = joined.get_or_insert_text("notes");
    assert_eq!(notes.get_string(&joined.transact()), content);
    // Nothing more, nothing less: the joiner has exactly the writer's state.
    assert_eq!(
        joined.transact().state_vector(),
        writer.doc.transact().state_vector()
    );

    // On the wire: the greeting's small messages as single frames, then the step 2 in fragments of
    // FRAGMENT_BYTES: binary without FIN, continuations, the last with FIN.
    let raw = seen.lock().unwrap().clone();
    let frames = parse_frames(&raw);
    let data: Vec<Seen> = frames
        .iter()
        .copied()
        .filter(|f| matches!(f.opcode, OpCode::Data(_)))
        .collect();
    let first_fragment = data
        .iter()
        .position(|f| f.opcode == OpCode::Data(Data::Binary) && !f.fin)
        .unwrap_or_else(|| panic!("no fragmented message among {data:?}"));
    assert!(first_fragment >= 1, "the greeting came first, unfragmented");
    for small in &data[..first_fragment] {
        assert_eq!(small.opcode, OpCode::Data(Data::Binary), "{small:?}");
        assert!(small.fin, "a small message is one frame: {small:?}");
        assert!(small.len <= FRAGMENT_BYTES);
    }
    let fragments = &data[first_fragment..];
    let last = fragments
        .iter()
        .position(|f| f.fin)
        .expect("the fragmented message ends");
    let message = &fragments[..=last];
    assert!(message.len() >= 5, "{} fragments", message.len());
    for (i, f) in message.iter().enumerate() {
        let expected_op = if i == 0 { Data::Binary } else { Data::Continue };
        assert_eq!(f.opcode, OpCode::Data(expected_op), "fragment {i}");
        assert_eq!(f.fin, i == last, "fragment {i}");
        if i < last {
            assert_eq!(f.len, FRAGMENT_BYTES, "fragment {i}");
        } else {
            assert!(f.len > 0 && f.len <= FRAGMENT_BYTES);
        }
    }
    let total: usize = message.iter().map(|f| f.len).sum();
    assert_eq!(total, step2.len(), "the fragments carry the step 2 exactly");
    assert_eq!(
        first_fragment + 1,
        messages,
        "every message before the step 2 was one frame"
    );

    // After the large message, small ones are single frames again: an edit from the writer.
    writer.edit(|_, txn| writer_notes.insert(txn, 0, "!")).await;
    loop {
        let next = tokio::time::timeout(Duration::from_secs(20), ws.next())
            .await
            .expect("the edit arrives")
            .expect("open")
            .expect("no read error");
        if let Message::Binary(bytes) = next {
            let mut reader = protocol::Reader::new(&bytes);
            if reader.read_var().unwrap() == protocol::MSG_SYNC
                && reader.read_var().unwrap() == protocol::SYNC_UPDATE
            {
                break;
            }
        }
    }
    let raw = seen.lock().unwrap().clone();
    let after: Vec<Seen> = parse_frames(&raw)
        .into_iter()
        .filter(|f| matches!(f.opcode, OpCode::Data(_)))
        .skip(first_fragment + message.len())
        .collect();
    assert!(!after.is_empty());
    for f in &after {
        assert_eq!(
            (f.opcode, f.fin),
            (OpCode::Data(Data::Binary), true),
            "{f:?}"
        );
    }

    let _ = ws.close(None).await;
    writer.close().await;
    server.stop().await;
}

/// Sends a raw request and returns the status code and the response head.
async fn raw_request(server: &TestServer, path: &str, headers: &str) -> (u16, String) {
    let mut stream = TcpStream::connect(server.addr).await.unwrap();
    let request = format!(
        "GET {path} HTTP/1.1\r\nHost: {}\r\n{headers}Connection: close\r\n\r\n",
        server.addr
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = Vec::new();
    stream.read_to_end(&mut response).await.unwrap();
    let text = String::from_utf8_lossy(&response).to_string();
    let status = text.split(' ').nth(1).unwrap().parse().unwrap();
    (status, text)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_that_is_not_a_websocket_handshake_is_refused_clearly() {
    let (_dir, url) = sqlite_url();
    let server = TestServer::start(&url).await;
    let (room, edit, _view) = server.create_room("tutorial-simple-blog").await;
    let path = format!("/ws/{room}?token={edit}");
    let key = "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n";

    // A plain GET: 426 naming the protocol. (`Connection: close` is sent too; no `upgrade` token.)
    let (status, text) = raw_request(&server, &path, "").await;
    assert_eq!(status, 426, "{text}");
    assert!(
        text.to_ascii_lowercase().contains("upgrade: websocket"),
        "{text}"
    );
    assert!(text.contains("upgrade_required"), "{text}");

    // Another WebSocket version: 426 naming the one we speak.
    let (status, text) = raw_request(
        &server,
        &path,
        &format!("Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 8\r\n{key}"),
    )
    .await;
    assert_eq!(status, 426, "{text}");
    assert!(
        text.to_ascii_lowercase()
            .contains("sec-websocket-version: 13"),
        "{text}"
    );

    // No key, or a key that is not 16 bytes: 400.
    for bad_key in ["", "Sec-WebSocket-Key: c2hvcnQ=\r\n"] {
        let (status, text) = raw_request(
            &server,
            &path,
            &format!("Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n{bad_key}"),
        )
        .await;
        assert_eq!(status, 400, "{text}");
        assert!(text.contains("bad_request"), "{text}");
    }

    // The same request done right: 101 with the accept key of RFC 6455's example.
    let mut stream = TcpStream::connect(server.addr).await.unwrap();
    let request = format!(
        "GET {path} HTTP/1.1\r\nHost: {}\r\nUpgrade: websocket\r\nConnection: keep-alive, Upgrade\r\nSec-WebSocket-Version: 13\r\n{key}\r\n",
        server.addr
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut head = Vec::new();
    while !head.ends_with(b"\r\n\r\n") {
        let mut byte = [0u8; 1];
        stream.read_exact(&mut byte).await.unwrap();
        head.push(byte[0]);
    }
    let head = String::from_utf8(head).unwrap();
    assert!(head.starts_with("HTTP/1.1 101"), "{head}");
    assert!(
        head.contains("s3pPLMBiTxaQ9kYGzzhZRbK+xOo="),
        "RFC 6455 §1.3's accept value: {head}"
    );
    drop(stream);
    server.stop().await;
}
