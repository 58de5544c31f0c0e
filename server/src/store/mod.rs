//! Storage: rooms, token hashes, each room's Yjs update log, its tier timeline and its interview
//! state, in SQLite or PostgreSQL.
//!
//! The whole story (schema, what is stored when, the log, group commit, compaction and its bound on rows
//! per room, several writers, the SQLite journal and the differences between the two databases) is
//! `docs/STORAGE.md`, in one place; this file's items say what each does and link there.
//!
//! One [`Store`] wraps a sqlx `Any` pool so the same SQL runs on both databases. [`persister::Persister`]
//! (`persister.rs`) group-commits what rooms submit and schedules compactions.

pub mod history;
pub mod niceness;
pub mod persister;
#[cfg(feature = "test-util")]
pub mod scratch;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use sqlx::any::{AnyPoolOptions, install_default_drivers};
use sqlx::{Any, AnyConnection, AnyPool, Executor, Row, Transaction};
use yrs::updates::decoder::Decode;
use yrs::{Doc, ReadTxn, StateVector, Transact, Update};

use crate::clock::now_ms;
use crate::error::{Error, Result};
use crate::ids::{InstanceId, Mode, Role, RoomId, TokenHash};

pub use crate::rows::{RowKey, StoredRow, Transition};
pub use persister::Persister;

/// The migrations in the top-level `migrations/` folder, embedded so the binary runs from any directory.
/// `ignore_missing`: a database migrated by a newer build (a rolling deploy, or another branch's tests
/// on a shared database) still serves an older build whose migrations are a prefix of the applied ones.
static MIGRATOR: sqlx::migrate::Migrator = {
    let mut migrator = sqlx::migrate!("../migrations");
    migrator.ignore_missing = true;
    migrator
};

/// Page cache per SQLite connection, in KiB (SQLite's default is 2 MiB). A group commit touches a
/// leaf page of the log for every room it writes: with a thousand active rooms the default cache
/// spilled dirty pages mid-transaction and re-read pages from the file on every commit.
const SQLITE_CACHE_KIB: u64 = 32 * 1024;
/// WAL pages before an automatic checkpoint (SQLite's default is 1,000). The same leaf pages are
/// rewritten by commit after commit; a longer WAL lets a checkpoint copy each of them once.
const SQLITE_CHECKPOINT_PAGES: u64 = 10_000;

/// How long a SQLite connection waits for another writer's lock before failing with "database is locked".
const SQLITE_BUSY_TIMEOUT_MS: u64 = 5_000;

/// Rows inserted (or rooms counted) by one statement: 5 parameters a row, far under the parameter
/// limits of both databases (SQLite 32766, PostgreSQL 65535).
const INSERT_CHUNK: usize = 200;

/// Largest number of `(writer, seq)` pairs deleted by one statement (two parameters each, well under the
/// parameter limits of both databases).
const DELETE_CHUNK: usize = 200;

/// Which database a [`Store`] talks to; the few places where SQL or locking differ branch on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A room to create, with the hashes of the tokens that give access to it.
#[derive(Debug, Clone)]
pub struct NewRoom {
    pub id: RoomId,
    pub problem: String,
    pub created_ms: i64,
    pub tokens: Vec<(TokenHash, Role)>,
}

/// A stored room's metadata.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoomRecord {
    pub id: RoomId,
    pub problem: String,
    pub created_ms: i64,
    pub mode: Mode,
}

/// A row to append. A row with `replaces` set is a snapshot of the room as this instance's room holds
/// it (module docs, "Snapshots from the room"): the commit that stores it also deletes this instance's
/// own rows of the room stored before it, and the rows `replaces` names.
#[derive(Debug, Clone)]
pub struct NewRow {
    pub room: RoomId,
    pub data: Vec<u8>,
    pub replaces: Option<Vec<RowKey>>,
}

/// What one [`Store::compact`] call did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CompactOutcome {
    /// `rows` rows were replaced by one snapshot of `bytes` bytes.
    Compacted { rows: u64, bytes: usize },
    /// The room had at most one row: nothing to merge.
    NothingToDo,
    /// Another writer compacted some of the same rows concurrently; this attempt rolled back and the
    /// stored rows are as the other writer left them.
    Conflict,
}

/// The database handle shared by the whole server.
#[derive(Debug)]
pub struct Store {
    pool: AnyPool,
    /// Where every write transaction runs: on a SQLite file a pool of one connection, otherwise the
    /// same pool as `pool`.
    writer: AnyPool,
    backend: Backend,
    /// SQLite, once [`Store::migrate`] has created `doc_journal`: group commits append to it (module
    /// docs, "The journal"). A store that was not migrated (schema-upgrade tests) writes the log.
    journal: AtomicBool,
    instance: InstanceId,
    /// The `writer` of the snapshots [`Store::compact`] writes: `<instance>~c`, never the instance's
    /// own id, because such a snapshot may hold other instances' rows that this instance's rooms have
    /// not received, and a room's snapshot deletes the instance's own older rows (module docs,
    /// "Snapshots from the room").
    compaction_writer: String,
    /// Next `seq` for rows this process writes. Starts at the current time in microseconds so that a
    /// restarted process reusing an instance id still never repeats a key.
    seq: AtomicI64,
}

fn now_micros() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_micros() as i64)
        .unwrap_or(0)
}

/// The record of room `id`, on the given connection.
async fn room_on(conn: &mut AnyConnection, id: &RoomId) -> Result<Option<RoomRecord>> {
    let row = sqlx::query("SELECT problem, created_ms, mode FROM rooms WHERE id = $1")
        .bind(id.as_str())
        .fetch_optional(conn)
        .await?;
    Ok(match row {
        Some(row) => Some(RoomRecord {
            id: id.clone(),
            problem: row.try_get("problem")?,
            created_ms: row.try_get("created_ms")?,
            // A mode written by a newer server: the stricter one, so nothing leaks.
            mode: Mode::parse(&row.try_get::<String, _>("mode")?).unwrap_or(Mode::Interview),
        }),
        None => None,
    })
}

