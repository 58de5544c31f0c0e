//! The registry of loaded rooms: get-or-load, idle unload, shutdown.
//!
//! The registry starts rooms and stops them; a room never calls back into it. A room that is idle
//! closes its own mailbox and ends with [`Exit::Idle`]; the registry's task then removes its entry
//! (unless a newer actor already replaced it: a join that found the closed mailbox starts one) and
//! compacts the room. A join racing the unload either reaches the old mailbox before it closes (its
//! reply is dropped, and [`Rooms::join`] retries) or finds it closed and starts a fresh actor.
//!
//! A std `Mutex` guards the map: it is held only for a lookup or an insert, never across an `.await`,
//! so it cannot stall the executor. A room's actor loads its own document after it is registered, so
//! the lock is never held while the store is read; joins queue in the mailbox meanwhile.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use tokio::sync::oneshot;
use tokio_util::task::TaskTracker;

use crate::close::CloseCode;
use crate::ids::RoomId;
use crate::queue;
use crate::room::{
    ConnHandle, Exit, Room, RoomCommand, RoomDeps, RoomHandle, RoomShared, RoomStatus,
};

/// Commands a room's mailbox holds before senders wait. WebSocket readers await a free slot, which
/// slows a flooding client down instead of growing memory.
const MAILBOX: usize = 1024;

pub struct Rooms {
    map: Arc<Mutex<HashMap<RoomId, RoomHandle>>>,
    deps: RoomDeps,
    tracker: TaskTracker,
    generation: AtomicU64,
}

