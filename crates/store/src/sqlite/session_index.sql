-- Migration 19: one index of sessions by student instead of two. Statements read a provider's
-- sessions of a district's students (provider, district, student); pages read a student's
-- sessions of every provider (district, student). Both are answered by (district, student,
-- provider): the provider is checked inside the index, so no other provider's row is read.
-- The two indexes were a third of the database at state scale, and each import kept both.
DROP INDEX sessions_by_student;
DROP INDEX sessions_by_district_student;
CREATE INDEX sessions_by_student ON sessions (district_id, student_id, provider_id);
