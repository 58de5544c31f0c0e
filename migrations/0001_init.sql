-- tierboard schema, portable: this one file runs unchanged on SQLite and PostgreSQL through sqlx Any.
-- Rules (docs/ARCHITECTURE.md, storage): times are BIGINT epoch milliseconds, booleans are integers,
-- blobs are BYTEA, keys are assigned by the application (no AUTOINCREMENT / SERIAL).

CREATE TABLE rooms (
    id         TEXT   NOT NULL PRIMARY KEY,
    problem    TEXT   NOT NULL,
    created_ms BIGINT NOT NULL
);

-- Only a hash of each token is stored. `role` is free text ('edit', 'view', later 'host' ...) so that a new
-- role needs no migration. A revoked token keeps its row with `revoked_ms` set.
CREATE TABLE room_tokens (
    token_hash TEXT   NOT NULL PRIMARY KEY,
    room_id    TEXT   NOT NULL REFERENCES rooms (id) ON DELETE CASCADE,
    role       TEXT   NOT NULL,
    created_ms BIGINT NOT NULL,
    revoked_ms BIGINT NULL
);
CREATE INDEX room_tokens_room ON room_tokens (room_id);

-- The per-room log of Yjs v1 updates, and the snapshots compaction replaces them with. Each server
-- instance (`writer`) numbers its own rows, so several instances append to one room without coordinating.
CREATE TABLE doc_updates (
    room_id    TEXT   NOT NULL REFERENCES rooms (id) ON DELETE CASCADE,
    writer     TEXT   NOT NULL,
    seq        BIGINT NOT NULL,
    data       BYTEA  NOT NULL,
    created_ms BIGINT NOT NULL,
    PRIMARY KEY (room_id, writer, seq)
);

-- When a room's design reached or lost a tier (the timeline of a session).
CREATE TABLE tier_transitions (
    room_id TEXT   NOT NULL REFERENCES rooms (id) ON DELETE CASCADE,
    writer  TEXT   NOT NULL,
    seq     BIGINT NOT NULL,
    at_ms   BIGINT NOT NULL,
    tier    TEXT   NOT NULL,
    event   TEXT   NOT NULL,
    PRIMARY KEY (room_id, writer, seq)
);
CREATE INDEX tier_transitions_room_at ON tier_transitions (room_id, at_ms);
