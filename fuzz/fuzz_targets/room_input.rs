//! Fuzz target: one WebSocket binary frame through the room's whole input path.
//!
//! What the server does with a client's frame, minus the I/O (server/src/ws.rs, server/src/room.rs):
//! `parse_frame`; each update decoded and applied the way the room applies it (through
//! `sync::guard::apply_guarded`); each step 1's state vector decoded and answered; awareness applied
//! to a table; and after every applied update, what a joiner makes the room encode: the state vector,
//! the full state (a joiner's step 2 for an empty state vector) and the diff for a partial one. The
//! room's outputs must also be readable by yrs itself, since other instances (the bus), the
//! coalescing writer and a room reload decode them: a full state or a delta that does not decode is
//! reported as a crash too.
//!
//! `TIERBOARD_FUZZ_UNGUARDED=1` applies updates as the room did before the guard (plain
//! `apply_update`), to show what the guard stops.

#![no_main]

use std::sync::OnceLock;
use std::time::Instant;

use bytes::Bytes;
use libfuzzer_sys::fuzz_target;
use tierboard::sync::guard::{apply_guarded, serve_joiner};
use tierboard::sync::protocol::{coalesce_updates, encode_update};
use tierboard::sync::{AwarenessTable, ClientMessage, parse_frame};
use yrs::updates::decoder::Decode;
use yrs::{Doc, ReadTxn, StateVector, Transact, Update};

fn unguarded() -> bool {
    static UNGUARDED: OnceLock<bool> = OnceLock::new();
    *UNGUARDED
        .get_or_init(|| std::env::var_os("TIERBOARD_FUZZ_UNGUARDED").is_some_and(|v| v == "1"))
}

/// Applies one update as the room does; `None` when the room would refuse it (and close the sender).
fn apply(doc: &Doc, update: Update) -> Option<Vec<u8>> {
    if unguarded() {
        let mut txn = doc.transact_mut();
        txn.apply_update(update).ok()?;
        Some(txn.encode_update_v1())
    } else {
        apply_guarded(doc, update).ok().map(|applied| applied.delta)
    }
}

/// What joiners make the room encode, and checks that yrs can read it back.
fn serve_joiners(doc: &Doc) {
    let (sv_bytes, full) = serve_joiner(doc, &StateVector::default());
    let sv = StateVector::decode_v1(&sv_bytes).expect("the room's state vector decodes");
    let full_update = Update::decode_v1(&full).expect("the room's full state decodes");
    // A joiner that already has half of every client's blocks.
    let mut partial = StateVector::default();
    for (client, clock) in sv.iter() {
        partial.set_max(*client, clock / 2);
    }
    let (_, diff) = serve_joiner(doc, &partial);
    Update::decode_v1(&diff).expect("the room's diff for a partial state vector decodes");
    // A room reloaded from a snapshot of the full state (server/src/room.rs doc_from_rows).
    let reloaded = Doc::new();
    reloaded
        .transact_mut()
        .apply_update(full_update)
        .expect("the room's full state applies to an empty document");
    let _ = reloaded
        .transact()
        .encode_state_as_update_v1(&StateVector::default());
}

fuzz_target!(|data: &[u8]| {
    let frame = Bytes::copy_from_slice(data);
    // A frame that does not parse closes the connection with 4400 before the room sees anything.
    let Ok(messages) = parse_frame(&frame) else {
        return;
    };
    let doc = Doc::new();
    let mut awareness = AwarenessTable::<u8>::default();
    let mut fanned_out = Vec::new();
    for message in messages {
        match message {
            ClientMessage::SyncStep1(sv) => {
                // The reader decodes the state vector (a failure closes with 4400); the room answers.
                let Ok(sv) = StateVector::decode_v1(&sv) else {
                    break;
                };
                let _ = doc.transact().encode_state_as_update_v1(&sv);
            }
            ClientMessage::SyncStep2(update) | ClientMessage::Update(update) => {
                let Ok(update) = Update::decode_v1(&update) else {
                    break;
                };
                let Some(delta) = apply(&doc, update) else {
                    break;
                };
                if delta.len() > 2 {
                    Update::decode_v1(&delta).expect("the room's delta decodes");
                    fanned_out.push(encode_update(&delta));
                }
                serve_joiners(&doc);
            }
            ClientMessage::Awareness(update) => {
                if awareness.apply(0, &update, Instant::now()).is_err() {
                    break;
                }
            }
            ClientMessage::QueryAwareness => {
                let _ = awareness.encode_all();
            }
            ClientMessage::Auth => {}
        }
    }
    // The writer merges what is queued for a slow reader.
    coalesce_updates(&mut fanned_out);
});
