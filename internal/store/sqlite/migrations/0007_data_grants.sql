-- Data grants (sharing a data set with another account). Timestamps are
-- unix milliseconds. A grant names its entitled data set (data_set_id, in
-- the receiver's account) from creation on; that data set exists once the
-- grant is accepted. Grants have no foreign keys: package exchange keeps a
-- source data set from being deleted while grants of it exist, and deletes
-- the entitled data set with its grant.

CREATE TABLE data_grants (
    id                  TEXT NOT NULL PRIMARY KEY,
    account_id          TEXT NOT NULL,
    receiver_account_id TEXT NOT NULL,
    name                TEXT NOT NULL,
    description         TEXT NOT NULL,
    source_data_set_id  TEXT NOT NULL,
    data_set_id         TEXT NOT NULL UNIQUE,
    distribution_scope  TEXT NOT NULL,
    acceptance_state    TEXT NOT NULL,
    accepted_at         INTEGER,
    ends_at             INTEGER,
    created_at          INTEGER NOT NULL,
    updated_at          INTEGER NOT NULL
);
CREATE INDEX data_grants_listing ON data_grants (account_id, created_at DESC, id DESC);
CREATE INDEX data_grants_received ON data_grants (receiver_account_id, created_at DESC, id DESC);
CREATE INDEX data_grants_source ON data_grants (account_id, source_data_set_id);

-- Data set notifications (SendDataSetNotification), one row per
-- (sender, ClientToken), and their deliveries, one per receiver with an
-- accepted grant when the notification was sent, each delivered through the
-- receiver's webhook (account_webhooks) by package notify.

CREATE TABLE account_webhooks (
    account_id TEXT NOT NULL PRIMARY KEY,
    url        TEXT NOT NULL,
    secret     TEXT NOT NULL,
    updated_at INTEGER NOT NULL
);

CREATE TABLE notifications (
    id           TEXT NOT NULL PRIMARY KEY,
    account_id   TEXT NOT NULL,
    data_set_id  TEXT NOT NULL,
    client_token TEXT NOT NULL,
    type         TEXT NOT NULL,
    request      TEXT NOT NULL,     -- the request's members, canonical JSON
    created_at   INTEGER NOT NULL,
    UNIQUE (account_id, client_token)
);

CREATE TABLE notification_deliveries (
    notification_id     TEXT NOT NULL,
    receiver_account_id TEXT NOT NULL,
    data_grant_id       TEXT NOT NULL,
    data_set_id         TEXT NOT NULL,        -- the receiver's entitled data set
    state               TEXT NOT NULL,
    attempts            INTEGER NOT NULL,
    next_attempt_at     INTEGER NOT NULL,
    last_error          TEXT NOT NULL,
    updated_at          INTEGER NOT NULL,
    PRIMARY KEY (notification_id, receiver_account_id)
);
CREATE INDEX notification_deliveries_due ON notification_deliveries (state, next_attempt_at);

-- The audit log: one row per API call (package api), read by wharf audit.
CREATE TABLE audit_log (
    id            TEXT NOT NULL PRIMARY KEY,
    at            INTEGER NOT NULL,
    account_id    TEXT NOT NULL,   -- empty when authentication failed
    access_key_id TEXT NOT NULL,
    operation     TEXT NOT NULL,
    resource_arn  TEXT NOT NULL,
    status        INTEGER NOT NULL,
    exception     TEXT NOT NULL,
    request_id    TEXT NOT NULL
);
CREATE INDEX audit_log_time ON audit_log (at DESC, id DESC);
CREATE INDEX audit_log_account ON audit_log (account_id, at DESC, id DESC);