impl Rooms {
    pub fn new(deps: RoomDeps) -> Rooms {
        Rooms {
            map: Arc::new(Mutex::new(HashMap::new())),
            deps,
            tracker: TaskTracker::new(),
            generation: AtomicU64::new(0),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<RoomId, RoomHandle>> {
        // A panic while holding this lock cannot leave the map half-updated (single inserts and
        // removes), so a poisoned lock is safe to keep using.
        self.map.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The running actor for `id`, started if needed. The caller has checked that the room exists.
    pub fn get_or_start(&self, id: &RoomId) -> RoomHandle {
        let mut map = self.lock();
        if let Some(handle) = map.get(id)
            && !handle.tx.is_closed()
        {
            return handle.clone();
        }
        let (tx, rx) = queue::channel(MAILBOX);
        let generation = self.generation.fetch_add(1, Ordering::Relaxed);
        let shared = Arc::new(RoomShared::default());
        let handle = RoomHandle {
            tx: tx.clone(),
            shared: shared.clone(),
            generation,
        };
        map.insert(id.clone(), handle.clone());
        drop(map);

        let deps = self.deps.clone();
        let map = self.map.clone();
        let room_id = id.clone();
        let weak = tx.downgrade();
        drop(tx);
        let store = deps.store.clone();
        // The loaded `Room` goes straight into a boxed `run`, out of an arm with no `.await` in it:
        // held across the await (as the match's own value was), every loaded room kept 5 KB more
        // in this task for its whole life (BENCHMARKS.md, scenario 4).
        let task = async move {
            let run: Pin<Box<dyn Future<Output = Exit> + Send>> =
                match Box::pin(Room::load(room_id.clone(), deps, shared)).await {
                    Ok(room) => Box::pin(room.run(rx, weak)),
                    Err(e) => {
                        tracing::error!(room = %room_id, error = %e, "loading room failed");
                        // Dropping the receiver fails every queued join; their sockets close with 1011.
                        Box::pin(std::future::ready(Exit::Stopped))
                    }
                };
            let exit = run.await;
            // The actor has closed its mailbox: a join from here on starts a fresh actor, which
            // this removal must not forget.
            remove_if_current(&map, &room_id, generation);
            if exit == Exit::Idle {
                // One stored row makes the next load fast (joiners are answered from it while the
                // document is integrated). A failure only means a slower next load.
                if let Err(e) = Box::pin(store.compact(&room_id)).await {
                    tracing::warn!(room = %room_id, error = %e, "compacting an unloaded room failed");
                }
            }
        };
        self.tracker.spawn(task);
        handle
    }

    /// Adds a connection to a room, starting the room if needed.
    pub async fn join(&self, id: &RoomId, conn: ConnHandle) -> crate::Result<RoomHandle> {
        // A few attempts: the room may be unloading itself just as we join (its mailbox closes or
        // drops our request), in which case a fresh actor is started.
        for _ in 0..3 {
            let handle = self.get_or_start(id);
            let (reply, rx) = oneshot::channel();
            if handle
                .tx
                .send(RoomCommand::Join {
                    conn: conn.clone(),
                    reply,
                })
                .await
                .is_err()
            {
                continue;
            }
            match rx.await {
                Ok(result) => return result.map(|()| handle),
                Err(_) => continue,
            }
        }
        Err(crate::Error::Unavailable(format!(
            "room {id} could not be loaded"
        )))
    }

    /// The room's current validation result, loading the room if needed.
    pub async fn validation(
        &self,
        id: &RoomId,
    ) -> crate::Result<Option<Arc<crate::validation::ValidationResult>>> {
        for _ in 0..3 {
            let handle = self.get_or_start(id);
            let (reply, rx) = oneshot::channel();
            if handle
                .tx
                .send(RoomCommand::Validation { reply })
                .await
                .is_err()
            {
                continue;
            }
            if let Ok(result) = rx.await {
                return Ok(result);
            }
        }
        Err(crate::Error::Unavailable(format!(
            "room {id} could not be loaded"
        )))
    }

    /// Closes the connections holding `tokens` (just revoked in the store), here and, through the
    /// room's bus channel, on every instance. Loads the room if needed: that is what publishes.
    pub async fn revoke(
        &self,
        id: &RoomId,
        tokens: Vec<crate::ids::TokenHash>,
    ) -> crate::Result<()> {
        for _ in 0..3 {
            let handle = self.get_or_start(id);
            let cmd = RoomCommand::Revoke {
                tokens: tokens.clone(),
            };
            // A closed mailbox: the room was unloading itself; the next attempt starts a fresh one.
            if handle.tx.send(cmd).await.is_ok() {
                return Ok(());
            }
        }
        Err(crate::Error::Unavailable(format!(
            "room {id} could not be loaded"
        )))
    }

    /// Whether the host of an interview room has revealed the reference solution to the room.
    pub async fn solution_revealed(&self, id: &RoomId) -> crate::Result<bool> {
        self.ask(id, |reply| RoomCommand::SolutionRevealed { reply })
            .await
    }

    /// Applies a host action in the room, loading it if needed; the room's new public state.
    pub async fn host_action(
        &self,
        id: &RoomId,
        action: crate::room::HostAction,
    ) -> crate::Result<serde_json::Value> {
        self.ask(id, |reply| RoomCommand::HostAction {
            action: action.clone(),
            reply,
        })
        .await?
        .map_err(|e| match e {
            crate::room::ActionError::TooFast => {
                crate::Error::RateLimited(std::time::Duration::from_secs(1))
            }
            e => crate::Error::BadRequest(e.to_string()),
        })
    }

    /// Sends the room (loading it if needed) the command `make` builds and awaits its reply. A few
    /// attempts: the room may be unloading itself just as we ask (see [`Rooms::join`]).
    async fn ask<T>(
        &self,
        id: &RoomId,
        make: impl Fn(oneshot::Sender<T>) -> RoomCommand,
    ) -> crate::Result<T> {
        for _ in 0..3 {
            let handle = self.get_or_start(id);
            let (reply, rx) = oneshot::channel();
            if handle.tx.send(make(reply)).await.is_err() {
                continue;
            }
            if let Ok(answer) = rx.await {
                return Ok(answer);
            }
        }
        Err(crate::Error::Unavailable(format!(
            "room {id} could not be loaded"
        )))
    }

    /// Live figures of a loaded room; `None` when it is not loaded here.
    pub async fn status(&self, id: &RoomId) -> Option<RoomStatus> {
        let handle = self.lock().get(id).cloned()?;
        let (reply, rx) = oneshot::channel();
        handle.tx.send(RoomCommand::Status { reply }).await.ok()?;
        rx.await.ok()
    }

    pub fn loaded(&self) -> usize {
        self.lock().len()
    }

    /// The ids of the rooms loaded here (the retention policy never deletes them).
    pub fn loaded_ids(&self) -> Vec<RoomId> {
        self.lock().keys().cloned().collect()
    }

    /// Room tasks still running, including rooms that have left the map and are finishing (their
    /// last tier transitions, the compaction after an idle unload).
    pub fn running(&self) -> usize {
        self.tracker.len()
    }

    /// Flushes every room's pending updates to the persister; returns the rooms it flushed. The
    /// caller flushes the persister, then calls [`Rooms::close_all`].
    pub async fn flush_all(&self) -> Vec<RoomId> {
        let rooms: Vec<(RoomId, RoomHandle)> = self
            .lock()
            .iter()
            .map(|(id, h)| (id.clone(), h.clone()))
            .collect();
        let mut flushed = Vec::with_capacity(rooms.len());
        for (id, handle) in rooms {
            let (reply, rx) = oneshot::channel();
            if handle
                .tx
                .send(RoomCommand::Shutdown { reply })
                .await
                .is_ok()
            {
                let _ = rx.await;
            }
            flushed.push(id);
        }
        flushed
    }

    pub async fn close_all(&self, code: CloseCode) {
        let handles: Vec<RoomHandle> = self.lock().drain().map(|(_, h)| h).collect();
        for handle in handles {
            let _ = handle.tx.send(RoomCommand::CloseAll { code }).await;
        }
        self.tracker.close();
        self.tracker.wait().await;
    }
}

/// Forgets the room's actor of `generation` once it has ended. False when a newer actor already
/// took its place (a join found the old mailbox closed and started one) or it is already gone.
fn remove_if_current(
    map: &Mutex<HashMap<RoomId, RoomHandle>>,
    id: &RoomId,
    generation: u64,
) -> bool {
    let mut map = map.lock().unwrap_or_else(|e| e.into_inner());
    match map.get(id) {
        Some(handle) if handle.generation == generation => {
            map.remove(id);
            true
        }
        Some(_) | None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn handle(generation: u64) -> RoomHandle {
        let (tx, _rx) = queue::channel(1);
        RoomHandle {
            tx,
            shared: Arc::new(RoomShared::default()),
            generation,
        }
    }

    #[test]
    fn an_ended_actor_never_removes_the_one_that_replaced_it() {
        let map = Mutex::new(HashMap::new());
        let id = RoomId::random();
        // A join found generation 1's mailbox closed and registered generation 2.
        map.lock().unwrap().insert(id.clone(), handle(2));
        assert!(!remove_if_current(&map, &id, 1), "replaced: not removed");
        assert_eq!(map.lock().unwrap()[&id].generation, 2);
        assert!(remove_if_current(&map, &id, 2));
        assert!(map.lock().unwrap().is_empty());
        assert!(!remove_if_current(&map, &id, 2), "already gone");
    }
}
