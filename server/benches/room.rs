//! Room core benchmark (issue 26): what the sans-IO room core costs per edit in scenario 3's shape,
//! without sockets, storage or a load generator on the same two cores.
//!
//! Scenario 3 measures the whole server beside its load generator, on a host whose run-to-run spread
//! (±30 % for one binary, BENCHMARKS.md) is wider than any one change to the core. This replays the
//! same kind of edits into the cores alone, in one thread, so that a change to the room's own work
//! shows in a figure that holds still: 1,000 rooms of four writers, each writer with its node and its
//! `lat/<writer>` map (the generator's documents, `bench/src/client.rs`), a different amount of drag
//! history per writer as scenario 3 writes before its load, then rounds in which every writer of
//! every room makes one edit (`x`, `y` and a latency slot in one update), writer after writer and
//! room after room, so a room's edits come 83 ms apart (one submission each, as in scenario 3) and its
//! document has left the caches between two of them, as under the real load (where the sockets and the
//! generator share the caches too, so the server's figure per edit is higher still). The clock the cores are
//! given runs at 12,000 edits a second (scenario 3's 3 edits/s per client), so their timers
//! (submissions every 50 ms at most, `saved` rounds, validation windows) fire as they do there; every
//! 50 ms of that clock the submissions are answered as a group commit would answer them.
//!
//! Two figures per round, each the median of the measured rounds:
//! - `core`: `RoomCore::inbound` and every `tick` that is due, with the effects taken (what the
//!   room's turn runs under its lock, minus the socket writes);
//! - `yrs`: the same updates applied to plain documents (decode, transaction, `apply_update`,
//!   commit) in another set of 1,000 rooms: the CRDT's own part, which no server can skip.
//!
//! Prints both and their difference (the room's own work per edit), writes `bench/results/room.json`.
//! Run: `cargo bench -p tierboard --bench room` (release).

mod common;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use tierboard::config::{COMPACT_ROWS, PERSIST_INTERVAL_MS};
use tierboard::ids::{Role, RoomId};
use tierboard::metrics::Metrics;
use tierboard::problems::Bank;
use tierboard::room::{
    ConnId, CoreConfig, Effect, Inbound, PERSIST_STEADY, RoomCore, RoomLimits, Rows, Start,
};
use tokio::time::Instant as Clock;
use yrs::updates::decoder::Decode;
use yrs::{Any, Doc, In, Map, MapPrelim, MapRef, Transact, Update};

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const ROOMS: usize = 1_000;
const WRITERS: usize = 4;
/// Rounds of one edit per writer in a pass (scenario 3's base step gives each client 120 edits
/// before the steps that decide its figure), of which the last `MEASURED` count.
const ROUNDS: usize = 160;
const MEASURED: usize = 40;
const PASSES: usize = 3;
/// Scenario 3's whole load at 3 edits/s per client.
const EDITS_PER_SEC: f64 = 12_000.0;
/// The group commit's interval, the server's default (`--persist-interval-ms`).
const COMMIT: Duration = Duration::from_millis(PERSIST_INTERVAL_MS);
const PROBLEM: &str = "tutorial-simple-blog";

/// One writer's document, made like the generator's.
struct Writer {
    doc: Doc,
    node: MapRef,
    lat: MapRef,
    edits: u64,
}

impl Writer {
    /// The writer's node and `moves` drags of history, as one update: the node as
    /// `bench/src/client.rs` (`State::own_node`) creates it and the drags as its `history` makes them
    /// (that crate is the load generator's; the server's benches do not depend on it).
    fn new(client: u64, moves: u32) -> (Writer, Vec<u8>) {
        let doc = Doc::with_client_id(client);
        let nodes = doc.get_or_insert_map("nodes");
        let lat = doc.get_or_insert_map(format!("lat/w{client}"));
        let node_id = format!("w{client}");
        let update;
        let node = {
            let mut txn = doc.transact_mut();
            let node = nodes.insert(
                &mut txn,
                node_id.as_str(),
                MapPrelim::from([
                    ("type", In::from("app")),
                    ("label", In::from(format!("App {node_id}"))),
                    ("x", In::from(0.0)),
                    ("y", In::from(0.0)),
                    ("params", In::Map(MapPrelim::from([("instances", 1.0)]))),
                ]),
            );
            for i in 0..moves {
                let n = f64::from(i);
                node.insert(&mut txn, "x", (n * 11.0) % 1000.0);
                node.insert(&mut txn, "y", (n * 5.0) % 800.0);
                node.insert(&mut txn, "seq", -(n + 1.0));
            }
            update = txn.encode_update_v1();
            node
        };
        let writer = Writer {
            doc,
            node,
            lat,
            edits: 0,
        };
        (writer, update)
    }