/// The file a `sqlite:` URL names, or `None` for an in-memory database.
fn sqlite_path(url: &str) -> Option<PathBuf> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next().unwrap_or_default();
    if path.is_empty() || path == ":memory:" || rest.contains("mode=memory") {
        return None;
    }
    Some(PathBuf::from(path))
}

/// Percent-encodes the characters that would end the path part of a `sqlite:` URL.
fn encode_sqlite_path(path: &Path) -> String {
    let mut out = String::new();
    for c in path.to_string_lossy().chars() {
        match c {
            '%' => out.push_str("%25"),
            '?' => out.push_str("%3F"),
            '#' => out.push_str("%23"),
            c => out.push(c),
        }
    }
    out
}

impl Store {
    /// Opens a pool on `sqlite://path` (the file and its folder are created if missing) or
    /// `postgres://...`. Does not migrate: call [`Store::migrate`].
    pub async fn connect(url: &str, instance: InstanceId) -> Result<Store> {
        install_default_drivers();
        let (backend, url, max_connections) = if url.starts_with("sqlite:") {
            match sqlite_path(url) {
                Some(path) => {
                    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
                        std::fs::create_dir_all(parent).map_err(|e| {
                            Error::Internal(format!(
                                "cannot create database folder {}: {e}",
                                parent.display()
                            ))
                        })?;
                    }
                    let url = format!("sqlite://{}?mode=rwc", encode_sqlite_path(&path));
                    // Several readers run in parallel under WAL; writers queue on SQLite's lock.
                    (Backend::Sqlite, url, 4)
                }
                // Each connection to `:memory:` would be a separate database: use exactly one.
                None => (Backend::Sqlite, url.to_string(), 1),
            }
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            (Backend::Postgres, url.to_string(), 8)
        } else {
            return Err(Error::BadRequest(format!(
                "unsupported database URL '{url}': use sqlite://path or postgres://..."
            )));
        };

        if backend == Backend::Sqlite {
            // WAL is a property of the database file and switching to it needs an exclusive lock that
            // the busy timeout does not cover, so do it once, before the pool opens other connections.
            let mut conn = <sqlx::AnyConnection as sqlx::Connection>::connect(&url).await?;
            conn.execute("PRAGMA journal_mode = WAL").await?;
            sqlx::Connection::close(conn).await?;
        }

