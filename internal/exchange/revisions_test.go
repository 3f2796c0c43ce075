package exchange_test

import (
	"strings"
	"sync"
	"testing"

	"github.com/wharf-dev/wharf/internal/exchange"
	"github.com/wharf-dev/wharf/internal/fault"
	"github.com/wharf-dev/wharf/internal/resource"
)

func TestRevisionLifecycle(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	d := f.dataSet(accountA)
	created, err := f.svc.CreateRevision(f.ctx, accountA, exchange.CreateRevisionInput{
		DataSetID: d.ID, Comment: ptr("c"), Tags: map[string]string{"k": "v"},
	})
	mustOK(t, err)
	if created.Finalized || created.Revoked || created.RevokedAt != nil || created.Comment != "c" || created.Tags["k"] != "v" {
		t.Fatalf("created %+v", created)
	}
	if want := resource.RevisionARN(region, accountA, d.ID, created.ID); created.ARN != want {
		t.Fatalf("ARN %s, want %s", created.ARN, want)
	}
	got, err := f.svc.GetRevision(f.ctx, accountA, exchange.GetRevisionInput{DataSetID: d.ID, RevisionID: created.ID})
	mustOK(t, err)
	if got.Comment != "c" || got.Tags["k"] != "v" || got.DataSetID != d.ID {
		t.Fatalf("get %+v", got)
	}
	bare, err := f.svc.CreateRevision(f.ctx, accountA, exchange.CreateRevisionInput{DataSetID: d.ID})
	mustOK(t, err)
	if bare.Comment != "" || len(bare.Tags) != 0 {
		t.Fatalf("bare %+v", bare)
	}
	_, err = f.svc.CreateRevision(f.ctx, accountA, exchange.CreateRevisionInput{DataSetID: d.ID, Comment: ptr(strings.Repeat("c", 16385))})
	wantFault(t, err, fault.Validation, "Comment")
	_, err = f.svc.CreateRevision(f.ctx, accountA, exchange.CreateRevisionInput{DataSetID: d.ID, Tags: map[string]string{"aws:x": ""}})
	wantFault(t, err, fault.Validation, "aws:")
	missing := resource.NewID()
	_, err = f.svc.CreateRevision(f.ctx, accountA, exchange.CreateRevisionInput{DataSetID: missing})
	wantNotFound(t, err, resource.KindDataSet, missing)

	// Unfinalized revisions are deleted with their assets.
	a := f.asset(accountA, d.ID, created.ID, "a")
	mustOK(t, f.svc.DeleteRevision(f.ctx, accountA, exchange.DeleteRevisionInput{DataSetID: d.ID, RevisionID: created.ID}))
	_, err = f.svc.GetRevision(f.ctx, accountA, exchange.GetRevisionInput{DataSetID: d.ID, RevisionID: created.ID})
	wantNotFound(t, err, resource.KindRevision, created.ID)
	if _, err := f.st.GetAsset(f.ctx, accountA, d.ID, created.ID, a.ID); err == nil {
		t.Fatal("asset survived its revision")
	}
	if tags, _ := f.st.GetTags(f.ctx, created.ID); len(tags) != 0 {
		t.Fatalf("tags survived: %v", tags)
	}
}

