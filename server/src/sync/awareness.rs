//! The server's view of a room's awareness (presence): who is there, with which state.
//!
//! y-protocols' rule, kept here: an entry replaces the known one when its clock is higher, or equal
//! with a `null` state (a removal). The server remembers which connection announced each client id so
//! that a closed connection's states are removed at once, and drops states not renewed for a timeout
//! (clients renew every 15 s; y-protocols uses 30 s).

use std::collections::HashMap;
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};

use super::protocol::{ProtocolError, Reader, write_buf, write_var};

/// Largest JSON state one client may publish. Cursors, names and selections fit easily.
pub const MAX_STATE_BYTES: usize = 64 * 1024;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AwarenessError {
    #[error(transparent)]
    Protocol(#[from] ProtocolError),
    #[error("awareness state is not valid JSON")]
    BadJson,
    #[error("awareness state larger than {MAX_STATE_BYTES} bytes")]
    TooLarge,
    #[error("awareness state is not UTF-8")]
    NotUtf8,
}

#[derive(Debug, Clone)]
struct Entry<C> {
    clock: u64,
    /// The JSON text as the client sent it (`None` once removed).
    state: Option<Bytes>,
    owner: C,
    renewed: Instant,
}

/// Awareness states of one room, keyed by Yjs client id. `C` identifies a connection.
#[derive(Debug)]
pub struct AwarenessTable<C> {
    entries: HashMap<u64, Entry<C>>,
}

impl<C> Default for AwarenessTable<C> {
    fn default() -> Self {
        AwarenessTable {
            entries: HashMap::new(),
        }
    }
}

/// One decoded entry of an awareness update.
struct Incoming {
    client: u64,
    clock: u64,
    state: Option<Bytes>,
}

fn decode(update: &Bytes) -> Result<Vec<Incoming>, AwarenessError> {
    let mut reader = Reader::new(update);
    let count = reader.read_var()?;
    // Each entry needs at least three bytes, so a count beyond that is a lie: refuse before allocating.
    if count > update.len() as u64 {
        return Err(ProtocolError::LengthOverflow {
            declared: count,
            left: update.len(),
            at: 0,
        }
        .into());
    }
    let mut out = Vec::with_capacity(count as usize);
    for _ in 0..count {
        let client = reader.read_var()?;
        let clock = reader.read_var()?;
        let range = reader.read_buf_range()?;
        let raw = &update[range.clone()];
        if raw.len() > MAX_STATE_BYTES {
            return Err(AwarenessError::TooLarge);
        }
        let text = std::str::from_utf8(raw).map_err(|_| AwarenessError::NotUtf8)?;
        // Other clients JSON.parse this text: relaying invalid JSON would break their handlers.
        let value: serde_json::Value =
            serde_json::from_str(text).map_err(|_| AwarenessError::BadJson)?;
        let state = if value.is_null() {
            None
        } else {
            Some(update.slice(range))
        };
        out.push(Incoming {
            client,
            clock,
            state,
        });
    }
    if !reader.is_empty() {
        return Err(ProtocolError::LengthOverflow {
            declared: 0,
            left: 0,
            at: reader.position(),
        }
        .into());
    }
    Ok(out)
}

fn encode<'a>(entries: impl ExactSizeIterator<Item = (u64, u64, Option<&'a Bytes>)>) -> Bytes {
    let mut buf = BytesMut::new();
    write_var(&mut buf, entries.len() as u64);
    for (client, clock, state) in entries {
        write_var(&mut buf, client);
        write_var(&mut buf, clock);
        match state {
            Some(json) => write_buf(&mut buf, json),
            None => write_buf(&mut buf, b"null"),
        }
    }
    buf.freeze()
}

impl<C: Copy + PartialEq> AwarenessTable<C> {
    /// Applies a connection's awareness update. Returns true when anything changed (then relay it).
    pub fn apply(
        &mut self,
        owner: C,
        update: &Bytes,
        now: Instant,
    ) -> Result<bool, AwarenessError> {
        let mut changed = false;
        for Incoming {
            client,
            clock,
            state,
        } in decode(update)?
        {
            let accept = match self.entries.get(&client) {
                None => true,
                Some(known) => {
                    known.clock < clock
                        || (known.clock == clock && state.is_none() && known.state.is_some())
                }
            };
            if accept {
                changed = true;
                self.entries.insert(
                    client,
                    Entry {
                        clock,
                        state,
                        owner,
                        renewed: now,
                    },
                );
            } else if let Some(known) = self.entries.get_mut(&client)
                && known.clock == clock
            {
                // The same state again: renewed, but its owner is kept. Stock clients echo every
                // awareness change they receive, other clients' included, with unchanged clocks; taking
                // ownership here would remove those clients' states when the echoing connection closes.
                known.renewed = now;
            }
        }
        Ok(changed)
    }

    /// Every present state, for a newcomer or an awareness query. `None` when nobody is present.
    pub fn encode_all(&self) -> Option<Bytes> {
        self.encode_where(|_| true)
    }

    /// The present states whose owner matches, e.g. those of this instance's own connections.
    pub fn encode_where(&self, owned: impl Fn(&C) -> bool) -> Option<Bytes> {
        let present: Vec<_> = self
            .entries
            .iter()
            .filter(|(_, e)| owned(&e.owner))
            .filter_map(|(id, e)| e.state.as_ref().map(|s| (*id, e.clock, Some(s))))
            .collect();
        (!present.is_empty()).then(|| encode(present.into_iter()))
    }

    /// Removes the states a connection announced; returns the removal update to broadcast, if any.
    pub fn remove_owner(&mut self, owner: C) -> Option<Bytes> {
        self.remove_where(|e| e.owner == owner)
    }

