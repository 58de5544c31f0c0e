//! What one instance tells the others about a room: the bus messages as plain data and their wire
//! encoding. The bus ([`crate::bus`]) carries them; the room core ([`crate::room`]) produces and
//! consumes them. Both import this module downwards, so neither imports the other.

use bytes::{BufMut, Bytes, BytesMut};

use crate::ids::{InstanceId, TokenHash};

/// Wire format version of an [`Envelope`].
const VERSION: u8 = 1;
const KIND_UPDATE: u8 = 1;
const KIND_AWARENESS: u8 = 2;
const KIND_SYNC: u8 = 3;
const KIND_REVOKE: u8 = 4;
const KIND_INTERVIEW: u8 = 5;
const FLAG_REQUEST: u8 = 1;
const FLAG_HELLO: u8 = 2;
/// Instance ids are 16 hex characters; anything up to this length is accepted.
const MAX_INSTANCE_LEN: usize = 64;

/// A room's reconcile state as published on the bus.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncState {
    /// The sender's state vector, v1-encoded.
    pub sv: Bytes,
    /// A digest of the sender's delete set: deletions do not advance a state vector, so two documents
    /// with equal state vectors may still differ in what they deleted.
    pub deletes: u64,
    /// Peers that lack something the sender has answer with their own state.
    pub request: bool,
    /// The sender has just loaded the room (or reconnected): peers also send their clients' awareness.
    pub hello: bool,
}

/// What one instance tells the others about a room.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BusMessage {
    /// A Yjs v1 update (a delta a local client produced, or a reconcile diff).
    Update(Bytes),
    /// A y-protocols awareness update (states of the sender's clients, or their removal).
    Awareness(Bytes),
    Sync(SyncState),
    /// Tokens of the room were revoked (the host rotated a link): every instance closes the
    /// connections holding them with 4401 and refuses them from then on.
    Revoke(Vec<TokenHash>),
    /// A room's whole interview state (JSON, notes included) after a host action: instances keep
    /// the newest copy by its version.
    Interview(Bytes),
}

/// A message with the id of the instance that published it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Envelope {
    pub from: InstanceId,
    pub message: BusMessage,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    #[error("bus message too short")]
    Truncated,
    #[error("unknown bus message version {0}")]
    Version(u8),
    #[error("unknown bus message kind {0}")]
    Kind(u8),
    #[error("bad instance id in bus message")]
    Instance,
    #[error("bad payload in bus message")]
    Payload,
}

impl Envelope {
    /// `[version, kind, len(instance), instance.., payload..]`; a sync payload is
    /// `[flags, deletes (8 bytes, big-endian), sv..]`.
    pub fn encode(&self) -> Bytes {
        let from = self.from.0.as_bytes();
        debug_assert!(from.len() <= MAX_INSTANCE_LEN);
        let revoked = match &self.message {
            BusMessage::Revoke(tokens) => {
                // Hex hashes, comma-separated.
                tokens
                    .iter()
                    .map(|t| t.0.as_str())
                    .collect::<Vec<_>>()
                    .join(",")
            }
            _ => String::new(),
        };
        let payload_len = match &self.message {
            BusMessage::Update(b) | BusMessage::Awareness(b) | BusMessage::Interview(b) => b.len(),
            BusMessage::Sync(s) => 9 + s.sv.len(),
            BusMessage::Revoke(_) => revoked.len(),
        };
        let mut buf = BytesMut::with_capacity(3 + from.len() + payload_len);
        buf.put_u8(VERSION);
        buf.put_u8(match &self.message {
            BusMessage::Update(_) => KIND_UPDATE,
            BusMessage::Awareness(_) => KIND_AWARENESS,
            BusMessage::Sync(_) => KIND_SYNC,
            BusMessage::Revoke(_) => KIND_REVOKE,
            BusMessage::Interview(_) => KIND_INTERVIEW,
        });
        buf.put_u8(from.len() as u8);
        buf.put_slice(from);
        match &self.message {
            BusMessage::Update(b) | BusMessage::Awareness(b) | BusMessage::Interview(b) => {
                buf.put_slice(b)
            }
            BusMessage::Sync(s) => {
                let mut flags = 0;
                if s.request {
                    flags |= FLAG_REQUEST;
                }
                if s.hello {
                    flags |= FLAG_HELLO;
                }
                buf.put_u8(flags);
                buf.put_u64(s.deletes);
                buf.put_slice(&s.sv);
            }
            BusMessage::Revoke(_) => buf.put_slice(revoked.as_bytes()),
        }
        buf.freeze()
    }

