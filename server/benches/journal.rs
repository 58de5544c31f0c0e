//! SQLite journal benchmark: what a stored row costs the process with the journal folded into the log
//! every 1, 2 or 5 seconds of commits (`persister::FOLD_INTERVAL` is 1), and what a room's load pays
//! for the journal it scans, which a longer interval lets grow.
//!
//! The load is shaped like benchmark scenario 3's as the persister writes it: 1,000 rooms, a group
//! commit every 50 ms carrying 350 rows (7,000 rows a second, a 45-byte edit each, each for a random
//! room), on a log that already holds 300 rows per room. Scenario 3 at 2.5 edits/s per client stores
//! fewer, about 5,700 rows a second (0.57 per edit, counted: BENCHMARKS.md, "Figures behind code
//! choices"), so a second of this load is about 1.2 seconds of that one. Each configuration runs on a fresh database, alternating
//! with the others round after round, and ends with a fold, so all of them store the same rows.
//! The figure is the process's CPU time (user + system, every thread: the sqlx worker that runs
//! SQLite included) per stored row. Then one room's `load_rows` is timed with 7,000, 14,000 and 35,000
//! rows in the journal (one, two and five seconds of that load).
//!
//! Prints the medians and writes them to `bench/results/journal.json`.
//! Run: `cargo bench -p tierboard --bench journal` (release profile).

mod common;

use std::time::{Duration, Instant};

use rand::{Rng, SeedableRng, rngs::StdRng};
use tierboard::ids::{InstanceId, RoomId};
use tierboard::store::{NewRow, Store};

/// The server's allocator (server/src/main.rs), so the figures are what the server pays.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const ROOMS: usize = 1_000;
const ROWS_PER_COMMIT: usize = 350;
/// Commits a second at the persister's 50 ms interval.
const COMMITS_PER_SEC: usize = 20;
const PREFILL_PER_ROOM: usize = 300;
const TIMED_COMMITS: usize = 200;
const ROUNDS: usize = 3;
/// Seconds of commits between folds: the persister's `FOLD_INTERVAL` first.
const FOLD_EVERY_SECS: [usize; 3] = [1, 2, 5];
const ROW_BYTES: usize = 45;

fn cpu_time() -> Duration {
    // SAFETY: getrusage only writes the struct it is given.
    let usage = unsafe {
        let mut usage: libc::rusage = std::mem::zeroed();
        libc::getrusage(libc::RUSAGE_SELF, &mut usage);
        usage
    };
    let tv = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
    tv(usage.ru_utime) + tv(usage.ru_stime)
}

async fn fresh_store(dir: &tempfile::TempDir, name: &str) -> Store {
    let url = format!("sqlite://{}", dir.path().join(name).display());
    let store = Store::connect(&url, InstanceId("bench".into()))
        .await
        .expect("open the SQLite store");
    store.migrate().await.expect("migrate");
    store
}

fn batch(rooms: &[RoomId], rng: &mut StdRng) -> Vec<NewRow> {
    (0..ROWS_PER_COMMIT)
        .map(|_| NewRow {
            room: rooms[rng.random_range(0..rooms.len())].clone(),
            data: (0..ROW_BYTES).map(|_| rng.random()).collect(),
            replaces: None,
        })
        .collect()
}

/// Fills the log with `PREFILL_PER_ROOM` rows per room, untimed.
async fn prefill(store: &Store, rooms: &[RoomId], rng: &mut StdRng) {
    let total = ROOMS * PREFILL_PER_ROOM;
    let mut done = 0;
    while done < total {
        let rows: Vec<NewRow> = (0..2_000)
            .map(|i| NewRow {
                room: rooms[(done + i) % rooms.len()].clone(),
                data: (0..ROW_BYTES).map(|_| rng.random()).collect(),
                replaces: None,
            })
            .collect();
        store.append_rows(&rows).await.expect("prefill");
        done += rows.len();
        store.fold_journal().await.expect("prefill fold");
    }
}

