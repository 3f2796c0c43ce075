package storetest

import (
	"slices"
	"testing"
	"time"

	"github.com/wharf-dev/wharf/internal/resource"
	"github.com/wharf-dev/wharf/internal/store"
)

func (e *env) newDataGrant(sender, receiver, sourceDataSetID string) resource.DataGrant {
	now := e.now()
	return resource.DataGrant{
		AccountID:              sender,
		ID:                     resource.NewID(),
		Name:                   "grant " + now.Format(time.StampMilli),
		Description:            "a grant",
		ReceiverAccountID:      receiver,
		SourceDataSetID:        sourceDataSetID,
		DataSetID:              resource.NewID(),
		GrantDistributionScope: resource.GrantScopeNone,
		AcceptanceState:        resource.GrantPendingAcceptance,
		CreatedAt:              now,
		UpdatedAt:              now,
	}
}

func (e *env) dataGrant(sender, receiver, source string, edit ...func(*resource.DataGrant)) resource.DataGrant {
	e.t.Helper()
	g := e.newDataGrant(sender, receiver, source)
	for _, f := range edit {
		f(&g)
	}
	e.must(e.s.InsertDataGrant(e.ctx, g))
	return g
}

func dataGrantID(g resource.DataGrant) string         { return g.ID }
func dataGrantCreated(g resource.DataGrant) time.Time { return g.CreatedAt }