    /// Removes states not renewed within `timeout`; returns the removal update to broadcast, if any.
    pub fn expire(&mut self, now: Instant, timeout: Duration) -> Option<Bytes> {
        self.expire_where(now, timeout, |_| true)
    }

    /// [`AwarenessTable::expire`] restricted to the entries whose owner matches.
    pub fn expire_where(
        &mut self,
        now: Instant,
        timeout: Duration,
        owned: impl Fn(&C) -> bool,
    ) -> Option<Bytes> {
        self.remove_where(|e| {
            owned(&e.owner) && e.state.is_some() && now.duration_since(e.renewed) >= timeout
        })
    }

    fn remove_where(&mut self, pred: impl Fn(&Entry<C>) -> bool) -> Option<Bytes> {
        let mut removed = Vec::new();
        self.entries.retain(|id, e| {
            if pred(e) {
                if e.state.is_some() {
                    removed.push((*id, e.clock + 1, None));
                }
                false
            } else {
                true
            }
        });
        (!removed.is_empty()).then(|| encode(removed.into_iter()))
    }

    /// Client ids with a present state.
    pub fn present(&self) -> usize {
        self.entries.values().filter(|e| e.state.is_some()).count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn update(entries: &[(u64, u64, &str)]) -> Bytes {
        let owned: Vec<(u64, u64, Option<Bytes>)> = entries
            .iter()
            .map(|(c, k, s)| {
                (
                    *c,
                    *k,
                    (*s != "null").then(|| Bytes::copy_from_slice(s.as_bytes())),
                )
            })
            .collect();
        encode(
            owned
                .iter()
                .map(|(c, k, s)| (*c, *k, s.as_ref()))
                .collect::<Vec<_>>()
                .into_iter(),
        )
    }

    #[test]
    fn newer_clock_wins_and_removal_is_broadcast() {
        let now = Instant::now();
        let mut table = AwarenessTable::default();
        assert!(
            table
                .apply(1u32, &update(&[(10, 1, r#"{"user":{"name":"a"}}"#)]), now)
                .unwrap()
        );
        assert!(
            !table
                .apply(1u32, &update(&[(10, 1, r#"{"user":{"name":"b"}}"#)]), now)
                .unwrap()
        );
        assert!(
            table
                .apply(1u32, &update(&[(10, 2, r#"{"user":{"name":"b"}}"#)]), now)
                .unwrap()
        );
        assert_eq!(table.present(), 1);
        let removal = table.remove_owner(1).expect("a removal");
        let decoded = decode(&removal).unwrap();
        assert_eq!(decoded.len(), 1);
        assert_eq!(
            (
                decoded[0].client,
                decoded[0].clock,
                decoded[0].state.is_none()
            ),
            (10, 3, true)
        );
        assert_eq!(table.present(), 0);
        assert!(table.encode_all().is_none());
    }

    #[test]
    fn silent_states_expire() {
        let start = Instant::now();
        let mut table = AwarenessTable::default();
        table
            .apply(1u32, &update(&[(10, 1, "{}"), (11, 1, "{}")]), start)
            .unwrap();
        table
            .apply(
                2u32,
                &update(&[(11, 1, "{}")]),
                start + Duration::from_secs(20),
            )
            .unwrap();
        let removal = table
            .expire(start + Duration::from_secs(31), Duration::from_secs(30))
            .unwrap();
        assert_eq!(decode(&removal).unwrap().len(), 1);
        assert_eq!(table.present(), 1);
    }

    #[test]
    fn selections_by_owner_and_echoes_keep_the_owner() {
        let start = Instant::now();
        let mut table = AwarenessTable::default();
        table
            .apply(
                1u32,
                &update(&[(10, 1, "{}"), (11, 4, r#"{"a":1}"#)]),
                start,
            )
            .unwrap();
        table.apply(2u32, &update(&[(12, 1, "{}")]), start).unwrap();
        let mine = decode(&table.encode_where(|o| *o == 2).unwrap()).unwrap();
        assert_eq!(mine.len(), 1);
        assert_eq!(mine[0].client, 12);
        assert!(table.encode_where(|o| *o == 3).is_none());
        // Owner 3 echoes client 11's state with the same clock (stock clients do): when owner 3 goes,
        // client 11 stays; it goes with owner 1.
        assert!(
            !table
                .apply(3u32, &update(&[(11, 4, r#"{"a":1}"#)]), start)
                .unwrap()
        );
        assert!(table.remove_owner(3).is_none());
        assert_eq!(table.present(), 3);
        assert!(table.remove_owner(1).is_some());
        assert_eq!(table.present(), 1);
        // Expiry restricted to owner 1 leaves owner 2's silent state alone.
        table.apply(1u32, &update(&[(13, 1, "{}")]), start).unwrap();
        let later = start + Duration::from_secs(31);
        let removal = table
            .expire_where(later, Duration::from_secs(30), |o| *o == 1)
            .unwrap();
        assert_eq!(decode(&removal).unwrap()[0].client, 13);
        assert_eq!(table.present(), 1);
    }

    #[test]
    fn refuses_invalid_json_and_lying_counts() {
        let now = Instant::now();
        let mut table = AwarenessTable::<u32>::default();
        assert_eq!(
            table.apply(1, &update(&[(1, 1, "{not json")]), now),
            Err(AwarenessError::BadJson)
        );
        assert!(
            table
                .apply(1, &Bytes::from_static(&[0xff, 0xff, 0x03]), now)
                .is_err()
        );
        assert!(table.apply(1, &Bytes::from_static(&[1, 1]), now).is_err());
    }
}
