//! How long a yrs client takes to decode, apply and commit one stored update, the client's share of
//! benchmark scenario 6. Prints each round and the medians.
//!
//! `cargo run --release -p tierboard-bench --example apply_time -- FILE [ROUNDS]`, where FILE holds one
//! v1 update, e.g. a room's row out of the scenario's database (`--work-dir`):
//! `python3 -c "import sqlite3; open('/tmp/row.bin', 'wb').write(sqlite3.connect('s6-tb.db')
//! .execute('select data from doc_updates limit 1').fetchone()[0])"`.

use std::time::{Duration, Instant};

use yrs::updates::decoder::Decode;
use yrs::{Doc, Transact, Update};

/// The generator's allocator, so that the figure is the generator's.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let path = args.next().ok_or("usage: apply_time FILE [ROUNDS]")?;
    let rounds: usize = args
        .next()
        .map(|r| r.parse())
        .transpose()?
        .unwrap_or(9)
        .max(1);
    let bytes = std::fs::read(&path)?;
    let mut times: [Vec<Duration>; 4] = Default::default();
    for round in 0..rounds {
        let t0 = Instant::now();
        let update = Update::decode_v1(&bytes)?;
        let t1 = Instant::now();
        let doc = Doc::new();
        let mut txn = doc.transact_mut();
        txn.apply_update(update)?;
        let t2 = Instant::now();
        txn.commit();
        drop(txn);
        let t3 = Instant::now();
        let split = [t1 - t0, t2 - t1, t3 - t2, t3 - t0];
        println!(
            "round {round}: decode {:?}, apply {:?}, commit {:?}, total {:?}",
            split[0], split[1], split[2], split[3]
        );
        for (all, t) in times.iter_mut().zip(split) {
            all.push(t);
        }
    }
    let median = |v: &mut Vec<Duration>| {
        v.sort_unstable();
        v[v.len() / 2]
    };
    let [d, a, c, t] = &mut times;
    println!(
        "{} bytes, {rounds} rounds, medians: decode {:?}, apply {:?}, commit {:?}, total {:?}",
        bytes.len(),
        median(d),
        median(a),
        median(c),
        median(t)
    );
    Ok(())
}
