-- Migration 20: a finalized statement's JSON kept deflated (RFC 1951, about a tenth of its
-- size: 80 MB a finalization at 100,000 students was most of what one added to the database).
-- Statements finalized from now on have an empty content_json and their JSON here; earlier
-- ones keep theirs as they are (finalized rows are never edited). The JSON read back is the
-- same bytes either way, so content_sha256 and the ledger's chain are unchanged.
ALTER TABLE statements ADD COLUMN content_deflate BLOB;
