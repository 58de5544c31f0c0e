//! WebSocket framing (RFC 6455 §5), sans IO: server frames out, client frames in.
//!
//! Why our own and not tungstenite's: tungstenite owns the socket, so every message the room sends
//! has to be handed to the connection's writer task, which copies it into tungstenite's output
//! buffer (kept at its largest size for the connection's life) before writing it. Framing it
//! ourselves lets the room frame a broadcast once and write the same bytes straight into each
//! socket (`socket.rs`), and leaves an idle connection no buffer at all (BENCHMARKS.md, scenarios 2
//! and 4). No extensions are negotiated, so the reserved bits must be zero.

use bytes::{BufMut, Bytes, BytesMut};

/// Outgoing messages larger than this are sent as a fragmented message (RFC 6455 §5.4), in
/// fragments of this size. Why: clients limit the size of one frame separately from a message's
/// (tungstenite's default frame limit is 16 MiB against 64 MiB for a message), so a large document
/// sent as one frame could be refused by a client that accepts it as a message.
pub const FRAGMENT_BYTES: usize = 256 * 1024;

/// The largest control frame payload (RFC 6455 §5.5).
const MAX_CONTROL: usize = 125;

const OP_CONTINUATION: u8 = 0x0;
const OP_TEXT: u8 = 0x1;
const OP_BINARY: u8 = 0x2;
const OP_CLOSE: u8 = 0x8;
const OP_PING: u8 = 0x9;
const OP_PONG: u8 = 0xA;
const FIN: u8 = 0x80;

/// The most bytes a server frame's header takes.
const MAX_HEADER: usize = 10;

fn put_header(out: &mut BytesMut, first: u8, len: usize) {
    out.put_u8(first);
    match len {
        n if n < 126 => out.put_u8(n as u8),
        n if n <= 0xffff => {
            out.put_u8(126);
            out.put_u16(n as u16);
        }
        n => {
            out.put_u8(127);
            out.put_u64(n as u64);
        }
    }
}

/// A binary message as server frames: one frame, or above [`FRAGMENT_BYTES`] a binary frame without
/// FIN, continuations, and the last with FIN. One allocation, one copy of the payload.
pub fn binary(payload: &[u8]) -> Bytes {
    let fragments = payload.len().div_ceil(FRAGMENT_BYTES).max(1);
    let mut out = BytesMut::with_capacity(payload.len() + fragments * MAX_HEADER);
    if fragments == 1 {
        put_header(&mut out, FIN | OP_BINARY, payload.len());
        out.put_slice(payload);
        return out.freeze();
    }
    for (i, chunk) in payload.chunks(FRAGMENT_BYTES).enumerate() {
        let opcode = if i == 0 { OP_BINARY } else { OP_CONTINUATION };
        let fin = if i + 1 == fragments { FIN } else { 0 };
        put_header(&mut out, fin | opcode, chunk.len());
        out.put_slice(chunk);
    }
    out.freeze()
}

fn control(opcode: u8, payload: &[u8]) -> Bytes {
    let payload = &payload[..payload.len().min(MAX_CONTROL)];
    let mut out = BytesMut::with_capacity(2 + payload.len());
    put_header(&mut out, FIN | opcode, payload.len());
    out.put_slice(payload);
    out.freeze()
}

/// The answer to a ping: the same payload.
pub fn pong(payload: &[u8]) -> Bytes {
    control(OP_PONG, payload)
}

/// An empty ping.
pub fn ping() -> Bytes {
    control(OP_PING, &[])
}

/// A close frame with a code and a reason, the reason cut to fit a control frame (at a character
/// boundary, so it stays UTF-8).
pub fn close(code: u16, reason: &str) -> Bytes {
    let mut end = reason.len().min(MAX_CONTROL - 2);
    while !reason.is_char_boundary(end) {
        end -= 1;
    }
    let mut payload = Vec::with_capacity(2 + end);
    payload.extend_from_slice(&code.to_be_bytes());
    payload.extend_from_slice(&reason.as_bytes()[..end]);
    control(OP_CLOSE, &payload)
}