var dataGrantTests = []test{
	{"RoundTrip", func(t *testing.T, e *env) {
		sender, receiver := newAccountID(), newAccountID()
		accepted, ends := e.now(), e.now().Add(time.Hour)
		cases := []resource.DataGrant{
			e.newDataGrant(sender, receiver, resource.NewID()),
			func() resource.DataGrant {
				g := e.newDataGrant(sender, receiver, resource.NewID())
				g.AcceptanceState, g.AcceptedAt, g.EndsAt = resource.GrantAccepted, &accepted, &ends
				g.GrantDistributionScope, g.Description = resource.GrantScopeOrganization, ""
				return g
			}(),
		}
		for _, g := range cases {
			e.must(e.s.InsertDataGrant(e.ctx, g))
			got, err := e.s.GetDataGrant(e.ctx, sender, g.ID)
			wantEqual(t, "GetDataGrant", got, g, err)
			got, err = e.s.GetReceivedDataGrant(e.ctx, receiver, g.ID)
			wantEqual(t, "GetReceivedDataGrant", got, g, err)
		}
	}},
	{"Scoping", func(t *testing.T, e *env) {
		sender, receiver, other := newAccountID(), newAccountID(), newAccountID()
		g := e.dataGrant(sender, receiver, resource.NewID())
		for _, c := range []struct {
			what string
			err  error
		}{
			{"GetDataGrant by the receiver", func() error { _, err := e.s.GetDataGrant(e.ctx, receiver, g.ID); return err }()},
			{"GetDataGrant by another account", func() error { _, err := e.s.GetDataGrant(e.ctx, other, g.ID); return err }()},
			{"GetReceivedDataGrant by the sender", func() error { _, err := e.s.GetReceivedDataGrant(e.ctx, sender, g.ID); return err }()},
			{"GetReceivedDataGrant by another account", func() error { _, err := e.s.GetReceivedDataGrant(e.ctx, other, g.ID); return err }()},
			{"UpdateDataGrant by the receiver", e.s.UpdateDataGrant(e.ctx, func() resource.DataGrant { h := g; h.AccountID = receiver; return h }())},
			{"DeleteDataGrant by the receiver", e.s.DeleteDataGrant(e.ctx, receiver, g.ID)},
		} {
			wantErr(t, c.what, c.err, store.ErrNotFound)
		}
		got, err := e.s.GetDataGrant(e.ctx, sender, g.ID)
		wantEqual(t, "grant after the refused writes", got, g, err)
		wantErr(t, "InsertDataGrant twice", e.s.InsertDataGrant(e.ctx, g), store.ErrDuplicate)
		dup := e.newDataGrant(sender, receiver, g.SourceDataSetID)
		dup.DataSetID = g.DataSetID
		wantErr(t, "InsertDataGrant with another grant's entitled data set id", e.s.InsertDataGrant(e.ctx, dup), store.ErrDuplicate)
	}},
	{"UpdateAndDelete", func(t *testing.T, e *env) {
		sender, receiver := newAccountID(), newAccountID()
		g := e.dataGrant(sender, receiver, resource.NewID())
		e.tag(g.ID)
		at := e.now()
		g.AcceptanceState, g.AcceptedAt, g.UpdatedAt = resource.GrantAccepted, &at, at
		changed := g
		changed.Name, changed.ReceiverAccountID = "not written", newAccountID()
		e.must(e.s.UpdateDataGrant(e.ctx, changed))
		got, err := e.s.GetDataGrant(e.ctx, sender, g.ID)
		wantEqual(t, "grant after UpdateDataGrant (only state, accepted and updated times change)", got, g, err)

		e.must(e.s.DeleteDataGrant(e.ctx, sender, g.ID))
		_, err = e.s.GetDataGrant(e.ctx, sender, g.ID)
		wantErr(t, "GetDataGrant after the delete", err, store.ErrNotFound)
		e.wantNoTags(g.ID)
		wantErr(t, "DeleteDataGrant twice", e.s.DeleteDataGrant(e.ctx, sender, g.ID), store.ErrNotFound)
	}},
	{"ListingsAndCounts", func(t *testing.T, e *env) {
		sender, receiver, other := newAccountID(), newAccountID(), newAccountID()
		source := resource.NewID()
		ended := e.now()
		var sent, received, pending []resource.DataGrant
		for i := range 7 {
			to := receiver
			if i%3 == 2 {
				to = other
			}
			g := e.dataGrant(sender, to, source, func(g *resource.DataGrant) {
				if i%2 == 1 {
					g.AcceptanceState = resource.GrantAccepted
				}
				if i == 3 {
					g.EndsAt = &ended
				}
			})
			sent = append(sent, g)
			if to == receiver {
				received = append(received, g)
				if g.AcceptanceState == resource.GrantPendingAcceptance {
					pending = append(pending, g)
				}
			}
		}
		e.dataGrant(other, sender, resource.NewID()) // received by the sender: not in its sent listing
		order := newestFirst(dataGrantCreated, dataGrantID)
		for _, want := range [][]resource.DataGrant{sent, received, pending} {
			slices.SortFunc(want, order)
		}
		for _, limit := range pageLimits {
			got := readAll(t, limit, func(p store.PageRequest) (store.Page[resource.DataGrant], error) {
				return e.s.ListDataGrants(e.ctx, sender, p)
			})
			wantIDs(t, "ListDataGrants", got, sent, dataGrantID)
			got = readAll(t, limit, func(p store.PageRequest) (store.Page[resource.DataGrant], error) {
				return e.s.ListReceivedDataGrants(e.ctx, receiver, store.DataGrantFilter{}, p)
			})
			wantIDs(t, "ListReceivedDataGrants", got, received, dataGrantID)
			got = readAll(t, limit, func(p store.PageRequest) (store.Page[resource.DataGrant], error) {
				return e.s.ListReceivedDataGrants(e.ctx, receiver,
					store.DataGrantFilter{AcceptanceStates: []string{resource.GrantPendingAcceptance}}, p)
			})
			wantIDs(t, "ListReceivedDataGrants of pending grants", got, pending, dataGrantID)
			got = readAll(t, limit, func(p store.PageRequest) (store.Page[resource.DataGrant], error) {
				return e.s.ListReceivedDataGrants(e.ctx, receiver, store.DataGrantFilter{
					AcceptanceStates: []string{resource.GrantPendingAcceptance, resource.GrantAccepted}}, p)
			})
			wantIDs(t, "ListReceivedDataGrants of both states", got, received, dataGrantID)
		}
		for _, c := range []struct {
			what string
			f    store.DataGrantFilter
			want int
		}{
			{"all", store.DataGrantFilter{}, 8},
			{"sent", store.DataGrantFilter{SenderAccountID: sender}, 7},
			{"sent, active", store.DataGrantFilter{SenderAccountID: sender, ActiveAt: ended}, 6},
			{"of the source", store.DataGrantFilter{SenderAccountID: sender, SourceDataSetID: source}, 7},
			{"pending for the receiver", store.DataGrantFilter{ReceiverAccountID: receiver,
				AcceptanceStates: []string{resource.GrantPendingAcceptance}}, len(pending)},
			{"received by nobody", store.DataGrantFilter{ReceiverAccountID: newAccountID()}, 0},
		} {
			n, err := e.s.CountDataGrants(e.ctx, c.f)
			wantEqual(t, "CountDataGrants "+c.what, n, c.want, err)
		}
	}},
	{"FinalizedRevisions", func(t *testing.T, e *env) {
		d := e.dataSet(newAccountID())
		var finalized []resource.Revision
		for i := range 9 {
			r := e.revision(d, func(r *resource.Revision) { r.Finalized = i%3 != 0 })
			if r.Finalized {
				finalized = append(finalized, r)
			}
		}
		e.revision(e.dataSet(d.AccountID), func(r *resource.Revision) { r.Finalized = true }) // another data set
		slices.SortFunc(finalized, newestFirst(revisionCreated, revisionID))
		for _, limit := range pageLimits {
			got := readAll(t, limit, func(p store.PageRequest) (store.Page[resource.Revision], error) {
				return e.s.ListFinalizedRevisions(e.ctx, d.AccountID, d.ID, p)
			})
			wantIDs(t, "ListFinalizedRevisions", got, finalized, revisionID)
		}
		got := readAll(t, 5, func(p store.PageRequest) (store.Page[resource.Revision], error) {
			return e.s.ListFinalizedRevisions(e.ctx, newAccountID(), d.ID, p)
		})
		wantIDs(t, "ListFinalizedRevisions of another account", got, nil, revisionID)
	}},
}
