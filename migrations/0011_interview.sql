-- Interview sessions (issue 22): a room's interview state (JSON: lock, driver, clock, revealed hints,
-- revealed solution, curveball, the host's notes) and every host action with its time (they feed the
-- session report). `version` orders the state: a write never replaces a newer one.
CREATE TABLE interview_state (
    room_id    TEXT   NOT NULL PRIMARY KEY,
    version    BIGINT NOT NULL,
    state      TEXT   NOT NULL,
    updated_ms BIGINT NOT NULL
);

CREATE TABLE host_actions (
    room_id TEXT   NOT NULL,
    writer  TEXT   NOT NULL,
    seq     BIGINT NOT NULL,
    at_ms   BIGINT NOT NULL,
    action  TEXT   NOT NULL,
    PRIMARY KEY (room_id, writer, seq)
);
CREATE INDEX host_actions_room_at ON host_actions (room_id, at_ms);
