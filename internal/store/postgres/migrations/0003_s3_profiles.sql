-- Per-account S3 profiles (package s3profiles): the endpoint and credentials
-- an account's S3 jobs use. The secret is sealed with the master key, bound
-- to the account id. Timestamps are unix milliseconds.

CREATE TABLE s3_profiles (
    account_id    TEXT COLLATE "C" PRIMARY KEY REFERENCES accounts (id),
    endpoint      TEXT NOT NULL,    -- empty: AWS's own endpoints
    region        TEXT NOT NULL,
    path_style    BOOLEAN NOT NULL,
    access_key_id TEXT NOT NULL,
    sealed_secret BYTEA NOT NULL,
    updated_at    BIGINT NOT NULL
);
