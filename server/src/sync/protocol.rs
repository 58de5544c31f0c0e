//! y-websocket framing (as `y-protocols` 1.0 speaks it) and tierboard's own message type.
//!
//! A WebSocket binary message carries one or more protocol messages. Parsing is strict: every byte of
//! a frame must belong to a well-formed message, lengths may not exceed what is left, and varints may
//! not overflow. (yrs' own `MessageReader` treats a truncated frame as "no more messages", which would
//! let garbage through silently.)

use bytes::{BufMut, Bytes, BytesMut};

use crate::close::CloseCode;

pub const MSG_SYNC: u64 = 0;
pub const MSG_AWARENESS: u64 = 1;
pub const MSG_AUTH: u64 = 2;
pub const MSG_QUERY_AWARENESS: u64 = 3;
/// tierboard's JSON messages (docs/PROTOCOL.md §2): session, validation, saved, error.
pub const MSG_TIERBOARD: u64 = 100;

pub const SYNC_STEP1: u64 = 0;
pub const SYNC_STEP2: u64 = 1;
pub const SYNC_UPDATE: u64 = 2;

/// The most protocol messages one WebSocket message may carry. The stock client sends one per
/// WebSocket message; the limit only stops a frame of tiny messages (`[3]` is one byte) from costing
/// work and memory per message: before it, a frame of awareness queries made the server allocate
/// many times the frame's size (issue 25, item 2; BENCHMARKS.md, "Figures behind code choices").
pub const MAX_MESSAGES_PER_FRAME: usize = 32;

/// Why a frame was refused: 4429 for too many messages, 4400 for everything else
/// ([`ProtocolError::close_code`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProtocolError {
    #[error("empty frame")]
    Empty,
    #[error("truncated varint at byte {0}")]
    TruncatedVarint(usize),
    #[error("varint overflows 64 bits at byte {0}")]
    VarintOverflow(usize),
    #[error("declared length {declared} exceeds the {left} bytes left at byte {at}")]
    LengthOverflow {
        declared: u64,
        left: usize,
        at: usize,
    },
    #[error("unknown message type {0}")]
    UnknownType(u64),
    #[error("unknown sync message type {0}")]
    UnknownSyncType(u64),
    #[error("a client may not send message type {0}")]
    NotFromClient(u64),
    #[error("more than {MAX_MESSAGES_PER_FRAME} messages in one frame")]
    TooManyMessages,
    #[error("{what} declares {declared} entries in {len} bytes")]
    DeclaredCount {
        what: &'static str,
        declared: u64,
        len: usize,
    },
}

impl ProtocolError {
    /// The code the connection is closed with.
    pub fn close_code(&self) -> CloseCode {
        match self {
            ProtocolError::TooManyMessages => CloseCode::TooManyMessages,
            _ => CloseCode::Malformed,
        }
    }
}

/// One message from a client. Payloads are zero-copy slices of the frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClientMessage {
    /// Sync step 1: the client's state vector (v1).
    SyncStep1(Bytes),
    /// Sync step 2: the part of the document the server lacks (update v1).
    SyncStep2(Bytes),
    /// An incremental update (v1).
    Update(Bytes),
    /// An awareness update: `[count, (clientID, clock, state JSON)*]`.
    Awareness(Bytes),
    /// Asks for every known awareness state.
    QueryAwareness,
    /// Auth messages are only sent by servers; a client's is ignored.
    Auth,
    /// A tierboard message (type 100): JSON text, checked by the room (host actions, issue 22).
    Tierboard(Bytes),
}

