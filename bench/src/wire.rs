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

pub const SYNC_STEP1: u64 = 0;
pub const SYNC_STEP2: u64 = 1;
pub const SYNC_UPDATE: u64 = 2;

/// One protocol message inside a WebSocket frame, borrowing from the frame.
#[derive(Debug, PartialEq, Eq)]
pub enum Incoming<'a> {
    Step1(&'a [u8]),
    Step2(&'a [u8]),
    Update(&'a [u8]),
    Awareness,
    AwarenessQuery,
    Auth(&'a [u8]),
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
            MSG_AWARENESS => {
                self.var_bytes()?;
                Incoming::Awareness
            }
            MSG_QUERY_AWARENESS => Incoming::AwarenessQuery,
            MSG_AUTH => {
                // permission type, then the reason string
                self.var_uint()?;
                Incoming::Auth(self.var_bytes()?)
            }
            MSG_TIERBOARD => Incoming::Tierboard(self.var_bytes()?),
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
        assert_eq!(reader.next_message().unwrap(), Some(Incoming::Awareness));
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
