package exchange_test

import (
	"reflect"
	"testing"
	"time"

	"github.com/wharf-dev/wharf/internal/exchange"
	"github.com/wharf-dev/wharf/internal/fault"
	"github.com/wharf-dev/wharf/internal/resource"
	"github.com/wharf-dev/wharf/internal/store"
)

const accountC = "333333333333"

func (f *fixture) grant(sender, receiver, dataSetID string) exchange.DataGrantView {
	f.t.Helper()
	g, err := f.svc.CreateDataGrant(f.ctx, sender, exchange.CreateDataGrantInput{
		Name: ptr("share"), GrantDistributionScope: ptr(resource.GrantScopeNone),
		ReceiverPrincipal: ptr(receiver), SourceDataSetID: ptr(dataSetID),
	})
	if err != nil {
		f.t.Fatalf("CreateDataGrant: %v", err)
	}
	return g
}

// shared is a data set of A with a finalized and an open revision, granted
// to B and accepted.
type shared struct {
	source    exchange.DataSetView
	finalized exchange.RevisionView
	asset     resource.Asset
	open      exchange.RevisionView
	grant     exchange.DataGrantView
	entitled  exchange.DataSetView
}

func (f *fixture) shared() shared {
	f.t.Helper()
	var s shared
	s.source = f.dataSet(accountA)
	s.finalized, s.asset = f.finalized(accountA, s.source.ID)
	s.open = f.revision(accountA, s.source.ID)
	f.asset(accountA, s.source.ID, s.open.ID, "draft.csv")
	s.grant = f.grant(accountA, accountB, s.source.ID)
	if _, err := f.svc.AcceptDataGrant(f.ctx, accountB, s.grant.ARN); err != nil {
		f.t.Fatalf("AcceptDataGrant: %v", err)
	}
	var err error
	if s.entitled, err = f.svc.GetDataSet(f.ctx, accountB, exchange.GetDataSetInput{DataSetID: s.grant.DataSetID}); err != nil {
		f.t.Fatalf("GetDataSet of the entitled data set: %v", err)
	}
	return s
}

func TestDataGrantLifecycle(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	d := f.dataSet(accountA)
	ends := time.Now().Add(time.Hour).UTC().Truncate(time.Millisecond)
	g, err := f.svc.CreateDataGrant(f.ctx, accountA, exchange.CreateDataGrantInput{
		Name: ptr("share"), Description: ptr("for B"), GrantDistributionScope: ptr(resource.GrantScopeNone),
		ReceiverPrincipal: ptr(accountB), SourceDataSetID: ptr(d.ID), EndsAt: &ends, Tags: map[string]string{"k": "v"},
	})
	mustOK(t, err)
	if g.AcceptanceState != resource.GrantPendingAcceptance || g.SourceDataSetID != d.ID || g.DataSetID == d.ID ||
		g.ARN != resource.DataGrantARN(region, accountA, g.ID) || !g.EndsAt.Equal(ends) || g.Tags["k"] != "v" {
		t.Fatalf("created grant: %+v", g)
	}
	// The receiver sees it pending; nobody else sees it.
	recv, err := f.svc.ListReceivedDataGrants(f.ctx, accountB, exchange.ListReceivedDataGrantsInput{
		AcceptanceStates: []string{resource.GrantPendingAcceptance}})
	mustOK(t, err)
	if len(recv.Items) != 1 || recv.Items[0].ID != g.ID {
		t.Fatalf("pending received grants: %+v", recv.Items)
	}
	for _, acct := range []string{accountA, accountC} {
		_, err := f.svc.GetReceivedDataGrant(f.ctx, acct, g.ARN)
		wantNotFound(t, err, resource.KindDataGrant, g.ID)
		_, err = f.svc.AcceptDataGrant(f.ctx, acct, g.ARN)
		wantNotFound(t, err, resource.KindDataGrant, g.ID)
	}
	_, err = f.svc.GetDataGrant(f.ctx, accountB, g.ID)
	wantNotFound(t, err, resource.KindDataGrant, g.ID)
	_, err = f.svc.GetDataSet(f.ctx, accountB, exchange.GetDataSetInput{DataSetID: g.DataSetID})
	wantNotFound(t, err, resource.KindDataSet, g.DataSetID)

	acc, err := f.svc.AcceptDataGrant(f.ctx, accountB, g.ARN)
	mustOK(t, err)
	if acc.AcceptanceState != resource.GrantAccepted || acc.AcceptedAt == nil {
		t.Fatalf("accepted grant: %+v", acc)
	}
	_, err = f.svc.AcceptDataGrant(f.ctx, accountB, g.ARN)
	wantFault(t, err, fault.Conflict, "already accepted")
	e, err := f.svc.GetDataSet(f.ctx, accountB, exchange.GetDataSetInput{DataSetID: g.DataSetID})
	mustOK(t, err)
	if e.Origin != resource.OriginEntitled || e.OriginDetails.DataGrantID != g.ID || e.Name != d.Name ||
		e.ARN != resource.DataSetARN(region, "", g.DataSetID) {
		t.Fatalf("entitled data set: %+v", e)
	}
	byARN, err := f.svc.GetDataGrant(f.ctx, accountA, g.ARN)
	mustOK(t, err)
	if byARN.AcceptanceState != resource.GrantAccepted {
		t.Fatalf("sender's view after acceptance: %+v", byARN)
	}
	// The source can't go while the grant exists.
	wantFault(t, f.svc.DeleteDataSet(f.ctx, accountA, exchange.DeleteDataSetInput{DataSetID: d.ID}), fault.Conflict, "data grant")

	// Deleting the grant takes the entitled data set with it.
	wantNotFound(t, f.svc.DeleteDataGrant(f.ctx, accountB, g.ID), resource.KindDataGrant, g.ID)
	mustOK(t, f.svc.DeleteDataGrant(f.ctx, accountA, g.ARN))
	_, err = f.svc.GetDataSet(f.ctx, accountB, exchange.GetDataSetInput{DataSetID: g.DataSetID})
	wantNotFound(t, err, resource.KindDataSet, g.DataSetID)
	_, err = f.svc.GetReceivedDataGrant(f.ctx, accountB, g.ARN)
	wantNotFound(t, err, resource.KindDataGrant, g.ID)
	mustOK(t, f.svc.DeleteDataSet(f.ctx, accountA, exchange.DeleteDataSetInput{DataSetID: d.ID}))
}