    /// One timed edit: `x`, `y` and a latency slot, as `bench/src/client.rs` makes it.
    fn edit(&mut self) -> Vec<u8> {
        self.edits += 1;
        let n = self.edits as f64;
        let mut txn = self.doc.transact_mut();
        self.node.insert(&mut txn, "x", (n * 7.0) % 1000.0);
        self.node.insert(&mut txn, "y", (n * 3.0) % 800.0);
        let stamp = Any::Array(vec![Any::from(n), Any::from(n * 1e6)].into());
        self.lat
            .insert(&mut txn, (self.edits % 32).to_string(), stamp);
        txn.encode_update_v1()
    }
}

/// Every room's writers and their history updates.
fn writers() -> (Vec<Vec<Writer>>, Vec<Vec<Vec<u8>>>) {
    let mut writers = Vec::with_capacity(ROOMS);
    let mut history = Vec::with_capacity(ROOMS);
    for r in 0..ROOMS {
        let mut room = Vec::new();
        let mut updates = Vec::new();
        for w in 0..WRITERS {
            let i = r * WRITERS + w;
            // Scenario 3's spread of history: up to 64 drags, different per client.
            let moves = ((i as f64 * 0.618_033_988_75).fract() * 64.0) as u32;
            let (writer, update) = Writer::new(1_000 + i as u64, moves);
            room.push(writer);
            updates.push(update);
        }
        writers.push(room);
        history.push(updates);
    }
    (writers, history)
}

/// One round: an edit of every writer of every room.
fn round(writers: &mut [Vec<Writer>]) -> Vec<Vec<Vec<u8>>> {
    writers
        .iter_mut()
        .map(|room| room.iter_mut().map(Writer::edit).collect())
        .collect()
}

fn bank() -> Arc<Bank> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../problems");
    Arc::new(Bank::load(&dir).expect("the committed problem bank loads"))
}

/// A loaded room as the server runs it for scenario 3: four editors joined, their histories in.
struct Room {
    core: RoomCore,
    /// Submissions waiting for the next commit: (version, saved state vector).
    in_flight: Vec<(u64, Bytes)>,
}

/// What the replay counts, so that nothing it measures is optimised away.
#[derive(Default)]
struct Counts {
    messages: usize,
    submissions: usize,
    rows_bytes: usize,
    snapshots: usize,
    snapshot_bytes: usize,
}

fn take(room: &mut Room, effects: &mut Vec<Effect>, counts: &mut Counts) {
    room.core.take_effects(effects);
    for effect in effects.drain(..) {
        match effect {
            Effect::Submit(s) => {
                counts.submissions += 1;
                match &s.rows {
                    Rows::Update(update) => counts.rows_bytes += update.len(),
                    Rows::Snapshot { snapshot, .. } => {
                        counts.snapshots += 1;
                        counts.snapshot_bytes += snapshot.len();
                    }
                }
                room.in_flight.push((s.version, s.saved_sv));
            }
            Effect::Broadcast { .. } | Effect::Send { .. } | Effect::Hold { .. } => {
                counts.messages += 1
            }
            _ => {}
        }
    }
}

