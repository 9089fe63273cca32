-- Migration 26: SQLite stores MAP results compactly (see sqlite/compact_assessments.sql).
-- PostgreSQL keeps its `assessment_results` table.
SELECT 1;
