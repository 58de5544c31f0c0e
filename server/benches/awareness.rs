//! Awareness benchmark: what one cursor move costs the room's awareness code, per message.
//!
//! A cursor move is an awareness update of one entry, the web client's state shape (`user` with
//! name and colour, `cursor` in canvas coordinates), a fresh clock each time. Two costs:
//! - `table`: the room's table taking it from its owner (`AwarenessTable::apply_owned`, the state
//!   kept as a slice of the message, as the room does for a move that came alone);
//! - `names`: what an interview room adds, reading the display names the relayed update announces
//!   for the session report's participants (`awareness::named_states`).
//!
//! Each figure is the median and p99 over 50 batches of 10,000 moves, per move. Prints them and
//! writes `bench/results/awareness.json`. Run: `cargo bench -p tierboard --bench awareness`.

mod common;

use common::{measure, round, stats, write_result};

use std::hint::black_box;
use std::time::Instant;

use bytes::{Bytes, BytesMut};
use tierboard::sync::awareness::{AwarenessTable, Keep, named_states};
use tierboard::sync::protocol::{write_buf, write_var};

/// The server's allocator (server/src/main.rs), so the figures are what the server pays.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const BATCH: usize = 10_000;
const BATCHES: usize = 50;

/// The awareness update of move `n` by client 7: one entry, its state as the web client sends it.
fn cursor_move(n: u64) -> Bytes {
    let state = format!(
        r##"{{"user":{{"name":"Candidate","color":"#2563eb"}},"cursor":{{"x":{},"y":{}}}}}"##,
        (n * 13) % 1200,
        (n * 7) % 800
    );
    let mut buf = BytesMut::new();
    write_var(&mut buf, 1);
    write_var(&mut buf, 7);
    write_var(&mut buf, n + 1);
    write_buf(&mut buf, state.as_bytes());
    buf.freeze()
}

/// Median and p99 per move, in microseconds.
fn per_move(mut batch: impl FnMut()) -> (f64, f64) {
    let (median, p99) = stats(measure(3, BATCHES, &mut batch));
    (median / BATCH as f64, p99 / BATCH as f64)
}

fn main() {
    let moves: Vec<Bytes> = (0..BATCH as u64).map(cursor_move).collect();
    let mut table: AwarenessTable<u32> = AwarenessTable::default();
    let mut changed = Vec::new();
    let now = Instant::now();
    let table_cost = per_move(|| {
        for update in &moves {
            changed.clear();
            let relay = table
                .apply_owned(1, update, now, &mut changed, Keep::SliceOfMessage)
                .expect("a valid move");
            black_box(relay);
        }
    });
    let names_cost = per_move(|| {
        for update in &moves {
            black_box(named_states(update));
        }
    });
    assert_eq!(named_states(&moves[0]), vec![(7, "Candidate".to_string())]);
    println!(
        "table: median {:.3} µs p99 {:.3} µs per cursor move",
        table_cost.0, table_cost.1
    );
    println!(
        "names: median {:.3} µs p99 {:.3} µs per cursor move (interview rooms)",
        names_cost.0, names_cost.1
    );
    // In nanoseconds: a move costs well under a microsecond.
    let figure = |(median, p99): (f64, f64)| serde_json::json!({"median_ns": round(median * 1000.0), "p99_ns": round(p99 * 1000.0)});
    write_result(
        "awareness",
        &serde_json::json!({
            "update_bytes": moves[0].len(),
            "table": figure(table_cost),
            "names": figure(names_cost),
        }),
    );
}