fn open_rooms(bank: &Arc<Bank>, history: &[Vec<Vec<u8>>], t0: Clock) -> Vec<Room> {
    let results = Arc::new(Default::default());
    let metrics = Arc::new(Metrics::default());
    let mut effects = Vec::new();
    let mut counts = Counts::default();
    history
        .iter()
        .enumerate()
        .map(|(r, updates)| {
            let config = CoreConfig {
                id: RoomId::random(),
                problem_id: Some(PROBLEM.into()),
                mode: tierboard::ids::Mode::Practice,
                bank: bank.clone(),
                metrics: metrics.clone(),
                fans_out: false,
                // The server's default `--compact-rows`: a room snapshots itself every this many
                // submissions.
                compact_rows: COMPACT_ROWS,
                persist_steady: PERSIST_STEADY,
                presence_window: Duration::ZERO,
                idle: Duration::from_secs(30),
                reconcile_jitter: Duration::ZERO,
                limits: RoomLimits::default(),
                results: Arc::clone(&results),
            };
            let start = Start {
                doc: Some(Doc::new()),
                // The server's head start (`room/load.rs`), spread evenly instead of at random:
                // rooms loaded together must not snapshot in the same second.
                rows_since_snapshot: (r as u64 * 37) % COMPACT_ROWS,
                ..Start::default()
            };
            let mut room = Room {
                core: RoomCore::new(config, t0, start),
                in_flight: Vec::new(),
            };
            for (w, update) in updates.iter().enumerate() {
                room.core.join(t0, ConnId(w as u64), Role::Edit);
                let decoded = Update::decode_v1(update).expect("history decodes");
                let inbound = Inbound::Update(decoded, Bytes::copy_from_slice(update));
                room.core.inbound(t0, ConnId(w as u64), vec![inbound]);
            }
            take(&mut room, &mut effects, &mut counts);
            room
        })
        .collect()
}

/// One pass: fresh rooms and plain documents, fed the same rounds.
struct Pass {
    rooms: Vec<Room>,
    docs: Vec<Doc>,
    now: Clock,
    next_commit: Clock,
    effects: Vec<Effect>,
    counts: Counts,
}

impl Pass {
    fn new(bank: &Arc<Bank>, history: &[Vec<Vec<u8>>], t0: Clock) -> Pass {
        let docs = history
            .iter()
            .map(|updates| {
                let doc = Doc::new();
                let mut txn = doc.transact_mut();
                for update in updates {
                    txn.apply_update(Update::decode_v1(update).expect("history decodes"))
                        .expect("history applies");
                }
                drop(txn);
                doc
            })
            .collect();
        let now = t0 + Duration::from_secs(1);
        Pass {
            rooms: open_rooms(bank, history, t0),
            docs,
            now,
            next_commit: now + COMMIT,
            effects: Vec::new(),
            counts: Counts::default(),
        }
    }

    /// One round into the cores, the clock at 12,000 edits a second; µs per edit.
    fn core_round(&mut self, round: &[Vec<Vec<u8>>]) -> f64 {
        let step = Duration::from_secs_f64(1.0 / EDITS_PER_SEC);
        let start = Instant::now();
        // Writer after writer, room after room: a room's edits come 1,000 edits (83 ms) apart, as
        // scenario 3's four clients at 3/s each spread them.
        for w in 0..WRITERS {
            for (r, edits) in round.iter().enumerate() {
                let room = &mut self.rooms[r];
                let bytes = &edits[w];
                self.now += step;
                if room.core.next_wake() <= self.now {
                    room.core.tick(self.now);
                }
                // The reader decodes before the turn: part of the work per edit.
                let update = Update::decode_v1(bytes).expect("edit decodes");
                let inbound = Inbound::Update(update, Bytes::copy_from_slice(bytes));
                room.core.inbound(self.now, ConnId(w as u64), vec![inbound]);
                take(room, &mut self.effects, &mut self.counts);
                if self.now >= self.next_commit {
                    // A group commit answers everything submitted before it, every room's at once.
                    self.next_commit = self.now + COMMIT;
                    for room in self.rooms.iter_mut() {
                        if room.in_flight.is_empty() {
                            continue;
                        }
                        for (version, sv) in std::mem::take(&mut room.in_flight) {
                            room.core.persisted(self.now, Ok(()), sv, version);
                        }
                        take(room, &mut self.effects, &mut self.counts);
                    }
                }
            }
        }
        start.elapsed().as_secs_f64() * 1e6 / (round.len() * WRITERS) as f64
    }