        let memory = backend == Backend::Sqlite && max_connections == 1;
        // SQLite connections are never recycled: each is a file handle and a worker thread of its
        // own (sqlx runs every SQLite connection on a dedicated thread), so closing and reopening
        // one buys nothing and churns threads, and with them the allocator's per-thread heaps,
        // which a long-running server must keep flat (issue 25's soak). An in-memory database,
        // besides, lives exactly as long as its one connection.
        let recycle = backend == Backend::Postgres;
        let options = move |connections: u32| {
            AnyPoolOptions::new()
                .max_connections(connections)
                // SQLite: all of them, for the reason above. PostgreSQL: two kept open, so that the
                // first joins after a start or a quiet spell do not wait for a TCP handshake and
                // authentication: a join's token check and its room's load each take one (see
                // `load_room` for why one per load).
                .min_connections(if recycle {
                    connections.min(2)
                } else {
                    connections
                })
                .idle_timeout(recycle.then_some(Duration::from_secs(600)))
                .max_lifetime(recycle.then_some(Duration::from_secs(1800)))
                .acquire_timeout(Duration::from_secs(10))
                .after_connect(move |conn, _meta| {
                    Box::pin(async move {
                        if backend == Backend::Sqlite {
                            // See the module docs for why FULL.
                            conn.execute("PRAGMA synchronous = FULL").await?;
                            conn.execute(sqlx::AssertSqlSafe(format!(
                                "PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}"
                            )))
                            .await?;
                            conn.execute("PRAGMA foreign_keys = ON").await?;
                            // See the module docs ("SQLite under load") for these three.
                            conn.execute("PRAGMA temp_store = MEMORY").await?;
                            conn.execute(sqlx::AssertSqlSafe(format!(
                                "PRAGMA cache_size = -{SQLITE_CACHE_KIB}"
                            )))
                            .await?;
                            conn.execute(sqlx::AssertSqlSafe(format!(
                                "PRAGMA wal_autocheckpoint = {SQLITE_CHECKPOINT_PAGES}"
                            )))
                            .await?;
                        }
                        Ok(())
                    })
                })
        };
        let pool = options(max_connections).connect(&url).await?;
        // SQLite file: every write on one connection of its own (see the module docs).
        let writer = if backend == Backend::Sqlite && !memory {
            // Its thread does the background bursts (fold, checkpoints, compactions): below the
            // room threads' priority (`niceness.rs`). The read pool's threads serve joins: untouched.
            let before = niceness::sqlite_threads();
            let writer = options(1).connect(&url).await?;
            niceness::lower_new_sqlite_threads(&before);
            writer
        } else {
            pool.clone()
        };
        Ok(Store {
            pool,
            writer,
            backend,
            journal: AtomicBool::new(false),
            compaction_writer: format!("{instance}~c"),
            instance,
            seq: AtomicI64::new(now_micros()),
        })
    }

    /// Applies the embedded migrations (idempotent; concurrent callers on PostgreSQL serialise on an
    /// advisory lock).
    pub async fn migrate(&self) -> Result<()> {
        MIGRATOR.run(&self.writer).await?;
        if self.backend == Backend::Sqlite {
            self.cluster_sqlite_log().await?;
            self.create_journal().await?;
            self.journal.store(true, Ordering::Relaxed);
            // Rows a crash left in the journal join the log before anyone loads a room.
            let moved = self.fold_journal().await?;
            if moved > 0 {
                tracing::info!(
                    rows = moved,
                    "SQLite: folded the journal left by the last run"
                );
            }
        }
        Ok(())
    }

    /// SQLite only: the append-only journal that group commits write (module docs, "The journal").
    /// A rowid table with no other index, so an insert only ever touches its last pages.
    async fn create_journal(&self) -> Result<()> {
        sqlx::query(
            "CREATE TABLE IF NOT EXISTS doc_journal (
                id         INTEGER PRIMARY KEY,
                room_id    TEXT    NOT NULL,
                writer     TEXT    NOT NULL,
                seq        BIGINT  NOT NULL,
                data       BLOB    NOT NULL,
                created_ms BIGINT  NOT NULL
            )",
        )
        .execute(&self.writer)
        .await?;
        Ok(())
    }

    /// Whether [`Store::append`] writes to the journal, which [`Store::fold_journal`] must then empty
    /// from time to time (the [`Persister`] does).
    pub fn has_journal(&self) -> bool {
        self.journal.load(Ordering::Relaxed)
    }

    /// Moves every journal row into `doc_updates`, keys unchanged, in one transaction; returns how many
    /// rows moved. Readers see each row in exactly one of the two tables (one statement reads one
    /// snapshot). A row already in the log (same key) is the same row, and is dropped from the journal.
    pub async fn fold_journal(&self) -> Result<u64> {
        if !self.has_journal() {
            return Ok(0);
        }
        let mut tx = self.begin_write().await?;
        let last: Option<i64> = sqlx::query_scalar("SELECT MAX(id) FROM doc_journal")
            .fetch_one(&mut *tx)
            .await?;
        let Some(last) = last else {
            tx.rollback().await?;
            return Ok(0);
        };
        // In key order, so each room's leaf page of the clustered log is written once per fold.
        sqlx::query(
            "INSERT OR IGNORE INTO doc_updates (room_id, writer, seq, data, created_ms)
                SELECT room_id, writer, seq, data, created_ms FROM doc_journal WHERE id <= $1
                ORDER BY room_id, writer, seq",
        )
        .bind(last)
        .execute(&mut *tx)
        .await?;
        let moved = sqlx::query("DELETE FROM doc_journal WHERE id <= $1")
            .bind(last)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        tx.commit().await?;
        Ok(moved)
    }

    /// SQLite only: stores the update log clustered by its key (`WITHOUT ROWID`), so that a room's
    /// rows sit together in the key's b-tree. In a rowid table they lay in insertion order, interleaved
    /// with every other room's, behind a separate key index: a group commit wrote a page of that index
    /// for every room it touched and the table's tail besides, and a compaction read and deleted rows
    /// scattered over as many table pages as it had rows. The clause is SQLite's own (PostgreSQL
    /// tables are heaps either way), so this step lives here rather than in the portable migrations.
    /// Idempotent and safe against a concurrent caller: the check runs inside the write transaction.
    async fn cluster_sqlite_log(&self) -> Result<()> {
        let mut tx = self.begin_write().await?;
        let sql: Option<String> = sqlx::query_scalar(
            "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'doc_updates'",
        )
        .fetch_optional(&mut *tx)
        .await?;
        if sql.is_some_and(|sql| sql.to_ascii_uppercase().contains("WITHOUT ROWID")) {
            tx.rollback().await?;
            return Ok(());
        }
        for statement in [
            "CREATE TABLE doc_updates_clustered (
                room_id    TEXT   NOT NULL,
                writer     TEXT   NOT NULL,
                seq        BIGINT NOT NULL,
                data       BYTEA  NOT NULL,
                created_ms BIGINT NOT NULL,
                PRIMARY KEY (room_id, writer, seq)
            ) WITHOUT ROWID",
            "INSERT INTO doc_updates_clustered (room_id, writer, seq, data, created_ms)
                SELECT room_id, writer, seq, data, created_ms FROM doc_updates",
            "DROP TABLE doc_updates",
            "ALTER TABLE doc_updates_clustered RENAME TO doc_updates",
        ] {
            sqlx::query(statement).execute(&mut *tx).await?;
        }
        tx.commit().await?;
        tracing::info!("SQLite: the update log is now clustered by room (WITHOUT ROWID)");
        Ok(())
    }

    /// Applies the migrations up to and including `version` only: for tests of schema upgrades.
    pub async fn migrate_to(&self, version: i64) -> Result<()> {
        MIGRATOR.run_to(version, &self.writer).await?;
        Ok(())
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    pub fn instance(&self) -> &InstanceId {
        &self.instance
    }

    /// Closes the pool, waiting for connections in use to be returned.
    pub async fn close(&self) {
        self.pool.close().await;
        self.writer.close().await;
    }

    fn next_seq(&self) -> i64 {
        self.seq.fetch_add(1, Ordering::Relaxed)
    }

    /// Starts a write transaction. On SQLite it takes the write lock at once (`BEGIN IMMEDIATE`): a
    /// deferred transaction that reads and then writes fails with SQLITE_BUSY without waiting if another
    /// connection wrote in between, while an immediate one waits up to the busy timeout.
    async fn begin_write(&self) -> Result<Transaction<'static, Any>> {
        Ok(match self.backend {
            Backend::Sqlite => self.writer.begin_with("BEGIN IMMEDIATE").await?,
            Backend::Postgres => self.writer.begin().await?,
        })
    }

    /// Creates a practice room and its tokens in one transaction.
    pub async fn create_room(&self, room: &NewRoom) -> Result<()> {
        self.create_room_with_mode(room, Mode::Practice).await
    }

    /// Creates a room of `mode` and its tokens in one transaction.
    pub async fn create_room_with_mode(&self, room: &NewRoom, mode: Mode) -> Result<()> {
        let mut tx = self.begin_write().await?;
        // A practice room leaves `mode` to its column default, so that it can be created on a
        // schema from before migration 0010 too (schema-upgrade tests, a rolling deploy).
        let insert = match mode {
            Mode::Practice => {
                sqlx::query("INSERT INTO rooms (id, problem, created_ms) VALUES ($1, $2, $3)")
            }
            Mode::Interview => sqlx::query(
                "INSERT INTO rooms (id, problem, created_ms, mode) VALUES ($1, $2, $3, 'interview')",
            ),
        };
        insert
            .bind(room.id.as_str())
            .bind(&room.problem)
            .bind(room.created_ms)
            .execute(&mut *tx)
            .await?;
        for (hash, role) in &room.tokens {
            sqlx::query(
                "INSERT INTO room_tokens (token_hash, room_id, role, created_ms, revoked_ms) \
                 VALUES ($1, $2, $3, $4, NULL)",
            )
            .bind(&hash.0)
            .bind(room.id.as_str())
            .bind(role.as_str())
            .bind(room.created_ms)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Records that a room is in use at `at_ms` (an instance loaded it): the retention policy keeps
    /// it for another period.
    pub async fn touch_room(&self, id: &RoomId, at_ms: i64) -> Result<()> {
        sqlx::query("UPDATE rooms SET touched_ms = $2 WHERE id = $1")
            .bind(id.as_str())
            .bind(at_ms)
            .execute(&self.writer)
            .await?;
        Ok(())
    }

    /// The retention policy's step: deletes up to `limit` rooms untouched since `cutoff_ms` (neither
    /// created nor loaded since, and no stored row written since), other than those in `keep` (the
    /// rooms loaded here), with their tokens, document rows and timeline. Each room goes in a
    /// transaction of its own that checks the condition again, so a room touched meanwhile stays.
    /// Returns the deleted rooms.
    pub async fn delete_untouched_rooms(
        &self,
        cutoff_ms: i64,
        keep: &std::collections::HashSet<RoomId>,
        limit: usize,
    ) -> Result<Vec<RoomId>> {
        let journal = if self.has_journal() {
            " AND NOT EXISTS (SELECT 1 FROM doc_journal j                  WHERE j.room_id = rooms.id AND j.created_ms >= $1)"
        } else {
            ""
        };
        let untouched = format!(
            "COALESCE(touched_ms, created_ms) < $1              AND NOT EXISTS (SELECT 1 FROM doc_updates d                  WHERE d.room_id = rooms.id AND d.created_ms >= $1){journal}"
        );
        let ids: Vec<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            "SELECT id FROM rooms WHERE {untouched} ORDER BY id LIMIT $2"
        )))
        .bind(cutoff_ms)
        .bind((limit + keep.len()) as i64)
        .fetch_all(&self.pool)
        .await?;
        let mut deleted = Vec::new();
        for id in ids {
            let Some(room) = RoomId::parse(&id) else {
                continue;
            };
            if keep.contains(&room) || deleted.len() >= limit {
                continue;
            }
            let mut tx = self.begin_write().await?;
            let gone = sqlx::query(sqlx::AssertSqlSafe(format!(
                "DELETE FROM rooms WHERE id = $2 AND {untouched}"
            )))
            .bind(cutoff_ms)
            .bind(&id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if gone == 0 {
                tx.rollback().await?;
                continue;
            }
            // Every table keyed by room: a table added later belongs here too.
            let mut tables = vec![
                "room_tokens",
                "doc_updates",
                "tier_transitions",
                "interview_state",
                "host_actions",
                "doc_history",
                "room_reports",
                "room_participants",
            ];
            if self.has_journal() {
                tables.push("doc_journal");
            }
            for table in tables {
                sqlx::query(sqlx::AssertSqlSafe(format!(
                    "DELETE FROM {table} WHERE room_id = $1"
                )))
                .bind(&id)
                .execute(&mut *tx)
                .await?;
            }
            tx.commit().await?;
            deleted.push(room);
        }
        Ok(deleted)
    }

    pub async fn room(&self, id: &RoomId) -> Result<Option<RoomRecord>> {
        room_on(&mut *self.pool.acquire().await?, id).await
    }

    /// The room's record and its stored rows, read on one pooled connection. Why one: sqlx returns a
    /// dropped connection to the pool from a task it spawns, so a query right after another can find
    /// no idle connection and open one. With two queries on two acquisitions, the server's debug log
    /// showed a third connection opened (pragmas and all) between them in the first join after a
    /// restart (benchmark scenario 6); with one acquisition, none after start-up.
    pub async fn load_room(&self, id: &RoomId) -> Result<(Option<RoomRecord>, Vec<StoredRow>)> {
        let mut conn = self.pool.acquire().await?;
        let record = room_on(&mut conn, id).await?;
        let rows = self.rows_on(&mut conn, id).await?;
        Ok((record, rows))
    }

    /// The role a token grants in a room; `None` if the token is unknown, belongs to another room or
    /// was revoked.
    pub async fn role_for(&self, id: &RoomId, token: &TokenHash) -> Result<Option<Role>> {
        let role: Option<String> = sqlx::query_scalar(
            "SELECT role FROM room_tokens \
             WHERE token_hash = $1 AND room_id = $2 AND revoked_ms IS NULL",
        )
        .bind(&token.0)
        .bind(id.as_str())
        .fetch_optional(&self.pool)
        .await?;
        Ok(role.and_then(|r| {
            let parsed = Role::parse(&r);
            if parsed.is_none() {
                // Written by a newer server that knows more roles: deny rather than guess.
                tracing::warn!(room = %id, role = %r, "token with a role this server does not know");
            }
            parsed
        }))
    }

    /// Revokes a token of a room; `false` if there was no such live token.
    pub async fn revoke_token(&self, id: &RoomId, token: &TokenHash) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE room_tokens SET revoked_ms = $1 \
             WHERE token_hash = $2 AND room_id = $3 AND revoked_ms IS NULL",
        )
        .bind(now_ms())
        .bind(&token.0)
        .bind(id.as_str())
        .execute(&self.writer)
        .await?;
        Ok(done.rows_affected() > 0)
    }

    /// Replaces a room's live tokens of `role` with `new`, in one transaction: the old ones are
    /// revoked (their rows kept) and returned, so their connections can be closed.
    pub async fn rotate_token(
        &self,
        id: &RoomId,
        role: Role,
        new: &TokenHash,
    ) -> Result<Vec<TokenHash>> {
        let now = now_ms();
        let mut tx = self.begin_write().await?;
        let old: Vec<String> = sqlx::query_scalar(
            "SELECT token_hash FROM room_tokens \
             WHERE room_id = $1 AND role = $2 AND revoked_ms IS NULL",
        )
        .bind(id.as_str())
        .bind(role.as_str())
        .fetch_all(&mut *tx)
        .await?;
        sqlx::query(
            "UPDATE room_tokens SET revoked_ms = $1 \
             WHERE room_id = $2 AND role = $3 AND revoked_ms IS NULL",
        )
        .bind(now)
        .bind(id.as_str())
        .bind(role.as_str())
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "INSERT INTO room_tokens (token_hash, room_id, role, created_ms, revoked_ms) \
             VALUES ($1, $2, $3, $4, NULL)",
        )
        .bind(&new.0)
        .bind(id.as_str())
        .bind(role.as_str())
        .bind(now)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(old.into_iter().map(TokenHash).collect())
    }

    /// Stores a room's interview state (unless a newer version is stored) and the host action that
    /// made it, in one transaction.
    pub async fn save_interview(
        &self,
        id: &RoomId,
        state: &str,
        version: u64,
        action: &str,
        at_ms: i64,
    ) -> Result<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO interview_state (room_id, version, state, updated_ms) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (room_id) DO UPDATE SET version = excluded.version, state = excluded.state, \
             updated_ms = excluded.updated_ms WHERE interview_state.version < excluded.version",
        )
        .bind(id.as_str())
        .bind(version as i64)
        .bind(state)
        .bind(at_ms)
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "INSERT INTO host_actions (room_id, writer, seq, at_ms, action) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(id.as_str())
        .bind(&self.instance.0)
        .bind(self.next_seq())
        .bind(at_ms)
        .bind(action)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// A room's stored interview state (JSON), if the host ever acted.
    pub async fn load_interview(&self, id: &RoomId) -> Result<Option<String>> {
        Ok(
            sqlx::query_scalar("SELECT state FROM interview_state WHERE room_id = $1")
                .bind(id.as_str())
                .fetch_optional(&self.pool)
                .await?,
        )
    }

    /// A room's host actions (JSON) with their times, oldest first.
    pub async fn host_actions(&self, id: &RoomId) -> Result<Vec<(i64, String)>> {
        let rows = sqlx::query(
            "SELECT at_ms, action FROM host_actions WHERE room_id = $1 ORDER BY at_ms, writer, seq",
        )
        .bind(id.as_str())
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| Ok((row.try_get("at_ms")?, row.try_get("action")?)))
            .collect()
    }

    /// Every stored update and snapshot of a room (v1 encoding). Apply them all, in any order.
    pub async fn load_doc(&self, id: &RoomId) -> Result<Vec<Vec<u8>>> {
        Ok(self
            .load_rows(id)
            .await?
            .into_iter()
            .map(|row| row.data)
            .collect())
    }

    /// [`Store::load_doc`] with each row's key, so that a room's snapshot can replace exactly the rows
    /// it was loaded from.
    pub async fn load_rows(&self, id: &RoomId) -> Result<Vec<StoredRow>> {
        self.rows_on(&mut *self.pool.acquire().await?, id).await
    }

    async fn rows_on(&self, conn: &mut AnyConnection, id: &RoomId) -> Result<Vec<StoredRow>> {
        // No ORDER BY: the database would sort whole rows, copying every `data` through a temporary
        // B-tree, which took several times as long as reading a snapshot unsorted (BENCHMARKS.md,
        // scenario 6). The rows are sorted here instead, where sorting moves only the keys. Order is
        // for efficiency only (Yjs integrates updates in any order), so byte order of `writer` is as
        // good as the database's collation.
        let sql = if self.has_journal() {
            "SELECT data, created_ms, writer, seq FROM doc_updates WHERE room_id = $1 \
             UNION ALL SELECT data, created_ms, writer, seq FROM doc_journal WHERE room_id = $1"
        } else {
            "SELECT data, created_ms, writer, seq FROM doc_updates WHERE room_id = $1"
        };
        let rows = sqlx::query(sql).bind(id.as_str()).fetch_all(conn).await?;
        let mut rows = rows
            .iter()
            .map(|row| {
                let created_ms: i64 = row.try_get("created_ms")?;
                Ok((
                    created_ms,
                    StoredRow {
                        key: RowKey {
                            writer: row.try_get("writer")?,
                            seq: row.try_get("seq")?,
                        },
                        data: row.try_get("data")?,
                    },
                ))
            })
            .collect::<Result<Vec<_>>>()?;
        rows.sort_unstable_by(|(a_ms, a), (b_ms, b)| {
            (a_ms, &a.key.writer, a.key.seq).cmp(&(b_ms, &b.key.writer, b.key.seq))
        });
        Ok(rows.into_iter().map(|(_, row)| row).collect())
    }

    /// Appends one row per entry, all in one transaction.
    pub async fn append(&self, batch: &[(RoomId, Vec<u8>)]) -> Result<()> {
        let rows: Vec<(&RoomId, &[u8])> = batch.iter().map(|(r, d)| (r, d.as_slice())).collect();
        self.append_with(&rows, &[]).await
    }

    /// Appends the rows, and carries out what each snapshot among them replaces, all in one
    /// transaction (the group commit of the [`Persister`]).
    pub async fn append_rows(&self, batch: &[NewRow]) -> Result<()> {
        let rows: Vec<(&RoomId, &[u8])> =
            batch.iter().map(|r| (&r.room, r.data.as_slice())).collect();
        let snapshots: Vec<(usize, &[RowKey])> = batch
            .iter()
            .enumerate()
            .filter_map(|(i, r)| r.replaces.as_deref().map(|keys| (i, keys)))
            .collect();
        self.append_with(&rows, &snapshots).await
    }

    /// `snapshots`: the index in `rows` of each room snapshot, with the rows it replaces.
    async fn append_with(
        &self,
        rows: &[(&RoomId, &[u8])],
        snapshots: &[(usize, &[RowKey])],
    ) -> Result<()> {
        if rows.is_empty() {
            return Ok(());
        }
        let created = now_ms();
        let mut tx = self.begin_write().await?;
        let table = if self.has_journal() {
            "doc_journal"
        } else {
            "doc_updates"
        };
        let seqs = self
            .insert_rows(&mut tx, table, &self.instance.0, rows, created)
            .await?;
        for &(i, keys) in snapshots {
            self.delete_replaced(&mut tx, rows[i].0, seqs[i], keys)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// What a room's snapshot stored under `seq` replaces (module docs, "Snapshots from the room"):
    /// this instance's own rows of the room below `seq`, and the rows `keys` names. Rows of either kind
    /// that are gone already (another compaction took them) are simply not there to delete. Only the
    /// log: rows still in the SQLite journal stay (module docs).
    async fn delete_replaced(
        &self,
        tx: &mut Transaction<'static, Any>,
        room: &RoomId,
        seq: i64,
        keys: &[RowKey],
    ) -> Result<()> {
        let sql = format!(
            "DELETE FROM doc_updates WHERE room_id = {} AND writer = {} AND seq < {}",
            self.param(1),
            self.param(2),
            self.param(3)
        );
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(room.as_str())
            .bind(self.instance.0.as_str())
            .bind(seq)
            .execute(&mut **tx)
            .await?;
        self.delete_keys(tx, room, keys).await?;
        Ok(())
    }

    /// Deletes the rows `keys` of a room from the log; returns how many it deleted.
    async fn delete_keys(
        &self,
        tx: &mut Transaction<'static, Any>,
        room: &RoomId,
        keys: &[RowKey],
    ) -> Result<u64> {
        let mut deleted = 0u64;
        for chunk in keys.chunks(DELETE_CHUNK) {
            let mut sql = format!(
                "DELETE FROM doc_updates WHERE room_id = {} AND (",
                self.param(1)
            );
            for i in 0..chunk.len() {
                if i > 0 {
                    sql.push_str(" OR ");
                }
                sql.push_str(&format!(
                    "(writer = {} AND seq = {})",
                    self.param(2 * i + 2),
                    self.param(2 * i + 3)
                ));
            }
            sql.push(')');
            let mut query = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(room.as_str());
            for key in chunk {
                query = query.bind(key.writer.as_str()).bind(key.seq);
            }
            deleted += query.execute(&mut **tx).await?.rows_affected();
        }
        Ok(deleted)
    }

    /// The `n`-th (1-based) parameter of a statement whose parameters are bound in order. Positional
    /// on SQLite: sqlx-sqlite looks every numbered parameter up by name, and SQLite finds a name by a
    /// linear scan, so `$n` costs O(n²) per statement (a few percent of the server's time under load,
    /// perf, with hundreds of parameters per bulk statement).
    fn param(&self, n: usize) -> String {
        match self.backend {
            Backend::Sqlite => "?".to_string(),
            Backend::Postgres => format!("${n}"),
        }
    }

    /// Appends the `VALUES` tuples of a multi-row insert: `rows` tuples of `cols` placeholders,
    /// numbered on from 1.
    fn push_values(&self, sql: &mut String, rows: usize, cols: usize) {
        for i in 0..rows {
            sql.push_str(if i > 0 { ", (" } else { "(" });
            for c in 0..cols {
                if c > 0 {
                    sql.push_str(", ");
                }
                sql.push_str(&self.param(i * cols + c + 1));
            }
            sql.push(')');
        }
    }

    /// Inserts rows under `writer`, each under the next `seq`, with multi-row `INSERT`s (one round trip
    /// per [`INSERT_CHUNK`] rows rather than per row). Returns the `seq` of each row, in order.
    async fn insert_rows(
        &self,
        tx: &mut Transaction<'static, Any>,
        table: &str,
        writer: &str,
        rows: &[(&RoomId, &[u8])],
        created_ms: i64,
    ) -> Result<Vec<i64>> {
        let mut seqs = Vec::with_capacity(rows.len());
        for chunk in rows.chunks(INSERT_CHUNK) {
            let mut sql =
                format!("INSERT INTO {table} (room_id, writer, seq, data, created_ms) VALUES ");
            self.push_values(&mut sql, chunk.len(), 5);
            let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
            for (room, data) in chunk {
                let seq = self.next_seq();
                seqs.push(seq);
                query = query
                    .bind(room.as_str())
                    .bind(writer)
                    .bind(seq)
                    .bind(*data)
                    .bind(created_ms);
            }
            query.execute(&mut **tx).await?;
        }
        Ok(seqs)
    }

    /// Stored rows of several rooms in one query (rooms without rows are absent from the map).
    pub async fn row_counts(&self, ids: &[RoomId]) -> Result<HashMap<RoomId, u64>> {
        let mut counts = HashMap::with_capacity(ids.len());
        for chunk in ids.chunks(INSERT_CHUNK) {
            let placeholders: Vec<String> = (1..=chunk.len()).map(|i| format!("${i}")).collect();
            let rooms = placeholders.join(", ");
            let sql = if self.has_journal() {
                format!(
                    "SELECT room_id, COUNT(*) AS n FROM (\
                     SELECT room_id FROM doc_updates WHERE room_id IN ({rooms}) \
                     UNION ALL SELECT room_id FROM doc_journal WHERE room_id IN ({rooms})\
                     ) GROUP BY room_id"
                )
            } else {
                format!(
                    "SELECT room_id, COUNT(*) AS n FROM doc_updates WHERE room_id IN ({rooms}) GROUP BY room_id"
                )
            };
            let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
            for id in chunk {
                query = query.bind(id.as_str());
            }
            for row in query.fetch_all(&self.pool).await? {
                let room: String = row.try_get("room_id")?;
                let n: i64 = row.try_get("n")?;
                if let Some(id) = RoomId::parse(&room) {
                    counts.insert(id, n as u64);
                }
            }
        }
        Ok(counts)
    }

    /// Number of stored rows of a room.
    pub async fn row_count(&self, id: &RoomId) -> Result<u64> {
        let sql = if self.has_journal() {
            "SELECT (SELECT COUNT(*) FROM doc_updates WHERE room_id = $1) \
                  + (SELECT COUNT(*) FROM doc_journal WHERE room_id = $1)"
        } else {
            "SELECT COUNT(*) FROM doc_updates WHERE room_id = $1"
        };
        let n: i64 = sqlx::query_scalar(sql)
            .bind(id.as_str())
            .fetch_one(&self.pool)
            .await?;
        Ok(n as u64)
    }

    /// Compacts each room in turn until `budget` is spent; returns how many were compacted. Errors
    /// are logged: a room left uncompacted only loads more slowly.
    pub async fn compact_all(&self, ids: &[RoomId], budget: Duration) -> usize {
        let deadline = std::time::Instant::now() + budget;
        // One fold for all the rooms rather than one per room (`compact` would fold each time).
        if let Err(e) = self.fold_journal().await {
            tracing::warn!(error = %e, "folding the journal before compaction failed");
        }
        let mut compacted = 0;
        for (i, id) in ids.iter().enumerate() {
            if std::time::Instant::now() >= deadline {
                tracing::warn!(left = ids.len() - i, "compaction budget spent");
                break;
            }
            match self.compact_log(id).await {
                Ok(CompactOutcome::Compacted { .. }) => compacted += 1,
                Ok(_) => {}
                Err(e) => tracing::warn!(room = %id, error = %e, "compaction failed"),
            }
        }
        compacted
    }

    /// Merges a room's rows into one snapshot row, safely against concurrent appends and compactions
    /// (see the module docs). Folds the SQLite journal first, so everything stored so far is merged.
    pub async fn compact(&self, id: &RoomId) -> Result<CompactOutcome> {
        self.compact_with(id, async {}).await
    }

    /// [`Store::compact`] without the fold: merges the room's rows in the log and leaves those still in
    /// the journal. The [`Persister`]'s compactions, dozens a second under load, use it: a fold per
    /// compaction would write a page per room again (module docs, "The journal").
    pub async fn compact_log(&self, id: &RoomId) -> Result<CompactOutcome> {
        self.compact_rows(id, async {}).await
    }

    /// [`Store::compact`] that awaits `between` after the rows are read and merged and before the
    /// snapshot is written. Lets tests interleave another writer at the one point where it matters.
    pub async fn compact_with(
        &self,
        id: &RoomId,
        between: impl Future<Output = ()>,
    ) -> Result<CompactOutcome> {
        self.fold_journal().await?;
        self.compact_rows(id, between).await
    }

    async fn compact_rows(
        &self,
        id: &RoomId,
        between: impl Future<Output = ()>,
    ) -> Result<CompactOutcome> {
        let mut tx = self.begin_write().await?;
        let rows = sqlx::query("SELECT writer, seq, data FROM doc_updates WHERE room_id = $1")
            .bind(id.as_str())
            .fetch_all(&mut *tx)
            .await?;
        if rows.len() <= 1 {
            return Ok(CompactOutcome::NothingToDo);
        }
        let mut keys = Vec::with_capacity(rows.len());
        let mut updates = Vec::with_capacity(rows.len());
        for row in &rows {
            keys.push(RowKey {
                writer: row.try_get("writer")?,
                seq: row.try_get("seq")?,
            });
            updates.push(row.try_get::<Vec<u8>, _>("data")?);
        }
        drop(rows);
        let room = id.clone();
        let (snapshot, used) = tokio::task::spawn_blocking(move || snapshot_of(&room, &updates))
            .await
            .map_err(|e| Error::Internal(format!("compaction task failed: {e}")))??;
        if used.len() <= 1 {
            return Ok(CompactOutcome::NothingToDo);
        }
        let keys: Vec<RowKey> = used.into_iter().map(|i| keys[i].clone()).collect();

        between.await;

        let bytes = snapshot.len();
        match self.replace_rows(&mut tx, id, &keys, snapshot).await {
            Ok(true) => {
                tx.commit().await?;
                Ok(CompactOutcome::Compacted {
                    rows: keys.len() as u64,
                    bytes,
                })
            }
            Ok(false) => {
                tx.rollback().await?;
                Ok(CompactOutcome::Conflict)
            }
            // PostgreSQL may pick this transaction as a deadlock victim when two compactions delete
            // overlapping rows in different orders: the other one wins, as with a short delete.
            Err(Error::Database(e)) if is_conflict(&e) => {
                let _ = tx.rollback().await;
                Ok(CompactOutcome::Conflict)
            }
            Err(e) => Err(e),
        }
    }

    /// Inserts `snapshot` (under the compaction writer) and deletes exactly the rows `keys`; `false` if
    /// some of them were already gone.
    async fn replace_rows(
        &self,
        tx: &mut Transaction<'static, Any>,
        id: &RoomId,
        keys: &[RowKey],
        snapshot: Vec<u8>,
    ) -> Result<bool> {
        self.insert_rows(
            tx,
            "doc_updates",
            &self.compaction_writer,
            &[(id, &snapshot)],
            now_ms(),
        )
        .await?;
        let deleted = self.delete_keys(tx, id, keys).await?;
        Ok(deleted == keys.len() as u64)
    }

    /// Records tier transitions of a room. A transition equal to the tier's latest stored event is
    /// dropped: several instances validating one room report the same change, and a reloaded room may
    /// report again what is already stored. Two instances recording the same change at once both
    /// compute the same per-tier number `n`; the unique index on `(room_id, tier, n)` keeps one.
    pub async fn record_transitions(&self, id: &RoomId, events: &[Transition]) -> Result<()> {
        if events.is_empty() {
            return Ok(());
        }
        let mut tx = self.begin_write().await?;
        for t in events {
            let latest = sqlx::query(
                "SELECT event, n FROM tier_transitions \
                 WHERE room_id = $1 AND tier = $2 AND n IS NOT NULL ORDER BY n DESC LIMIT 1",
            )
            .bind(id.as_str())
            .bind(&t.tier)
            .fetch_optional(&mut *tx)
            .await?;
            let n = match latest {
                Some(row) => {
                    if row.try_get::<String, _>("event")? == t.event {
                        continue;
                    }
                    row.try_get::<i64, _>("n")? + 1
                }
                None => 0,
            };
            sqlx::query(
                "INSERT INTO tier_transitions (room_id, writer, seq, at_ms, tier, event, n) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (room_id, tier, n) DO NOTHING",
            )
            .bind(id.as_str())
            .bind(&self.instance.0)
            .bind(self.next_seq())
            .bind(t.at_ms)
            .bind(&t.tier)
            .bind(&t.event)
            .bind(n)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// A room's tier transitions, oldest first.
    pub async fn timeline(&self, id: &RoomId) -> Result<Vec<Transition>> {
        let rows = sqlx::query(
            "SELECT at_ms, tier, event FROM tier_transitions WHERE room_id = $1 \
             ORDER BY at_ms, writer, seq",
        )
        .bind(id.as_str())
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(Transition {
                    at_ms: row.try_get("at_ms")?,
                    tier: row.try_get("tier")?,
                    event: row.try_get("event")?,
                })
            })
            .collect()
    }
}

/// Whether a database error means "another transaction won" (deadlock victim or serialization failure)
/// rather than a fault.
fn is_conflict(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Database(db) => matches!(db.code().as_deref(), Some("40P01" | "40001")),
        _ => false,
    }
}

