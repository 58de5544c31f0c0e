//! Fuzz target: one WebSocket binary frame through the room's whole input path.
//!
//! What the server does with a client's frame, minus the I/O (server/src/ws.rs, server/src/room.rs):
//! `parse_frame`; each update checked by `sync::guard::precheck` (a count its bytes cannot hold is
//! refused before yrs reserves memory for it), decoded and applied the way the room applies it (through
//! `sync::guard::try_apply_received`, with the bytes it was decoded from); each step 1's state vector
//! decoded and answered; awareness applied to a table; and after the frame, what a joiner makes the
//! room encode: the state vector, the full state (a joiner's step 2 for an empty state vector) and
//! the diff for a partial one. The room's outputs must also be readable by yrs itself, since other
//! instances (the bus), the coalescing writer and a room reload decode them: a delta, diff or full
//! state that does not decode (or a full state whose reload panics) is reported as a crash too.
//!
//! The sync code comes from the server's own source files (see src/lib.rs).
//!
//! `TIERBOARD_FUZZ_UNGUARDED=1` applies updates as the room did before the guard (plain
//! `apply_update`), to show what the guard stops.

#![no_main]

use std::cell::Cell;
use std::panic::AssertUnwindSafe;
use std::sync::{Once, OnceLock};
use std::time::Instant;

use bytes::Bytes;
use libfuzzer_sys::fuzz_target;
use tierboard_fuzz::sync::guard::{precheck, serve_joiner, try_apply_received};
use tierboard_fuzz::sync::protocol::{coalesce_updates, encode_update};
use tierboard_fuzz::sync::{AwarenessTable, ClientMessage, parse_frame};
use yrs::updates::decoder::Decode;
use yrs::{Doc, ReadTxn, StateVector, Transact, Update};

thread_local! {
    /// Set while code that catches its own panics runs ([`decode_guarded`], the guard): libFuzzer's
    /// hook must not abort for those.
    static DECODING: Cell<bool> = const { Cell::new(false) };
}

/// Decodes the way server/src/ws.rs `decode_guarded` does: a decoder panic (yrs' overflow checks,
/// on in the server's release profile) refuses the message and closes the connection; it is not a
/// crash. libFuzzer's panic hook aborts at once, so it is skipped for these panics only.
fn decode_guarded<T, E>(decode: impl FnOnce() -> Result<T, E>) -> Option<T> {
    static HOOK: Once = Once::new();
    HOOK.call_once(|| {
        let fuzzer_hook = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if DECODING.with(Cell::get) {
                // Printed in case it is not caught after all (libfuzzer-sys then aborts).
                eprintln!("caught? {info}");
            } else {
                fuzzer_hook(info)
            }
        }));
    });
    DECODING.with(|d| d.set(true));
    let result = std::panic::catch_unwind(AssertUnwindSafe(decode));
    DECODING.with(|d| d.set(false));
    result.ok()?.ok()
}

fn unguarded() -> bool {
    static UNGUARDED: OnceLock<bool> = OnceLock::new();
    *UNGUARDED
        .get_or_init(|| std::env::var_os("TIERBOARD_FUZZ_UNGUARDED").is_some_and(|v| v == "1"))
}

/// Applies one update as the room does, with the bytes it was decoded from (the guard's round trip
/// compares them first); `None` when the room would refuse it (and close the sender).
fn apply(doc: &Doc, update: Update, received: &[u8]) -> Option<Vec<u8>> {
    if unguarded() {
        let mut txn = doc.transact_mut();
        txn.apply_update(update).ok()?;
        Some(txn.encode_update_v1())
    } else {
        // The guard catches the panics of its clock check (see `check_clocks`); any other panic
        // still reaches libfuzzer-sys, which aborts: a crash.
        DECODING.with(|d| d.set(true));
        let applied = try_apply_received(doc, update, Some(received)).map_err(|(e, _)| e);
        DECODING.with(|d| d.set(false));
        applied.ok().map(|applied| applied.delta)
    }
}

/// What a joiner makes the room encode (server/src/room.rs `join`, `diff_for`): the state vector,
/// the full state (step 2 for an empty state vector) and the diff for a joiner that already has
/// half of every client's blocks. Returns the full state.
fn serve_joiners(doc: &Doc) -> Vec<u8> {
    let (sv_bytes, full) = serve_joiner(doc, &StateVector::default());
    let sv = StateVector::decode_v1(&sv_bytes).expect("the room's state vector decodes");
    let mut partial = StateVector::default();
    for (client, clock) in sv.iter() {
        partial.set_max(*client, clock / 2);
    }
    let (_, diff) = serve_joiner(doc, &partial);
    Update::decode_v1(&diff).expect("the room's diff for a partial state vector decodes");
    full
}

/// What other yrs peers do with the room's full state: a room reloaded from a snapshot
/// (`doc_from_rows`), another instance reconciling over the bus.
fn reload(full: &[u8]) {
    let update = Update::decode_v1(full).expect("the room's full state decodes");
    let reloaded = Doc::with_client_id(1 << 50);
    // yrs may refuse it (`InvalidParent`: a pending item under a non-type parent, see
    // fuzz/README.md); `doc_from_rows` logs that. It must not panic.
    let _ = reloaded.transact_mut().apply_update(update);
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
    // A fixed client id keeps runs deterministic; the room never writes with its own id.
    let doc = Doc::with_client_id(1 << 50);
    let mut awareness = AwarenessTable::<u8>::default();
    let mut fanned_out = Vec::new();
    let mut applied_any = false;
    for message in messages {
        match message {
            ClientMessage::SyncStep1(sv) => {
                // The reader decodes the state vector (a failure closes with 4400); the room answers.
                if precheck(&sv).is_err() {
                    break;
                }
                let Some(sv) = decode_guarded(|| StateVector::decode_v1(&sv)) else {
                    break;
                };
                let _ = doc.transact().encode_state_as_update_v1(&sv);
            }
            ClientMessage::SyncStep2(update) | ClientMessage::Update(update) => {
                if precheck(&update).is_err() {
                    break;
                }
                let Some(decoded) = decode_guarded(|| Update::decode_v1(&update)) else {
                    break;
                };
                let Some(delta) = apply(&doc, decoded, &update) else {
                    break;
                };
                if delta.len() > 2 {
                    Update::decode_v1(&delta).expect("the room's delta decodes");
                    fanned_out.push(encode_update(&delta));
                }
                applied_any = true;
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
            // Host actions (issue 22): JSON the room core parses with serde_json, outside `sync`
            // and so outside this target; the frame parse above is what reaches them.
            ClientMessage::Tierboard(_) => {}
        }
    }
    // A joiner after the frame. (Joins between two updates are covered by step 1 messages between
    // them in the frame: the room answers those with the same encode.)
    if applied_any {
        reload(&serve_joiners(&doc));
    }
    // The writer merges what is queued for a slow reader.
    coalesce_updates(&mut fanned_out);
});
