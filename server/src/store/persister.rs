//! Group commit: one task writes the accepted updates of every room, one transaction per batch.
//!
//! Rooms hand each accepted update to [`Persister::try_submit`], which never waits: the room's fan-out
//! path must not depend on the disk. The persister task collects submissions for at most `interval`
//! after the first one of a batch (or until [`MAX_BATCH_UPDATES`] / [`MAX_BATCH_BYTES`], or a flush),
//! merges each room's updates into one row with `yrs::merge_updates_v1`, writes all rooms' rows in one
//! transaction ([`Store::append`]) and then resolves every submission's receiver. With the default 50 ms
//! interval an accepted update is durable well within 100 ms unless the database itself is slower.
//!
//! ## Queue policy
//! The queue is bounded ([`QUEUE_CAPACITY`]). When it is full, `try_submit` hands the update back and the
//! room keeps it and offers it again on its next tick; nothing is dropped.
//!
//! ## Failures
//! A failed commit is logged and its data kept: it is retried, merged with later submissions, after a
//! backoff (100 ms doubling to 5 s). Its submissions stay unanswered until a commit stores their data,
//! so an answer `Ok` always means stored, and a room with unanswered submissions knows it holds unsaved
//! edits (it does not unload; its clients are not told "saved"). Only if the task stops with data it
//! could not store are they answered with an error. During the backoff the task stops reading the
//! queue, so it fills and rooms keep their updates themselves (the policy above) instead of this task
//! buffering without bound. Commits happen in submission order and retained data is part of every
//! later attempt, so an `Ok` for a room means its earlier updates are stored too.
//!
//! ## Compaction
//! A room usually compacts itself: every `compact_rows` submissions it submits its whole document as a
//! snapshot ([`Persister::try_submit_snapshot`]), which the commit stores in place of the rows it
//! covers (the `store` module docs, "Snapshots from the room"). The task also counts the rows it
//! appends per room (starting from [`Store::row_counts`] the first time it writes a room; a room's
//! snapshot resets the count) and, once a room holds more than `compact_rows` all the same (a room
//! too large to snapshot on its own task), compacts it from the stored rows in a background task
//! ([`MAX_COMPACTIONS`] at a time), never on the commit path. See the `store` module docs for the bound
//! on stored rows this gives.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinSet;
use tokio::time::Instant;

use super::{CompactOutcome, NewRow, RowKey, Store};
use crate::error::{Error, Result};
use crate::ids::RoomId;
use crate::metrics::{Metrics, inc};

/// Submissions the queue holds before `try_submit` hands updates back.
pub const QUEUE_CAPACITY: usize = 8192;
/// A batch is committed early once it holds this many updates...
pub const MAX_BATCH_UPDATES: usize = 4096;
/// ...or this many bytes.
pub const MAX_BATCH_BYTES: usize = 8 * 1024 * 1024;
/// Compactions that run at once (SQLite has one writer anyway).
pub const MAX_COMPACTIONS: usize = 2;
/// Commit attempts at shutdown before giving up (and logging what is lost).
const SHUTDOWN_ATTEMPTS: u32 = 5;
const BACKOFF_START: Duration = Duration::from_millis(100);
const BACKOFF_MAX: Duration = Duration::from_secs(5);
/// The SQLite journal (store module docs) is folded into the log once its oldest row is this old...
pub const FOLD_INTERVAL: Duration = Duration::from_secs(1);
/// ...or once it holds this many rows: loading a room scans the journal, so it must stay small.
pub const FOLD_ROWS: u64 = 50_000;
/// Per-room row counters not touched for this long are forgotten (re-read from the store on next use),
/// so the map does not grow with every room ever written.
const COUNTER_IDLE: Duration = Duration::from_secs(600);

/// The receiver side of one submission: `Ok(())` once the update is committed.
pub type Saved = oneshot::Receiver<Result<()>>;

