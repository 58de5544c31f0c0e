//! Loading a room: subscribe to its bus channel, read its record and rows, integrate the document,
//! and the loading state machine of a room whose store holds exactly one row.
//!
//! One stored row is the whole state as one update (a compaction's snapshot, or a room's only
//! update), exactly the step 2 a client with nothing needs. Such a room integrates its document on a
//! blocking thread while its actor greets joiners (without the step 1, owed until the document is
//! there), answers empty state vectors from the row and answers status requests; every other command
//! waits, in arrival order, until the document is there. A room with several rows is integrated
//! before anything is answered.

use tokio::task::JoinHandle;
use tokio::time::Instant;
use yrs::updates::decoder::Decode;
use yrs::{Doc, Transact, Update};

use super::command::{RoomCommand, RoomDeps};
use super::conn::{ConnHandle, ConnId};
use super::core::{CoreConfig, Inbound, RoomCore, RoomStatus, Start};
use crate::bus::{RECONCILE_JITTER, Subscription};
use crate::ids::RoomId;
use crate::metrics::inc;
use crate::rows::{RowKey, StoredRow};
use crate::sync::{guard, protocol};

/// A room read from the store: its core, its bus membership and, for a one-row room, the loading
/// phase still to finish.
pub(super) struct Loaded {
    pub core: RoomCore,
    pub bus: Subscription,
    pub loading: Option<Loading>,
}

/// What the loading phase needs from the room's actor.
pub(super) trait Host {
    fn room(&self) -> &RoomId;
    fn join(&mut self, now: Instant, conn: ConnHandle);
    fn inbound(&mut self, now: Instant, conn: ConnId, messages: Vec<Inbound>);
    /// `None` once a turn panicked (the room is stopping): the reply is dropped.
    fn status(&self) -> Option<RoomStatus>;
    /// The document is there.
    fn loaded(&mut self, now: Instant, doc: Doc, loaded_keys: Vec<RowKey>);
    /// The document could not be integrated: the room stops.
    fn failed(&mut self);
}

/// The first moments of a room whose store holds one row (see the module docs).
pub(super) struct Loading {
    doc: JoinHandle<(Doc, Vec<RowKey>)>,
    /// Commands held back until the document is there; once one waits, every later one does too,
    /// so a connection's messages keep their order.
    deferred: Vec<RoomCommand>,
}

/// Whether a frame's messages can be answered before the document is there: only empty state
/// vectors (a joiner's step 1), answered from the stored row.
fn served_while_loading(messages: &[Inbound]) -> bool {
    messages
        .iter()
        .all(|m| matches!(m, Inbound::SyncStep1(sv) if sv.is_empty()))
}

/// Loads the room's document from the store. A stored row that fails to decode is logged and
/// skipped, never fatal: the rest of the room stays usable.
pub(super) async fn load(id: RoomId, deps: &RoomDeps) -> crate::Result<Loaded> {
    // Subscribe first: what other instances publish while we read the store waits in the inbox,
    // and what they published before is fetched by the announcement `run` starts with.
    let bus = deps.bus.subscribe(&id).await;
    let (record, rows) = deps.store.load_room(&id).await?;
    // In use: the retention policy keeps it another period. Off the load's path; a failure only
    // matters if the room then stays unloaded and unedited for the whole period.
    if record.is_some() {
        let store = deps.store.clone();
        let room = id.clone();
        tokio::spawn(async move {
            if let Err(e) = store.touch_room(&room, crate::clock::now_ms()).await {
                tracing::warn!(%room, error = %e, "recording the room's use failed");
            }
        });
    }
    let interview = match deps.store.load_interview(&id).await? {
        Some(json) => match crate::room::core::interview::Interview::from_stored(&json) {
            Ok(state) => Some(state),
            Err(e) => {
                tracing::error!(room = %id, error = %e, "stored interview state unreadable: starting afresh");
                None
            }
        },
        None => None,
    };
    let rows_loaded = rows.len() as u64;
    // Plus a random head start on the first snapshot: rooms loaded together (a restart, the
    // thousand rooms of benchmark scenario 3) and edited at like rates would otherwise all
    // snapshot within the same second, period after period, in waves of CPU (BENCHMARKS.md,
    // "Figures behind code choices").
    let head_start = rand::random_range(0..deps.persister.compact_rows());
    let stored_bytes = rows.iter().map(|r| r.data.len()).sum();
    let snapshot = match rows.as_slice() {
        [only] => Some(protocol::encode_step2(&only.data)),
        _ => None,
    };
    let room_id = id.clone();
    let integrate = tokio::task::spawn_blocking(move || doc_from_rows(&room_id, rows));
    let mut start = Start {
        doc: None,
        snapshot: None,
        loaded_keys: Vec::new(),
        rows_since_snapshot: rows_loaded + head_start,
        stored_bytes,
        interview,
    };
    let loading = match snapshot {
        Some(full) => {
            start.snapshot = Some(full);
            Some(Loading {
                doc: integrate,
                deferred: Vec::new(),
            })
        }
        None => {
            let (doc, loaded_keys) = integrate
                .await
                .map_err(|e| crate::Error::Internal(format!("loading room: {e}")))?;
            start.doc = Some(doc);
            start.loaded_keys = loaded_keys;
            None
        }
    };
    inc(&deps.metrics.rooms_loaded, 1);
    let config = CoreConfig {
        id,
        mode: record.as_ref().map(|r| r.mode).unwrap_or_default(),
        problem_id: record.map(|r| r.problem),
        bank: deps.bank.clone(),
        metrics: deps.metrics.clone(),
        fans_out: deps.bus.fans_out(),
        compact_rows: deps.persister.compact_rows(),
        persist_steady: deps.persist_steady,
        presence_window: deps.presence_window,
        idle: deps.idle,
        reconcile_jitter: RECONCILE_JITTER,
        limits: deps.limits,
        results: deps.results.clone(),
    };
    let core = RoomCore::new(config, Instant::now(), start);
    Ok(Loaded { core, bus, loading })
}

