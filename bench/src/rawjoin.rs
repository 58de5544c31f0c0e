//! A joiner that reads the server's WebSocket frames as a stream, for scenario 7.
//!
//! 150 joiners of a 20 MB document receive 3 GB. Through tungstenite each joiner assembles its 20 MB
//! message in a fresh buffer, so the generator spent most of the rush faulting in and copying memory
//! (perf: 55 % page faults, 1.2–1.7 of the 2 cores, while the server used 0.1–0.4): the figure measured
//! the generator. This joiner speaks the same protocol (the WebSocket handshake, masked client frames,
//! sync step 1, the step 2 answering the server's step 1) but reads each frame's payload through one
//! reusable buffer and compares the sync step 2 with the bytes a verifier received and checked, at the
//! same offset, as they arrive. A joiner whose bytes differ keeps them, and they are applied and checked
//! afterwards, so every joiner's document is still verified.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::client::WsUrl;
use crate::wire;

const READ_BUFFER: usize = 256 * 1024;
/// Any valid 16-byte key will do: the accept value is not what is measured.
const KEY: &str = "dGhlIHNhbXBsZSBub25jZQ==";

/// What a raw joiner does with the sync step 2.
#[derive(Clone)]
pub enum Step2 {
    /// Keep the whole message (the verifier).
    Keep,
    /// Compare it with this message as it arrives; keep only if it differs.
    Compare(Arc<Vec<u8>>),
}

/// What a raw joiner saw.
#[derive(Debug, Default)]
pub struct Joined {
    /// From connect start to the last byte of the step 2.
    pub synced_after: Duration,
    /// The whole step 2 message, when kept (the verifier, or a joiner whose bytes differed).
    pub kept: Option<Vec<u8>>,
    /// Bytes of the step 2 message.
    pub step2_len: usize,
}

/// Connects, sends step 1 with an empty state vector and reads until the step 2 is complete.
pub async fn join(url: &WsUrl, seq: u64, mode: Step2, limit: Duration) -> Result<Joined> {
    let started = Instant::now();
    let mut stream = TcpStream::connect(url.addr)
        .await
        .with_context(|| format!("connecting to {}", url.addr))?;
    stream.set_nodelay(true)?;
    let request = format!(
        "GET {} HTTP/1.1\r\nHost: {}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: {KEY}\r\nSec-WebSocket-Version: 13\r\n\r\n",
        url.path, url.addr
    );
    stream.write_all(request.as_bytes()).await?;
    let mut buf = vec![0u8; READ_BUFFER];
    let mut filled = 0;
    // The response head; whatever follows it is already frame data.
    let head_end = loop {
        if let Some(i) = buf[..filled].windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        if filled == buf.len() {
            bail!("handshake response too long");
        }
        let n = tokio::time::timeout(limit, stream.read(&mut buf[filled..])).await??;
        if n == 0 {
            bail!("connection closed during the handshake");
        }
        filled += n;
    };
    let head = String::from_utf8_lossy(&buf[..head_end]);
    if !head.starts_with("HTTP/1.1 101") {
        bail!(
            "handshake refused: {}",
            head.lines().next().unwrap_or_default()
        );
    }
    buf.copy_within(head_end..filled, 0);
    filled -= head_end;

    let mask = (seq as u32).wrapping_mul(0x9e37_79b9) | 1;
    let framing = &url.framing;
    if let Some(hello) = framing.hello() {
        send(&mut stream, &hello, mask).await?;
    }
    send(&mut stream, &framing.wrap(wire::step1(&[0])), mask).await?;
    let prefix = match framing {
        wire::Framing::Plain => 0,
        wire::Framing::Named(name) => name.len(),
    };

    let mut reader = Frames::default();
    let mut message = Message::new(mode, prefix);
    let mut pos = 0;
    loop {
        while let Some(event) = reader.next(&buf[pos..filled])? {
            pos += event.consumed;
            match event.kind {
                Event::Payload(range) => {
                    let start = pos - event.consumed + range.start;
                    message.feed(&buf[start..start + range.len()]);
                }
                Event::MessageEnd => {
                    if let Some(reply) = message.end()? {
                        send(&mut stream, &framing.wrap(reply), mask).await?;
                    }
                    if message.step2_done {
                        return Ok(Joined {
                            synced_after: started.elapsed(),
                            kept: message.kept.take(),
                            step2_len: message.step2_len,
                        });
                    }
                }
                Event::Close => bail!("the server closed the connection before the step 2"),
                Event::Control => {}
            }
        }
        buf.copy_within(pos..filled, 0);
        filled -= pos;
        pos = 0;
        let n = tokio::time::timeout(limit, stream.read(&mut buf[filled..]))
            .await
            .context("no step 2 within the limit")??;
        if n == 0 {
            bail!("connection closed before the step 2");
        }
        filled += n;
    }
}