/// Called on the persister task with the outcome of one submission's commit. It must not block:
/// a room's callback hands the result to the room's queue (see [`Persister::try_submit_with`]).
pub type OnSaved = Box<dyn FnOnce(Result<()>) + Send>;

/// A submission's callback, called exactly once: with the commit's outcome, or, if the persister
/// drops it unanswered (its task ended), with an error, as a dropped receiver would have told.
struct Waiter(Option<OnSaved>);

impl Waiter {
    fn call(mut self, result: Result<()>) {
        if let Some(done) = self.0.take() {
            done(result);
        }
    }
}

impl Drop for Waiter {
    fn drop(&mut self) {
        if let Some(done) = self.0.take() {
            done(Err(Error::Internal("persister stopped".into())));
        }
    }
}

enum Command {
    Update {
        room: RoomId,
        update: Vec<u8>,
        /// Set for a room's snapshot: the rows it replaces besides the instance's own older ones.
        replaces: Option<Vec<RowKey>>,
        at: Instant,
        done: Waiter,
    },
    Flush(oneshot::Sender<Result<()>>),
    Shutdown(oneshot::Sender<Result<()>>),
}

/// Handle to the persister task. Cheap to clone; every room holds one.
#[derive(Debug, Clone)]
pub struct Persister {
    tx: mpsc::Sender<Command>,
    compact_rows: u64,
}

impl Persister {
    /// Starts the persister task. `compact_rows` is the row count above which a room is compacted.
    pub fn spawn(
        store: Arc<Store>,
        interval: Duration,
        compact_rows: u64,
        metrics: Arc<Metrics>,
    ) -> (Persister, tokio::task::JoinHandle<()>) {
        let (tx, rx) = mpsc::channel(QUEUE_CAPACITY);
        let compact_rows = compact_rows.max(1);
        let worker = Worker {
            store,
            metrics,
            interval,
            compact_rows,
            rx,
            pending: HashMap::new(),
            pending_updates: 0,
            pending_bytes: 0,
            batch_started: None,
            waiters: Vec::new(),
            flushers: Vec::new(),
            backoff: None,
            counters: HashMap::new(),
            compacting: HashSet::new(),
            compact_queue: VecDeque::new(),
            compactions: JoinSet::new(),
            compaction_rooms: HashMap::new(),
            commits: 0,
            journal: Journal::default(),
        };
        let handle = tokio::spawn(worker.run());
        (Persister { tx, compact_rows }, handle)
    }

    /// The row count above which a room is compacted: rooms snapshot themselves at this many
    /// submissions.
    pub fn compact_rows(&self) -> u64 {
        self.compact_rows
    }

    /// Queues an update of `room` for storage. Never blocks: when the queue is full (or the persister
    /// has stopped) the update is handed back and the caller keeps it and retries later.
    pub fn try_submit(&self, room: RoomId, update: Vec<u8>) -> Result<Saved, Vec<u8>> {
        let (done, saved) = oneshot::channel();
        self.try_submit_with(
            room,
            update,
            Box::new(move |result| {
                let _ = done.send(result);
            }),
        )?;
        Ok(saved)
    }

    /// [`Persister::try_submit`] with a callback instead of a receiver: `done` runs on the persister
    /// task once the commit that carries the update has succeeded or failed. Rooms use this to put the
    /// acknowledgement straight into their own queue; a receiver would need a task per submission to
    /// wait on it (one spawn per edit in a busy room).
    pub fn try_submit_with(
        &self,
        room: RoomId,
        update: Vec<u8>,
        done: OnSaved,
    ) -> Result<(), Vec<u8>> {
        self.try_send_update(room, update, None, done)
            .map_err(|(update, _)| update)
    }