func TestCreateDataGrantValidation(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	d := f.dataSet(accountA)
	past := time.Now().Add(-time.Minute)
	valid := func(edit func(*exchange.CreateDataGrantInput)) exchange.CreateDataGrantInput {
		in := exchange.CreateDataGrantInput{Name: ptr("n"), GrantDistributionScope: ptr(resource.GrantScopeNone),
			ReceiverPrincipal: ptr(accountB), SourceDataSetID: ptr(d.ID)}
		edit(&in)
		return in
	}
	missing := resource.NewID()
	for _, tc := range []struct {
		name, want, message string
		in                  exchange.CreateDataGrantInput
	}{
		{"no name", fault.Validation, "Name", valid(func(in *exchange.CreateDataGrantInput) { in.Name = nil })},
		{"bad scope", fault.Validation, "GrantDistributionScope", valid(func(in *exchange.CreateDataGrantInput) { in.GrantDistributionScope = ptr("ALL") })},
		{"short receiver", fault.Validation, "ReceiverPrincipal", valid(func(in *exchange.CreateDataGrantInput) { in.ReceiverPrincipal = ptr("1234") })},
		{"self", fault.Validation, "own account", valid(func(in *exchange.CreateDataGrantInput) { in.ReceiverPrincipal = ptr(accountA) })},
		{"no source", fault.Validation, "SourceDataSetId", valid(func(in *exchange.CreateDataGrantInput) { in.SourceDataSetID = nil })},
		{"ended", fault.Validation, "EndsAt", valid(func(in *exchange.CreateDataGrantInput) { in.EndsAt = &past })},
		{"empty description", fault.Validation, "Description", valid(func(in *exchange.CreateDataGrantInput) { in.Description = ptr("") })},
		{"missing source", fault.ResourceNotFound, "", valid(func(in *exchange.CreateDataGrantInput) { in.SourceDataSetID = &missing })},
		{"another's source", fault.ResourceNotFound, "", valid(func(in *exchange.CreateDataGrantInput) { in.ReceiverPrincipal = ptr(accountC) })},
	} {
		t.Run(tc.name, func(t *testing.T) {
			acct := accountA
			if tc.name == "another's source" {
				acct = accountB
			}
			_, err := f.svc.CreateDataGrant(f.ctx, acct, tc.in)
			wantFault(t, err, tc.want, tc.message)
		})
	}
	n, err := f.st.CountDataGrants(f.ctx, store.DataGrantFilter{})
	if err != nil || n != 0 {
		t.Fatalf("refused creations left %d grants (%v)", n, err)
	}
}