/// A cursor over a frame that never reads past the end.
pub struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    pub fn new(buf: &'a [u8]) -> Reader<'a> {
        Reader { buf, pos: 0 }
    }

    pub fn position(&self) -> usize {
        self.pos
    }

    pub fn is_empty(&self) -> bool {
        self.pos >= self.buf.len()
    }

    pub fn read_var(&mut self) -> Result<u64, ProtocolError> {
        let start = self.pos;
        let mut value: u64 = 0;
        let mut shift = 0u32;
        loop {
            let Some(&byte) = self.buf.get(self.pos) else {
                return Err(ProtocolError::TruncatedVarint(start));
            };
            self.pos += 1;
            if shift == 63 && byte > 1 {
                return Err(ProtocolError::VarintOverflow(start));
            }
            value |= u64::from(byte & 0x7f) << shift;
            if byte & 0x80 == 0 {
                return Ok(value);
            }
            shift += 7;
            if shift > 63 {
                return Err(ProtocolError::VarintOverflow(start));
            }
        }
    }

    /// A length-prefixed byte string, as a range of the frame.
    pub fn read_buf_range(&mut self) -> Result<std::ops::Range<usize>, ProtocolError> {
        let at = self.pos;
        let declared = self.read_var()?;
        let left = self.buf.len() - self.pos;
        if declared > left as u64 {
            return Err(ProtocolError::LengthOverflow { declared, left, at });
        }
        let start = self.pos;
        self.pos += declared as usize;
        Ok(start..self.pos)
    }

    pub fn read_buf(&mut self) -> Result<&'a [u8], ProtocolError> {
        let range = self.read_buf_range()?;
        Ok(&self.buf[range])
    }
}

/// Checks the entry count a state vector or a v1 update declares against its length, before the
/// decoder sees it. Why: yrs reserves the declared count up front (`try_reserve`), so five bytes
/// declaring fifty million state-vector entries cost the server a table of that size, touched,
/// before a single entry is read. Every state-vector entry takes at least two bytes (client, clock)
/// and every client section of an update at least three (block count, client, clock); the first
/// client's blocks at least one byte each. What a decoder allocates is then bounded by the payload,
/// which the frame limit bounds.
pub fn check_declared_counts(sub: u64, payload: &[u8]) -> Result<(), ProtocolError> {
    if payload.is_empty() {
        // Nothing declared: the decoder refuses it without allocating.
        return Ok(());
    }
    let mut reader = Reader::new(payload);
    let lie = |what, declared, len| ProtocolError::DeclaredCount {
        what,
        declared,
        len,
    };
    if sub == SYNC_STEP1 {
        let entries = reader.read_var()?;
        if entries.saturating_mul(2) > payload.len() as u64 {
            return Err(lie("a state vector", entries, payload.len()));
        }
        return Ok(());
    }
    let clients = reader.read_var()?;
    if clients.saturating_mul(3) > payload.len() as u64 {
        return Err(lie("an update", clients, payload.len()));
    }
    if clients > 0 {
        let blocks = reader.read_var()?;
        if blocks > payload.len() as u64 {
            return Err(lie("an update's first client", blocks, payload.len()));
        }
    }
    Ok(())
}

/// Splits a client's binary frame into messages, refusing anything malformed or left over, more than
/// [`MAX_MESSAGES_PER_FRAME`] messages, and state vectors or updates whose declared counts exceed
/// what their bytes can hold ([`check_declared_counts`]): the cost of each message is checked
/// before anything is allocated for it.
pub fn parse_frame(frame: &Bytes) -> Result<Vec<ClientMessage>, ProtocolError> {
    if frame.is_empty() {
        return Err(ProtocolError::Empty);
    }
    let mut reader = Reader::new(frame);
    let mut out = Vec::with_capacity(1);
    while !reader.is_empty() {
        if out.len() == MAX_MESSAGES_PER_FRAME {
            return Err(ProtocolError::TooManyMessages);
        }
        let msg = match reader.read_var()? {
            MSG_SYNC => {
                let sub = reader.read_var()?;
                let range = reader.read_buf_range()?;
                let payload = frame.slice(range);
                if sub <= SYNC_UPDATE {
                    check_declared_counts(sub, &payload)?;
                }
                match sub {
                    SYNC_STEP1 => ClientMessage::SyncStep1(payload),
                    SYNC_STEP2 => ClientMessage::SyncStep2(payload),
                    SYNC_UPDATE => ClientMessage::Update(payload),
                    other => return Err(ProtocolError::UnknownSyncType(other)),
                }
            }
            MSG_AWARENESS => ClientMessage::Awareness(frame.slice(reader.read_buf_range()?)),
            MSG_AUTH => {
                // `[2, 0, reason]`: permission denied. Harmless from a client; consume and ignore it.
                reader.read_var()?;
                reader.read_buf()?;
                ClientMessage::Auth
            }
            MSG_QUERY_AWARENESS => ClientMessage::QueryAwareness,
            MSG_TIERBOARD => ClientMessage::Tierboard(frame.slice(reader.read_buf_range()?)),
            other => return Err(ProtocolError::UnknownType(other)),
        };
        out.push(msg);
    }
    Ok(out)
}

