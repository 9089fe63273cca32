-- Migration 23: SQLite stores sessions compactly (see sqlite/compact_sessions.sql). PostgreSQL
-- keeps its `sessions` table: it bulk-loads through COPY into the text columns.
SELECT 1;
