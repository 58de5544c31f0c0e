//! What the benchmarks share: timing a closure, summarising the times, writing the figures.
#![allow(dead_code)] // each benchmark uses a subset

use std::path::PathBuf;
use std::time::{Duration, Instant};

/// Runs `f` `warmup` times untimed, then `runs` times timed.
pub fn measure(warmup: usize, runs: usize, mut f: impl FnMut()) -> Vec<Duration> {
    for _ in 0..warmup {
        f();
    }
    (0..runs)
        .map(|_| {
            let start = Instant::now();
            f();
            start.elapsed()
        })
        .collect()
}

/// (median, p99) in microseconds.
pub fn stats(mut times: Vec<Duration>) -> (f64, f64) {
    times.sort_unstable();
    let at = |q: f64| times[((times.len() - 1) as f64 * q).round() as usize].as_secs_f64() * 1e6;
    (at(0.5), at(0.99))
}

/// Microseconds to one decimal.
pub fn round(us: f64) -> f64 {
    (us * 10.0).round() / 10.0
}

/// Writes `figures` to `bench/results/<name>.json` and says where.
pub fn write_result(name: &str, figures: &serde_json::Value) {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../bench/results");
    std::fs::create_dir_all(&dir).expect("create bench/results");
    let path = dir.join(format!("{name}.json"));
    std::fs::write(&path, serde_json::to_string_pretty(figures).unwrap() + "\n")
        .unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
    println!("wrote {}", path.display());
}
