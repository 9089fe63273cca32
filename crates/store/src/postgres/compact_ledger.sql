-- Migration 25: SQLite stores ledger entries compactly (see sqlite/compact_ledger.sql).
-- PostgreSQL keeps its `ledger_entries` table.
SELECT 1;
