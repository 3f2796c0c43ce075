-- Event actions (CreateEventAction ...). Timestamps are unix milliseconds.
-- No foreign key to the watched data set: an event action outlives its data
-- set (as a job does) and then never fires.

CREATE TABLE event_actions (
    id          TEXT NOT NULL PRIMARY KEY,
    account_id  TEXT NOT NULL,
    data_set_id TEXT NOT NULL,  -- Event.RevisionPublished.DataSetId
    action      TEXT NOT NULL,  -- the Action object, JSON
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
);
CREATE INDEX event_actions_listing ON event_actions (account_id, created_at DESC, id DESC);
CREATE INDEX event_actions_data_set_listing ON event_actions (account_id, data_set_id, created_at DESC, id DESC);
