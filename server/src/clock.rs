//! Wall-clock time for what is stored or shown (creation times, tier transitions). Durations and
//! timers use `tokio::time::Instant` instead, so tests can pause and advance them.

use std::time::{SystemTime, UNIX_EPOCH};

/// Current wall-clock time in epoch milliseconds.
pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}