/// Decodes a v1 update that must be consumed whole: yrs stops reading where the update ends and
/// ignores anything after it, which let a valid update carry trailing garbage unnoticed.
pub fn decode_update_exact(bytes: &[u8]) -> Result<yrs::Update, String> {
    use yrs::encoding::read::Read;
    use yrs::updates::decoder::{Decode, DecoderV1};
    let mut decoder = DecoderV1::from(bytes);
    let update = yrs::Update::decode(&mut decoder).map_err(|e| e.to_string())?;
    if decoder.read_u8().is_ok() {
        return Err("trailing bytes after the update".into());
    }
    Ok(update)
}

pub fn write_var(buf: &mut BytesMut, mut value: u64) {
    while value >= 0x80 {
        buf.put_u8((value as u8 & 0x7f) | 0x80);
        value >>= 7;
    }
    buf.put_u8(value as u8);
}

pub fn write_buf(buf: &mut BytesMut, data: &[u8]) {
    write_var(buf, data.len() as u64);
    buf.put_slice(data);
}

fn sync_message(sub: u64, payload: &[u8]) -> Bytes {
    let mut buf = BytesMut::with_capacity(payload.len() + 12);
    write_var(&mut buf, MSG_SYNC);
    write_var(&mut buf, sub);
    write_buf(&mut buf, payload);
    buf.freeze()
}

/// `[0, 0, sv]`: the server's sync step 1.
pub fn encode_step1(state_vector: &[u8]) -> Bytes {
    sync_message(SYNC_STEP1, state_vector)
}

/// `[0, 1, update]`: the answer to a client's step 1.
pub fn encode_step2(update: &[u8]) -> Bytes {
    sync_message(SYNC_STEP2, update)
}

/// `[0, 2, update]`: an incremental update to fan out.
pub fn encode_update(update: &[u8]) -> Bytes {
    sync_message(SYNC_UPDATE, update)
}

/// `[1, awareness update]`.
pub fn encode_awareness(update: &[u8]) -> Bytes {
    let mut buf = BytesMut::with_capacity(update.len() + 6);
    write_var(&mut buf, MSG_AWARENESS);
    write_buf(&mut buf, update);
    buf.freeze()
}

/// The length of [`encode_awareness`]'s message for an update of `len` bytes: the type, the
/// update's length as a varint in its shortest form, the update.
pub fn encode_awareness_len(len: usize) -> usize {
    let mut varint = 1;
    let mut rest = len >> 7;
    while rest > 0 {
        varint += 1;
        rest >>= 7;
    }
    1 + varint + len
}

/// `[100, JSON]`: a tierboard message.
pub fn encode_tierboard(json: &str) -> Bytes {
    let mut buf = BytesMut::with_capacity(json.len() + 6);
    write_var(&mut buf, MSG_TIERBOARD);
    write_buf(&mut buf, json.as_bytes());
    buf.freeze()
}

/// An awareness update with no entries: resets the stock client's 30 s silence timer without side effects.
pub fn keepalive() -> Bytes {
    encode_awareness(&[0])
}

/// The payload of a server-encoded `[0, 2, update]` message, `None` for any other message.
pub fn update_payload(message: &[u8]) -> Option<&[u8]> {
    let mut reader = Reader::new(message);
    if reader.read_var().ok()? != MSG_SYNC || reader.read_var().ok()? != SYNC_UPDATE {
        return None;
    }
    let payload = reader.read_buf().ok()?;
    reader.is_empty().then_some(payload)
}

