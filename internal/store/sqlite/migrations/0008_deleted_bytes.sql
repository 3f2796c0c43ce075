-- Asset bytes to remove from the asset store: the keys of deleted assets,
-- recorded in the transaction that deletes them (so a crash after the
-- commit loses none) and removed by the sweeper of `wharf serve` (package
-- housekeeping), which deletes the row once the object is gone.
-- Timestamps are unix milliseconds.
CREATE TABLE deleted_asset_bytes (
    key             TEXT NOT NULL PRIMARY KEY,  -- <account>/<data set>/<asset>
    deleted_at      INTEGER NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    last_error      TEXT NOT NULL DEFAULT ''
);
CREATE INDEX deleted_asset_bytes_due ON deleted_asset_bytes (next_attempt_at);

-- Webhook secrets are sealed with the master key, bound to the account
-- (package notify). No released version stored plain secrets; a row set
-- before this migration has none left and must be set again.
ALTER TABLE account_webhooks ADD COLUMN sealed_secret BLOB;
ALTER TABLE account_webhooks DROP COLUMN secret;

-- One row per account that has been sent a data grant, locked (upserted)
-- by CreateDataGrant so that concurrent senders' check of the receiver's
-- pending-grant quota and their insert are serialized: the receiver need
-- not be an account of this server, so its accounts row can't be the lock.
CREATE TABLE data_grant_receivers (
    receiver_account_id TEXT NOT NULL PRIMARY KEY
);
