-- Console sessions (package auth): short-lived credentials issued at sign-in
-- to the web console, like STS's GetSessionToken. The id is the session's
-- access key id (ASIA...); the secret is sealed with the master key, bound
-- to the id; the session token is kept only as its SHA-256. Revoking (sign-
-- out) sets revoked_at; housekeeping deletes sessions some time after they
-- expire. Timestamps are unix milliseconds.
CREATE TABLE console_sessions (
    id            TEXT NOT NULL PRIMARY KEY,
    account_id    TEXT NOT NULL REFERENCES accounts (id),
    parent_key_id TEXT NOT NULL,
    sealed_secret BLOB NOT NULL,
    token_hash    BLOB NOT NULL,
    created_at    INTEGER NOT NULL,
    expires_at    INTEGER NOT NULL,
    revoked_at    INTEGER
);
CREATE INDEX console_sessions_expiry ON console_sessions (expires_at);
CREATE INDEX console_sessions_account ON console_sessions (account_id);

-- The console's jobs page lists an account's jobs in one state (ListJobs'
-- state parameter, a Wharf extension), newest first.
CREATE INDEX jobs_state_listing ON jobs (account_id, state, created_at DESC, id DESC);