/// Updates above this size are sent as they are: merging decodes and re-encodes every input, which
/// pays off for the small edits a canvas makes, not for a pasted document.
pub const COALESCE_MAX_BYTES: usize = 64 * 1024;

/// Merges every run of two or more consecutive small `[0, 2, update]` messages in `messages` into
/// one update message (Yjs' `mergeUpdates`), keeping every other message, and the order, as it was.
/// Returns how many messages the merging saved.
///
/// Why: a connection whose writer finds several updates queued is behind (a slow network, or a
/// server or client short of CPU). Each message costs a write, a frame and, at the client, a
/// transaction of its own; one merged update carries the same edits for one of each, so a lagging
/// client catches up instead of falling further behind until its outbox is full and it is closed.
/// The stock client reads one protocol message per WebSocket message, so messages are merged, never
/// concatenated into one frame.
pub fn coalesce_updates(messages: &mut Vec<Bytes>) -> usize {
    let before = messages.len();
    if before < 2 {
        return 0;
    }
    let mut out = Vec::with_capacity(before);
    // The current run: each message with its payload, parsed once.
    let mut run: Vec<(Bytes, Bytes)> = Vec::new();
    for message in messages.drain(..) {
        let payload = if message.len() <= COALESCE_MAX_BYTES {
            update_payload(&message).map(|p| message.slice_ref(p))
        } else {
            None
        };
        match payload {
            Some(payload) => run.push((message, payload)),
            None => {
                merge_run(&mut run, &mut out);
                out.push(message);
            }
        }
    }
    merge_run(&mut run, &mut out);
    *messages = out;
    before - messages.len()
}