func TestUpdateRevisionRules(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	d := f.dataSet(accountA)
	type state int
	const (
		empty     state = iota // no asset, not finalized
		open                   // one asset, not finalized
		finalized              // one asset, finalized
		revoked                // finalized and revoked
	)
	tests := []struct {
		name          string
		from          state
		in            exchange.UpdateRevisionInput
		wantErr       string
		wantFinalized bool
		wantComment   string
	}{
		{"comment of an open revision", open, exchange.UpdateRevisionInput{Comment: ptr("new")}, "", false, "new"},
		{"empty update", open, exchange.UpdateRevisionInput{}, "", false, "first"},
		{"comment too long", open, exchange.UpdateRevisionInput{Comment: ptr(strings.Repeat("c", 16385))}, fault.Validation, false, ""},
		{"finalize without assets", empty, exchange.UpdateRevisionInput{Finalized: ptr(true)}, fault.Validation, false, ""},
		{"finalize with an asset", open, exchange.UpdateRevisionInput{Finalized: ptr(true)}, "", true, "first"},
		{"finalize and comment together", open, exchange.UpdateRevisionInput{Finalized: ptr(true), Comment: ptr("v1")}, "", true, "v1"},
		{"comment of a finalized revision", finalized, exchange.UpdateRevisionInput{Comment: ptr("new")}, fault.Conflict, true, ""},
		{"same comment of a finalized revision", finalized, exchange.UpdateRevisionInput{Comment: ptr("first")}, "", true, "first"},
		{"comment while staying finalized", finalized, exchange.UpdateRevisionInput{Comment: ptr("new"), Finalized: ptr(true)}, fault.Conflict, true, ""},
		{"un-finalize", finalized, exchange.UpdateRevisionInput{Finalized: ptr(false)}, "", false, "first"},
		{"un-finalize and comment", finalized, exchange.UpdateRevisionInput{Finalized: ptr(false), Comment: ptr("new")}, "", false, "new"},
		{"un-finalize a revoked revision", revoked, exchange.UpdateRevisionInput{Finalized: ptr(false)}, fault.Conflict, true, ""},
		{"comment of a revoked revision", revoked, exchange.UpdateRevisionInput{Finalized: ptr(false), Comment: ptr("x")}, fault.Conflict, true, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := f.on(t)
			r := f.revision(accountA, d.ID)
			if tc.from != empty {
				f.asset(accountA, d.ID, r.ID, "a")
			}
			if tc.from >= finalized {
				_, err := f.svc.UpdateRevision(f.ctx, accountA, exchange.UpdateRevisionInput{DataSetID: d.ID, RevisionID: r.ID, Finalized: ptr(true)})
				mustOK(t, err)
			}
			if tc.from == revoked {
				_, err := f.svc.RevokeRevision(f.ctx, accountA, exchange.RevokeRevisionInput{DataSetID: d.ID, RevisionID: r.ID, RevocationComment: ptr("withdrawn for good")})
				mustOK(t, err)
			}
			before, err := f.svc.GetRevision(f.ctx, accountA, exchange.GetRevisionInput{DataSetID: d.ID, RevisionID: r.ID})
			mustOK(t, err)
			in := tc.in
			in.DataSetID, in.RevisionID = d.ID, r.ID
			got, err := f.svc.UpdateRevision(f.ctx, accountA, in)
			after, getErr := f.svc.GetRevision(f.ctx, accountA, exchange.GetRevisionInput{DataSetID: d.ID, RevisionID: r.ID})
			mustOK(t, getErr)
			if tc.wantErr != "" {
				fe := wantFault(t, err, tc.wantErr, "")
				if tc.wantErr == fault.Conflict && (fe.ResourceType != resource.KindRevision || fe.ResourceID != r.ID) {
					t.Fatalf("conflict names %s %s", fe.ResourceType, fe.ResourceID)
				}
				if tc.from == empty && !strings.Contains(fe.Message, "asset") {
					t.Fatalf("message %q does not say an asset is needed", fe.Message)
				}
				if !after.UpdatedAt.Equal(before.UpdatedAt) || after.Comment != before.Comment || after.Finalized != before.Finalized {
					t.Fatalf("a refused update changed the revision: %+v -> %+v", before, after)
				}
				return
			}
			mustOK(t, err)
			if got.Finalized != tc.wantFinalized || got.Comment != tc.wantComment || got.Tags != nil {
				t.Fatalf("update returned %+v", got)
			}
			if after.Finalized != tc.wantFinalized || after.Comment != tc.wantComment {
				t.Fatalf("stored %+v", after)
			}
			if !after.UpdatedAt.After(before.UpdatedAt) || !got.UpdatedAt.Equal(after.UpdatedAt) {
				t.Fatalf("UpdatedAt %v -> %v (returned %v)", before.UpdatedAt, after.UpdatedAt, got.UpdatedAt)
			}
		})
	}
}

