-- Jobs (package jobs). Timestamps are unix milliseconds. Jobs have no
-- foreign key to their data set: AWS keeps a job after its data set is
-- deleted, until the job's retention ends.

CREATE TABLE jobs (
    id                  TEXT COLLATE "C" PRIMARY KEY,
    account_id          TEXT COLLATE "C" NOT NULL,
    type                TEXT NOT NULL,
    state               TEXT NOT NULL,
    data_set_id         TEXT COLLATE "C" NOT NULL,
    revision_id         TEXT COLLATE "C" NOT NULL,
    details             TEXT NOT NULL,  -- ResponseDetails JSON, byte-exact (not JSONB, which reformats)
    errors              TEXT,           -- JSON array of JobError; NULL when none
    asset_configuration TEXT,           -- JSON object; NULL when none
    bytes_done          BIGINT NOT NULL,
    bytes_total         BIGINT NOT NULL,
    lease_id            TEXT,           -- NULL when no worker holds the job
    lease_expires_at    BIGINT,
    started_at          BIGINT,
    attempts            INTEGER NOT NULL,
    dispatch            BIGINT NOT NULL,
    created_at          BIGINT NOT NULL,
    updated_at          BIGINT NOT NULL
);
CREATE INDEX jobs_listing ON jobs (account_id, created_at DESC, id DESC);
CREATE INDEX jobs_data_set_listing ON jobs (account_id, data_set_id, created_at DESC, id DESC);
CREATE INDEX jobs_revision_listing ON jobs (account_id, revision_id, created_at DESC, id DESC);
CREATE INDEX jobs_leased ON jobs (type, lease_expires_at) WHERE lease_id IS NOT NULL;
CREATE INDEX jobs_retention ON jobs (created_at);

-- One row per job type, locked (SELECT ... FOR UPDATE) by the transactions
-- that count a type's leased jobs before taking a lease, so that replicas
-- take leases of one type one at a time.
CREATE TABLE job_type_locks (
    type TEXT PRIMARY KEY
);
