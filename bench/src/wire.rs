//! y-websocket framing, client side, without I/O (docs/PROTOCOL.md §2).
//!
//! The load generator decodes only what it needs: sync messages are handed to the document, while
//! awareness and tierboard's own messages (type 100) are skipped without being parsed, so that a
//! thousand observers cost the generator as little CPU as possible. A frame must be consumed whole;
//! leftovers are reported as malformed rather than silently dropped.

use anyhow::{Result, bail};

pub const MSG_SYNC: u64 = 0;
pub const MSG_AWARENESS: u64 = 1;
pub const MSG_AUTH: u64 = 2;
pub const MSG_QUERY_AWARENESS: u64 = 3;
pub const MSG_TIERBOARD: u64 = 100;
/// Hocuspocus: "this update is stored" (`true`) or "not stored" (`false`), one varUint.
pub const MSG_HOCUSPOCUS_SYNC_STATUS: u64 = 8;

pub const SYNC_STEP1: u64 = 0;
pub const SYNC_STEP2: u64 = 1;
pub const SYNC_UPDATE: u64 = 2;

/// One protocol message inside a WebSocket frame, borrowing from the frame.
#[derive(Debug, PartialEq, Eq)]
pub enum Incoming<'a> {
    Step1(&'a [u8]),
    Step2(&'a [u8]),
    Update(&'a [u8]),
    /// An awareness update: its payload (a count, then client id, clock and state JSON per entry).
    Awareness(&'a [u8]),
    AwarenessQuery,
    /// An auth message: its kind (y-protocols: 0 permission denied; Hocuspocus: 1 permission denied,
    /// 2 authenticated) and the reason or scope string.
    Auth(u64, &'a [u8]),
    /// tierboard's JSON messages (`session`, `validation`, `saved`, `error`).
    Tierboard(&'a [u8]),
    /// Any other type: skipped (the stock client logs and ignores these too).
    Other(u64),
}

/// Reads the messages of one frame in order.
pub struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    pub fn new(buf: &'a [u8]) -> Self {
        Reader { buf, pos: 0 }
    }

    fn var_uint(&mut self) -> Result<u64> {
        let mut value: u64 = 0;
        let mut shift = 0u32;
        loop {
            let Some(&byte) = self.buf.get(self.pos) else {
                bail!("truncated varint at byte {}", self.pos);
            };
            self.pos += 1;
            if shift >= 64 {
                bail!("varint longer than 64 bits");
            }
            value |= u64::from(byte & 0x7f) << shift;
            if byte & 0x80 == 0 {
                return Ok(value);
            }
            shift += 7;
        }
    }

    fn var_bytes(&mut self) -> Result<&'a [u8]> {
        let len = usize::try_from(self.var_uint()?)?;
        let end = self.pos.checked_add(len).filter(|&e| e <= self.buf.len());
        let Some(end) = end else {
            bail!(
                "declared length {len} overruns the frame ({} bytes left)",
                self.buf.len() - self.pos
            );
        };
        let bytes = &self.buf[self.pos..end];
        self.pos = end;
        Ok(bytes)
    }

    /// The next message, `None` once the frame is consumed exactly.
    pub fn next_message(&mut self) -> Result<Option<Incoming<'a>>> {
        if self.pos == self.buf.len() {
            return Ok(None);
        }
        let msg = match self.var_uint()? {
            MSG_SYNC => match self.var_uint()? {
                SYNC_STEP1 => Incoming::Step1(self.var_bytes()?),
                SYNC_STEP2 => Incoming::Step2(self.var_bytes()?),
                SYNC_UPDATE => Incoming::Update(self.var_bytes()?),
                other => bail!("unknown sync message type {other}"),
            },
            MSG_AWARENESS => Incoming::Awareness(self.var_bytes()?),
            MSG_QUERY_AWARENESS => Incoming::AwarenessQuery,
            MSG_AUTH => {
                // permission type, then the reason string
                let kind = self.var_uint()?;
                Incoming::Auth(kind, self.var_bytes()?)
            }
            MSG_TIERBOARD => Incoming::Tierboard(self.var_bytes()?),
            MSG_HOCUSPOCUS_SYNC_STATUS => {
                self.var_uint()?;
                Incoming::Other(MSG_HOCUSPOCUS_SYNC_STATUS)
            }
            other => {
                // Unknown types carry one varUint8Array by convention (yrs `Message::Custom`).
                self.var_bytes()?;
                Incoming::Other(other)
            }
        };
        Ok(Some(msg))
    }
}

fn put_var_uint(out: &mut Vec<u8>, mut value: u64) {
    while value >= 0x80 {
        out.push((value as u8 & 0x7f) | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}

fn put_var_bytes(out: &mut Vec<u8>, bytes: &[u8]) {
    put_var_uint(out, bytes.len() as u64);
    out.extend_from_slice(bytes);
}

fn sync_message(kind: u64, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(payload.len() + 12);
    put_var_uint(&mut out, MSG_SYNC);
    put_var_uint(&mut out, kind);
    put_var_bytes(&mut out, payload);
    out
}

/// Sync step 1 carrying an encoded (v1) state vector.
pub fn step1(state_vector: &[u8]) -> Vec<u8> {
    sync_message(SYNC_STEP1, state_vector)
}

/// Sync step 2 carrying a v1 update (the diff the other side asked for).
pub fn step2(update: &[u8]) -> Vec<u8> {
    sync_message(SYNC_STEP2, update)
}

/// A sync update message carrying a v1 update.
pub fn update(update: &[u8]) -> Vec<u8> {
    sync_message(SYNC_UPDATE, update)
}

/// An awareness message announcing one client's state (as the stock client does on connect).
pub fn awareness(client_id: u64, clock: u64, state_json: &str) -> Vec<u8> {
    let mut inner = Vec::with_capacity(state_json.len() + 24);
    put_var_uint(&mut inner, 1);
    put_var_uint(&mut inner, client_id);
    put_var_uint(&mut inner, clock);
    put_var_bytes(&mut inner, state_json.as_bytes());
    let mut out = Vec::with_capacity(inner.len() + 6);
    put_var_uint(&mut out, MSG_AWARENESS);
    put_var_bytes(&mut out, &inner);
    out
}

/// The entries of an awareness update: each client id with its state's JSON (`null` when removed).
pub fn awareness_entries(payload: &[u8]) -> Result<Vec<(u64, &[u8])>> {
    let mut reader = Reader::new(payload);
    let count = reader.var_uint()?;
    let mut entries = Vec::with_capacity(count.min(64) as usize);
    for _ in 0..count {
        let client = reader.var_uint()?;
        reader.var_uint()?; // clock
        entries.push((client, reader.var_bytes()?));
    }
    Ok(entries)
}

/// The send time a generator's presence state carries (`"t":<ns>`), if it has one.
pub fn presence_stamp(state_json: &[u8]) -> Option<u64> {
    const KEY: &[u8] = b"\"t\":";
    let at = state_json.windows(KEY.len()).position(|w| w == KEY)? + KEY.len();
    let digits = state_json[at..]
        .iter()
        .take_while(|b| b.is_ascii_digit())
        .count();
    std::str::from_utf8(&state_json[at..at + digits])
        .ok()?
        .parse()
        .ok()
}

/// Hocuspocus's "authenticated" auth message kind (`AuthMessageType.Authenticated`).
pub const HOCUSPOCUS_AUTHENTICATED: u64 = 2;

/// How a server expects the messages of a connection to be addressed.
///
/// y-websocket servers (tierboard, the reference server, y-sweet, the relay) serve one document per
/// connection, named by the URL. Hocuspocus multiplexes documents over one connection: every message,
/// both ways, starts with the document's name as a varString, and the client must authenticate each
/// document (message type 2, a token) before the server syncs it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Framing {
    #[default]
    Plain,
    /// The encoded varString prefix of the document's name.
    Named(Vec<u8>),
}

impl Framing {
    pub fn named(document: &str) -> Framing {
        let mut prefix = Vec::with_capacity(document.len() + 2);
        put_var_bytes(&mut prefix, document.as_bytes());
        Framing::Named(prefix)
    }

    /// A frame of exactly one message, addressed as the server expects it.
    pub fn wrap(&self, message: Vec<u8>) -> Vec<u8> {
        match self {
            Framing::Plain => message,
            Framing::Named(prefix) => {
                let mut out = Vec::with_capacity(prefix.len() + message.len());
                out.extend_from_slice(prefix);
                out.extend(message);
                out
            }
        }
    }

    /// The messages of a received frame, without the document's name.
    pub fn strip<'a>(&self, frame: &'a [u8]) -> Result<&'a [u8]> {
        match self {
            Framing::Plain => Ok(frame),
            Framing::Named(_) => {
                let mut reader = Reader::new(frame);
                reader.var_bytes()?;
                Ok(&frame[reader.pos..])
            }
        }
    }

    /// What the client sends before anything else: Hocuspocus's token message (an empty token; the
    /// bench server has no `onAuthenticate` hook).
    pub fn hello(&self) -> Option<Vec<u8>> {
        match self {
            Framing::Plain => None,
            Framing::Named(_) => {
                let mut auth = Vec::with_capacity(4);
                put_var_uint(&mut auth, MSG_AUTH);
                put_var_uint(&mut auth, 0); // AuthMessageType.Token
                put_var_bytes(&mut auth, b"");
                Some(self.wrap(auth))
            }
        }
    }

    /// Whether every message of a connection carries its own frame (Hocuspocus reads one message per
    /// frame after the name).
    pub fn one_message_per_frame(&self) -> bool {
        matches!(self, Framing::Named(_))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_several_messages_of_one_frame_exactly() {
        let mut frame = step1(&[0]);
        frame.extend(update(&[1, 2, 3]));
        frame.extend(awareness(7, 1, "{}"));
        frame.extend([100, 2, b'{', b'}']);
        let mut reader = Reader::new(&frame);
        assert_eq!(reader.next_message().unwrap(), Some(Incoming::Step1(&[0])));
        assert_eq!(
            reader.next_message().unwrap(),
            Some(Incoming::Update(&[1, 2, 3]))
        );
        let Some(Incoming::Awareness(payload)) = reader.next_message().unwrap() else {
            panic!("expected awareness");
        };
        assert_eq!(awareness_entries(payload).unwrap(), vec![(7, &b"{}"[..])]);
        assert_eq!(
            reader.next_message().unwrap(),
            Some(Incoming::Tierboard(b"{}"))
        );
        assert_eq!(reader.next_message().unwrap(), None);
    }

    #[test]
    fn truncated_frames_are_errors_not_silence() {
        assert!(Reader::new(&[0, 0]).next_message().is_err());
        assert!(Reader::new(&[0, 2, 5, 1]).next_message().is_err());
        assert!(Reader::new(&[0x80]).next_message().is_err());
    }

    #[test]
    fn named_framing_prefixes_and_strips_the_document_name() {
        let framing = Framing::named("room-1");
        let frame = framing.wrap(update(&[4, 5]));
        assert_eq!(&frame[..7], b"\x06room-1");
        let inner = framing.strip(&frame).unwrap();
        assert_eq!(
            Reader::new(inner).next_message().unwrap(),
            Some(Incoming::Update(&[4, 5]))
        );
        let hello = framing.hello().unwrap();
        assert_eq!(&hello[7..], &[2, 0, 0]);
        assert!(Framing::Plain.hello().is_none());
        assert!(Framing::named("x").strip(&[9]).is_err());
    }

    #[test]
    fn presence_stamps_are_read_from_awareness_states() {
        let frame = awareness(9, 3, r#"{"cursor":{"x":1,"y":2},"t":1234567}"#);
        let Some(Incoming::Awareness(payload)) = Reader::new(&frame).next_message().unwrap() else {
            panic!("expected awareness");
        };
        let entries = awareness_entries(payload).unwrap();
        assert_eq!(entries.len(), 1);
        assert_eq!(entries[0].0, 9);
        assert_eq!(presence_stamp(entries[0].1), Some(1_234_567));
        assert_eq!(presence_stamp(b"null"), None);
        assert!(awareness_entries(&[2, 1]).is_err());
    }

    #[test]
    fn hocuspocus_sync_status_is_read_whole() {
        let mut reader = Reader::new(&[8, 1, 0, 2, 1, 7]);
        assert_eq!(reader.next_message().unwrap(), Some(Incoming::Other(8)));
        assert_eq!(reader.next_message().unwrap(), Some(Incoming::Update(&[7])));
    }

    #[test]
    fn long_varints_round_trip() {
        let payload = vec![9u8; 300];
        let frame = step2(&payload);
        let mut reader = Reader::new(&frame);
        assert_eq!(
            reader.next_message().unwrap(),
            Some(Incoming::Step2(&payload[..]))
        );
    }
}
