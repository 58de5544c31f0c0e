//! The server's view of a room's awareness (presence): who is there, with which state.
//!
//! y-protocols' rule, kept here: an entry replaces the known one when its clock is higher, or equal
//! with a `null` state (a removal). The server remembers which connection announced each client id so
//! that a closed connection's states are removed at once, and drops states not renewed for a timeout
//! (clients renew every 15 s; y-protocols uses 30 s).
//!
//! What is kept is copied out of the frame it came in (a slice would keep the whole frame alive: a
//! tiny state sent next to 30 MB pinned the 30 MB). A connection may only set and remove the client
//! ids it owns, at most [`MAX_IDS_PER_CONN`] of them ([`AwarenessTable::apply_owned`]): a viewer
//! cannot rewrite an editor's presence, and one frame cannot create a million participants.

use foldhash::{HashMap, HashMapExt};
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};

use super::protocol::{ProtocolError, Reader, write_buf, write_var};

/// Largest JSON state one client may publish. Cursors, names and selections fit easily.
pub const MAX_STATE_BYTES: usize = 64 * 1024;
/// Most entries one awareness update may carry (a connection's own: one; another instance's relay of
/// its connections: one per participant there).
pub const MAX_ENTRIES_PER_UPDATE: usize = 1024;
/// Most client ids one connection may own: a tab has one; a reconnect under a fresh document, or a
/// client with a second document, may add a few.
pub const MAX_IDS_PER_CONN: usize = 4;
/// Most entries a room's table holds; new client ids beyond it are ignored until entries go.
pub const MAX_ENTRIES: usize = 10_000;

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
    #[error("more than {MAX_ENTRIES_PER_UPDATE} entries in one awareness update")]
    TooManyEntries,
}

#[derive(Debug, Clone)]
struct Entry<C> {
    clock: u64,
    /// The JSON text as the client sent it (`None` once removed).
    state: Option<Bytes>,
    owner: C,
    renewed: Instant,
}

/// Awareness states of one room, keyed by Yjs client id. `C` identifies a connection. foldhash, not
/// SipHash: every cursor move looks its id up two or three times (1.9 % of the server's time in
/// scenario 9 went to SipHash). Its seed is random per process and the table is bounded by
/// [`MAX_ENTRIES`], so chosen ids cannot make lookups degrade without bound.
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

/// The display names (`user.name`, at most 40 characters kept) an awareness update announces, by
/// client id; states without a name are left out, and so is every name of an update that does not
/// decode. For the session report's participants: interview rooms call it for every awareness update
/// they relay, so once per cursor move. It reads each state once, into `NamedState` (serde skips
/// the cursor and every other field without building them), and neither copies nor re-checks the
/// states: the room relays only updates [`AwarenessTable::apply_owned`] has decoded and checked.
pub fn named_states(update: &[u8]) -> Vec<(u64, String)> {
    let read = || -> Result<Vec<(u64, String)>, ProtocolError> {
        let mut reader = Reader::new(update);
        let count = reader.read_var()?;
        let mut out = Vec::new();
        for _ in 0..count {
            let (client, _clock, range) = read_entry(&mut reader)?;
            if let Some(name) = state_name(&update[range]) {
                out.push((client, name));
            }
        }
        Ok(out)
    };
    read().unwrap_or_default()
}

/// One entry of an awareness update as y-protocols lays it out: client id, clock, and where its JSON
/// state lies in the update.
fn read_entry(reader: &mut Reader) -> Result<(u64, u64, std::ops::Range<usize>), ProtocolError> {
    Ok((
        reader.read_var()?,
        reader.read_var()?,
        reader.read_buf_range()?,
    ))
}

/// The part of an awareness state [`named_states`] reads. A field of another type than these (a
/// number for `name`, a string for `user`) makes the state nameless, as does a repeated key.
#[derive(serde::Deserialize)]
struct NamedState<'a> {
    #[serde(borrow, default)]
    user: Option<NamedUser<'a>>,
}

#[derive(serde::Deserialize)]
struct NamedUser<'a> {
    #[serde(borrow, default)]
    name: Option<std::borrow::Cow<'a, str>>,
}

/// `user.name` of one JSON state, trimmed and cut to 40 characters; `None` when it is missing or
/// empty, or the state is not a JSON object.
fn state_name(raw: &[u8]) -> Option<String> {
    let text = std::str::from_utf8(raw).ok()?;
    // A derived struct also reads a JSON array, by position; a state is an object or nothing.
    if !text.trim_start_matches(JSON_WHITESPACE).starts_with('{') {
        return None;
    }
    let state: NamedState = serde_json::from_str(text).ok()?;
    let name = state.user?.name?;
    let name = name.trim();
    (!name.is_empty()).then(|| name.chars().take(40).collect())
}

