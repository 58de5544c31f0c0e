//! Applying a client's update without letting it poison the room's document.
//!
//! yrs 0.28 decodes `ContentJSON` (the legacy Yjs content, info 2) with one string more than its
//! length says, and encodes it with as many strings as it holds. An item of that content is therefore
//! never read back as it was written. An update holding one applies cleanly; if its item cannot be
//! integrated yet (a missing origin), yrs keeps it as a pending update, and every later
//! `encode_state_as_update_v1` re-encodes the pending part and decodes it again in
//! `merge_pending_v1`, which `unwrap`s the decode error: every sync step 1 after it panics, the room
//! task dies and takes every connection with it. Integrated, the same item is fanned out and stored
//! in an encoding yrs itself cannot read back (the bus, the coalescing writer and a room reload all
//! decode it). `docs/upstream/yrs-merge-pending-panic.md` has the minimal reproduction.
//!
//! [`apply_guarded`] is what the room calls instead of `TransactionMut::apply_update`:
//!
//! 1. Before applying, the update must survive yrs' own round trip: its encoding decodes and encodes
//!    again to the same bytes. This is what catches the poison, costs one encode and one decode of
//!    the update (not of the document), and leaves the document untouched when it refuses.
//! 2. After applying, and only when the document holds pending (unintegrated) parts, the pending parts
//!    must decode the way `merge_pending_v1` decodes them. Should a poison ever pass step 1, the
//!    pending parts are dropped (logged as an error) instead of keeping a room that panics on every
//!    join: pending parts are not part of the document yet, and the peers that sent them send them
//!    again at their next sync. The common case (no pending parts) pays nothing here.

use yrs::updates::decoder::Decode;
use yrs::updates::encoder::Encode;
use yrs::{Doc, IdSet, ReadTxn, StateVector, Transact, TransactionMut, Update, WriteTxn};

/// What an accepted update did to the document.
#[derive(Debug)]
pub struct Applied {
    /// What the transaction changed, as an update (v1): `[0, 0]` when nothing was integrated.
    pub delta: Vec<u8>,
    /// The pending parts failed the post-check and were dropped (see the module doc). The delta is
    /// still what was integrated and is fanned out and stored as usual.
    pub dropped_pending: bool,
}

impl Applied {
    /// Whether the update changed the document (a duplicate, or an update only held as pending,
    /// changes nothing that can be fanned out).
    pub fn changed(&self) -> bool {
        self.delta.len() > 2
    }
}

/// Why an update was refused. The document is unchanged in every case but [`Rejected::Apply`], where
/// yrs may have integrated part of the update before it failed (as the room's plain apply did).
#[derive(Debug, thiserror::Error)]
pub enum Rejected {
    /// The update's own encoding does not decode again: applying it would poison the document.
    #[error("update does not survive a decode/encode round trip ({0}); refused as poison")]
    NotRoundTrip(yrs::encoding::read::Error),
    /// It decodes again, but to something else: yrs would store and send other content than it
    /// received.
    #[error("update changes under a decode/encode round trip; refused as poison")]
    Unstable,
    /// yrs refused it.
    #[error("update failed to apply: {0}")]
    Apply(#[from] yrs::error::UpdateError),
}

/// Checks `update` (see the module doc) and applies it to `doc` in a transaction of its own.
/// Refusals are logged here (warn); the caller logs with its room and connection ids and closes
/// the sender with 4400 as for any malformed update.
pub fn apply_guarded(doc: &Doc, update: Update) -> Result<Applied, Rejected> {
    let mut txn = doc.transact_mut();
    let dropped_pending = apply_guarded_in(&mut txn, update)?;
    Ok(Applied {
        delta: txn.encode_update_v1(),
        dropped_pending,
    })
}

/// [`apply_guarded`] within a transaction the caller holds (e.g. one for all of a room's stored
/// rows). Returns whether pending parts were dropped.
pub fn apply_guarded_in(txn: &mut TransactionMut, update: Update) -> Result<bool, Rejected> {
    if let Err(e) = check_round_trip(&update) {
        tracing::warn!(error = %e, "poisoned update refused before applying");
        return Err(e);
    }
    txn.apply_update(update)?;
    let dropped_pending = txn.has_missing_updates() && !pending_decodes(txn);
    if dropped_pending {
        tracing::error!(
            "pending parts of the document do not decode; dropped them to keep the room"
        );
        drop_pending(txn);
    }
    Ok(dropped_pending)
}

/// Step 1: `update` encodes to bytes that decode to an update encoding to the same bytes.
pub fn check_round_trip(update: &Update) -> Result<(), Rejected> {
    let first = update.encode_v1();
    let again = Update::decode_v1(&first).map_err(Rejected::NotRoundTrip)?;
    if again.encode_v1() != first {
        return Err(Rejected::Unstable);
    }
    Ok(())
}

/// Step 2: what `merge_pending_v1` will decode at every `encode_state_as_update_v1` decodes.
fn pending_decodes(txn: &TransactionMut) -> bool {
    let store = txn.store();
    let update_ok = store
        .pending_update()
        .is_none_or(|pending| Update::decode_v1(&pending.update.encode_v1()).is_ok());
    let ds_ok = store
        .pending_ds()
        .is_none_or(|ds| IdSet::decode_v1(&ds.encode_v1()).is_ok());
    update_ok && ds_ok
}

/// yrs offers no way to remove the pending parts, but they can be emptied: an empty pending update
/// and delete set encode to `[0, 0]` and `[0]`, which merge harmlessly.
fn drop_pending(txn: &mut TransactionMut) {
    let store = txn.store_mut();
    if let Some(pending) = store.pending_update_mut() {
        pending.update = Update::new();
        pending.missing = StateVector::default();
    }
    if let Some(ds) = store.pending_ds_mut() {
        *ds = IdSet::default();
    }
}

/// The room's joiner path on a guarded document: its state vector and its step 2 for `sv`.
/// Used by the tests and the fuzz target to check that the document still serves joiners.
pub fn serve_joiner(doc: &Doc, sv: &StateVector) -> (Vec<u8>, Vec<u8>) {
    let txn = doc.transact();
    (
        txn.state_vector().encode_v1(),
        txn.encode_state_as_update_v1(sv),
    )
}

#[cfg(test)]
mod tests {
    use std::io::Write;
    use std::panic::{AssertUnwindSafe, catch_unwind};
    use std::sync::{Arc, Mutex};

