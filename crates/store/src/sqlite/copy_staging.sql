-- Migration 22: PostgreSQL's COPY staging table (postgres/copy_staging.sql). SQLite stages
-- imports in its temporary tables, in process: nothing to add.
SELECT 1;