    /// The same round applied to the plain documents; µs per edit.
    fn yrs_round(&mut self, round: &[Vec<Vec<u8>>]) -> f64 {
        let start = Instant::now();
        for w in 0..WRITERS {
            for (doc, edits) in self.docs.iter().zip(round) {
                let update = Update::decode_v1(&edits[w]).expect("edit decodes");
                let mut txn = doc.transact_mut();
                txn.apply_update(update).expect("edit applies");
            }
        }
        start.elapsed().as_secs_f64() * 1e6 / (round.len() * WRITERS) as f64
    }
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    let bank = bank();
    let t0 = Clock::now();
    // Three passes on fresh rooms and fresh writers; in each round the cores and the plain documents
    // take the same edits, in alternating order. Only the last `MEASURED` rounds of a pass count:
    // by then every writer has made as many edits as in scenario 3's minute-long base step.
    let (mut core, mut plain) = (Vec::new(), Vec::new());
    let mut counts = Counts::default();
    for pass in 0..PASSES {
        let (mut writers, history) = writers();
        let mut p = Pass::new(&bank, &history, t0);
        for i in 0..ROUNDS {
            let edits = round(&mut writers);
            let (c, y) = if (pass + i) % 2 == 0 {
                let c = p.core_round(&edits);
                (c, p.yrs_round(&edits))
            } else {
                let y = p.yrs_round(&edits);
                (p.core_round(&edits), y)
            };
            if i >= ROUNDS - MEASURED {
                core.push(c);
                plain.push(y);
            }
        }
        counts.messages += p.counts.messages;
        counts.submissions += p.counts.submissions;
        counts.rows_bytes += p.counts.rows_bytes;
        counts.snapshots += p.counts.snapshots;
        counts.snapshot_bytes += p.counts.snapshot_bytes;
    }
    assert!(
        counts.messages > 0 && counts.submissions > 0 && counts.rows_bytes > 0,
        "the cores fanned out and submitted nothing"
    );
    let edits = (PASSES * ROUNDS * ROOMS * WRITERS) as f64;
    let (core_us, yrs_us) = (median(core.clone()), median(plain.clone()));
    let spread = |v: &[f64]| {
        let lo = v.iter().copied().fold(f64::INFINITY, f64::min);
        let hi = v.iter().copied().fold(0.0, f64::max);
        (common::round(lo), common::round(hi))
    };
    println!(
        "room core: {:.2} µs per edit (rounds {:?}); plain yrs apply: {:.2} µs ({:?}); the room's own work: {:.2} µs per edit; {:.2} submissions, {:.2} messages and {:.4} snapshots (of {} bytes on average) per edit",
        core_us,
        spread(&core),
        yrs_us,
        spread(&plain),
        core_us - yrs_us,
        counts.submissions as f64 / edits,
        counts.messages as f64 / edits,
        counts.snapshots as f64 / edits,
        counts.snapshot_bytes / counts.snapshots.max(1),
    );
    common::write_result(
        "room",
        &serde_json::json!({
            "rooms": ROOMS,
            "writers_per_room": WRITERS,
            "rounds_per_pass": ROUNDS,
            "measured_rounds": core.len(),
            "core_median_us_per_edit": (core_us * 100.0).round() / 100.0,
            "yrs_median_us_per_edit": (yrs_us * 100.0).round() / 100.0,
            "room_own_us_per_edit": ((core_us - yrs_us) * 100.0).round() / 100.0,
            "core_range_us": spread(&core),
            "yrs_range_us": spread(&plain),
            "submissions_per_edit": counts.submissions as f64 / edits,
            "messages_per_edit": counts.messages as f64 / edits,
            "snapshots_per_edit": counts.snapshots as f64 / edits,
            "snapshot_bytes_average": counts.snapshot_bytes / counts.snapshots.max(1),
        }),
    );
}