func TestDataGrantQuotas(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.svc.ActiveAndPendingDataGrants, f.svc.PendingDataGrantsPerConsumer = 3, 2
	d := f.dataSet(accountA)
	f.grant(accountA, accountB, d.ID)
	f.grant(accountA, accountB, d.ID)
	in := exchange.CreateDataGrantInput{Name: ptr("n"), GrantDistributionScope: ptr(resource.GrantScopeNone),
		ReceiverPrincipal: ptr(accountB), SourceDataSetID: ptr(d.ID)}
	_, err := f.svc.CreateDataGrant(f.ctx, accountA, in)
	fe := wantFault(t, err, fault.ServiceLimitExceeded, "")
	if fe.LimitName != exchange.LimitPendingDataGrantsPerConsumer || fe.LimitValue != 2 {
		t.Fatalf("limit: %s %v", fe.LimitName, fe.LimitValue)
	}
	f.grant(accountA, accountC, d.ID)
	in.ReceiverPrincipal = ptr("444444444444")
	_, err = f.svc.CreateDataGrant(f.ctx, accountA, in)
	fe = wantFault(t, err, fault.ServiceLimitExceeded, "")
	if fe.LimitName != exchange.LimitActiveAndPendingDataGrants || fe.LimitValue != 3 {
		t.Fatalf("limit: %s %v", fe.LimitName, fe.LimitValue)
	}
}

func TestEntitledDataSetReadsThrough(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	s := f.shared()
	e := s.entitled.ID

	revs, err := f.svc.ListDataSetRevisions(f.ctx, accountB, exchange.ListDataSetRevisionsInput{DataSetID: e})
	mustOK(t, err)
	if len(revs.Items) != 1 || revs.Items[0].ID != s.finalized.ID || revs.Items[0].DataSetID != e ||
		revs.Items[0].ARN != resource.RevisionARN(region, "", e, s.finalized.ID) {
		t.Fatalf("entitled revisions (want only the finalized one): %+v", revs.Items)
	}
	_, err = f.svc.GetRevision(f.ctx, accountB, exchange.GetRevisionInput{DataSetID: e, RevisionID: s.open.ID})
	wantNotFound(t, err, resource.KindRevision, s.open.ID)
	a, err := f.svc.GetAsset(f.ctx, accountB, exchange.GetAssetInput{DataSetID: e, RevisionID: s.finalized.ID, AssetID: s.asset.ID})
	mustOK(t, err)
	if a.Name != s.asset.Name || a.DataSetID != e || a.ARN != resource.AssetARN(region, "", e, s.finalized.ID, s.asset.ID) {
		t.Fatalf("entitled asset: %+v", a)
	}
	_, err = f.svc.ListRevisionAssets(f.ctx, accountB, exchange.ListRevisionAssetsInput{DataSetID: e, RevisionID: s.open.ID})
	wantNotFound(t, err, resource.KindRevision, s.open.ID)

	// A revision finalized later shows up; a revoked one stays, marked.
	_, err = f.svc.UpdateRevision(f.ctx, accountA, exchange.UpdateRevisionInput{DataSetID: s.source.ID, RevisionID: s.open.ID, Finalized: ptr(true)})
	mustOK(t, err)
	_, err = f.svc.RevokeRevision(f.ctx, accountA, exchange.RevokeRevisionInput{DataSetID: s.source.ID, RevisionID: s.finalized.ID, RevocationComment: ptr("withdrawn, sorry")})
	mustOK(t, err)
	revs, err = f.svc.ListDataSetRevisions(f.ctx, accountB, exchange.ListDataSetRevisionsInput{DataSetID: e})
	mustOK(t, err)
	if len(revs.Items) != 2 || revs.Items[0].ID != s.open.ID || !revs.Items[1].Revoked {
		t.Fatalf("entitled revisions after finalize and revoke: %+v", revs.Items)
	}
	owned, err := f.svc.ListDataSets(f.ctx, accountB, exchange.ListDataSetsInput{Origin: resource.OriginEntitled})
	mustOK(t, err)
	if len(owned.Items) != 1 || owned.Items[0].ID != e {
		t.Fatalf("ListDataSets ENTITLED: %+v", owned.Items)
	}
	// A third account sees none of it.
	_, err = f.svc.GetDataSet(f.ctx, accountC, exchange.GetDataSetInput{DataSetID: e})
	wantNotFound(t, err, resource.KindDataSet, e)
	_, err = f.svc.ListDataSetRevisions(f.ctx, accountC, exchange.ListDataSetRevisionsInput{DataSetID: e})
	wantNotFound(t, err, resource.KindDataSet, e)
}

