-- Migration 24: SQLite stores students' flags once per distinct set (see
-- sqlite/compact_students.sql). PostgreSQL keeps its `students` table.
SELECT 1;