    /// [`Persister::try_submit_with`] for a snapshot: the whole document of `room` as this process
    /// holds it, encoded after every update the room submitted before. Its commit deletes this
    /// instance's older rows of the room and the rows `replaces` names (keys of stored rows the room
    /// was loaded from), all of which the snapshot holds (store module docs, "Snapshots from the
    /// room"). When the queue is full, `replaces` is handed back (the snapshot is not needed again: the
    /// next attempt encodes the document as it is then).
    pub fn try_submit_snapshot(
        &self,
        room: RoomId,
        snapshot: Vec<u8>,
        replaces: Vec<RowKey>,
        done: OnSaved,
    ) -> Result<(), Vec<RowKey>> {
        self.try_send_update(room, snapshot, Some(replaces), done)
            .map_err(|(_, replaces)| replaces.unwrap_or_default())
    }

    fn try_send_update(
        &self,
        room: RoomId,
        update: Vec<u8>,
        replaces: Option<Vec<RowKey>>,
        done: OnSaved,
    ) -> Result<(), (Vec<u8>, Option<Vec<RowKey>>)> {
        let cmd = Command::Update {
            room,
            update,
            replaces,
            at: Instant::now(),
            done: Waiter(Some(done)),
        };
        match self.tx.try_send(cmd) {
            Ok(()) => Ok(()),
            Err(mpsc::error::TrySendError::Full(cmd) | mpsc::error::TrySendError::Closed(cmd)) => {
                match cmd {
                    Command::Update {
                        update,
                        replaces,
                        mut done,
                        ..
                    } => {
                        // Not queued: the caller keeps the update, so nothing is to be answered.
                        done.0 = None;
                        Err((update, replaces))
                    }
                    _ => unreachable!("try_submit only sends updates"),
                }
            }
        }
    }

    /// Resolves once everything submitted before this call is committed (or with the error of the
    /// attempt that failed to commit it).
    pub async fn flush(&self) -> Result<()> {
        self.request(Command::Flush).await
    }

    /// Commits what is queued (retrying a few times), waits for running compactions and stops the task.
    pub async fn shutdown(self) -> Result<()> {
        self.request(Command::Shutdown).await
    }

    async fn request(&self, make: fn(oneshot::Sender<Result<()>>) -> Command) -> Result<()> {
        let (done, result) = oneshot::channel();
        self.tx
            .send(make(done))
            .await
            .map_err(|_| Error::Unavailable("the persister has stopped".into()))?;
        result
            .await
            .map_err(|_| Error::Internal("the persister stopped before answering".into()))?
    }
}

/// What this process has appended to the SQLite journal since the last fold.
#[derive(Default)]
struct Journal {
    rows: u64,
    /// Rows per room: the most any one room has bounds the rows a compaction cannot see yet.
    per_room: HashMap<RoomId, u64>,
    most_per_room: u64,
    /// When the oldest of those rows was committed.
    since: Option<Instant>,
    /// After a failed fold: not again before this, whatever else is due (no retry loop while the
    /// database is down).
    retry_at: Option<Instant>,
}

/// What a batch holds for one room.
#[derive(Default)]
struct PendingRoom {
    updates: Vec<Vec<u8>>,
    /// Set once the room's snapshot joined the batch: `updates` then starts with it.
    replaces: Option<Vec<RowKey>>,
}

/// Row counter of one room, as this process knows it.
struct Counter {
    rows: u64,
    touched: Instant,
    /// `rows` when the room's latest compaction was queued.
    at_dispatch: u64,
}

struct Worker {
    store: Arc<Store>,
    metrics: Arc<Metrics>,
    interval: Duration,
    compact_rows: u64,
    rx: mpsc::Receiver<Command>,
    /// Updates not yet committed, per room. After a failed commit each room's entry is its merged data.
    pending: HashMap<RoomId, PendingRoom>,
    pending_updates: usize,
    pending_bytes: usize,
    /// Submission time of the oldest update of the current batch.
    batch_started: Option<Instant>,
    waiters: Vec<(Instant, Waiter)>,
    flushers: Vec<oneshot::Sender<Result<()>>>,
    /// Set after a failed commit: the time of the next attempt and the current delay.
    backoff: Option<(Instant, Duration)>,
    counters: HashMap<RoomId, Counter>,
    compacting: HashSet<RoomId>,
    compact_queue: VecDeque<RoomId>,
    compactions: JoinSet<(RoomId, Result<CompactOutcome>)>,
    /// Which room each compaction task works on, to clear its mark even if the task panics.
    compaction_rooms: HashMap<tokio::task::Id, RoomId>,
    commits: u64,
    journal: Journal,
}

