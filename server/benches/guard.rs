//! Update guard benchmark: what `sync::guard::apply_guarded` costs over the room's plain apply, and
//! what the room pays with the bytes the update came in (`try_apply_received`: the round trip
//! compares the update's encoding with them before decoding it again).
//!
//! Three cases, each applied to a replica document the way the room applies a client's update
//! (transaction, `apply_update`, `encode_update_v1` for the fan-out) without the guard, with it, and
//! with it given the received bytes:
//! - `edit`: a stream of single-node moves (one number set in a node's map) into a 500-node canvas,
//!   the common case;
//! - `add_node`: a stream of new nodes (a map with its fields and a params map);
//! - `paste_1mb`: one 1 MB text insert into an empty document.
//!
//! Prints the median and p99 per update and writes them to `bench/results/guard.json`.
//! Run: `cargo bench -p tierboard --bench guard` (release profile).

mod common;

use common::stats;

use std::hint::black_box;
use std::path::PathBuf;
use std::time::Instant;

use tierboard::sync::guard::{apply_guarded, try_apply_received};
use yrs::updates::decoder::Decode;
use yrs::{Doc, Map, MapPrelim, Text, Transact, Update};

/// The server's allocator (server/src/main.rs), so the figures are what the server pays.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const NODES: usize = 500;
const STREAM: usize = 5_000;
const PASTES: usize = 20;

fn main() {
    let mut results = Vec::new();
    let (base, edits) = canvas_and_moves();
    results.push(("edit", compare(&base, &edits)));
    let (base, adds) = canvas_and_adds();
    results.push(("add_node", compare(&base, &adds)));
    let paste = paste(1 << 20);
    let pastes = vec![paste; PASTES];
    results.push(("paste_1mb", compare_fresh(&pastes)));

    let mut json = String::from("{\n");
    for (i, (name, r)) in results.iter().enumerate() {
        println!(
            "{name:>9}: {} B/update; plain median {:.1} µs p99 {:.1} µs; guarded median {:.1} µs p99 {:.1} µs ({:+.0} % at the median); with the received bytes median {:.1} µs p99 {:.1} µs ({:+.0} %)",
            r.bytes,
            r.plain.0,
            r.plain.1,
            r.guarded.0,
            r.guarded.1,
            (r.guarded.0 / r.plain.0 - 1.0) * 100.0,
            r.received.0,
            r.received.1,
            (r.received.0 / r.plain.0 - 1.0) * 100.0
        );
        json.push_str(&format!(
            "  \"{name}\": {{\"update_bytes\": {}, \"plain_median_us\": {:.1}, \"plain_p99_us\": {:.1}, \"guarded_median_us\": {:.1}, \"guarded_p99_us\": {:.1}, \"received_median_us\": {:.1}, \"received_p99_us\": {:.1}}}{}\n",
            r.bytes,
            r.plain.0,
            r.plain.1,
            r.guarded.0,
            r.guarded.1,
            r.received.0,
            r.received.1,
            if i + 1 < results.len() { "," } else { "" }
        ));
    }
    json.push_str("}\n");
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../bench/results");
    std::fs::create_dir_all(&dir).expect("create bench/results");
    std::fs::write(dir.join("guard.json"), json).expect("write bench/results/guard.json");
}

struct Compared {
    bytes: usize,
    /// (median, p99) in microseconds.
    plain: (f64, f64),
    guarded: (f64, f64),
    received: (f64, f64),
}

/// The room's apply before the guard (server/src/room.rs `integrate`).
fn plain(doc: &Doc, update: Update, _: &[u8]) -> Vec<u8> {
    let mut txn = doc.transact_mut();
    txn.apply_update(update).expect("applies");
    txn.encode_update_v1()
}

fn guarded(doc: &Doc, update: Update, _: &[u8]) -> Vec<u8> {
    apply_guarded(doc, update).expect("accepted").delta
}

/// What the room calls for a client's update (`room/core/integrate.rs`).
fn received(doc: &Doc, update: Update, bytes: &[u8]) -> Vec<u8> {
    try_apply_received(doc, update, Some(bytes))
        .map_err(|(e, _)| e)
        .expect("accepted")
        .delta
}

