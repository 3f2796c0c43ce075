-- Event actions (CreateEventAction ...). Timestamps are unix milliseconds.
-- No foreign key to the watched data set: an event action outlives its data
-- set (as a job does) and then never fires.

CREATE TABLE event_actions (
    id          TEXT COLLATE "C" PRIMARY KEY,
    account_id  TEXT COLLATE "C" NOT NULL,
    data_set_id TEXT COLLATE "C" NOT NULL,  -- Event.RevisionPublished.DataSetId
    action      TEXT NOT NULL,              -- the Action object, JSON (not JSONB, which reformats)
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL
);
CREATE INDEX event_actions_listing ON event_actions (account_id, created_at DESC, id DESC);
CREATE INDEX event_actions_data_set_listing ON event_actions (account_id, data_set_id, created_at DESC, id DESC);