/// A masked binary frame, as a client must send it.
async fn send(stream: &mut TcpStream, payload: &[u8], mask: u32) -> Result<()> {
    let mut frame = Vec::with_capacity(payload.len() + 14);
    frame.push(0x82);
    match payload.len() {
        n if n < 126 => frame.push(0x80 | n as u8),
        n if n <= u16::MAX as usize => {
            frame.push(0x80 | 126);
            frame.extend_from_slice(&(n as u16).to_be_bytes());
        }
        n => {
            frame.push(0x80 | 127);
            frame.extend_from_slice(&(n as u64).to_be_bytes());
        }
    }
    let key = mask.to_be_bytes();
    frame.extend_from_slice(&key);
    frame.extend(payload.iter().enumerate().map(|(i, b)| b ^ key[i % 4]));
    stream.write_all(&frame).await?;
    Ok(())
}

/// Splits the byte stream into frame payload pieces without copying them.
#[derive(Default)]
struct Frames {
    /// Payload bytes of the current frame still to come.
    remaining: u64,
    /// Whether the current frame ends its message, and whether it is a control frame.
    fin: bool,
    control: bool,
    close: bool,
}

struct Step {
    consumed: usize,
    kind: Event,
}

enum Event {
    /// Payload bytes of a data frame, at this range of the input slice.
    Payload(std::ops::Range<usize>),
    MessageEnd,
    Control,
    Close,
}

impl Frames {
    fn next(&mut self, input: &[u8]) -> Result<Option<Step>> {
        if self.remaining > 0 {
            if input.is_empty() {
                return Ok(None);
            }
            let take = (self.remaining.min(input.len() as u64)) as usize;
            self.remaining -= take as u64;
            if self.control {
                return Ok(Some(Step {
                    consumed: take,
                    kind: Event::Control,
                }));
            }
            return Ok(Some(Step {
                consumed: take,
                kind: Event::Payload(0..take),
            }));
        }
        // Between frames: a pending end of message is reported once the last payload byte is in.
        if self.fin && !self.control {
            self.fin = false;
            return Ok(Some(Step {
                consumed: 0,
                kind: Event::MessageEnd,
            }));
        }
        if self.close {
            return Ok(Some(Step {
                consumed: 0,
                kind: Event::Close,
            }));
        }
        if input.len() < 2 {
            return Ok(None);
        }
        let (b0, b1) = (input[0], input[1]);
        if b1 & 0x80 != 0 {
            bail!("the server sent a masked frame");
        }
        let (len, header) = match b1 & 0x7f {
            126 if input.len() >= 4 => (u64::from(u16::from_be_bytes([input[2], input[3]])), 4),
            127 if input.len() >= 10 => {
                let mut n = [0u8; 8];
                n.copy_from_slice(&input[2..10]);
                (u64::from_be_bytes(n), 10)
            }
            126 | 127 => return Ok(None),
            n => (u64::from(n), 2),
        };
        let opcode = b0 & 0x0f;
        self.remaining = len;
        self.control = opcode >= 8;
        self.close = opcode == 8;
        self.fin = b0 & 0x80 != 0;
        if opcode == 1 {
            bail!("the server sent a text frame");
        }
        Ok(Some(Step {
            consumed: header,
            kind: Event::Control,
        }))
    }
}

/// One incoming WebSocket message, seen piece by piece.
struct Message {
    mode: Step2,
    /// The first bytes of the message (enough to tell a sync step 2, and small messages whole).
    head: Vec<u8>,
    len: usize,
    is_step2: Option<bool>,
    /// Whether the step 2 so far matches the expected bytes.
    matches: bool,
    kept: Option<Vec<u8>>,
    step2_done: bool,
    step2_len: usize,
    /// Bytes of the document's name that start every message (Hocuspocus), and how many of the
    /// current message's are still to be dropped.
    prefix: usize,
    prefix_left: usize,
}

/// Messages up to this size are kept whole (the greeting); a step 2 is compared or kept.
const SMALL: usize = 64 * 1024;

impl Message {
    fn new(mode: Step2, prefix: usize) -> Message {
        Message {
            prefix,
            prefix_left: prefix,
            mode,
            head: Vec::new(),
            len: 0,
            is_step2: None,
            matches: true,
            kept: None,
            step2_done: false,
            step2_len: 0,
        }
    }

    fn feed(&mut self, piece: &[u8]) {
        let drop = self.prefix_left.min(piece.len());
        self.prefix_left -= drop;
        let piece = &piece[drop..];
        if piece.is_empty() {
            return;
        }
        if self.is_step2.is_none() && self.head.len() + piece.len() >= 2 {
            let mut first = self.head.clone();
            first.extend_from_slice(&piece[..piece.len().min(2)]);
            let step2 = first[0] == wire::MSG_SYNC as u8 && first[1] == wire::SYNC_STEP2 as u8;
            self.is_step2 = Some(step2);
            if step2 {
                // Bytes seen before the type was known are part of the step 2 too.
                let head = std::mem::take(&mut self.head);
                match &self.mode {
                    Step2::Keep => self.kept = Some(head),
                    Step2::Compare(expected) => {
                        if expected.get(..head.len()) != Some(&head[..]) {
                            self.matches = false;
                            self.kept = Some(head);
                        }
                    }
                }
            }
        }
        match (self.is_step2, &self.mode) {
            (Some(true), Step2::Compare(expected)) => {
                let at = self.len;
                let same = expected
                    .get(at..at + piece.len())
                    .is_some_and(|e| e == piece);
                if self.matches && !same {
                    // Different bytes: keep what matched so far and everything from here on.
                    self.matches = false;
                    let mut kept = expected[..at.min(expected.len())].to_vec();
                    kept.extend_from_slice(piece);
                    self.kept = Some(kept);
                } else if !self.matches {
                    self.kept
                        .get_or_insert_with(Vec::new)
                        .extend_from_slice(piece);
                }
            }
            (Some(true), Step2::Keep) => {
                self.kept
                    .get_or_insert_with(Vec::new)
                    .extend_from_slice(piece);
            }
            _ => {
                if self.head.len() < SMALL {
                    self.head.extend_from_slice(piece);
                }
            }
        }
        self.len += piece.len();
    }

