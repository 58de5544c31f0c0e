//! Replay benchmark (issue 23): a one-hour interview of 20,000 updates stored in an interview room's
//! history, then opened and scrubbed the way `GET /api/rooms/{room}/history?at=` does it (read the
//! rows up to the moment, apply them to an empty document, read design and sections, validate,
//! simulate, check the sections).
//!
//! The session: 40 nodes added, 60 edges, requirements and an estimate typed a character at a time,
//! and the rest node drags (one position per update, as a client sends while dragging). Updates are
//! spread evenly over the hour.
//!
//! Prints the stored rows and bytes (the storage an hour of interview costs), the time to open the
//! replay at the end of the session, and the slowest of 20 scrub positions; writes them to
//! `bench/results/replay.json`. Fails (exit 1) when opening takes more than 1 s.
//! Run: `cargo bench -p tierboard --bench replay` (release), or `cargo test -p tierboard --bench
//! replay` for the same run in the dev profile. `REPLAY_DATABASE_URL` picks the database (default: a
//! SQLite file in a temporary folder).

use std::path::PathBuf;
use std::time::Instant;

use tierboard::design::{Design, DesignEdge, DesignNode};
use tierboard::ids::{InstanceId, Mode, RoomId};
use tierboard::store::{NewRoom, Store};
use yrs::{Doc, Map, Text, Transact, WriteTxn};

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const UPDATES: usize = 20_000;
const HOUR_MS: i64 = 3_600_000;
const PROBLEM: &str = "tutorial-simple-blog";
const LIMIT_MS: f64 = 1_000.0;

/// The session's updates, in order.
fn session() -> Vec<Vec<u8>> {
    let doc = Doc::with_client_id(7);
    let mut out = Vec::with_capacity(UPDATES);
    let types = ["client", "lb", "app", "db_primary", "db_replica"];
    let mut nodes = 0usize;
    let mut edges = 0usize;
    let typed = "Read posts\nPublish posts\nView comments\np99 < 200 ms\n99.9% uptime\n";
    let mut typed_at = 0usize;
    for i in 0..UPDATES {
        let mut txn = doc.transact_mut();
        if i % 50 == 0 && nodes < 40 {
            let ty = types[nodes % types.len()];
            Design {
                nodes: vec![DesignNode::new(
                    format!("n{nodes}"),
                    ty,
                    format!("{ty} {nodes}"),
                )],
                ..Default::default()
            }
            .write_to_txn(&mut txn);
            nodes += 1;
        } else if i % 50 == 25 && edges < 60 && nodes >= 2 {
            Design {
                edges: vec![DesignEdge::new(
                    format!("e{edges}"),
                    format!("n{}", edges % nodes),
                    format!("n{}", (edges + 1) % nodes),
                )],
                ..Default::default()
            }
            .write_to_txn(&mut txn);
            edges += 1;
        } else if i % 10 == 3 {
            // Typing, a character an update.
            let key = if typed_at < 40 {
                "req_functional"
            } else {
                "req_nonfunctional"
            };
            let text = txn.get_or_insert_text(key);
            let c = typed.as_bytes()[typed_at % typed.len()] as char;
            let len = text.len(&txn);
            text.insert(&mut txn, len, &c.to_string());
            typed_at += 1;
        } else {
            // A drag step.
            let nodes_map = txn.get_or_insert_map("nodes");
            let id = format!("n{}", i % nodes.max(1));
            if let Some(yrs::Out::YMap(node)) = nodes_map.get(&txn, &id) {
                node.insert(&mut txn, "x", (i % 997) as f64);
                node.insert(&mut txn, "y", (i % 389) as f64);
            }
        }
        let update = txn.encode_update_v1();
        drop(txn);
        if !update.is_empty() {
            out.push(update);
        }
    }
    out
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(run());
}

async fn run() {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = std::env::var("REPLAY_DATABASE_URL")
        .unwrap_or_else(|_| format!("sqlite://{}", dir.path().join("replay.db").display()));
    let store = Store::connect(&url, InstanceId("replay-bench".into()))
        .await
        .expect("connect");
    store.migrate().await.expect("migrate");
    let room = RoomId::random();
    store
        .create_room_with_mode(
            &NewRoom {
                id: room.clone(),
                problem: PROBLEM.into(),
                created_ms: 0,
                tokens: vec![],
            },
            Mode::Interview,
        )
        .await
        .expect("room");
    let updates = session();
    let start_ms = 1_800_000_000_000i64;
    let rows: Vec<(i64, Vec<u8>)> = updates
        .iter()
        .enumerate()
        .map(|(i, u)| {
            (
                start_ms + (i as i64 * HOUR_MS) / updates.len() as i64,
                u.clone(),
            )
        })
        .collect();
    // As the room writes them: a round of a few updates at a time.
    for chunk in rows.chunks(8) {
        store.append_history(&room, chunk).await.expect("append");
    }
    let (stored_rows, stored_bytes) = store.history_size(&room).await.expect("size");

    let dir_bank = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../problems");
    let bank = tierboard::problems::Bank::load(&dir_bank).expect("bank");
    let problem = bank.get(PROBLEM).expect("problem");

    let open = |at: i64| {
        let store = &store;
        let room = &room;
        let bank = &bank;
        let problem = problem.clone();
        async move {
            let t = Instant::now();
            let rows = store.history(room, Some(at)).await.expect("history");
            let judged = tierboard::report::replay_at(&problem, bank.catalog(), &rows);
            let ms = t.elapsed().as_secs_f64() * 1e3;
            (ms, judged.design.nodes.len())
        }
    };
    // Warm the database cache once, then measure opening at the end of the session.
    let _ = open(start_ms + HOUR_MS).await;
    let mut opens = Vec::new();
    for _ in 0..3 {
        opens.push(open(start_ms + HOUR_MS).await);
    }
    let open_ms = opens.iter().map(|o| o.0).fold(f64::MAX, f64::min);
    assert_eq!(opens[0].1, 40, "every node is there at the end");
    let mut scrub = Vec::new();
    for k in 1..=20 {
        scrub.push(open(start_ms + HOUR_MS * k / 20).await.0);
    }
    let scrub_max = scrub.iter().copied().fold(0.0, f64::max);
    let profile = if cfg!(debug_assertions) {
        "dev"
    } else {
        "release"
    };
    println!(
        "replay ({profile}): {} updates over an hour: {stored_rows} rows, {stored_bytes} bytes of updates \
         ({:.1} KiB/hour); open at the end {open_ms:.0} ms; slowest of 20 scrub positions {scrub_max:.0} ms",
        updates.len(),
        stored_bytes as f64 / 1024.0
    );
    let results = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../bench/results/replay.json");
    let json = serde_json::json!({
        "profile": profile, "updates": updates.len(), "rows": stored_rows, "bytes": stored_bytes,
        "open_ms": open_ms, "scrub_max_ms": scrub_max, "database": if url.starts_with("postgres") { "postgres" } else { "sqlite" },
    });
    if let Err(e) = std::fs::write(&results, serde_json::to_string_pretty(&json).unwrap()) {
        eprintln!("could not write {}: {e}", results.display());
    }
    store.close().await;
    if open_ms > LIMIT_MS {
        eprintln!("opening the replay took {open_ms:.0} ms, over {LIMIT_MS} ms");
        std::process::exit(1);
    }
}
