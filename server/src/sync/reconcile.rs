//! Reconciling two instances' copies of a room, by state vectors: pure functions, no I/O.
//!
//! A room publishes its [`SyncState`]: state vector plus a digest of its delete set (deleting does not
//! advance a Yjs clock, so a lost delete-only update would be invisible to state vectors alone). A peer
//! that receives it compares with its own state and [`plan`]s:
//! - it has an item the sender lacks, or the delete sets differ: publish the diff
//!   `encode_state_as_update_v1(sender_sv)` (what the sender lacks, plus the full delete set);
//! - the sender has an item it lacks, or the delete sets differ, and the sender asked (`request`):
//!   answer with its own state, so that the sender publishes the diff the other way.
//!
//! Answers never ask for an answer, so one round ends after at most two diffs per pair of instances. In
//! the steady state (nothing lost) a reconcile is one small message per room and instance per period and
//! nothing else. Equal copies produce equal digests: the delete set is a `BTreeMap` of clients with
//! merged, sorted ranges, so its encoding is canonical.

use std::time::Duration;

use bytes::Bytes;
use sha2::{Digest, Sha256};
use yrs::updates::encoder::Encode;
use yrs::{ReadTxn, StateVector};

use super::peer::SyncState;

/// How often a room with connections publishes its state for reconciliation (plus up to
/// [`RECONCILE_JITTER`], so that rooms and instances do not tick in step).
pub const RECONCILE_PERIOD: Duration = Duration::from_secs(3);
pub const RECONCILE_JITTER: Duration = Duration::from_millis(500);

/// A room's state as compared during reconciliation.
#[derive(Debug, Clone)]
pub struct DocState {
    pub sv: StateVector,
    /// `sv`, v1-encoded.
    pub sv_bytes: Bytes,
    /// Digest of the v1-encoded delete set.
    pub deletes: u64,
}

impl DocState {
    /// Reads the state of a document (walks every block once: callers cache it per document version).
    pub fn of(txn: &impl ReadTxn) -> DocState {
        let snapshot = txn.snapshot();
        let ds = snapshot.delete_set.encode_v1();
        let hash = Sha256::digest(&ds);
        let deletes = u64::from_be_bytes(hash[..8].try_into().expect("8 bytes of a SHA-256"));
        let sv_bytes = Bytes::from(snapshot.state_map.encode_v1());
        DocState {
            sv: snapshot.state_map,
            sv_bytes,
            deletes,
        }
    }

    pub fn to_message(&self, request: bool, hello: bool) -> SyncState {
        SyncState {
            sv: self.sv_bytes.clone(),
            deletes: self.deletes,
            request,
            hello,
        }
    }
}

/// What to do about a peer's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Plan {
    /// Publish `encode_state_as_update_v1(peer_sv)`.
    pub send_diff: bool,
    /// Publish our own state (not as a request) so the peer sends what we lack.
    pub answer: bool,
}

/// True when `a` has an item `b` has not seen.
pub fn ahead(a: &StateVector, b: &StateVector) -> bool {
    a.iter().any(|(client, clock)| b.get(client) < *clock)
}

