-- When a room was last used (loaded by an instance), for the retention policy (--room-retention-days):
-- a room untouched for that long, with no stored edit as recent, is deleted. NULL: not loaded since
-- this migration; its creation time stands in. Portable on SQLite and PostgreSQL.
ALTER TABLE rooms ADD COLUMN touched_ms BIGINT NULL;
