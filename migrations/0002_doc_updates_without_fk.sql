-- doc_updates without the foreign key to rooms. The persister writes every room's rows in one
-- transaction (group commit): with the foreign key, one update for a room missing from `rooms` would
-- fail the whole batch, for every room, on every retry. Rooms are never deleted, so the key protected
-- nothing. SQLite cannot drop a constraint in place, so the table is rebuilt (portable on both databases).
-- Never edit a migration once it is on main: add a new one.

CREATE TABLE doc_updates_v2 (
    room_id    TEXT   NOT NULL,
    writer     TEXT   NOT NULL,
    seq        BIGINT NOT NULL,
    data       BYTEA  NOT NULL,
    created_ms BIGINT NOT NULL,
    PRIMARY KEY (room_id, writer, seq)
);
INSERT INTO doc_updates_v2 (room_id, writer, seq, data, created_ms)
    SELECT room_id, writer, seq, data, created_ms FROM doc_updates;
DROP TABLE doc_updates;
ALTER TABLE doc_updates_v2 RENAME TO doc_updates;
