//! Session reports (issue 23): an interview room's update history, kept for replay, and the host's
//! scorecard and sharing choice (migration `0020_report.sql`, docs/STORAGE.md "History").
//!
//! The history is a second, append-only copy of the updates an interview room applies, each with its
//! time, never compacted: `doc_updates` is merged into timeless snapshots, so it cannot say what the
//! document was at a moment. Rows are written by the room (one multi-row insert per persistence
//! round, off the room's task) and read whole for a replay.

use sqlx::Row;

use super::{INSERT_CHUNK, Store};
use crate::error::Result;
use crate::ids::RoomId;

/// One stored history row: an update and when the room applied it.
#[derive(Debug, Clone)]
pub struct HistoryRow {
    pub at_ms: i64,
    pub data: Vec<u8>,
}

/// The host's report settings of a room.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReportRecord {
    /// The scorecard JSON, if the host saved one.
    pub scorecard: Option<String>,
    /// Whether edit and view links may read the report and the scorecard.
    pub shared: bool,
    /// Whether the report carries the host's private notes.
    pub include_notes: bool,
}

impl Store {
    /// Appends updates with their times to a room's history.
    pub async fn append_history(&self, room: &RoomId, rows: &[(i64, Vec<u8>)]) -> Result<()> {
        if rows.is_empty() {
            return Ok(());
        }
        let mut tx = self.begin_write().await?;
        for chunk in rows.chunks(INSERT_CHUNK) {
            let mut sql =
                String::from("INSERT INTO doc_history (room_id, writer, seq, at_ms, data) VALUES ");
            self.push_values(&mut sql, chunk.len(), 5);
            let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
            for (at_ms, data) in chunk {
                query = query
                    .bind(room.as_str())
                    .bind(&self.instance.0)
                    .bind(self.next_seq())
                    .bind(*at_ms)
                    .bind(data.as_slice());
            }
            query.execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// A room's history up to `until` (epoch ms, inclusive; `None`: all of it), oldest first.
    pub async fn history(&self, room: &RoomId, until: Option<i64>) -> Result<Vec<HistoryRow>> {
        let rows = sqlx::query(
            "SELECT at_ms, data FROM doc_history WHERE room_id = $1 AND at_ms <= $2 \
             ORDER BY at_ms, writer, seq",
        )
        .bind(room.as_str())
        .bind(until.unwrap_or(i64::MAX))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(HistoryRow {
                    at_ms: row.try_get("at_ms")?,
                    data: row.try_get("data")?,
                })
            })
            .collect()
    }

    /// Rows and bytes of a room's history (the storage it costs).
    pub async fn history_size(&self, room: &RoomId) -> Result<(u64, u64)> {
        let row = sqlx::query(
            "SELECT COUNT(*) AS n, COALESCE(SUM(LENGTH(data)), 0) AS bytes FROM doc_history \
             WHERE room_id = $1",
        )
        .bind(room.as_str())
        .fetch_one(&self.pool)
        .await?;
        let n: i64 = row.try_get("n")?;
        let bytes: i64 = row.try_get("bytes")?;
        Ok((n as u64, bytes as u64))
    }

    /// Records an interview participant (a later name for the same client id replaces the earlier).
    pub async fn record_participant(
        &self,
        room: &RoomId,
        client: u64,
        name: &str,
        role: &str,
        at_ms: i64,
    ) -> Result<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO room_participants (room_id, client, name, role, first_ms) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (room_id, client) DO UPDATE SET \
             name = excluded.name, role = excluded.role",
        )
        .bind(room.as_str())
        .bind(client as i64)
        .bind(name)
        .bind(role)
        .bind(at_ms)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// A room's participants: (client id, name, role, first seen), oldest first.
    pub async fn participants(&self, room: &RoomId) -> Result<Vec<(u64, String, String, i64)>> {
        let rows = sqlx::query(
            "SELECT client, name, role, first_ms FROM room_participants WHERE room_id = $1 \
             ORDER BY first_ms, client",
        )
        .bind(room.as_str())
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                Ok((
                    row.try_get::<i64, _>("client")? as u64,
                    row.try_get("name")?,
                    row.try_get("role")?,
                    row.try_get("first_ms")?,
                ))
            })
            .collect()
    }

    /// A room's report settings (defaults when the host never saved any).
    pub async fn report_record(&self, room: &RoomId) -> Result<ReportRecord> {
        let row = sqlx::query(
            "SELECT scorecard, shared, include_notes FROM room_reports WHERE room_id = $1",
        )
        .bind(room.as_str())
        .fetch_optional(&self.pool)
        .await?;
        Ok(match row {
            Some(row) => ReportRecord {
                scorecard: row.try_get("scorecard")?,
                shared: row.try_get::<i64, _>("shared")? != 0,
                include_notes: row.try_get::<i64, _>("include_notes")? != 0,
            },
            None => ReportRecord::default(),
        })
    }

    /// Stores the host's scorecard (JSON).
    pub async fn save_scorecard(&self, room: &RoomId, scorecard: &str, at_ms: i64) -> Result<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO room_reports (room_id, scorecard, shared, include_notes, updated_ms) \
             VALUES ($1, $2, 0, 0, $3) ON CONFLICT (room_id) DO UPDATE SET \
             scorecard = excluded.scorecard, updated_ms = excluded.updated_ms",
        )
        .bind(room.as_str())
        .bind(scorecard)
        .bind(at_ms)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Shares the report with the room's other links (or takes it back), with or without notes.
    pub async fn share_report(
        &self,
        room: &RoomId,
        shared: bool,
        include_notes: bool,
        at_ms: i64,
    ) -> Result<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO room_reports (room_id, scorecard, shared, include_notes, updated_ms) \
             VALUES ($1, NULL, $2, $3, $4) ON CONFLICT (room_id) DO UPDATE SET \
             shared = excluded.shared, include_notes = excluded.include_notes, \
             updated_ms = excluded.updated_ms",
        )
        .bind(room.as_str())
        .bind(shared as i64)
        .bind(include_notes as i64)
        .bind(at_ms)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }
}