func TestEntitledDataSetRefusesChanges(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	s := f.shared()
	e, r, a := s.entitled.ID, s.finalized.ID, s.asset.ID
	before := snapshot(t, f, s)
	for name, op := range map[string]func() error{
		"UpdateDataSet": func() error {
			_, err := f.svc.UpdateDataSet(f.ctx, accountB, exchange.UpdateDataSetInput{DataSetID: e, Name: ptr("mine")})
			return err
		},
		"DeleteDataSet": func() error { return f.svc.DeleteDataSet(f.ctx, accountB, exchange.DeleteDataSetInput{DataSetID: e}) },
		"CreateRevision": func() error {
			_, err := f.svc.CreateRevision(f.ctx, accountB, exchange.CreateRevisionInput{DataSetID: e})
			return err
		},
		"UpdateRevision": func() error {
			_, err := f.svc.UpdateRevision(f.ctx, accountB, exchange.UpdateRevisionInput{DataSetID: e, RevisionID: r, Finalized: ptr(false)})
			return err
		},
		"DeleteRevision": func() error {
			return f.svc.DeleteRevision(f.ctx, accountB, exchange.DeleteRevisionInput{DataSetID: e, RevisionID: r})
		},
		"RevokeRevision": func() error {
			_, err := f.svc.RevokeRevision(f.ctx, accountB, exchange.RevokeRevisionInput{DataSetID: e, RevisionID: r, RevocationComment: ptr("not mine to revoke")})
			return err
		},
		"UpdateAsset": func() error {
			_, err := f.svc.UpdateAsset(f.ctx, accountB, exchange.UpdateAssetInput{DataSetID: e, RevisionID: r, AssetID: a, Name: ptr("x")})
			return err
		},
		"DeleteAsset": func() error {
			return f.svc.DeleteAsset(f.ctx, accountB, exchange.DeleteAssetInput{DataSetID: e, RevisionID: r, AssetID: a})
		},
		"TagResource data set": func() error {
			return f.svc.TagResource(f.ctx, accountB, exchange.TagResourceInput{ResourceARN: s.entitled.ARN, Tags: map[string]string{"k": "v"}})
		},
		"TagResource revision": func() error {
			return f.svc.TagResource(f.ctx, accountB, exchange.TagResourceInput{ResourceARN: resource.RevisionARN(region, "", e, r), Tags: map[string]string{"k": "v"}})
		},
		"UntagResource": func() error {
			return f.svc.UntagResource(f.ctx, accountB, exchange.UntagResourceInput{ResourceARN: s.entitled.ARN, TagKeys: []string{"k"}})
		},
		"CreateDataGrant of it": func() error {
			_, err := f.svc.CreateDataGrant(f.ctx, accountB, exchange.CreateDataGrantInput{Name: ptr("n"),
				GrantDistributionScope: ptr(resource.GrantScopeNone), ReceiverPrincipal: ptr(accountC), SourceDataSetID: &e})
			return err
		},
	} {
		t.Run(name, func(t *testing.T) { wantFault(t, op(), fault.AccessDenied, "entitled") })
	}
	if after := snapshot(t, f, s); !reflect.DeepEqual(before, after) {
		t.Fatalf("refused changes changed something:\n before %s\n after  %s", fmtAll(before), fmtAll(after))
	}
	tags, err := f.svc.ListTagsForResource(f.ctx, accountB, exchange.ListTagsForResourceInput{ResourceARN: s.entitled.ARN})
	if err != nil || len(tags) != 0 {
		t.Fatalf("tags of the entitled data set: %v, %v", tags, err)
	}
}

// snapshot reads everything the receiver and the sender can see of s.
func snapshot(t *testing.T, f *fixture, s shared) []any {
	t.Helper()
	var out []any
	for _, acct := range []string{accountA, accountB} {
		sets, err := f.svc.ListDataSets(f.ctx, acct, exchange.ListDataSetsInput{})
		mustOK(t, err)
		out = append(out, sets)
	}
	revs, err := f.svc.ListDataSetRevisions(f.ctx, accountA, exchange.ListDataSetRevisionsInput{DataSetID: s.source.ID})
	mustOK(t, err)
	assets, err := f.svc.ListRevisionAssets(f.ctx, accountA, exchange.ListRevisionAssetsInput{DataSetID: s.source.ID, RevisionID: s.finalized.ID})
	mustOK(t, err)
	grants, err := f.svc.ListDataGrants(f.ctx, accountB, exchange.PageInput{})
	mustOK(t, err)
	return append(out, revs, assets, grants)
}

func TestEndedGrantRefusesReads(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	s := f.shared()
	// End the grant now, as time passing would.
	g, err := f.st.GetDataGrant(f.ctx, accountA, s.grant.ID)
	mustOK(t, err)
	past := resource.Now().Add(-time.Millisecond)
	g.EndsAt = &past
	mustOK(t, f.st.DeleteDataGrant(f.ctx, accountA, g.ID))
	mustOK(t, f.st.InsertDataGrant(f.ctx, g))
	_, err = f.svc.ListDataSetRevisions(f.ctx, accountB, exchange.ListDataSetRevisionsInput{DataSetID: s.entitled.ID})
	wantFault(t, err, fault.AccessDenied, "ended")
	_, err = f.svc.GetAsset(f.ctx, accountB, exchange.GetAssetInput{DataSetID: s.entitled.ID, RevisionID: s.finalized.ID, AssetID: s.asset.ID})
	wantFault(t, err, fault.AccessDenied, "ended")
}