/// Applies `stream` in order to a replica of `base`, once plainly and once guarded, timing each
/// update's decode and apply.
fn compare(base: &[u8], stream: &[Vec<u8>]) -> Compared {
    let time = |apply: fn(&Doc, Update, &[u8]) -> Vec<u8>| {
        let doc = Doc::new();
        apply(&doc, Update::decode_v1(base).unwrap(), base);
        stats(
            stream
                .iter()
                .map(|u| {
                    let start = Instant::now();
                    black_box(apply(&doc, Update::decode_v1(u).unwrap(), u));
                    start.elapsed()
                })
                .collect(),
        )
    };
    Compared {
        bytes: stream.iter().map(Vec::len).sum::<usize>() / stream.len(),
        plain: time(plain),
        guarded: time(guarded),
        received: time(received),
    }
}

/// Applies each update to a fresh document.
fn compare_fresh(updates: &[Vec<u8>]) -> Compared {
    let time = |apply: fn(&Doc, Update, &[u8]) -> Vec<u8>| {
        stats(
            updates
                .iter()
                .map(|u| {
                    let doc = Doc::new();
                    let start = Instant::now();
                    black_box(apply(&doc, Update::decode_v1(u).unwrap(), u));
                    start.elapsed()
                })
                .collect(),
        )
    };
    Compared {
        bytes: updates[0].len(),
        plain: time(plain),
        guarded: time(guarded),
        received: time(received),
    }
}

fn node(i: usize) -> MapPrelim {
    MapPrelim::from([
        ("type".to_owned(), yrs::In::from("service")),
        ("label".to_owned(), yrs::In::from(format!("service {i}"))),
        ("x".to_owned(), yrs::In::from((i % 40) as f64 * 120.0)),
        ("y".to_owned(), yrs::In::from((i / 40) as f64 * 90.0)),
        (
            "params".to_owned(),
            yrs::In::from(MapPrelim::from([
                ("replicas".to_owned(), yrs::In::from(3.0)),
                ("region".to_owned(), yrs::In::from("eu-west")),
            ])),
        ),
    ])
}

/// A 500-node canvas (as client/src/schema.ts writes it) and a stream of node moves on it.
fn canvas_and_moves() -> (Vec<u8>, Vec<Vec<u8>>) {
    let (doc, base) = canvas();
    let nodes = doc.get_or_insert_map("nodes");
    let moves = (0..STREAM)
        .map(|i| {
            let mut txn = doc.transact_mut();
            let Some(yrs::Out::YMap(n)) = nodes.get(&txn, &format!("n{}", i % NODES)) else {
                panic!("node n{} is a map", i % NODES);
            };
            n.insert(&mut txn, "x", i as f64);
            txn.encode_update_v1()
        })
        .collect();
    (base, moves)
}

/// The same canvas and a stream of new nodes.
fn canvas_and_adds() -> (Vec<u8>, Vec<Vec<u8>>) {
    let (doc, base) = canvas();
    let nodes = doc.get_or_insert_map("nodes");
    let adds = (0..STREAM)
        .map(|i| {
            let mut txn = doc.transact_mut();
            nodes.insert(&mut txn, format!("new{i}"), node(i));
            txn.encode_update_v1()
        })
        .collect();
    (base, adds)
}

fn canvas() -> (Doc, Vec<u8>) {
    let doc = Doc::with_client_id(1);
    let nodes = doc.get_or_insert_map("nodes");
    let mut txn = doc.transact_mut();
    for i in 0..NODES {
        nodes.insert(&mut txn, format!("n{i}"), node(i));
    }
    let base = txn.encode_update_v1();
    drop(txn);
    (doc, base)
}

fn paste(bytes: usize) -> Vec<u8> {
    let doc = Doc::with_client_id(2);
    let text = doc.get_or_insert_text("notes");
    let mut txn = doc.transact_mut();
    let line = "a pasted line of a design document, long enough to be typical\n";
    let body: String = line.repeat(bytes / line.len() + 1)[..bytes].to_owned();
    text.insert(&mut txn, 0, &body);
    txn.encode_update_v1()
}