func TestRevokeRevision(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	d := f.dataSet(accountA)
	open := f.revision(accountA, d.ID)
	f.asset(accountA, d.ID, open.ID, "a")
	final, _ := f.finalized(accountA, d.ID)
	revoke := func(revisionID string, comment *string) (exchange.RevisionView, error) {
		return f.svc.RevokeRevision(f.ctx, accountA, exchange.RevokeRevisionInput{DataSetID: d.ID, RevisionID: revisionID, RevocationComment: comment})
	}

	for _, comment := range []*string{nil, ptr("too short"), ptr(strings.Repeat("x", 513))} {
		_, err := revoke(final.ID, comment)
		wantFault(t, err, fault.Validation, "RevocationComment")
	}
	_, err := revoke(open.ID, ptr("ten chars!"))
	wantFault(t, err, fault.Conflict, "not finalized")

	got, err := revoke(final.ID, ptr("ten chars!"))
	mustOK(t, err)
	if !got.Revoked || got.RevokedAt == nil || got.RevocationComment != "ten chars!" || !got.Finalized || got.Tags != nil {
		t.Fatalf("revoked %+v", got)
	}
	if !got.UpdatedAt.After(final.UpdatedAt) || !got.RevokedAt.Equal(got.UpdatedAt) {
		t.Fatalf("times %+v", got)
	}
	stored, err := f.svc.GetRevision(f.ctx, accountA, exchange.GetRevisionInput{DataSetID: d.ID, RevisionID: final.ID})
	mustOK(t, err)
	if !stored.Revoked || stored.RevokedAt == nil || !stored.RevokedAt.Equal(*got.RevokedAt) {
		t.Fatalf("stored %+v", stored)
	}
	_, err = revoke(final.ID, ptr("once more, please"))
	wantFault(t, err, fault.Conflict, "already revoked")
}

func TestDeleteRevisionRules(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	d := f.dataSet(accountA)
	r, a := f.finalized(accountA, d.ID)
	del := func() error {
		return f.svc.DeleteRevision(f.ctx, accountA, exchange.DeleteRevisionInput{DataSetID: d.ID, RevisionID: r.ID})
	}
	fe := wantFault(t, del(), fault.Conflict, "Finalized")
	if fe.ResourceID != r.ID || fe.ResourceType != resource.KindRevision {
		t.Fatalf("conflict names %s %s", fe.ResourceType, fe.ResourceID)
	}
	if _, err := f.st.GetAsset(f.ctx, accountA, d.ID, r.ID, a.ID); err != nil {
		t.Fatalf("refused delete removed the asset: %v", err)
	}
	// Un-finalize first, as terraform does.
	_, err := f.svc.UpdateRevision(f.ctx, accountA, exchange.UpdateRevisionInput{DataSetID: d.ID, RevisionID: r.ID, Finalized: ptr(false)})
	mustOK(t, err)
	mustOK(t, del())
	wantNotFound(t, del(), resource.KindRevision, r.ID)

	revoked, _ := f.finalized(accountA, d.ID)
	_, err = f.svc.RevokeRevision(f.ctx, accountA, exchange.RevokeRevisionInput{DataSetID: d.ID, RevisionID: revoked.ID, RevocationComment: ptr("withdrawn for good")})
	mustOK(t, err)
	err = f.svc.DeleteRevision(f.ctx, accountA, exchange.DeleteRevisionInput{DataSetID: d.ID, RevisionID: revoked.ID})
	wantFault(t, err, fault.Conflict, "revoked")
}