/// CPU µs per stored row, wall µs per row, folding every `fold_secs` seconds of commits.
async fn run(fold_secs: usize, round: usize) -> (f64, f64) {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = fresh_store(&dir, "journal.db").await;
    let mut rng = StdRng::seed_from_u64(round as u64);
    let rooms: Vec<RoomId> = (0..ROOMS).map(|_| RoomId::random()).collect();
    prefill(&store, &rooms, &mut rng).await;
    let batches: Vec<Vec<NewRow>> = (0..TIMED_COMMITS)
        .map(|_| batch(&rooms, &mut rng))
        .collect();
    let fold_every = fold_secs * COMMITS_PER_SEC;
    let (cpu0, wall0) = (cpu_time(), Instant::now());
    for (i, rows) in batches.iter().enumerate() {
        store.append_rows(rows).await.expect("append");
        if (i + 1) % fold_every == 0 {
            store.fold_journal().await.expect("fold");
        }
    }
    store.fold_journal().await.expect("last fold");
    let rows = (TIMED_COMMITS * ROWS_PER_COMMIT) as f64;
    let cpu = (cpu_time() - cpu0).as_secs_f64() * 1e6 / rows;
    let wall = wall0.elapsed().as_secs_f64() * 1e6 / rows;
    store.close().await;
    (cpu, wall)
}

/// Median time of one room's `load_rows` with `journal_rows` rows in the journal.
async fn load_with_journal(journal_rows: usize) -> f64 {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = fresh_store(&dir, "load.db").await;
    let mut rng = StdRng::seed_from_u64(7);
    let rooms: Vec<RoomId> = (0..ROOMS).map(|_| RoomId::random()).collect();
    prefill(&store, &rooms, &mut rng).await;
    for _ in 0..journal_rows / ROWS_PER_COMMIT {
        store
            .append_rows(&batch(&rooms, &mut rng))
            .await
            .expect("append");
    }
    let mut times = Vec::new();
    for i in 0..40 {
        let room = &rooms[i * 7 % ROOMS];
        let start = Instant::now();
        let rows = store.load_rows(room).await.expect("load");
        times.push(start.elapsed());
        assert!(rows.len() >= PREFILL_PER_ROOM, "a room lost rows");
    }
    store.close().await;
    common::stats(times).0
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let mut cpu: Vec<Vec<f64>> = vec![Vec::new(); FOLD_EVERY_SECS.len()];
        let mut wall: Vec<Vec<f64>> = vec![Vec::new(); FOLD_EVERY_SECS.len()];
        for round in 0..ROUNDS {
            for (i, &secs) in FOLD_EVERY_SECS.iter().enumerate() {
                let (c, w) = run(secs, round).await;
                println!("round {round}: fold every {secs} s: {c:.1} µs CPU, {w:.1} µs wall per row");
                cpu[i].push(c);
                wall[i].push(w);
            }
        }
        let mut json = serde_json::Map::new();
        for (i, &secs) in FOLD_EVERY_SECS.iter().enumerate() {
            let (c, w) = (median(cpu[i].clone()), median(wall[i].clone()));
            println!(
                "fold every {secs} s: median {c:.1} µs CPU per row ({:.2}× every second), {w:.1} µs wall",
                c / median(cpu[0].clone())
            );
            json.insert(
                format!("fold_every_{secs}s"),
                serde_json::json!({"cpu_us_per_row": common::round(c), "wall_us_per_row": common::round(w), "runs": cpu[i]}),
            );
        }
        for secs in FOLD_EVERY_SECS {
            let rows = secs * COMMITS_PER_SEC * ROWS_PER_COMMIT;
            let us = load_with_journal(rows).await;
            println!("load_rows with {rows} journal rows: median {:.2} ms", us / 1000.0);
            json.insert(
                format!("load_with_{rows}_journal_rows"),
                serde_json::json!({"median_ms": common::round(us / 1000.0)}),
            );
        }
        common::write_result("journal", &serde_json::Value::Object(json));
    });
}