/// What JSON allows around a value (RFC 8259 §2).
const JSON_WHITESPACE: &[char] = &[' ', '\t', '\n', '\r'];

fn decode(update: &Bytes) -> Result<Vec<Incoming>, AwarenessError> {
    decode_keeping(update, Keep::Copy)
}

/// How a decoded state holds its bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Keep {
    /// A copy: a slice would keep alive whatever buffer `update` is a slice of (a frame padded with
    /// megabytes after the awareness message, say) as long as the state lives.
    Copy,
    /// `update` is all of the buffer it lives in, but for a few bytes of framing (a WebSocket message
    /// that held this awareness message alone): a state that is most of it is kept as a slice, with
    /// no allocation and no copy per cursor move.
    SliceOfMessage,
}

fn decode_keeping(update: &Bytes, keep: Keep) -> Result<Vec<Incoming>, AwarenessError> {
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
    if count > MAX_ENTRIES_PER_UPDATE as u64 {
        return Err(AwarenessError::TooManyEntries);
    }
    let mut out = Vec::with_capacity(count as usize);
    for _ in 0..count {
        let (client, clock, range) = read_entry(&mut reader)?;
        let raw = &update[range.clone()];
        if raw.len() > MAX_STATE_BYTES {
            return Err(AwarenessError::TooLarge);
        }
        let text = std::str::from_utf8(raw).map_err(|_| AwarenessError::NotUtf8)?;
        // Other clients JSON.parse this text: relaying invalid JSON would break their handlers.
        // Checked without building the value (`IgnoredAny`): every cursor move comes through here,
        // and the tree of maps and strings was allocated only to be dropped.
        serde_json::from_str::<serde::de::IgnoredAny>(text).map_err(|_| AwarenessError::BadJson)?;
        // A slice keeps the buffer this update came in alive as long as the state (see `Keep`).
        let state = if text.trim_matches(JSON_WHITESPACE) == "null" {
            None
        } else if keep == Keep::SliceOfMessage && raw.len() * 2 >= update.len() {
            Some(update.slice(range))
        } else {
            Some(Bytes::copy_from_slice(raw))
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
    /// Applies a trusted awareness update (another instance's relay of its own connections' states):
    /// any client id may be set. Returns true when anything changed (then relay the update as it is).
    pub fn apply(
        &mut self,
        owner: C,
        update: &Bytes,
        now: Instant,
    ) -> Result<bool, AwarenessError> {
        let mut changed = false;
        for entry in decode(update)? {
            changed |= self.merge(owner, entry, now);
        }
        Ok(changed)
    }

    /// Applies a connection's awareness update under ownership rules: an entry for a client id that
    /// another owner holds is ignored (stock clients echo everyone's changes: that is no error), and
    /// a connection owns at most [`MAX_IDS_PER_CONN`] ids (the first it announces); entries for more
    /// are ignored. Returns the update to relay, holding only the entries that changed something
    /// (never the ignored ones), or `None` when nothing changed, and appends the client ids of the
    /// entries that changed the table to `changed` (the room merges presence by client id:
    /// `room/core/presence.rs`).
    ///
    /// The room calls this, not [`AwarenessTable::apply`], for its own connections' messages:
    /// `apply_owned(Owner::Conn(from), &update, now, changed, keep)`, relaying `Ok(Some(relay))` to the
    /// other connections and publishing it on the bus, and closing the connection (4400) on `Err`.
    /// `keep` says how the states hold their bytes ([`Keep`]).
    pub fn apply_owned(
        &mut self,
        owner: C,
        update: &Bytes,
        now: Instant,
        changed: &mut Vec<u64>,
        keep: Keep,
    ) -> Result<Option<Bytes>, AwarenessError> {
        let mut relay = Vec::new();
        let entries = decode_keeping(update, keep)?;
        let count = entries.len();
        for entry in entries {
            let held = match self.entries.get(&entry.client) {
                Some(known) => known.owner == owner,
                None => false,
            };
            if !held {
                if let Some(known) = self.entries.get_mut(&entry.client) {
                    // Someone else's id: an echo renews it (as `apply` does), nothing more.
                    if known.clock == entry.clock {
                        known.renewed = now;
                    }
                    continue;
                }
                if self.owned_by(owner) >= MAX_IDS_PER_CONN {
                    continue;
                }
            }
            let (client, clock, state) = (entry.client, entry.clock, entry.state.clone());
            if self.merge(owner, entry, now) {
                relay.push((client, clock, state));
                changed.push(client);
            }
        }
        if relay.len() == count && relay.iter().all(|(_, _, state)| state.is_some()) {
            // Every entry changed the table (a cursor move, the common case): the update itself is
            // the relay, with no copy or encode (it is sent and published, then dropped).
            return Ok(Some(update.clone()));
        }
        Ok((!relay.is_empty()).then(|| encode(relay.iter().map(|(c, k, s)| (*c, *k, s.as_ref())))))
    }

    /// How many client ids `owner` holds.
    fn owned_by(&self, owner: C) -> usize {
        self.entries.values().filter(|e| e.owner == owner).count()
    }

    /// y-protocols' rule for one entry; true when it changed the table.
    fn merge(&mut self, owner: C, incoming: Incoming, now: Instant) -> bool {
        let Incoming {
            client,
            clock,
            state,
        } = incoming;
        let accept = match self.entries.get(&client) {
            None => self.entries.len() < MAX_ENTRIES,
            Some(known) => {
                known.clock < clock
                    || (known.clock == clock && state.is_none() && known.state.is_some())
            }
        };
        if accept {
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
        accept
    }

    /// Every present state, for a newcomer or an awareness query. `None` when nobody is present.
    /// The client ids whose states `owner` announced.
    pub fn clients_of<'a>(&'a self, owner: &'a C) -> impl Iterator<Item = u64> + 'a
    where
        C: PartialEq,
    {
        self.entries
            .iter()
            .filter(move |(_, e)| &e.owner == owner)
            .map(|(id, _)| *id)
    }

    /// The entries of these client ids as one update, each as the table holds it now (its latest
    /// state, or its removal while the table keeps one); ids the table no longer holds are left out.
    /// `None` when none is held. Duplicate ids are the caller's to avoid.
    pub fn encode_clients(&self, clients: &[u64]) -> Option<Bytes> {
        let held: Vec<_> = clients
            .iter()
            .filter_map(|id| {
                self.entries
                    .get(id)
                    .map(|e| (*id, e.clock, e.state.as_ref()))
            })
            .collect();
        (!held.is_empty()).then(|| encode(held.into_iter()))
    }

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

    /// `owner`'s update under ownership rules, its states copied, the changed ids not kept.
    fn own<C: Copy + PartialEq>(
        table: &mut AwarenessTable<C>,
        owner: C,
        update: &Bytes,
        now: Instant,
    ) -> Result<Option<Bytes>, AwarenessError> {
        table.apply_owned(owner, update, now, &mut Vec::new(), Keep::Copy)
    }

    /// `named_states` as it was, building a `serde_json::Value` per state: the reference the typed
    /// reading is compared with.
    fn names_by_value(update: &Bytes) -> Vec<(u64, String)> {
        decode(update)
            .unwrap()
            .into_iter()
            .filter_map(|e| {
                let state: serde_json::Value = serde_json::from_slice(e.state.as_ref()?).ok()?;
                let name = state.get("user")?.get("name")?.as_str()?.trim();
                (!name.is_empty()).then(|| (e.client, name.chars().take(40).collect()))
            })
            .collect()
    }

    /// The typed reading of `user.name` finds what reading the whole state as a JSON value found,
    /// state by state and for the states of one update together.
    #[test]
    fn names_read_typed_are_the_names_read_as_values() {
        let long = format!(r#"{{"user":{{"name":"{}"}}}}"#, "é".repeat(50));
        let states = [
            r##"{"user":{"name":"Ada","color":"#2563eb"},"cursor":{"x":1.5,"y":-2}}"##,
            r#"{"cursor":{"x":1},"user":{"color":"red","name":"  Grace  "}}"#,
            r#"  {"user":{"name":"a\"b \u00e9\n"}}"#,
            &long,
            r#"{"user":{"name":""}}"#,
            r#"{"user":{"name":"   "}}"#,
            r#"{"user":{"name":5}}"#,
            r#"{"user":{"name":null}}"#,
            r#"{"user":{"name":["x"]}}"#,
            r#"{"user":"Ada"}"#,
            r#"{"user":null}"#,
            r#"{"user":{}}"#,
            r#"{"cursor":{"x":1}}"#,
            r#"{}"#,
            r#"[{"name":"array"}]"#,
            r#"[{"name":"array"}, 1]"#,
            r#"5"#,
            r#""Ada""#,
            "null",
        ];
        for (i, state) in states.iter().enumerate() {
            let one = update(&[(7, 1, state)]);
            assert_eq!(
                named_states(&one),
                names_by_value(&one),
                "state {i}: {state}"
            );
        }
        let all: Vec<(u64, u64, &str)> = states
            .iter()
            .enumerate()
            .map(|(i, s)| (i as u64 + 1, 1, *s))
            .collect();
        let all = update(&all);
        let names = named_states(&all);
        assert_eq!(names, names_by_value(&all));
        let names: Vec<&str> = names.iter().map(|(_, name)| name.as_str()).collect();
        assert_eq!(names[..3], ["Ada", "Grace", "a\"b é"]);
        assert_eq!(names[3..], ["é".repeat(40)]);
        // Where the two differ, by design: a repeated key makes the state nameless (the value kept
        // the last), and an update that does not decode names nobody.
        let repeated = update(&[(7, 1, r#"{"user":{"name":"a","name":"b"}}"#)]);
        assert_eq!(named_states(&repeated), vec![]);
        assert_eq!(named_states(&all[..all.len() - 1]), vec![]);
    }

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
    fn changed_ids_are_noted_and_encoded_from_the_latest_states() {
        let now = Instant::now();
        let mut table = AwarenessTable::default();
        let mut changed = Vec::new();
        let first = update(&[(1, 1, "{\"x\":1}"), (2, 1, "{\"x\":2}")]);
        table
            .apply_owned(7u8, &first, now, &mut changed, Keep::Copy)
            .unwrap();
        assert_eq!(changed, [1, 2]);
        changed.clear();
        // An unchanged entry (same clock) is not noted; a newer one is.
        let second = update(&[(1, 1, "{\"x\":1}"), (2, 2, "{\"x\":3}")]);
        table
            .apply_owned(7u8, &second, now, &mut changed, Keep::Copy)
            .unwrap();
        assert_eq!(changed, [2]);
        // Encoded as the table holds them now; unknown ids left out.
        assert_eq!(
            table.encode_clients(&[2, 1, 99]).unwrap(),
            update(&[(2, 2, "{\"x\":3}"), (1, 1, "{\"x\":1}")])
        );
        assert!(table.encode_clients(&[99]).is_none());
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
    fn a_connection_sets_only_the_ids_it_owns() {
        let now = Instant::now();
        let mut table = AwarenessTable::default();
        let editor = update(&[(10, 1, r#"{"user":{"name":"editor"}}"#)]);
        assert_eq!(own(&mut table, 1u32, &editor, now).unwrap(), Some(editor));
        // A viewer rewriting the editor's presence with a higher clock, or removing it: ignored, and
        // not relayed; its own entry in the same update is.
        let impostor = update(&[(10, 9, r#"{"user":{"name":"IMPOSTOR"}}"#), (20, 1, "{}")]);
        let relay = own(&mut table, 2u32, &impostor, now).unwrap().unwrap();
        let relayed = decode(&relay).unwrap();
        assert_eq!(relayed.len(), 1);
        assert_eq!(relayed[0].client, 20);
        assert_eq!(
            own(&mut table, 2u32, &update(&[(10, 9, "null")]), now),
            Ok(None)
        );
        let all = decode(&table.encode_all().unwrap()).unwrap();
        let editor_state = all.iter().find(|e| e.client == 10).unwrap();
        assert_eq!(editor_state.clock, 1);
        assert!(
            std::str::from_utf8(editor_state.state.as_ref().unwrap())
                .unwrap()
                .contains("editor")
        );
        // The owner itself may update and remove its id.
        assert!(
            own(&mut table, 1u32, &update(&[(10, 2, "null")]), now)
                .unwrap()
                .is_some()
        );
        assert_eq!(table.present(), 1);
    }

    #[test]
    fn a_connection_owns_a_bounded_set_of_ids() {
        let now = Instant::now();
        let mut table = AwarenessTable::default();
        let many: Vec<(u64, u64, &str)> = (0..1000).map(|c| (c, 1, "{}")).collect();
        let relay = own(&mut table, 1u32, &update(&many), now).unwrap().unwrap();
        assert_eq!(decode(&relay).unwrap().len(), MAX_IDS_PER_CONN);
        assert_eq!(table.present(), MAX_IDS_PER_CONN);
        assert_eq!(
            own(&mut table, 1u32, &update(&[(5000, 1, "{}")]), now),
            Ok(None)
        );
        // One update may not carry more than MAX_ENTRIES_PER_UPDATE entries at all.
        let flood: Vec<(u64, u64, &str)> = (0..=MAX_ENTRIES_PER_UPDATE as u64)
            .map(|c| (c + 10_000, 1, "{}"))
            .collect();
        assert_eq!(
            table.apply(2u32, &update(&flood), now),
            Err(AwarenessError::TooManyEntries)
        );
    }

    #[test]
    fn a_kept_state_is_a_slice_only_of_a_message_it_fills_mostly() {
        let now = Instant::now();
        let within = |frame: &Bytes, kept: &Bytes| {
            let range = frame.as_ptr() as usize..frame.as_ptr() as usize + frame.len();
            range.contains(&(kept.as_ptr() as usize))
        };
        let mut changed = Vec::new();
        // A cursor move that came alone: one entry, the state nearly all of the message. Kept as a
        // slice (no copy).
        let mut table = AwarenessTable::default();
        let frame = update(&[(7, 1, r#"{"cursor":{"x":1,"y":2}}"#)]);
        table
            .apply_owned(1u32, &frame, now, &mut changed, Keep::SliceOfMessage)
            .unwrap();
        let kept = table.entries[&7].state.clone().unwrap();
        assert!(within(&frame, &kept), "a slice of the message");
        assert_eq!(&kept[..], br#"{"cursor":{"x":1,"y":2}}"#);
        // A small state in a message that carries more: a copy, so the message is not kept alive.
        let big = format!(r#"{{"notes":"{}"}}"#, "n".repeat(200));
        let frame = update(&[(8, 1, r#"{"a":1}"#), (9, 1, &big)]);
        table
            .apply_owned(1u32, &frame, now, &mut changed, Keep::SliceOfMessage)
            .unwrap();
        let small = table.entries[&8].state.clone().unwrap();
        assert!(!within(&frame, &small), "a copy");
        assert_eq!(&small[..], br#"{"a":1}"#);
        // An update of unknown origin (a slice of some larger frame): always a copy.
        let frame = update(&[(10, 1, r#"{"cursor":{"x":1,"y":2}}"#)]);
        table.apply(2u32, &frame, now).unwrap();
        let copied = table.entries[&10].state.clone().unwrap();
        assert!(!within(&frame, &copied), "a copy");
        table
            .apply_owned(
                3u32,
                &update(&[(11, 1, "{}")]),
                now,
                &mut changed,
                Keep::Copy,
            )
            .unwrap();
        let own = update(&[(12, 1, r#"{"cursor":{"x":1,"y":2}}"#)]);
        table
            .apply_owned(3u32, &own, now, &mut changed, Keep::Copy)
            .unwrap();
        assert!(
            !within(&own, &table.entries[&12].state.clone().unwrap()),
            "a copy"
        );
    }

    #[test]
    fn refuses_invalid_json_and_lying_counts() {
        let now = Instant::now();
        let mut table = AwarenessTable::<u32>::default();
        for bad in [
            "{not json",
            r#"{"a":1} trailing"#,
            "",
            "nul",
            r#"{"a":1}{"b":2}"#,
        ] {
            assert_eq!(
                table.apply(1, &update(&[(1, 1, bad)]), now),
                Err(AwarenessError::BadJson),
                "{bad:?}"
            );
        }
        assert!(table.entries.is_empty());
    }

    #[test]
    fn null_with_whitespace_is_a_removal_and_a_string_null_is_a_state() {
        let now = Instant::now();
        let mut table = AwarenessTable::<u32>::default();
        table
            .apply(1, &update(&[(5, 1, r#"{"a":1}"#)]), now)
            .unwrap();
        table
            .apply(1, &update(&[(6, 1, r#""null""#)]), now)
            .unwrap();
        assert!(
            table.entries[&6].state.is_some(),
            "the string \"null\" is a state"
        );
        table
            .apply(1, &update(&[(5, 2, " \n null\t")]), now)
            .unwrap();
        assert!(
            table.entries[&5].state.is_none(),
            "null in whitespace removes"
        );
        assert!(
            table
                .apply(1, &Bytes::from_static(&[0xff, 0xff, 0x03]), now)
                .is_err()
        );
        assert!(table.apply(1, &Bytes::from_static(&[1, 1]), now).is_err());
    }
}