impl Loading {
    /// Serves what can be served while the document is integrated (greetings without step 1, step 2
    /// answers to empty state vectors, status), holds back the rest, and sends the owed step 1s once
    /// the document is there. Returns the held-back commands, or `None` when the room must stop.
    pub(super) async fn finish(
        self,
        host: &mut impl Host,
        rx: &mut crate::queue::Receiver<RoomCommand>,
    ) -> Option<Vec<RoomCommand>> {
        let mut loading = self;
        loop {
            tokio::select! {
                doc = &mut loading.doc => match doc {
                    Ok((doc, loaded_keys)) => {
                        host.loaded(Instant::now(), doc, loaded_keys);
                        return Some(loading.deferred);
                    }
                    Err(e) => {
                        tracing::error!(room = %host.room(), error = %e, "loading room failed");
                        host.failed();
                        return None;
                    }
                },
                cmd = rx.recv() => {
                    let Some(cmd) = cmd else {
                        // Nobody can reach the room any more; the stored rows stay as they are.
                        return None;
                    };
                    if !loading.deferred.is_empty() {
                        loading.deferred.push(cmd);
                        continue;
                    }
                    let now = Instant::now();
                    match cmd {
                        RoomCommand::Join { conn, reply } => {
                            host.join(now, conn);
                            let _ = reply.send(Ok(()));
                        }
                        RoomCommand::Inbound { conn, messages } if served_while_loading(&messages) => {
                            host.inbound(now, conn, messages);
                        }
                        RoomCommand::Status { reply } => {
                            if let Some(status) = host.status() {
                                let _ = reply.send(status);
                            }
                        }
                        other => loading.deferred.push(other),
                    }
                }
            }
        }
    }
}

/// A document made of the stored rows, and the keys of the rows it holds. Every row goes through the
/// guard ([`guard::apply_guarded_in`]): a row stored before the guard existed (or by an instance
/// without it) that would poison the document is refused like a client's update. A row that fails to
/// decode or apply is logged and skipped, never fatal: the rest of the room stays usable, and the row
/// stays stored (no snapshot replaces it). Rows come in no particular order, so a row that starts
/// beyond what the document has of a client ([`guard::Rejected::Gap`]) is tried again after the
/// others, until a round applies none. Blocking: run it off the executor.
pub(super) fn doc_from_rows(room: &RoomId, rows: Vec<StoredRow>) -> (Doc, Vec<RowKey>) {
    let doc = Doc::new();
    let mut applied = Vec::with_capacity(rows.len());
    {
        let mut txn = doc.transact_mut();
        let mut todo: Vec<(usize, StoredRow)> = rows.into_iter().enumerate().collect();
        loop {
            let before = todo.len();
            let mut waiting = Vec::new();
            for (i, row) in todo {
                let update = match Update::decode_v1(&row.data) {
                    Ok(update) => update,
                    Err(e) => {
                        tracing::error!(room = %room, row = i, error = %e, "stored update failed to decode");
                        continue;
                    }
                };
                match guard::apply_guarded_in(&mut txn, update, Some(&row.data)) {
                    Ok(_) => applied.push(row.key),
                    Err(guard::Rejected::Gap { .. }) => waiting.push((i, row)),
                    Err(e) => {
                        tracing::error!(room = %room, row = i, error = %e, "stored update refused")
                    }
                }
            }
            if waiting.is_empty() || waiting.len() == before {
                for (i, _) in &waiting {
                    tracing::error!(room = %room, row = i, "stored update waits for clocks no row has; left as is");
                }
                break;
            }
            todo = waiting;
        }
    }
    (doc, applied)
}