/// The payload of a server frame made by [`binary`] that is a whole message in one frame; `None`
/// for control frames and fragmented messages (those are never merged).
pub fn single_binary_payload(frame: &Bytes) -> Option<Bytes> {
    if frame.len() < 2 || frame[0] != FIN | OP_BINARY {
        return None;
    }
    let header = match frame[1] & 0x7f {
        126 => 4,
        127 => 10,
        _ => 2,
    };
    Some(frame.slice(header.min(frame.len())..))
}

/// What a client sent: one whole message or control frame.
#[derive(Debug, PartialEq, Eq)]
pub enum Incoming {
    Binary(Bytes),
    /// A text message (not part of y-websocket); reported at its first frame.
    Text,
    Ping(Bytes),
    Pong,
    /// A close frame, with its code if it had one.
    Close(Option<u16>),
}

/// Why the client's bytes are not acceptable.
#[derive(Debug, PartialEq, Eq)]
pub enum FrameError {
    /// A frame or message over the limit (the close code is 4413).
    TooLarge { limit: usize },
    /// A violation of RFC 6455 (the close code is 1002).
    Protocol(&'static str),
}

/// Turns the bytes a client sends into [`Incoming`] messages.
///
/// The bytes not yet parsed wait in a buffer that exists only while a frame is partly read: an idle
/// connection holds none (see [`Decoder::compact`]).
#[derive(Debug)]
pub struct Decoder {
    /// The largest message (and frame) accepted.
    max: usize,
    /// Bytes read and not yet parsed, from `start`.
    buf: Vec<u8>,
    start: usize,
    /// A fragmented binary message being assembled.
    partial: Option<Vec<u8>>,
}

impl Decoder {
    pub fn new(max: usize) -> Decoder {
        Decoder {
            max,
            buf: Vec::new(),
            start: 0,
            partial: None,
        }
    }

    /// Bytes already read that are not parsed yet (e.g. what came with the HTTP upgrade).
    pub fn extend(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }

    /// The buffer to read into, with room for at least `chunk` bytes, or for what the frame being
    /// read still needs up to a MiB. Why not all of it at once: a header announcing a message of the
    /// largest size costs the sender 10 bytes; the buffer grows with what actually arrives.
    pub fn read_buf(&mut self, chunk: usize) -> &mut Vec<u8> {
        let want = self.missing().min(1 << 20).max(chunk);
        self.buf.reserve(want);
        &mut self.buf
    }

    /// How many bytes the frame at the front still needs, as far as its header tells.
    fn missing(&self) -> usize {
        let have = &self.buf[self.start..];
        match parse_header(have) {
            Ok(Some(header)) => (header.len + header.payload_at).saturating_sub(have.len()),
            _ => 0,
        }
    }

    /// Drops parsed bytes; frees the buffer when nothing is left in it (an idle connection holds no
    /// buffer) or when a large frame left it much larger than what remains.
    pub fn compact(&mut self) {
        if self.start == self.buf.len() {
            // Also when nothing was parsed: a read that found the socket empty (readiness is only
            // cleared by a read that would block) leaves a reserved, empty buffer, and an idle
            // connection must not keep it (4 KiB each, seen with heaptrack in scenario 4).
            if self.buf.capacity() > 0 {
                self.buf = Vec::new();
            }
        } else if self.start > 0 {
            self.buf.drain(..self.start);
            if self.buf.capacity() > 64 * 1024 && self.buf.len() * 4 < self.buf.capacity() {
                self.buf.shrink_to(self.buf.len().max(4096));
            }
        }
        self.start = 0;
    }

