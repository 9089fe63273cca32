-- Sessions by subject (SPEC 3.3): what a session taught, blank when the provider did not say.
-- A session counts for a contract when its subject is blank or equals the contract's.
ALTER TABLE sessions ADD COLUMN subject TEXT COLLATE "C" NOT NULL DEFAULT '';
ALTER TABLE session_history ADD COLUMN subject TEXT COLLATE "C" NOT NULL DEFAULT '';