func TestRevisionQuota(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.svc.RevisionsPerDataSet = 4
	d := f.dataSet(accountA)
	var wg sync.WaitGroup
	errs := make(chan error, 10)
	for range 10 {
		wg.Go(func() {
			_, err := f.svc.CreateRevision(f.ctx, accountA, exchange.CreateRevisionInput{DataSetID: d.ID})
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	created := 0
	for err := range errs {
		if err == nil {
			created++
			continue
		}
		fe := wantFault(t, err, fault.ServiceLimitExceeded, "")
		if fe.LimitName != exchange.LimitRevisionsPerDataSet || fe.LimitValue != 4 {
			t.Fatalf("limit %q %v", fe.LimitName, fe.LimitValue)
		}
	}
	if created != 4 {
		t.Fatalf("%d revisions created, want 4", created)
	}
	// The quota is per data set.
	f.revision(accountA, f.dataSet(accountA).ID)
}

func TestListDataSetRevisions(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	d := f.dataSet(accountA)
	other := f.dataSet(accountA)
	f.revision(accountA, other.ID)
	want := map[string]bool{}
	for range 5 {
		want[f.revision(accountA, d.ID).ID] = true
	}
	in := exchange.ListDataSetRevisionsInput{DataSetID: d.ID, PageInput: exchange.PageInput{MaxResults: ptr(2)}}
	pages := 0
	for {
		page, err := f.svc.ListDataSetRevisions(f.ctx, accountA, in)
		mustOK(t, err)
		pages++
		for _, r := range page.Items {
			if !want[r.ID] {
				t.Fatalf("revision %s listed twice or not in the data set", r.ID)
			}
			delete(want, r.ID)
		}
		if page.NextToken == "" {
			break
		}
		in.NextToken = page.NextToken
	}
	if len(want) != 0 || pages != 3 {
		t.Fatalf("%d revisions never listed, %d pages", len(want), pages)
	}
	empty := f.dataSet(accountA)
	page, err := f.svc.ListDataSetRevisions(f.ctx, accountA, exchange.ListDataSetRevisionsInput{DataSetID: empty.ID})
	mustOK(t, err)
	if page.Items == nil || len(page.Items) != 0 || page.NextToken != "" {
		t.Fatalf("empty listing %+v", page)
	}
	missing := resource.NewID()
	_, err = f.svc.ListDataSetRevisions(f.ctx, accountA, exchange.ListDataSetRevisionsInput{DataSetID: missing})
	wantNotFound(t, err, resource.KindDataSet, missing)
}

// TestReferenceRevisionQuotas checks AWS's revision quotas of reference-
// asset data sets: 20, or 5 for S3 data access, refused with their names.
func TestReferenceRevisionQuotas(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	for _, c := range []struct {
		assetType string
		name      string
		limit     int
	}{
		{resource.AssetTypeRedshiftDataShare, "Revisions per Amazon Redshift datashare data set", 20},
		{resource.AssetTypeAPIGatewayAPI, "Revisions per Amazon API Gateway API data set", 20},
		{resource.AssetTypeLakeFormationDataPermission, "Revisions per AWS Lake Formation data permission data set", 20},
		{resource.AssetTypeS3DataAccess, "Revisions per Amazon S3 data access data set", 5},
	} {
		t.Run(c.assetType, func(t *testing.T) {
			f := f.on(t)
			d, err := f.svc.CreateDataSet(f.ctx, accountA, exchange.CreateDataSetInput{
				Name: ptr("ref"), Description: ptr("reference assets"), AssetType: ptr(c.assetType),
			})
			mustOK(t, err)
			for range c.limit {
				f.revision(accountA, d.ID)
			}
			_, err = f.svc.CreateRevision(f.ctx, accountA, exchange.CreateRevisionInput{DataSetID: d.ID})
			fe := wantFault(t, err, fault.ServiceLimitExceeded, "")
			if fe.LimitName != c.name || fe.LimitValue != float64(c.limit) {
				t.Errorf("limit %q %v, want %q %d", fe.LimitName, fe.LimitValue, c.name, c.limit)
			}
		})
	}
}