/// What the loop should do after taking one command.
enum Next {
    Continue,
    CommitNow,
    Shutdown(oneshot::Sender<Result<()>>),
}

impl Worker {
    async fn run(mut self) {
        loop {
            let due = match (self.next_commit_at(), self.fold_at()) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
            let reading = self.backoff.is_none();
            let next = tokio::select! {
                cmd = self.rx.recv(), if reading => match cmd {
                    Some(cmd) => self.take(cmd),
                    // Every handle is gone: store what is left and stop.
                    None => {
                        let (done, _) = oneshot::channel();
                        Next::Shutdown(done)
                    }
                },
                _ = tokio::time::sleep_until(due.unwrap_or_else(Instant::now)), if due.is_some() => {
                    Next::CommitNow
                }
                Some(joined) = self.compactions.join_next_with_id(), if !self.compactions.is_empty() => {
                    self.compaction_done(joined).await;
                    Next::Continue
                }
            };
            match next {
                Next::Continue => {}
                Next::CommitNow => {
                    self.drain_ready();
                    // A failure is logged, reported to the waiters and retried inside `commit`.
                    let _ = self.commit().await;
                    if self.fold_at().is_some_and(|at| at <= Instant::now()) {
                        self.fold().await;
                    }
                }
                Next::Shutdown(done) => {
                    let result = self.shutdown().await;
                    let _ = done.send(result);
                    return;
                }
            }
        }
    }

    /// When the current batch must be committed: its deadline, the end of a backoff, or never (empty).
    fn next_commit_at(&self) -> Option<Instant> {
        if let Some((retry_at, _)) = self.backoff {
            return Some(retry_at);
        }
        if !self.flushers.is_empty() {
            return Some(Instant::now());
        }
        self.batch_started.map(|t| t + self.interval)
    }

    /// When the journal must be folded: [`FOLD_INTERVAL`] after its oldest row, at once when it holds
    /// [`FOLD_ROWS`] rows or a room has `compact_rows` rows in it, never when it is empty.
    fn fold_at(&self) -> Option<Instant> {
        let j = &self.journal;
        let since = j.since?;
        let due = if j.rows >= FOLD_ROWS || j.most_per_room >= self.compact_rows {
            since
        } else {
            since + FOLD_INTERVAL
        };
        Some(j.retry_at.map_or(due, |retry| due.max(retry)))
    }

    /// Counts the rows a commit just added to the journal.
    fn journaled(&mut self, batch: &[NewRow]) {
        if !self.store.has_journal() {
            return;
        }
        let j = &mut self.journal;
        j.since.get_or_insert_with(Instant::now);
        for NewRow { room, .. } in batch {
            j.rows += 1;
            // A room id is cloned only the first time it enters the journal since the last fold.
            let n = match j.per_room.get_mut(room) {
                Some(n) => n,
                None => j.per_room.entry(room.clone()).or_default(),
            };
            *n += 1;
            j.most_per_room = j.most_per_room.max(*n);
        }
    }

    /// Moves the journal into the log. On failure the rows stay where they are (still loaded with their
    /// rooms) and the next attempt comes one [`FOLD_INTERVAL`] later.
    async fn fold(&mut self) {
        match self.store.fold_journal().await {
            Ok(rows) => {
                tracing::debug!(rows, "journal folded");
                self.journal = Journal::default();
            }
            Err(e) => {
                tracing::error!(error = %e, rows = self.journal.rows, "folding the journal failed; retrying later");
                inc(&self.metrics.errors, 1);
                self.journal.retry_at = Some(Instant::now() + FOLD_INTERVAL);
            }
        }
    }

