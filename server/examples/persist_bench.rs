//! Storage benchmark: how long an accepted update takes to become durable through the group-commit
//! `Persister`, with many rooms editing at once. Prints the latency percentiles (submission → commit as
//! seen by the submitter) and appends them to a file.
//!
//! ```text
//! cargo run --release --example persist_bench -- --rooms 200 --hz 10 --seconds 10
//! cargo run --release --example persist_bench -- --database-url postgres://postgres@127.0.0.1:5432/test
//! ```
//! Without `--database-url` it uses a SQLite file in a temporary folder; on PostgreSQL it works in a
//! private schema that it drops at the end.

use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::Parser;
use tierboard::clock::now_ms;
use tierboard::ids::{InstanceId, RoomId};
use tierboard::metrics::Metrics;
use tierboard::store::scratch::ScratchSchema;
use tierboard::store::{NewRoom, Persister, Store};
use yrs::{Doc, Text, Transact};

#[derive(Parser)]
struct Args {
    /// Database URL; default: a SQLite file in a temporary folder.
    #[arg(long)]
    database_url: Option<String>,
    /// Rooms editing at once.
    #[arg(long, default_value_t = 100)]
    rooms: usize,
    /// Updates per second per room.
    #[arg(long, default_value_t = 10)]
    hz: u64,
    #[arg(long, default_value_t = 5)]
    seconds: u64,
    /// Persist interval (group-commit window), milliseconds.
    #[arg(long, default_value_t = 50)]
    interval_ms: u64,
    #[arg(long, default_value_t = 64)]
    compact_rows: u64,
    /// File the result line is appended to.
    #[arg(long, default_value = "target/persist-bench.txt")]
    out: std::path::PathBuf,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let dir = tempfile::tempdir()?;
    // On PostgreSQL, work in a private schema (dropped at the end) so nothing is left behind.
    let scratch = match &args.database_url {
        Some(url) if url.starts_with("postgres") => Some(ScratchSchema::create(url).await?),
        _ => None,
    };
    let url = match (&scratch, &args.database_url) {
        (Some(s), _) => s.url().to_string(),
        (None, Some(url)) => url.clone(),
        (None, None) => format!("sqlite://{}/bench.db", dir.path().display()),
    };
    let store = Arc::new(Store::connect(&url, InstanceId::random()).await?);
    store.migrate().await?;
    let metrics = Arc::new(Metrics::default());
    let (persister, task) = Persister::spawn(
        store.clone(),
        Duration::from_millis(args.interval_ms),
        args.compact_rows,
        metrics.clone(),
    );

    let mut rooms = Vec::with_capacity(args.rooms);
    for _ in 0..args.rooms {
        let id = RoomId::random();
        store
            .create_room(&NewRoom {
                id: id.clone(),
                problem: "bench".into(),
                created_ms: now_ms(),
                tokens: vec![],
            })
            .await?;
        rooms.push(id);
    }

    let deadline = Instant::now() + Duration::from_secs(args.seconds);
    let period = Duration::from_micros(1_000_000 / args.hz.max(1));
    let mut workers = Vec::new();
    for (i, room) in rooms.iter().cloned().enumerate() {
        let persister = persister.clone();
        workers.push(tokio::spawn(async move {
            let doc = Doc::with_client_id(i as u64 + 1);
            let text = doc.get_or_insert_text("text");
            let mut latencies = Vec::new();
            let mut refused = 0u64;
            // Spread the rooms over the period instead of firing them all at once.
            tokio::time::sleep(period.mul_f64((i as f64 * 0.618_034) % 1.0)).await;
            let mut tick = tokio::time::interval(period);
            while Instant::now() < deadline {
                tick.tick().await;
                let update = {
                    let mut txn = doc.transact_mut();
                    text.insert(&mut txn, 0, "x");
                    txn.encode_update_v1()
                };
                let sent = Instant::now();
                match persister.try_submit(room.clone(), update) {
                    Ok(saved) => {
                        if saved.await.map(|r| r.is_ok()).unwrap_or(false) {
                            latencies.push(sent.elapsed());
                        }
                    }
                    Err(_) => refused += 1,
                }
            }
            (latencies, refused)
        }));
    }
    let mut latencies = Vec::new();
    let mut refused = 0;
    for w in workers {
        let (l, r) = w.await?;
        latencies.extend(l);
        refused += r;
    }
    persister.shutdown().await?;
    task.await?;

    latencies.sort();
    let pct = |p: f64| {
        latencies
            .get(((latencies.len() as f64 * p) as usize).min(latencies.len().saturating_sub(1)))
            .map(|d| d.as_secs_f64() * 1000.0)
            .unwrap_or(f64::NAN)
    };
    let mut max_rows = 0;
    for room in &rooms {
        max_rows = max_rows.max(store.row_count(room).await?);
    }
    let backend = format!("{:?}", store.backend());
    let line = format!(
        "persist_bench backend={backend} rooms={} hz={} seconds={} interval_ms={} updates={} refused={} \
         p50_ms={:.2} p90_ms={:.2} p99_ms={:.2} max_ms={:.2} compactions={} max_rows_per_room={}",
        args.rooms,
        args.hz,
        args.seconds,
        args.interval_ms,
        latencies.len(),
        refused,
        pct(0.50),
        pct(0.90),
        pct(0.99),
        latencies
            .last()
            .map(|d| d.as_secs_f64() * 1000.0)
            .unwrap_or(f64::NAN),
        metrics
            .compactions
            .load(std::sync::atomic::Ordering::Relaxed),
        max_rows,
    );
    println!("{line}");
    if let Some(parent) = args.out.parent() {
        std::fs::create_dir_all(parent)?;
    }
    use std::io::Write;
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&args.out)?;
    writeln!(f, "{line}")?;
    store.close().await;
    if let Some(s) = scratch {
        s.drop_now().await?;
    }
    Ok(())
}