    /// The message is complete: returns a reply to send, if any.
    fn end(&mut self) -> Result<Option<Vec<u8>>> {
        self.prefix_left = self.prefix;
        let len = std::mem::take(&mut self.len);
        let head = std::mem::take(&mut self.head);
        match self.is_step2.take() {
            Some(true) => {
                if let Step2::Compare(expected) = &self.mode
                    && self.matches
                    && len != expected.len()
                {
                    // A prefix of the expected bytes, or longer: keep it to be checked.
                    self.kept = Some(expected[..len.min(expected.len())].to_vec());
                }
                self.step2_done = true;
                self.step2_len = len;
                Ok(None)
            }
            _ => {
                // The greeting: answer the server's step 1 with our (empty) state, as the stock
                // client does; everything else is skipped.
                let mut reply = None;
                let mut reader = wire::Reader::new(&head);
                while let Some(message) = reader.next_message().ok().flatten() {
                    if let wire::Incoming::Step1(_) = message {
                        reply = Some(wire::step2(&[0, 0]));
                    }
                }
                Ok(reply)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn server_frame(opcode: u8, fin: bool, payload: &[u8]) -> Vec<u8> {
        crate::relay::unmasked_frame((if fin { 0x80 } else { 0 }) | opcode, payload)
    }

    /// Feeds `stream` to a message in pieces of `chunk` bytes, as reads would deliver it.
    fn run(stream: &[u8], chunk: usize, mode: Step2) -> (Message, usize) {
        let mut frames = Frames::default();
        let mut message = Message::new(mode, 0);
        let mut replies = 0;
        let mut buf: Vec<u8> = Vec::new();
        for piece in stream.chunks(chunk) {
            buf.extend_from_slice(piece);
            let mut pos = 0;
            while let Some(step) = frames.next(&buf[pos..]).unwrap() {
                let base = pos;
                pos += step.consumed;
                match step.kind {
                    Event::Payload(r) => message.feed(&buf[base + r.start..base + r.end]),
                    Event::MessageEnd => {
                        if message.end().unwrap().is_some() {
                            replies += 1;
                        }
                        if message.step2_done {
                            return (message, replies);
                        }
                    }
                    _ => {}
                }
            }
            buf.drain(..pos);
        }
        (message, replies)
    }

    fn stream_with(step2: &[u8]) -> Vec<u8> {
        let mut s = server_frame(2, true, &wire::step1(&[0]));
        s.extend(server_frame(9, true, b"ping"));
        // The step 2 in three fragments.
        let third = step2.len() / 3;
        s.extend(server_frame(2, false, &step2[..third]));
        s.extend(server_frame(0, false, &step2[third..2 * third]));
        s.extend(server_frame(0, true, &step2[2 * third..]));
        s
    }

    #[test]
    fn a_fragmented_step2_is_kept_whole_and_the_step1_answered() {
        let step2 = wire::step2(&vec![7u8; 200_000]);
        for chunk in [1, 3, 1000, 70_000] {
            let (m, replies) = run(&stream_with(&step2), chunk, Step2::Keep);
            assert!(m.step2_done);
            assert_eq!(replies, 1);
            assert_eq!(m.kept.as_deref(), Some(step2.as_slice()), "chunk {chunk}");
        }
    }

    #[test]
    fn equal_bytes_are_not_kept_and_different_bytes_are() {
        let step2 = wire::step2(&vec![7u8; 200_000]);
        let (m, _) = run(
            &stream_with(&step2),
            4096,
            Step2::Compare(Arc::new(step2.clone())),
        );
        assert!(m.step2_done && m.kept.is_none());
        assert_eq!(m.step2_len, step2.len());

        let mut other = step2.clone();
        other[150_000] = 8;
        let (m, _) = run(
            &stream_with(&other),
            4096,
            Step2::Compare(Arc::new(step2.clone())),
        );
        assert_eq!(m.kept.as_deref(), Some(other.as_slice()));

        let short = wire::step2(&[7u8; 100]);
        let (m, _) = run(&stream_with(&short), 4096, Step2::Compare(Arc::new(step2)));
        assert!(m.kept.is_some(), "a shorter message is kept for checking");
    }
}