    fn take(&mut self, cmd: Command) -> Next {
        match cmd {
            Command::Update {
                room,
                update,
                replaces,
                at,
                done,
            } => {
                let entry = self.pending.entry(room).or_default();
                if let Some(keys) = replaces {
                    // The snapshot holds every update of the room submitted before it, so those
                    // go; keys named by an earlier snapshot in the batch are still to be deleted.
                    self.pending_updates -= entry.updates.len();
                    self.pending_bytes -= entry.updates.iter().map(Vec::len).sum::<usize>();
                    entry.updates.clear();
                    entry.replaces.get_or_insert_with(Vec::new).extend(keys);
                }
                self.pending_updates += 1;
                self.pending_bytes += update.len();
                entry.updates.push(update);
                self.waiters.push((at, done));
                self.batch_started.get_or_insert(at);
                if self.pending_updates >= MAX_BATCH_UPDATES
                    || self.pending_bytes >= MAX_BATCH_BYTES
                {
                    Next::CommitNow
                } else {
                    Next::Continue
                }
            }
            Command::Flush(done) => {
                self.flushers.push(done);
                if self.backoff.is_some() {
                    Next::Continue
                } else {
                    Next::CommitNow
                }
            }
            Command::Shutdown(done) => Next::Shutdown(done),
        }
    }

    /// Takes what is already queued without waiting, so a commit carries everything submitted so far.
    fn drain_ready(&mut self) {
        while self.pending_updates < MAX_BATCH_UPDATES {
            let Ok(cmd) = self.rx.try_recv() else { break };
            match self.take(cmd) {
                Next::Continue | Next::CommitNow => {}
                // Rare: re-queueing is impossible, so remember it as a flush and stop at once after.
                Next::Shutdown(done) => {
                    self.flushers.push(done);
                    self.rx.close();
                    break;
                }
            }
        }
    }

    /// One commit attempt of everything pending. `Ok` means it is all stored.
    async fn commit(&mut self) -> Result<()> {
        if self.pending.is_empty() {
            self.batch_started = None;
            for f in self.flushers.drain(..) {
                let _ = f.send(Ok(()));
            }
            return Ok(());
        }
        let pending = std::mem::take(&mut self.pending);
        let updates = self.pending_updates;
        // Merging decodes every update: CPU work that stays off the async executor.
        let batch = tokio::task::spawn_blocking(move || merge_batch(pending))
            .await
            .map_err(|e| Error::Internal(format!("merge task failed: {e}")));
        let batch = match batch {
            Ok(batch) => batch,
            Err(e) => {
                // Only if the runtime is shutting down: merge_batch catches decode errors and panics.
                tracing::error!(error = %e, updates, "persist batch lost");
                inc(&self.metrics.errors, 1);
                for (_, done) in self.waiters.drain(..) {
                    done.call(Err(Error::Internal(format!("not saved: {e}"))));
                }
                self.fail_flushers(&e);
                self.reset_batch();
                return Err(e);
            }
        };
        match self.store.append_rows(&batch).await {
            Ok(()) => {
                let now = Instant::now();
                for (at, done) in self.waiters.drain(..) {
                    self.metrics.persist_latency.observe(now - at);
                    done.call(Ok(()));
                }
                for f in self.flushers.drain(..) {
                    let _ = f.send(Ok(()));
                }
                inc(&self.metrics.persisted_updates, updates as u64);
                self.reset_batch();
                self.backoff = None;
                self.journaled(&batch);
                self.count_rows(batch).await;
                Ok(())
            }
            Err(e) => {
                let delay = self
                    .backoff
                    .map(|(_, d)| (d * 2).min(BACKOFF_MAX))
                    .unwrap_or(BACKOFF_START);
                tracing::error!(error = %e, updates, rooms = batch.len(), retry_in_ms = delay.as_millis() as u64,
                    "persist commit failed; keeping the data and retrying");
                inc(&self.metrics.errors, 1);
                // The submissions stay unanswered until their data is stored (module docs).
                self.fail_flushers(&e);
                // Keep the (already merged) data; later submissions join it on the next attempt.
                self.pending_updates = batch.len();
                self.pending_bytes = batch.iter().map(|r| r.data.len()).sum();
                for row in batch {
                    let entry = self.pending.entry(row.room).or_default();
                    entry.updates.push(row.data);
                    if let Some(keys) = row.replaces {
                        entry.replaces.get_or_insert_with(Vec::new).extend(keys);
                    }
                }
                self.backoff = Some((Instant::now() + delay, delay));
                Err(e)
            }
        }
    }