pub fn plan(mine: &DocState, peer_sv: &StateVector, peer_deletes: u64, request: bool) -> Plan {
    let deletes_differ = mine.deletes != peer_deletes;
    Plan {
        send_diff: ahead(&mine.sv, peer_sv) || deletes_differ,
        answer: request && (ahead(peer_sv, &mine.sv) || deletes_differ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use yrs::updates::decoder::Decode;
    use yrs::{Doc, GetString, Map, Options, Text, Transact, Update};

    fn doc(client: u64) -> Doc {
        Doc::with_options(Options {
            client_id: yrs::ClientID::new(client),
            ..Options::default()
        })
    }

    fn state(d: &Doc) -> DocState {
        DocState::of(&d.transact())
    }

    fn sync(from: &Doc, to: &Doc) {
        let sv = to.transact().state_vector();
        let update = from.transact().encode_state_as_update_v1(&sv);
        to.transact_mut()
            .apply_update(Update::decode_v1(&update).unwrap())
            .unwrap();
    }

    #[test]
    fn equal_documents_plan_nothing() {
        let a = doc(1);
        let b = doc(2);
        a.get_or_insert_map("nodes")
            .insert(&mut a.transact_mut(), "x", 1);
        let text = a.get_or_insert_text("notes");
        text.insert(&mut a.transact_mut(), 0, "hello world");
        text.remove_range(&mut a.transact_mut(), 0, 6);
        sync(&a, &b);
        let (sa, sb) = (state(&a), state(&b));
        assert_eq!(sa.deletes, sb.deletes);
        assert_eq!(plan(&sa, &sb.sv, sb.deletes, true), Plan::default());
    }

    #[test]
    fn a_missing_insert_is_sent_and_asked_for() {
        let a = doc(1);
        let b = doc(2);
        a.get_or_insert_map("nodes")
            .insert(&mut a.transact_mut(), "x", 1);
        let (sa, sb) = (state(&a), state(&b));
        // b hears a's state: b lacks something, so it answers (when asked) and sends nothing.
        assert_eq!(
            plan(&sb, &sa.sv, sa.deletes, true),
            Plan {
                send_diff: false,
                answer: true
            }
        );
        // a hears b's answer: a has what b lacks, so a sends the diff and does not answer again.
        assert_eq!(
            plan(&sa, &sb.sv, sb.deletes, false),
            Plan {
                send_diff: true,
                answer: false
            }
        );
    }

    #[test]
    fn a_lost_delete_is_noticed_although_state_vectors_are_equal() {
        let a = doc(1);
        let b = doc(2);
        let text = a.get_or_insert_text("notes");
        text.insert(&mut a.transact_mut(), 0, "hello world");
        sync(&a, &b);
        // a deletes; the delete never reaches b.
        text.remove_range(&mut a.transact_mut(), 0, 6);
        let (sa, sb) = (state(&a), state(&b));
        assert!(!ahead(&sa.sv, &sb.sv) && !ahead(&sb.sv, &sa.sv));
        assert_ne!(sa.deletes, sb.deletes);
        let p = plan(&sa, &sb.sv, sb.deletes, true);
        assert!(p.send_diff && p.answer);
        // The diff a sends carries its delete set, after which the copies agree.
        sync(&a, &b);
        assert_eq!(state(&a).deletes, state(&b).deletes);
        assert_eq!(
            b.get_or_insert_text("notes").get_string(&b.transact()),
            "world"
        );
    }

    #[test]
    fn the_digest_does_not_depend_on_the_order_updates_arrived_in() {
        let a = doc(1);
        let b = doc(2);
        let c = doc(3);
        let ta = a.get_or_insert_text("t");
        ta.insert(&mut a.transact_mut(), 0, "abcdef");
        let tb = b.get_or_insert_text("t");
        sync(&a, &b);
        tb.insert(&mut b.transact_mut(), 3, "XYZ");
        ta.remove_range(&mut a.transact_mut(), 1, 2);
        tb.remove_range(&mut b.transact_mut(), 4, 1);
        // c gets b then a; a and b exchange the other way round.
        sync(&b, &c);
        sync(&a, &c);
        sync(&b, &a);
        sync(&a, &b);
        let (sa, sb, sc) = (state(&a), state(&b), state(&c));
        assert_eq!(sa.deletes, sb.deletes);
        assert_eq!(sb.deletes, sc.deletes);
        assert_eq!(plan(&sc, &sa.sv, sa.deletes, true), Plan::default());
    }

    #[test]
    fn a_copy_loaded_from_a_snapshot_agrees_with_one_that_saw_every_update() {
        let a = doc(1);
        let live = doc(2);
        let updates = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let sink = updates.clone();
        a.observe_update_v1("test", move |_: &yrs::TransactionMut, e| {
            sink.lock().unwrap().push(e.update.clone())
        })
        .unwrap();
        let t = a.get_or_insert_text("t");
        t.insert(&mut a.transact_mut(), 0, "hello world");
        t.remove_range(&mut a.transact_mut(), 2, 5);
        t.insert(&mut a.transact_mut(), 3, "!!");
        t.remove_range(&mut a.transact_mut(), 0, 1);
        for update in updates.lock().unwrap().iter() {
            live.transact_mut()
                .apply_update(Update::decode_v1(update).unwrap())
                .unwrap();
        }
        // A snapshot (what compaction stores) encodes deleted content as garbage-collected ranges.
        let snapshot = a
            .transact()
            .encode_state_as_update_v1(&StateVector::default());
        let loaded = doc(3);
        loaded
            .transact_mut()
            .apply_update(Update::decode_v1(&snapshot).unwrap())
            .unwrap();
        let (sl, sn) = (state(&live), state(&loaded));
        assert_eq!(sl.deletes, sn.deletes);
        assert_eq!(plan(&sl, &sn.sv, sn.deletes, true), Plan::default());
    }
}
