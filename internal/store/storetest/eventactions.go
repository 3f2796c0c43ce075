package storetest

import (
	"encoding/json"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/wharf-dev/wharf/internal/resource"
	"github.com/wharf-dev/wharf/internal/store"
)

func (e *env) newEventAction(accountID, dataSetID string) resource.EventAction {
	now := e.now()
	return resource.EventAction{
		AccountID: accountID,
		ID:        resource.NewID(),
		DataSetID: dataSetID,
		Action:    json.RawMessage(`{"ExportRevisionToS3":{"RevisionDestination":{"Bucket":"b","KeyPattern":"${Asset.Name}"}}}`),
		CreatedAt: now,
		UpdatedAt: now,
	}
}

func (e *env) eventAction(accountID, dataSetID string, edit ...func(*resource.EventAction)) resource.EventAction {
	e.t.Helper()
	ea := e.newEventAction(accountID, dataSetID)
	for _, f := range edit {
		f(&ea)
	}
	e.must(e.s.InsertEventAction(e.ctx, ea))
	return ea
}

func eventActionID(ea resource.EventAction) string         { return ea.ID }
func eventActionCreated(ea resource.EventAction) time.Time { return ea.CreatedAt }

var eventActionTests = []test{
	{"RoundTripAndScoping", func(t *testing.T, e *env) {
		account, other := newAccountID(), newAccountID()
		ea := e.eventAction(account, resource.NewID(), func(ea *resource.EventAction) {
			// Stored byte for byte, whatever the JSON's layout.
			ea.Action = json.RawMessage(`{"ExportRevisionToS3":{"Encryption":{"Type":"aws:kms","KmsKeyArn":"arn:aws:kms:k"}, "RevisionDestination":{"Bucket":"b"}}}`)
		})
		got, err := e.s.GetEventAction(e.ctx, account, ea.ID)
		wantEqual(t, "GetEventAction", got, ea, err)

		_, err = e.s.GetEventAction(e.ctx, other, ea.ID)
		wantErr(t, "GetEventAction of another account", err, store.ErrNotFound)
		_, err = e.s.GetEventAction(e.ctx, account, resource.NewID())
		wantErr(t, "GetEventAction of an unknown id", err, store.ErrNotFound)
		wantErr(t, "InsertEventAction with an existing id", e.s.InsertEventAction(e.ctx, ea), store.ErrDuplicate)
		again := ea
		again.AccountID = other
		wantErr(t, "InsertEventAction with an existing id in another account", e.s.InsertEventAction(e.ctx, again), store.ErrDuplicate)

		updated := ea
		updated.Action = json.RawMessage(`{"ExportRevisionToS3":{"RevisionDestination":{"Bucket":"c"}}}`)
		updated.UpdatedAt = e.now()
		updated.DataSetID = resource.NewID() // not written
		updated.CreatedAt = e.now()          // not written
		e.must(e.s.UpdateEventAction(e.ctx, updated))
		want := ea
		want.Action, want.UpdatedAt = updated.Action, updated.UpdatedAt
		got, err = e.s.GetEventAction(e.ctx, account, ea.ID)
		wantEqual(t, "after UpdateEventAction", got, want, err)

		foreign := updated
		foreign.AccountID = other
		wantErr(t, "UpdateEventAction of another account", e.s.UpdateEventAction(e.ctx, foreign), store.ErrNotFound)
		wantErr(t, "DeleteEventAction of another account", e.s.DeleteEventAction(e.ctx, other, ea.ID), store.ErrNotFound)
		bad := updated
		bad.Action = json.RawMessage(`{`)
		if err := e.s.UpdateEventAction(e.ctx, bad); err == nil {
			t.Error("UpdateEventAction took invalid JSON")
		}
		got, err = e.s.GetEventAction(e.ctx, account, ea.ID)
		wantEqual(t, "after refused updates", got, want, err)
	}},
	{"DeleteRemovesTags", func(t *testing.T, e *env) {
		account := newAccountID()
		ea := e.eventAction(account, resource.NewID())
		kept := e.eventAction(account, ea.DataSetID)
		e.must(e.s.SetTags(e.ctx, ea.ID, map[string]string{"a": "1", "b": "2"}))
		keptTags := e.tag(kept.ID)
		e.must(e.s.DeleteEventAction(e.ctx, account, ea.ID))
		_, err := e.s.GetEventAction(e.ctx, account, ea.ID)
		wantErr(t, "GetEventAction after delete", err, store.ErrNotFound)
		wantErr(t, "DeleteEventAction again", e.s.DeleteEventAction(e.ctx, account, ea.ID), store.ErrNotFound)
		e.wantNoTags(ea.ID)
		got, err := e.s.GetTags(e.ctx, kept.ID)
		wantEqual(t, "tags of the other event action", got, keptTags, err)
		// Inside a transaction too.
		e.must(e.s.InTx(e.ctx, func(q store.Queries) error { return q.DeleteEventAction(e.ctx, account, kept.ID) }))
		e.wantNoTags(kept.ID)
	}},
	{"ListingAndCount", func(t *testing.T, e *env) {
		account, other := newAccountID(), newAccountID()
		watched, unwatched := resource.NewID(), resource.NewID()
		var all, ofWatched []resource.EventAction
		sameTime := e.now()
		for i := range 7 {
			ds := unwatched
			if i%2 == 0 {
				ds = watched
			}
			ea := e.eventAction(account, ds, func(ea *resource.EventAction) {
				if i >= 4 { // ties on CreatedAt are broken by id
					ea.CreatedAt, ea.UpdatedAt = sameTime, sameTime
				}
			})
			all = append(all, ea)
			if ds == watched {
				ofWatched = append(ofWatched, ea)
			}
		}
		e.eventAction(other, watched)
		slices.SortFunc(all, newestFirst(eventActionCreated, eventActionID))
		slices.SortFunc(ofWatched, newestFirst(eventActionCreated, eventActionID))
		for _, limit := range pageLimits {
			got := readAll(t, limit, func(p store.PageRequest) (store.Page[resource.EventAction], error) {
				return e.s.ListEventActions(e.ctx, account, "", p)
			})
			wantIDs(t, fmt.Sprintf("every event action, limit %d", limit), got, all, eventActionID)
			got = readAll(t, limit, func(p store.PageRequest) (store.Page[resource.EventAction], error) {
				return e.s.ListEventActions(e.ctx, account, watched, p)
			})
			wantIDs(t, fmt.Sprintf("the watched data set's, limit %d", limit), got, ofWatched, eventActionID)
		}
		for _, c := range []struct {
			account, dataSet string
			want             int
		}{{account, "", 7}, {account, watched, 4}, {account, unwatched, 3}, {other, "", 1}, {newAccountID(), "", 0}} {
			n, err := e.s.CountEventActions(e.ctx, c.account, c.dataSet)
			wantEqual(t, "CountEventActions", n, c.want, err)
		}
	}},
}