    fn fail_flushers(&mut self, e: &Error) {
        let msg = format!("not saved yet (the server keeps it and retries): {e}");
        for f in self.flushers.drain(..) {
            let _ = f.send(Err(Error::Unavailable(msg.clone())));
        }
    }

    fn reset_batch(&mut self) {
        self.pending_updates = 0;
        self.pending_bytes = 0;
        self.batch_started = None;
    }

    /// Counts one new row for each room just written (a room's snapshot leaves it one) and queues
    /// compaction where it is due.
    async fn count_rows(&mut self, batch: Vec<NewRow>) {
        let now = Instant::now();
        // Rooms written for the first time: one grouped query for all of them, not one per room.
        let unknown: Vec<RoomId> = batch
            .iter()
            .filter(|r| r.replaces.is_none() && !self.counters.contains_key(&r.room))
            .map(|r| r.room.clone())
            .collect();
        let mut first = if unknown.is_empty() {
            HashMap::new()
        } else {
            match self.store.row_counts(&unknown).await {
                Ok(counts) => counts,
                Err(e) => {
                    tracing::warn!(error = %e, rooms = unknown.len(), "cannot count stored rows");
                    HashMap::new()
                }
            }
        };
        for NewRow { room, replaces, .. } in batch {
            let counter = match (self.counters.get_mut(&room), replaces.is_some()) {
                (Some(c), false) => {
                    c.rows += 1;
                    c
                }
                (Some(c), true) => {
                    c.rows = 1;
                    c.at_dispatch = 0;
                    c
                }
                (None, true) => self.counters.entry(room.clone()).or_insert(Counter {
                    rows: 1,
                    touched: now,
                    at_dispatch: 0,
                }),
                // A room whose count failed stays unknown and is counted on its next commit.
                (None, false) => match first.remove(&room) {
                    Some(rows) => self.counters.entry(room.clone()).or_insert(Counter {
                        rows,
                        touched: now,
                        at_dispatch: 0,
                    }),
                    None => continue,
                },
            };
            counter.touched = now;
            if counter.rows > self.compact_rows && !self.compacting.contains(&room) {
                counter.at_dispatch = counter.rows;
                self.compacting.insert(room.clone());
                self.compact_queue.push_back(room);
            }
        }
        self.start_compactions();
        self.commits += 1;
        if self.commits.is_multiple_of(1024) {
            self.counters
                .retain(|room, c| now - c.touched < COUNTER_IDLE || self.compacting.contains(room));
        }
    }

    fn start_compactions(&mut self) {
        while self.compactions.len() < MAX_COMPACTIONS {
            let Some(room) = self.compact_queue.pop_front() else {
                break;
            };
            let store = self.store.clone();
            let task_room = room.clone();
            let handle = self.compactions.spawn(async move {
                let result = store.compact_log(&task_room).await;
                (task_room, result)
            });
            self.compaction_rooms.insert(handle.id(), room);
        }
    }

