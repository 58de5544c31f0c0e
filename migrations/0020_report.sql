-- Session reports (issue 23). Numbered 0020 so that migrations other branches add meanwhile keep
-- their numbers; sqlx applies whichever are missing. Portable on SQLite and PostgreSQL.
--
-- doc_history: every update an interview room applied, with its time, never compacted: the replay of
-- the report (GET /api/rooms/{room}/history) rebuilds the document at any moment from the rows up to
-- it. doc_updates cannot serve: compaction merges it into snapshots that have no time.
CREATE TABLE doc_history (
    room_id TEXT   NOT NULL,
    writer  TEXT   NOT NULL,
    seq     BIGINT NOT NULL,
    at_ms   BIGINT NOT NULL,
    data    BYTEA  NOT NULL,
    PRIMARY KEY (room_id, writer, seq)
);
CREATE INDEX doc_history_room_at ON doc_history (room_id, at_ms);

-- The host's scorecard (JSON) and whether the report is shared with the room's other links, and
-- whether it includes the host's notes.
CREATE TABLE room_reports (
    room_id       TEXT   NOT NULL PRIMARY KEY,
    scorecard     TEXT   NULL,
    shared        BIGINT NOT NULL DEFAULT 0,
    include_notes BIGINT NOT NULL DEFAULT 0,
    updated_ms    BIGINT NOT NULL
);

-- Who took part in an interview: each awareness client id with the name it showed and the role of
-- its connection (awareness itself is not stored). The report maps Yjs client ids to these names.
CREATE TABLE room_participants (
    room_id  TEXT   NOT NULL,
    client   BIGINT NOT NULL,
    name     TEXT   NOT NULL,
    role     TEXT   NOT NULL,
    first_ms BIGINT NOT NULL,
    PRIMARY KEY (room_id, client)
);