    use yrs::{Array, Transact};

    use super::*;

    /// 11 bytes: one block of client 1 at clock 0 with a left origin (client 9, clock 0) that the
    /// document lacks, so it stays pending, and `ContentJSON` declaring 0 strings followed by one
    /// string (yrs reads length + 1 strings); an empty delete set.
    pub(crate) const PENDING_JSON: &[u8] = &[1, 1, 1, 0, 0x82, 9, 0, 0, 1, b'1', 0];

    /// The same content under the root map `a`: it integrates at once.
    const ROOT_JSON: &[u8] = &[1, 1, 1, 0, 2, 1, 1, b'a', 0, 1, b'1', 0];

    fn decode(bytes: &[u8]) -> Update {
        Update::decode_v1(bytes).expect("decodes")
    }

    /// `count` edits of one client, each as the update its transaction produced. Each appends to an
    /// array, so each edit's item has the previous one as its origin: applied out of order, it waits.
    fn edits(client: u64, count: usize) -> (Doc, Vec<Vec<u8>>) {
        let doc = Doc::with_client_id(client);
        let nodes = doc.get_or_insert_array("nodes");
        let updates = (0..count)
            .map(|i| {
                let mut txn = doc.transact_mut();
                nodes.push_back(&mut txn, format!("n{i}"));
                txn.encode_update_v1()
            })
            .collect();
        (doc, updates)
    }

    fn full_state(doc: &Doc) -> Vec<u8> {
        doc.transact()
            .encode_state_as_update_v1(&StateVector::default())
    }

    /// The document as a fresh peer sees it after a joiner's sync: state vector and `nodes` items.
    fn as_joiner_sees_it(doc: &Doc) -> (StateVector, Vec<String>) {
        let (sv, step2) = serve_joiner(doc, &StateVector::default());
        let peer = Doc::new();
        peer.transact_mut()
            .apply_update(Update::decode_v1(&step2).expect("step 2 decodes"))
            .expect("step 2 applies");
        let nodes = peer.get_or_insert_array("nodes");
        let txn = peer.transact();
        let items = nodes.iter(&txn).map(|v| v.to_string(&txn)).collect();
        (
            StateVector::decode_v1(&sv).expect("state vector decodes"),
            items,
        )
    }