    /// The next whole message or control frame, `None` when more bytes are needed.
    pub fn decode(&mut self) -> Result<Option<Incoming>, FrameError> {
        loop {
            let have = &self.buf[self.start..];
            let Some(header) = parse_header(have)? else {
                return Ok(None);
            };
            let control = header.opcode & 0x8 != 0;
            if control {
                if !header.fin {
                    return Err(FrameError::Protocol("a fragmented control frame"));
                }
                if header.len > MAX_CONTROL {
                    return Err(FrameError::Protocol("a control frame over 125 bytes"));
                }
            } else {
                let so_far = self.partial.as_ref().map_or(0, Vec::len);
                if header.len > self.max || so_far + header.len > self.max {
                    return Err(FrameError::TooLarge { limit: self.max });
                }
            }
            let end = header.payload_at + header.len;
            if have.len() < end {
                return Ok(None);
            }
            let at = self.start + header.payload_at;
            self.start += end;
            let payload = &mut self.buf[at..at + header.len];
            unmask(payload, header.mask);
            let payload = &*payload;
            match header.opcode {
                OP_BINARY | OP_TEXT if self.partial.is_some() => {
                    return Err(FrameError::Protocol(
                        "a new message before the last one ended",
                    ));
                }
                OP_TEXT => return Ok(Some(Incoming::Text)),
                OP_BINARY if header.fin => {
                    return Ok(Some(Incoming::Binary(Bytes::copy_from_slice(payload))));
                }
                OP_BINARY => self.partial = Some(payload.to_vec()),
                OP_CONTINUATION => {
                    let Some(partial) = self.partial.as_mut() else {
                        return Err(FrameError::Protocol("a continuation frame with no message"));
                    };
                    partial.extend_from_slice(payload);
                    if header.fin {
                        let whole = self.partial.take().unwrap_or_default();
                        return Ok(Some(Incoming::Binary(Bytes::from(whole))));
                    }
                }
                OP_PING => return Ok(Some(Incoming::Ping(Bytes::copy_from_slice(payload)))),
                OP_PONG => return Ok(Some(Incoming::Pong)),
                OP_CLOSE => {
                    return match payload {
                        [] => Ok(Some(Incoming::Close(None))),
                        [_] => Err(FrameError::Protocol("a close frame of one byte")),
                        [a, b, ..] => Ok(Some(Incoming::Close(Some(u16::from_be_bytes([*a, *b]))))),
                    };
                }
                _ => return Err(FrameError::Protocol("an unknown opcode")),
            }
        }
    }
}

struct Header {
    fin: bool,
    opcode: u8,
    mask: [u8; 4],
    payload_at: usize,
    len: usize,
}

/// The header at the start of `buf`, `None` when it is not all there yet.
fn parse_header(buf: &[u8]) -> Result<Option<Header>, FrameError> {
    if buf.len() < 2 {
        return Ok(None);
    }
    if buf[0] & 0x70 != 0 {
        return Err(FrameError::Protocol("a reserved bit is set"));
    }
    if buf[1] & 0x80 == 0 {
        return Err(FrameError::Protocol("a client frame without a mask"));
    }
    let (len, at) = match buf[1] & 0x7f {
        126 if buf.len() >= 4 => (u16::from_be_bytes([buf[2], buf[3]]) as u64, 4),
        127 if buf.len() >= 10 => {
            let mut b = [0u8; 8];
            b.copy_from_slice(&buf[2..10]);
            let len = u64::from_be_bytes(b);
            if len >> 63 != 0 {
                return Err(FrameError::Protocol("a length with its top bit set"));
            }
            (len, 10)
        }
        126 | 127 => return Ok(None),
        n => (u64::from(n), 2),
    };
    if buf.len() < at + 4 {
        return Ok(None);
    }
    Ok(Some(Header {
        fin: buf[0] & FIN != 0,
        opcode: buf[0] & 0x0f,
        mask: [buf[at], buf[at + 1], buf[at + 2], buf[at + 3]],
        payload_at: at + 4,
        // Over usize only on 32-bit targets, where it is over any limit anyway.
        len: usize::try_from(len).unwrap_or(usize::MAX / 2),
    }))
}

/// XORs a client payload with its mask, eight bytes at a time.
fn unmask(buf: &mut [u8], mask: [u8; 4]) {
    let word = u32::from_ne_bytes(mask);
    let wide = u64::from(word) | (u64::from(word) << 32);
    let mut chunks = buf.chunks_exact_mut(8);
    for chunk in &mut chunks {
        let mut b = [0u8; 8];
        b.copy_from_slice(chunk);
        chunk.copy_from_slice(&(u64::from_ne_bytes(b) ^ wide).to_ne_bytes());
    }
    // The remainder starts at a multiple of 8, so the mask lines up from its first byte.
    for (i, b) in chunks.into_remainder().iter_mut().enumerate() {
        *b ^= mask[i & 3];
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A client frame as browsers send it: masked.
    fn client_frame(first: u8, payload: &[u8], mask: [u8; 4]) -> Vec<u8> {
        let mut out = vec![first];
        match payload.len() {
            n if n < 126 => out.push(0x80 | n as u8),
            n if n <= 0xffff => {
                out.push(0x80 | 126);
                out.extend_from_slice(&(n as u16).to_be_bytes());
            }
            n => {
                out.push(0x80 | 127);
                out.extend_from_slice(&(n as u64).to_be_bytes());
            }
        }
        out.extend_from_slice(&mask);
        out.extend(payload.iter().enumerate().map(|(i, b)| b ^ mask[i % 4]));
        out
    }

    fn decode_all(decoder: &mut Decoder) -> Result<Vec<Incoming>, FrameError> {
        let mut out = Vec::new();
        while let Some(message) = decoder.decode()? {
            out.push(message);
        }
        decoder.compact();
        Ok(out)
    }

    #[test]
    fn messages_of_every_length_class_arrive_whole_even_byte_by_byte() {
        let payloads: Vec<Vec<u8>> = [0usize, 1, 7, 125, 126, 65_535, 65_536, 300_000]
            .iter()
            .map(|&n| (0..n).map(|i| (i * 31 % 251) as u8).collect())
            .collect();
        let mut stream = Vec::new();
        for p in &payloads {
            stream.extend(client_frame(0x82, p, [0x12, 0x34, 0x56, 0x78]));
        }
        // All at once.
        let mut decoder = Decoder::new(1 << 20);
        decoder.extend(&stream);
        let got = decode_all(&mut decoder).unwrap();
        let want: Vec<Incoming> = payloads
            .iter()
            .map(|p| Incoming::Binary(Bytes::from(p.clone())))
            .collect();
        assert_eq!(got, want);
        // In pieces of 1 and 7 bytes: the same messages, and no buffer left afterwards.
        for piece in [1, 7] {
            let mut decoder = Decoder::new(1 << 20);
            let mut got = Vec::new();
            for chunk in stream.chunks(piece) {
                decoder.read_buf(0).extend_from_slice(chunk);
                got.extend(decode_all(&mut decoder).unwrap());
            }
            assert_eq!(got, want, "in pieces of {piece}");
            assert_eq!(decoder.buf.capacity(), 0, "an idle decoder holds no buffer");
        }
        // A read that found nothing (the socket said readable, then would block) leaves no buffer.
        let mut decoder = Decoder::new(1 << 20);
        assert!(decoder.read_buf(4096).capacity() >= 4096);
        assert_eq!(decoder.decode(), Ok(None));
        decoder.compact();
        assert_eq!(
            decoder.buf.capacity(),
            0,
            "an empty read's buffer is given back"
        );
    }

    #[test]
    fn fragmented_messages_are_reassembled_with_control_frames_between() {
        let mut decoder = Decoder::new(1024);
        let mask = [1, 2, 3, 4];
        decoder.extend(&client_frame(0x02, b"hel", mask));
        decoder.extend(&client_frame(0x89, b"p", mask));
        decoder.extend(&client_frame(0x00, b"lo ", mask));
        decoder.extend(&client_frame(0x80, b"world", mask));
        let got = decode_all(&mut decoder).unwrap();
        assert_eq!(
            got,
            vec![
                Incoming::Ping(Bytes::from_static(b"p")),
                Incoming::Binary(Bytes::from_static(b"hello world")),
            ]
        );
    }

    #[test]
    fn limits_and_protocol_errors_are_reported() {
        let mask = [9, 9, 9, 9];
        let cases: Vec<(Vec<u8>, FrameError)> = vec![
            // Over the limit, known from the header alone (no payload sent yet).
            (
                client_frame(0x82, &[0; 2000], mask)[..8].to_vec(),
                FrameError::TooLarge { limit: 1024 },
            ),
            // Over the limit across fragments.
            (
                [
                    client_frame(0x02, &[0; 600], mask),
                    client_frame(0x80, &[0; 600], mask),
                ]
                .concat(),
                FrameError::TooLarge { limit: 1024 },
            ),
            (
                vec![0x82, 0x01, 0x00],
                FrameError::Protocol("a client frame without a mask"),
            ),
            (
                client_frame(0xC2, b"x", mask),
                FrameError::Protocol("a reserved bit is set"),
            ),
            (
                client_frame(0x83, b"x", mask),
                FrameError::Protocol("an unknown opcode"),
            ),
            (
                client_frame(0x09, b"x", mask),
                FrameError::Protocol("a fragmented control frame"),
            ),
            (
                client_frame(0x89, &[0; 126], mask),
                FrameError::Protocol("a control frame over 125 bytes"),
            ),
            (
                client_frame(0x80, b"x", mask),
                FrameError::Protocol("a continuation frame with no message"),
            ),
            (
                [
                    client_frame(0x02, b"a", mask),
                    client_frame(0x82, b"b", mask),
                ]
                .concat(),
                FrameError::Protocol("a new message before the last one ended"),
            ),
            (
                client_frame(0x88, &[3], mask),
                FrameError::Protocol("a close frame of one byte"),
            ),
            (
                {
                    let mut f = vec![0x82, 0x80 | 127];
                    f.extend_from_slice(&u64::MAX.to_be_bytes());
                    f.extend_from_slice(&mask);
                    f
                },
                FrameError::Protocol("a length with its top bit set"),
            ),
        ];
        for (bytes, want) in cases {
            let mut decoder = Decoder::new(1024);
            decoder.extend(&bytes);
            assert_eq!(decode_all(&mut decoder).unwrap_err(), want, "{bytes:?}");
        }
        // Text is reported (the caller refuses it), close with and without a code.
        let mut decoder = Decoder::new(1024);
        decoder.extend(&client_frame(0x81, b"hi", mask));
        decoder.extend(&client_frame(0x88, &[0x03, 0xe8, b'o', b'k'], mask));
        decoder.extend(&client_frame(0x88, &[], mask));
        decoder.extend(&client_frame(0x8A, b"", mask));
        assert_eq!(
            decode_all(&mut decoder).unwrap(),
            vec![
                Incoming::Text,
                Incoming::Close(Some(1000)),
                Incoming::Close(None),
                Incoming::Pong
            ]
        );
    }

    #[test]
    fn server_frames_round_trip_through_tungstenite() {
        use tungstenite::protocol::frame::FrameHeader;
        for len in [
            0usize,
            125,
            126,
            65_535,
            65_536,
            FRAGMENT_BYTES,
            FRAGMENT_BYTES * 2 + 5,
        ] {
            let payload: Vec<u8> = (0..len).map(|i| i as u8).collect();
            let framed = binary(&payload);
            let mut cursor = std::io::Cursor::new(&framed[..]);
            let mut reassembled = Vec::new();
            let mut frames = 0;
            loop {
                let (header, n) = FrameHeader::parse(&mut cursor).unwrap().unwrap();
                let at = cursor.position() as usize;
                reassembled.extend_from_slice(&framed[at..at + n as usize]);
                cursor.set_position(at as u64 + n);
                frames += 1;
                assert!(n as usize <= FRAGMENT_BYTES);
                assert!(header.mask.is_none());
                if header.is_final {
                    break;
                }
            }
            assert_eq!(cursor.position() as usize, framed.len());
            assert_eq!(reassembled, payload);
            assert_eq!(frames, len.div_ceil(FRAGMENT_BYTES).max(1));
            let single = single_binary_payload(&framed);
            if frames == 1 {
                assert_eq!(single.unwrap(), payload);
            } else {
                assert!(single.is_none(), "a fragmented message is never merged");
            }
        }
        // A reason cut at a character boundary, the frame within 125 bytes of payload.
        let long = "é".repeat(100);
        let framed = close(4400, &long);
        assert_eq!(framed[1] as usize, framed.len() - 2);
        assert!(framed.len() - 2 <= MAX_CONTROL);
        assert!(std::str::from_utf8(&framed[4..]).is_ok());
        assert_eq!(u16::from_be_bytes([framed[2], framed[3]]), 4400);
        assert!(single_binary_payload(&ping()).is_none());
    }

    #[test]
    fn unmasking_matches_the_bytewise_rule_at_every_length() {
        let mask = [0xA1, 0xB2, 0xC3, 0xD4];
        for len in 0..40 {
            let plain: Vec<u8> = (0..len).map(|i| i as u8).collect();
            let mut masked: Vec<u8> = plain
                .iter()
                .enumerate()
                .map(|(i, b)| b ^ mask[i % 4])
                .collect();
            unmask(&mut masked, mask);
            assert_eq!(masked, plain, "length {len}");
        }
    }
}
