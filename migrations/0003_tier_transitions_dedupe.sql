-- Tier transitions are changes of state: a tier's events alternate reached / lost. Several instances
-- validate the same room and each reports the same change, and a reloaded room may report again what
-- is already stored; `n` numbers a tier's stored events (0, 1, 2 ...) so that a second report of the same
-- change collides on this unique index and is dropped (INSERT ... ON CONFLICT DO NOTHING).
-- Rows from before this migration keep n NULL (NULLs never collide).
ALTER TABLE tier_transitions ADD COLUMN n BIGINT NULL;
CREATE UNIQUE INDEX tier_transitions_tier_n ON tier_transitions (room_id, tier, n);