    /// Runs `f` with a subscriber that records every event's formatted line.
    fn logged<T>(f: impl FnOnce() -> T) -> (T, String) {
        #[derive(Clone, Default)]
        struct Sink(Arc<Mutex<Vec<u8>>>);
        impl Write for Sink {
            fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
                self.0.lock().unwrap().extend_from_slice(buf);
                Ok(buf.len())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let sink = Sink::default();
        let writer = sink.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(move || writer.clone())
            .with_ansi(false)
            .finish();
        let out = tracing::subscriber::with_default(subscriber, f);
        let text = String::from_utf8(sink.0.lock().unwrap().clone()).unwrap();
        (out, text)
    }

    /// The upstream bug on plain yrs: the poison applies cleanly, then every encode of the state
    /// panics in `merge_pending_v1`. When this test fails, yrs has fixed it and the guard's
    /// round-trip check can be reconsidered (docs/upstream/yrs-merge-pending-panic.md).
    #[test]
    fn plain_yrs_panics_at_the_step_after_the_poison() {
        let doc = Doc::new();
        doc.transact_mut()
            .apply_update(decode(PENDING_JSON))
            .expect("the poison applies cleanly");
        assert!(doc.transact().has_missing_updates(), "held as pending");
        let panicked = catch_unwind(AssertUnwindSafe(|| full_state(&doc))).is_err();
        assert!(
            panicked,
            "encode_state_as_update_v1 panics on the poisoned document"
        );
        // The root cause: ContentJSON does not survive yrs' own round trip.
        let once = decode(PENDING_JSON).encode_v1();
        assert!(Update::decode_v1(&once).is_err(), "{once:?} decodes again");
    }

    #[test]
    fn the_poison_is_refused_before_applying_and_logged() {
        let doc = Doc::new();
        let (result, log) = logged(|| apply_guarded(&doc, decode(PENDING_JSON)));
        assert!(
            matches!(result, Err(Rejected::NotRoundTrip(_))),
            "{result:?}"
        );
        assert!(log.contains("poisoned update refused"), "log: {log}");
        let txn = doc.transact();
        assert!(!txn.has_missing_updates(), "nothing was kept");
        assert!(txn.state_vector().is_empty());
    }

    /// Integrated, the same content is stored and fanned out in an encoding yrs cannot read back.
    #[test]
    fn integrated_json_content_is_refused_too() {
        let plain = Doc::new();
        plain
            .transact_mut()
            .apply_update(decode(ROOT_JSON))
            .expect("applies");
        assert!(
            Update::decode_v1(&full_state(&plain)).is_err(),
            "plain yrs cannot read its own state back"
        );
        let guarded = Doc::new();
        let result = apply_guarded(&guarded, decode(ROOT_JSON));
        assert!(
            matches!(result, Err(Rejected::NotRoundTrip(_))),
            "{result:?}"
        );
        assert!(Update::decode_v1(&full_state(&guarded)).is_ok());
    }

    #[test]
    fn normal_and_out_of_order_updates_still_apply() {
        let (source, updates) = edits(7, 3);
        let doc = Doc::new();
        // The last edit first: held as pending, nothing to fan out yet.
        let held = apply_guarded(&doc, decode(&updates[2])).expect("accepted");
        assert!(!held.changed() && !held.dropped_pending);
        assert!(doc.transact().has_missing_updates());
        let first = apply_guarded(&doc, decode(&updates[0])).expect("accepted");
        assert!(first.changed());
        let second = apply_guarded(&doc, decode(&updates[1])).expect("accepted");
        assert!(second.changed() && !second.dropped_pending);
        assert!(
            !doc.transact().has_missing_updates(),
            "the pending edit got integrated"
        );
        // A duplicate changes nothing.
        assert!(!apply_guarded(&doc, decode(&updates[1])).unwrap().changed());
        assert_eq!(as_joiner_sees_it(&doc), as_joiner_sees_it(&source));
    }

    #[test]
    fn the_document_serves_step1_and_step2_after_a_refusal() {
        let (source, updates) = edits(11, 2);
        let doc = Doc::new();
        apply_guarded(&doc, decode(&updates[0])).expect("accepted");
        assert!(apply_guarded(&doc, decode(PENDING_JSON)).is_err());
        apply_guarded(&doc, decode(&updates[1])).expect("accepted");
        assert_eq!(as_joiner_sees_it(&doc), as_joiner_sees_it(&source));
        // A peer that has the first edit gets exactly the second.
        let mut partial = StateVector::default();
        partial.set_max(yrs::ClientID::new(11), 1);
        let (_, diff) = serve_joiner(&doc, &partial);
        let peer = Doc::new();
        peer.transact_mut()
            .apply_update(decode(&updates[0]))
            .unwrap();
        peer.transact_mut().apply_update(decode(&diff)).unwrap();
        assert_eq!(as_joiner_sees_it(&peer), as_joiner_sees_it(&source));
    }

    /// The second lock: a document that already holds poisoned pending parts (here put there by a
    /// plain apply) is healed by the next guarded apply instead of panicking at every join.
    #[test]
    fn poisoned_pending_parts_are_dropped_and_logged() {
        let (source, updates) = edits(5, 1);
        let doc = Doc::new();
        doc.transact_mut()
            .apply_update(decode(PENDING_JSON))
            .unwrap();
        let (applied, log) = logged(|| apply_guarded(&doc, decode(&updates[0])));
        let applied = applied.expect("the good update is accepted");
        assert!(applied.dropped_pending && applied.changed());
        assert!(
            log.contains("pending parts of the document do not decode"),
            "log: {log}"
        );
        assert_eq!(as_joiner_sees_it(&doc), as_joiner_sees_it(&source));
    }
}
