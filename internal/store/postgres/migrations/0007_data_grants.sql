-- Data grants (sharing a data set with another account). Timestamps are
-- unix milliseconds. A grant names its entitled data set (data_set_id, in
-- the receiver's account) from creation on; that data set exists once the
-- grant is accepted. Grants have no foreign keys: package exchange keeps a
-- source data set from being deleted while grants of it exist, and deletes
-- the entitled data set with its grant.

CREATE TABLE data_grants (
    id                  TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    account_id          TEXT COLLATE "C" NOT NULL,
    receiver_account_id TEXT COLLATE "C" NOT NULL,
    name                TEXT NOT NULL,
    description         TEXT NOT NULL,
    source_data_set_id  TEXT COLLATE "C" NOT NULL,
    data_set_id         TEXT COLLATE "C" NOT NULL UNIQUE,
    distribution_scope  TEXT NOT NULL,
    acceptance_state    TEXT NOT NULL,
    accepted_at         BIGINT,
    ends_at             BIGINT,
    created_at          BIGINT NOT NULL,
    updated_at          BIGINT NOT NULL
);
CREATE INDEX data_grants_listing ON data_grants (account_id, created_at DESC, id DESC);
CREATE INDEX data_grants_received ON data_grants (receiver_account_id, created_at DESC, id DESC);
CREATE INDEX data_grants_source ON data_grants (account_id, source_data_set_id);