fn merge_run(run: &mut Vec<(Bytes, Bytes)>, out: &mut Vec<Bytes>) {
    if run.len() > 1 {
        // The room encoded every one of these itself, so decoding cannot fail short of a bug; if it
        // does, the messages go out unmerged, which is always correct.
        match yrs::merge_updates_v1(run.iter().map(|(_, payload)| payload)) {
            Ok(merged) => {
                out.push(encode_update(&merged));
                run.clear();
                return;
            }
            Err(e) => {
                tracing::error!(error = %e, "merging queued updates failed; sending them unmerged")
            }
        }
    }
    out.extend(run.drain(..).map(|(message, _)| message));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(bytes: &[u8]) -> Bytes {
        Bytes::copy_from_slice(bytes)
    }

    #[test]
    fn the_awareness_message_length_is_the_encoded_one() {
        for len in [0, 1, 127, 128, 300, 16_383, 16_384, 70_000] {
            let update = vec![7u8; len];
            assert_eq!(
                encode_awareness_len(len),
                encode_awareness(&update).len(),
                "{len}"
            );
        }
    }

    #[test]
    fn parses_each_message_kind() {
        let msgs = parse_frame(&frame(&[0, 0, 1, 0, 0, 2, 2, 0, 0, 1, 1, 0, 3])).unwrap();
        assert_eq!(
            msgs,
            vec![
                ClientMessage::SyncStep1(frame(&[0])),
                ClientMessage::Update(frame(&[0, 0])),
                ClientMessage::Awareness(frame(&[0])),
                ClientMessage::QueryAwareness,
            ]
        );
    }

    #[test]
    fn round_trips_encoders() {
        let update = vec![7u8; 300];
        let msgs = parse_frame(&encode_update(&update)).unwrap();
        assert_eq!(msgs, vec![ClientMessage::Update(Bytes::from(update))]);
        let msgs = parse_frame(&encode_step2(&[0, 0])).unwrap();
        assert_eq!(msgs, vec![ClientMessage::SyncStep2(frame(&[0, 0]))]);
    }

    #[test]
    fn refuses_truncated_and_overlong_input() {
        assert_eq!(parse_frame(&frame(&[])), Err(ProtocolError::Empty));
        // `[0, 0, 0]` is a valid empty step 1; `[0, 0]` is truncated.
        assert!(parse_frame(&frame(&[0, 0, 0])).is_ok());
        assert_eq!(
            parse_frame(&frame(&[0, 0])),
            Err(ProtocolError::TruncatedVarint(2))
        );
        assert_eq!(
            parse_frame(&frame(&[0x80])),
            Err(ProtocolError::TruncatedVarint(0))
        );
        assert!(matches!(
            parse_frame(&frame(&[0, 2, 0xff, 0xff, 0xff, 0x7f, 1])),
            Err(ProtocolError::LengthOverflow { .. })
        ));
        assert!(matches!(
            parse_frame(&frame(&[0xff; 12])),
            Err(ProtocolError::VarintOverflow(0))
        ));
        assert_eq!(
            parse_frame(&frame(&[9])),
            Err(ProtocolError::UnknownType(9))
        );
        assert_eq!(
            parse_frame(&frame(&[0, 7, 0])),
            Err(ProtocolError::UnknownSyncType(7))
        );
        assert_eq!(
            parse_frame(&frame(&[100, 0])),
            Ok(vec![ClientMessage::Tierboard(Bytes::new())])
        );
    }

    #[test]
    fn bounds_messages_per_frame_and_declared_counts() {
        let queries = frame(&[3; MAX_MESSAGES_PER_FRAME]);
        assert_eq!(parse_frame(&queries).unwrap().len(), MAX_MESSAGES_PER_FRAME);
        let too_many = frame(&[3; MAX_MESSAGES_PER_FRAME + 1]);
        assert_eq!(parse_frame(&too_many), Err(ProtocolError::TooManyMessages));
        assert_eq!(
            ProtocolError::TooManyMessages.close_code(),
            CloseCode::TooManyMessages
        );
        // Fifty million state-vector entries declared in four bytes.
        let mut lying = BytesMut::new();
        write_var(&mut lying, 50_000_000);
        let err = parse_frame(&encode_step1(&lying)).unwrap_err();
        assert!(matches!(
            err,
            ProtocolError::DeclaredCount {
                declared: 50_000_000,
                ..
            }
        ));
        assert_eq!(err.close_code(), CloseCode::Malformed);
        // An update declaring a million clients, or a first client with a million blocks.
        let mut clients = BytesMut::new();
        write_var(&mut clients, 1_000_000);
        assert!(parse_frame(&encode_update(&clients)).is_err());
        let mut blocks = BytesMut::new();
        write_var(&mut blocks, 1);
        write_var(&mut blocks, 1_000_000);
        blocks.put_slice(&[1, 0, 0, 0]);
        assert!(parse_frame(&encode_update(&blocks)).is_err());
        // Real state vectors and updates pass.
        use yrs::updates::encoder::Encode;
        use yrs::{ReadTxn, Text, Transact};
        let doc = yrs::Doc::with_client_id(9);
        let text = doc.get_or_insert_text("t");
        text.insert(&mut doc.transact_mut(), 0, "hello");
        let txn = doc.transact();
        let sv = txn.state_vector().encode_v1();
        let update = txn.encode_state_as_update_v1(&yrs::StateVector::default());
        assert!(parse_frame(&encode_step1(&sv)).is_ok());
        assert!(parse_frame(&encode_update(&update)).is_ok());
        assert!(parse_frame(&encode_step2(&[0, 0])).is_ok());
        assert!(parse_frame(&encode_step1(&[0])).is_ok());
    }

    #[test]
    fn an_update_must_be_consumed_whole() {
        assert!(decode_update_exact(&[0, 0]).is_ok());
        assert!(decode_update_exact(&[0, 0, 0]).is_err());
        assert!(decode_update_exact(&[0, 0, 9, 9, 9]).is_err());
    }

    /// `count` small edits on one document, each as the update message the room would broadcast.
    fn edit_messages(doc: &yrs::Doc, count: usize) -> Vec<Bytes> {
        use yrs::{Map, Transact};
        let map = doc.get_or_insert_map("nodes");
        (0..count)
            .map(|i| {
                let mut txn = doc.transact_mut();
                map.insert(&mut txn, "x", i as f64);
                map.insert(&mut txn, format!("k{}", i % 3), i as f64);
                encode_update(&txn.encode_update_v1())
            })
            .collect()
    }

    fn apply_all(messages: &[Bytes]) -> yrs::Doc {
        use yrs::updates::decoder::Decode;
        use yrs::{Transact, Update};
        let doc = yrs::Doc::new();
        for m in messages {
            let payload = update_payload(m).expect("an update message");
            doc.transact_mut()
                .apply_update(Update::decode_v1(payload).unwrap())
                .unwrap();
        }
        doc
    }

    /// The document's state vector and its `nodes` entries in key order.
    fn state(doc: &yrs::Doc) -> (Vec<u8>, std::collections::BTreeMap<String, String>) {
        use yrs::updates::encoder::Encode;
        use yrs::{Map, ReadTxn, Transact};
        // The root first: `get_or_insert_map` takes a write transaction of its own.
        let nodes = doc.get_or_insert_map("nodes");
        let txn = doc.transact();
        let entries = nodes
            .iter(&txn)
            .map(|(k, v)| (k.to_string(), v.to_string(&txn)))
            .collect();
        (txn.state_vector().encode_v1(), entries)
    }

    #[test]
    fn coalesces_runs_of_updates_and_keeps_everything_else_in_order() {
        let source = yrs::Doc::with_client_id(7);
        let updates = edit_messages(&source, 9);
        let awareness = encode_awareness(&[0]);
        let saved = encode_tierboard(r#"{"type":"saved"}"#);
        // u0 u1 u2 | awareness | u3 | saved | u4 .. u8
        let mut messages: Vec<Bytes> = updates[..3].to_vec();
        messages.push(awareness.clone());
        messages.push(updates[3].clone());
        messages.push(saved.clone());
        messages.extend_from_slice(&updates[4..]);

        let saved_count = coalesce_updates(&mut messages);
        assert_eq!(
            saved_count,
            2 + 4,
            "runs of 3 and 5 became one message each"
        );
        assert_eq!(messages.len(), 5);
        assert_eq!(messages[1], awareness);
        assert_eq!(messages[2], updates[3], "a run of one is sent as it was");
        assert_eq!(messages[3], saved);
        let only_updates: Vec<Bytes> = messages
            .iter()
            .filter(|m| update_payload(m).is_some())
            .cloned()
            .collect();
        assert_eq!(state(&apply_all(&only_updates)), state(&source));
        assert_eq!(state(&apply_all(&updates)), state(&source));
    }

    #[test]
    fn leaves_large_updates_and_lone_messages_alone() {
        let mut one = vec![encode_update(&[0, 0])];
        assert_eq!(coalesce_updates(&mut one), 0);
        let big = encode_update(&vec![0u8; COALESCE_MAX_BYTES + 1]);
        let small = edit_messages(&yrs::Doc::with_client_id(3), 2);
        let mut messages = vec![small[0].clone(), big.clone(), small[1].clone()];
        assert_eq!(coalesce_updates(&mut messages), 0);
        assert_eq!(messages, vec![small[0].clone(), big, small[1].clone()]);
        assert_eq!(update_payload(&encode_step2(&[0, 0])), None);
        assert_eq!(update_payload(&[0, 2, 5, 1]), None, "truncated");
    }

    #[test]
    fn never_panics_on_random_bytes() {
        // A small deterministic generator: the point is coverage of odd shapes, not randomness quality.
        let mut state = 0x2545_f491_4f6c_dd1du64;
        for len in 0..2000usize {
            let bytes: Vec<u8> = (0..len % 64)
                .map(|_| {
                    state ^= state << 13;
                    state ^= state >> 7;
                    state ^= state << 17;
                    (state >> 24) as u8
                })
                .collect();
            let _ = parse_frame(&Bytes::from(bytes));
        }
    }
}
