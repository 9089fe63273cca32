-- Pages ask on every request what was last imported for a contract (the stored drafts' inputs
-- key, the consoles' cache key): an index on what an event did and to which record, so those
-- questions read the few import events instead of the whole audit log, which grows with every
-- sign-in and export.
CREATE INDEX audit_log_action_record ON audit_log (action, record, id);
