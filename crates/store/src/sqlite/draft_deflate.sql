-- Migration 21: a stored draft's statement JSON kept deflated, as finalized statements' are
-- since migration 20 (a 100,000-student draft was 98 MB of text, about 10 MB deflated). Drafts
-- saved from now on have an empty statement_json and their JSON here.
ALTER TABLE draft_statements ADD COLUMN statement_deflate BLOB;