/// Merges a room's rows into one v1 update holding the full state, and says which rows it used.
/// Loading them into a temporary document (rather than `merge_updates_v1`) garbage-collects deleted
/// content; updates whose dependencies are missing stay pending in the document and are still part of
/// the encoded state. A row that does not decode is left out (and so stays stored, untouched) and logged:
/// one bad row must not stop a room's log from being compacted. A snapshot that would not load (see
/// [`crate::sync::guard::snapshot_loads`]) is an error: the rows are kept. Blocking: call from
/// `spawn_blocking`.
pub fn snapshot_of(room: &RoomId, updates: &[Vec<u8>]) -> Result<(Vec<u8>, Vec<usize>)> {
    let doc = Doc::new();
    let mut used = Vec::with_capacity(updates.len());
    {
        let mut txn = doc.transact_mut();
        for (i, data) in updates.iter().enumerate() {
            let update = match Update::decode_v1(data) {
                Ok(update) => update,
                Err(e) => {
                    tracing::warn!(%room, row = i, error = %e, "stored row is not a v1 update; left as is");
                    continue;
                }
            };
            txn.apply_update(update).map_err(|e| {
                Error::Internal(format!("room {room}: stored row {i} does not apply: {e}"))
            })?;
            used.push(i);
        }
        // Dropping the transaction commits it, which is when deleted content is collected.
    }
    let snapshot = doc
        .transact()
        .encode_state_as_update_v1(&StateVector::default());
    // The snapshot replaces the rows: it must load as they do (fuzz/findings/snapshot-invalid-parent:
    // a state yrs holds but cannot apply to an empty document). Otherwise the rows stay.
    crate::sync::guard::snapshot_loads(&snapshot).map_err(|e| {
        tracing::error!(%room, error = %e, rows = used.len(), "snapshot would not load; rows kept");
        Error::Internal(format!(
            "room {room}: snapshot would not load ({e}); rows kept"
        ))
    })?;
    Ok((snapshot, used))
}