    async fn compaction_done(
        &mut self,
        joined: std::result::Result<
            (tokio::task::Id, (RoomId, Result<CompactOutcome>)),
            tokio::task::JoinError,
        >,
    ) {
        let (room, result) = match joined {
            Ok((id, done)) => {
                self.compaction_rooms.remove(&id);
                done
            }
            Err(e) => {
                let Some(room) = self.compaction_rooms.remove(&e.id()) else {
                    return;
                };
                (
                    room,
                    Err(Error::Internal(format!("compaction task failed: {e}"))),
                )
            }
        };
        self.compacting.remove(&room);
        match &result {
            Ok(CompactOutcome::Compacted { rows, bytes }) => {
                inc(&self.metrics.compactions, 1);
                tracing::debug!(room = %room, rows, bytes, "room compacted");
            }
            Ok(CompactOutcome::Conflict) => {
                tracing::debug!(room = %room, "another writer compacted the room first");
            }
            Ok(CompactOutcome::NothingToDo) => {}
            Err(e) => {
                tracing::error!(room = %room, error = %e, "compaction failed");
                inc(&self.metrics.errors, 1);
            }
        }
        if let Some(c) = self.counters.get_mut(&room) {
            c.rows = match result {
                // The room now holds one snapshot (ours or another writer's) plus what this process
                // appended since the compaction was queued. Some of those may be inside the snapshot,
                // so this overcounts a little, which only makes the next compaction come earlier.
                Ok(_) => 1 + c.rows.saturating_sub(c.at_dispatch),
                // A failing compaction is retried only after another `compact_rows` appends, which
                // keeps a broken room from being compacted (and failing) on every commit.
                Err(_) => 0,
            };
        }
        self.start_compactions();
    }

    async fn shutdown(&mut self) -> Result<()> {
        self.drain_ready();
        self.backoff = None;
        let mut result = Ok(());
        for attempt in 1..=SHUTDOWN_ATTEMPTS {
            result = self.commit().await;
            if result.is_ok() {
                break;
            }
            if attempt < SHUTDOWN_ATTEMPTS {
                let delay = self.backoff.map(|(_, d)| d).unwrap_or(BACKOFF_START);
                tokio::time::sleep(delay).await;
            }
        }
        if let Err(e) = &result {
            tracing::error!(error = %e, updates = self.pending_updates, "shutdown: updates could not be stored");
        }
        while let Some(joined) = self.compactions.join_next().await {
            if let Ok((room, Err(e))) = joined {
                tracing::error!(room = %room, error = %e, "compaction failed at shutdown");
            }
        }
        // The next start would fold it anyway; doing it now keeps that start quick.
        if self.journal.since.is_some() {
            self.fold().await;
        }
        result
    }
}

/// One row per room: the room's updates merged with `merge_updates_v1` (a pure byte-level merge that
/// keeps everything). If a room's updates do not decode (rooms prevent that by applying them first) or
/// the merge panics, they are stored one row each rather than lost; a snapshot's `replaces` then goes
/// with the first of them, the snapshot itself, so only rows stored before it are replaced.
fn merge_batch(pending: HashMap<RoomId, PendingRoom>) -> Vec<NewRow> {
    let mut batch = Vec::with_capacity(pending.len());
    for (
        room,
        PendingRoom {
            mut updates,
            replaces,
        },
    ) in pending
    {
        if updates.len() == 1 {
            batch.push(NewRow {
                room,
                data: updates.pop().expect("one update"),
                replaces,
            });
            continue;
        }
        // A panic inside yrs must not take the batch with it: fall back to one row per update.
        match std::panic::catch_unwind(|| yrs::merge_updates_v1(&updates)) {
            Ok(Ok(data)) => batch.push(NewRow {
                room,
                data,
                replaces,
            }),
            failed => {
                let error = match failed {
                    Ok(Err(e)) => e.to_string(),
                    _ => "merge panicked".to_string(),
                };
                tracing::warn!(room = %room, error, "cannot merge updates; storing them one by one");
                let mut replaces = replaces;
                batch.extend(updates.into_iter().map(|data| NewRow {
                    room: room.clone(),
                    data,
                    replaces: replaces.take(),
                }));
            }
        }
    }
    batch
}