    /// The sender of an encoded envelope, read without decoding the rest (to drop echoes cheaply).
    pub fn sender(raw: &[u8]) -> Option<&[u8]> {
        let len = *raw.get(2)? as usize;
        raw.get(3..3 + len)
    }

    pub fn decode(raw: Bytes) -> Result<Envelope, DecodeError> {
        if raw.len() < 3 {
            return Err(DecodeError::Truncated);
        }
        if raw[0] != VERSION {
            return Err(DecodeError::Version(raw[0]));
        }
        let kind = raw[1];
        let from = Envelope::sender(&raw).ok_or(DecodeError::Truncated)?;
        if from.is_empty() || from.len() > MAX_INSTANCE_LEN {
            return Err(DecodeError::Instance);
        }
        let from = std::str::from_utf8(from).map_err(|_| DecodeError::Instance)?;
        let from = InstanceId(from.to_string());
        let payload = raw.slice(3 + from.0.len()..);
        let message = match kind {
            KIND_UPDATE => BusMessage::Update(payload),
            KIND_AWARENESS => BusMessage::Awareness(payload),
            KIND_SYNC => {
                if payload.len() < 9 {
                    return Err(DecodeError::Truncated);
                }
                let flags = payload[0];
                let deletes = u64::from_be_bytes(payload[1..9].try_into().expect("8 bytes"));
                BusMessage::Sync(SyncState {
                    sv: payload.slice(9..),
                    deletes,
                    request: flags & FLAG_REQUEST != 0,
                    hello: flags & FLAG_HELLO != 0,
                })
            }
            KIND_INTERVIEW => BusMessage::Interview(payload),
            KIND_REVOKE => {
                let text = std::str::from_utf8(&payload).map_err(|_| DecodeError::Payload)?;
                let tokens = text
                    .split(',')
                    .filter(|t| !t.is_empty())
                    .map(|t| {
                        (t.len() == 64 && t.bytes().all(|b| b.is_ascii_hexdigit()))
                            .then(|| TokenHash(t.to_string()))
                            .ok_or(DecodeError::Payload)
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                BusMessage::Revoke(tokens)
            }
            other => return Err(DecodeError::Kind(other)),
        };
        Ok(Envelope { from, message })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn envelopes_round_trip_and_bad_ones_are_refused() {
        let from = InstanceId("0123456789abcdef".into());
        for message in [
            BusMessage::Update(Bytes::from_static(&[1, 2, 3])),
            BusMessage::Awareness(Bytes::from_static(b"")),
            BusMessage::Sync(SyncState {
                sv: Bytes::from_static(&[1, 5, 9]),
                deletes: u64::MAX - 3,
                request: true,
                hello: false,
            }),
            BusMessage::Sync(SyncState {
                sv: Bytes::new(),
                deletes: 0,
                request: false,
                hello: true,
            }),
            BusMessage::Revoke(vec![
                crate::ids::Token::random().hash(),
                crate::ids::Token::random().hash(),
            ]),
            BusMessage::Revoke(vec![]),
            BusMessage::Interview(Bytes::from_static(b"{}")),
        ] {
            let envelope = Envelope {
                from: from.clone(),
                message,
            };
            let raw = envelope.encode();
            assert_eq!(Envelope::sender(&raw), Some(from.0.as_bytes()));
            assert_eq!(Envelope::decode(raw).unwrap(), envelope);
        }
        assert_eq!(
            Envelope::decode(Bytes::from_static(&[1, 1])),
            Err(DecodeError::Truncated)
        );
        assert_eq!(
            Envelope::decode(Bytes::from_static(&[9, 1, 1, b'a'])),
            Err(DecodeError::Version(9))
        );
        assert_eq!(
            Envelope::decode(Bytes::from_static(&[1, 7, 1, b'a'])),
            Err(DecodeError::Kind(7))
        );
        assert_eq!(
            Envelope::decode(Bytes::from_static(&[1, 1, 5, b'a'])),
            Err(DecodeError::Truncated)
        );
        assert_eq!(
            Envelope::decode(Bytes::from_static(&[1, 3, 1, b'a', 0, 0])),
            Err(DecodeError::Truncated)
        );
        assert_eq!(
            Envelope::decode(Bytes::from_static(&[1, 1, 0])),
            Err(DecodeError::Instance)
        );
        assert_eq!(
            Envelope::decode(Bytes::from_static(&[1, 4, 1, b'a', b'x', b','])),
            Err(DecodeError::Payload)
        );
    }
}
