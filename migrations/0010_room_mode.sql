-- Rooms have a mode (issue 22): 'practice' (every room before this migration) or 'interview'.
-- Numbered 0010, not 0004, so that migrations other branches add meanwhile keep their numbers; sqlx
-- applies whichever are missing.
ALTER TABLE rooms ADD COLUMN mode TEXT NOT NULL DEFAULT 'practice';
