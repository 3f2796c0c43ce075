-- Wharf metadata, first schema. Timestamps are unix milliseconds. Names
-- leave the river_* prefix to River's job queue tables.

CREATE TABLE accounts (
    id         TEXT NOT NULL PRIMARY KEY,
    created_at INTEGER NOT NULL
);

CREATE TABLE access_keys (
    id            TEXT NOT NULL PRIMARY KEY,
    account_id    TEXT NOT NULL REFERENCES accounts (id),
    sealed_secret BLOB NOT NULL,
    created_at    INTEGER NOT NULL
);
CREATE INDEX access_keys_account ON access_keys (account_id);

CREATE TABLE data_sets (
    id             TEXT NOT NULL PRIMARY KEY,
    account_id     TEXT NOT NULL,
    name           TEXT NOT NULL,
    description    TEXT NOT NULL,
    asset_type     TEXT NOT NULL,
    origin         TEXT NOT NULL,
    origin_details TEXT,            -- JSON object; NULL when there are none
    source_id      TEXT NOT NULL,
    created_at     INTEGER NOT NULL,
    updated_at     INTEGER NOT NULL,
    UNIQUE (account_id, id)         -- target of the revisions' foreign key
);
CREATE INDEX data_sets_listing ON data_sets (account_id, created_at DESC, id DESC);
CREATE INDEX data_sets_origin_listing ON data_sets (account_id, origin, created_at DESC, id DESC);

CREATE TABLE revisions (
    id                 TEXT NOT NULL PRIMARY KEY,
    account_id         TEXT NOT NULL,
    data_set_id        TEXT NOT NULL,
    comment            TEXT NOT NULL,
    finalized          BOOLEAN NOT NULL,
    revoked            BOOLEAN NOT NULL,
    revocation_comment TEXT NOT NULL,
    revoked_at         INTEGER,
    source_id          TEXT NOT NULL,
    created_at         INTEGER NOT NULL,
    updated_at         INTEGER NOT NULL,
    UNIQUE (account_id, data_set_id, id),
    FOREIGN KEY (account_id, data_set_id) REFERENCES data_sets (account_id, id) ON DELETE CASCADE
);
CREATE INDEX revisions_listing ON revisions (account_id, data_set_id, created_at DESC, id DESC);

CREATE TABLE assets (
    id          TEXT NOT NULL PRIMARY KEY,
    account_id  TEXT NOT NULL,
    data_set_id TEXT NOT NULL,
    revision_id TEXT NOT NULL,
    name        TEXT NOT NULL,
    asset_type  TEXT NOT NULL,
    details     TEXT NOT NULL,      -- AssetDetails JSON, byte-exact
    source_id   TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    FOREIGN KEY (account_id, data_set_id, revision_id)
        REFERENCES revisions (account_id, data_set_id, id) ON DELETE CASCADE
);
CREATE INDEX assets_listing ON assets (account_id, data_set_id, revision_id, name DESC, id DESC);

-- Tags of any resource, by its id (ids are unique across kinds).
CREATE TABLE tags (
    resource_id TEXT NOT NULL,
    tag_key     TEXT NOT NULL,
    tag_value   TEXT NOT NULL,
    PRIMARY KEY (resource_id, tag_key)
);
