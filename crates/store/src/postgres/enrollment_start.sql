-- Migration 18: the dashboard asks on every request when a contract's first enrollment
-- starts (its meeting schedule counts from there): an index answers that minimum at once,
-- where the primary key made it read each of a state contract's 100,000 enrollments.
CREATE INDEX enrollments_start ON enrollments (contract_id, start_date);
