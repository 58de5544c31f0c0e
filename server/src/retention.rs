//! The room retention policy (issue 25, item 8): a background task deletes rooms untouched for
//! `--room-retention-days` days (no load by any instance, no stored edit), so rooms created and
//! abandoned do not pile up forever. 0 days keeps every room.
//!
//! "Touched" is recorded by the store ([`Store::touch_room`]) when an instance loads a room, and a
//! stored row's creation time counts too; rooms loaded here are never deleted whatever their record
//! says. The task runs once shortly after start and then every [`PERIOD`], deletes at most
//! [`BATCH`] rooms per round (a backlog is worked off over rounds rather than in one long burst of
//! writes), and stops when its cancellation token is cancelled.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use crate::rooms::Rooms;
use crate::store::Store;

/// Time between two rounds.
pub const PERIOD: Duration = Duration::from_secs(3600);
/// The first round comes this long after start, out of the way of start-up.
pub const FIRST_ROUND: Duration = Duration::from_secs(60);
/// Rooms deleted per round at most.
pub const BATCH: usize = 1000;

const DAY_MS: i64 = 24 * 3600 * 1000;

/// One round: deletes the rooms untouched for `days` days as of `now_ms`, except those loaded
/// here. Returns how many were deleted.
pub async fn sweep(store: &Store, rooms: &Rooms, days: u64, now_ms: i64) -> crate::Result<usize> {
    if days == 0 {
        return Ok(0);
    }
    let cutoff = now_ms.saturating_sub(DAY_MS.saturating_mul(days as i64));
    let keep: HashSet<_> = rooms.loaded_ids().into_iter().collect();
    let deleted = store.delete_untouched_rooms(cutoff, &keep, BATCH).await?;
    for room in &deleted {
        tracing::info!(%room, days, "room deleted by the retention policy");
    }
    Ok(deleted.len())
}

/// Runs [`sweep`] every [`PERIOD`] until `cancel` is cancelled. Errors are logged; the next round
/// tries again.
pub async fn run(store: Arc<Store>, rooms: Arc<Rooms>, days: u64, cancel: CancellationToken) {
    if days == 0 {
        return;
    }
    let mut wait = FIRST_ROUND;
    loop {
        tokio::select! {
            _ = cancel.cancelled() => return,
            _ = tokio::time::sleep(wait) => {}
        }
        wait = PERIOD;
        let now = crate::clock::now_ms();
        match sweep(&store, &rooms, days, now).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(rooms = n, days, "retention policy applied"),
            Err(e) => tracing::warn!(error = %e, "retention round failed"),
        }
    }
}
