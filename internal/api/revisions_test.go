package api_test

import (
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dataexchange"
	"github.com/aws/aws-sdk-go-v2/service/dataexchange/types"

	"github.com/wharf-dev/wharf/internal/exchange"
	"github.com/wharf-dev/wharf/internal/resource"
)

func TestRevisionOperations(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ds := e.dataSet(e.a)
	created, err := e.a.CreateRevision(e.ctx, &dataexchange.CreateRevisionInput{
		DataSetId: ds.Id, Comment: aws.String("v1"), Tags: map[string]string{"k": "v"},
	})
	if err != nil {
		t.Fatalf("CreateRevision: %v", err)
	}
	rid := aws.ToString(created.Id)
	if aws.ToString(created.Arn) != resource.RevisionARN(region, accountA, aws.ToString(ds.Id), rid) ||
		aws.ToString(created.DataSetId) != aws.ToString(ds.Id) || created.Finalized || created.Revoked ||
		created.RevokedAt != nil || aws.ToString(created.Comment) != "v1" || created.Tags["k"] != "v" {
		t.Fatalf("CreateRevision returned %+v", created)
	}
	got, err := e.a.GetRevision(e.ctx, &dataexchange.GetRevisionInput{DataSetId: ds.Id, RevisionId: created.Id})
	if err != nil || got.Tags["k"] != "v" || aws.ToString(got.Comment) != "v1" {
		t.Fatalf("GetRevision %+v %v", got, err)
	}

	rev := func(in dataexchange.UpdateRevisionInput) (*dataexchange.UpdateRevisionOutput, error) {
		in.DataSetId, in.RevisionId = ds.Id, created.Id
		return e.a.UpdateRevision(e.ctx, &in)
	}
	// Finalizing needs an asset.
	_, err = rev(dataexchange.UpdateRevisionInput{Finalized: aws.Bool(true)})
	if ve := wantTyped[*types.ValidationException](t, err); !strings.Contains(aws.ToString(ve.Message), "asset") {
		t.Fatalf("message %q", aws.ToString(ve.Message))
	}
	e.asset(accountA, aws.ToString(ds.Id), rid, "a.csv")
	fin, err := rev(dataexchange.UpdateRevisionInput{Finalized: aws.Bool(true)})
	if err != nil || !fin.Finalized || fin.Revoked || !fin.UpdatedAt.After(*created.UpdatedAt) {
		t.Fatalf("finalize %+v %v", fin, err)
	}
	// A finalized revision's comment changes only together with un-finalizing.
	_, err = rev(dataexchange.UpdateRevisionInput{Comment: aws.String("v2")})
	conflict := wantTyped[*types.ConflictException](t, err)
	if aws.ToString(conflict.ResourceId) != rid || conflict.ResourceType != types.ResourceTypeRevision {
		t.Fatalf("conflict names %s %s", conflict.ResourceType, aws.ToString(conflict.ResourceId))
	}
	_, err = e.a.DeleteRevision(e.ctx, &dataexchange.DeleteRevisionInput{DataSetId: ds.Id, RevisionId: created.Id})
	wantTyped[*types.ConflictException](t, err)
	unfin, err := rev(dataexchange.UpdateRevisionInput{Finalized: aws.Bool(false), Comment: aws.String("v2")})
	if err != nil || unfin.Finalized || aws.ToString(unfin.Comment) != "v2" {
		t.Fatalf("un-finalize %+v %v", unfin, err)
	}
	_, err = e.a.RevokeRevision(e.ctx, &dataexchange.RevokeRevisionInput{DataSetId: ds.Id, RevisionId: created.Id, RevocationComment: aws.String("not finalized")})
	wantTyped[*types.ConflictException](t, err)

	if _, err := rev(dataexchange.UpdateRevisionInput{Finalized: aws.Bool(true)}); err != nil {
		t.Fatal(err)
	}
	_, err = e.a.RevokeRevision(e.ctx, &dataexchange.RevokeRevisionInput{DataSetId: ds.Id, RevisionId: created.Id, RevocationComment: aws.String("short")})
	wantTyped[*types.ValidationException](t, err)
	revoked, err := e.a.RevokeRevision(e.ctx, &dataexchange.RevokeRevisionInput{DataSetId: ds.Id, RevisionId: created.Id, RevocationComment: aws.String("withdrawn: bad data")})
	if err != nil || !revoked.Revoked || revoked.RevokedAt == nil || aws.ToString(revoked.RevocationComment) != "withdrawn: bad data" || !revoked.Finalized {
		t.Fatalf("revoke %+v %v", revoked, err)
	}
	_, err = e.a.RevokeRevision(e.ctx, &dataexchange.RevokeRevisionInput{DataSetId: ds.Id, RevisionId: created.Id, RevocationComment: aws.String("withdrawn again")})
	wantTyped[*types.ConflictException](t, err)
	_, err = rev(dataexchange.UpdateRevisionInput{Finalized: aws.Bool(false)})
	wantTyped[*types.ConflictException](t, err)
	got, err = e.a.GetRevision(e.ctx, &dataexchange.GetRevisionInput{DataSetId: ds.Id, RevisionId: created.Id})
	if err != nil || !got.Revoked || !got.RevokedAt.Equal(*revoked.RevokedAt) || !got.Finalized {
		t.Fatalf("revoked revision reads %+v %v", got, err)
	}

	// An unfinalized revision is deleted.
	other := e.revision(e.a, aws.ToString(ds.Id))
	if _, err := e.a.DeleteRevision(e.ctx, &dataexchange.DeleteRevisionInput{DataSetId: ds.Id, RevisionId: other.Id}); err != nil {
		t.Fatalf("DeleteRevision: %v", err)
	}
	_, err = e.a.GetRevision(e.ctx, &dataexchange.GetRevisionInput{DataSetId: ds.Id, RevisionId: other.Id})
	nf := wantTyped[*types.ResourceNotFoundException](t, err)
	if aws.ToString(nf.ResourceId) != aws.ToString(other.Id) || nf.ResourceType != types.ResourceTypeRevision {
		t.Fatalf("not found names %s %s", nf.ResourceType, aws.ToString(nf.ResourceId))
	}
	missing := resource.NewID()
	_, err = e.a.CreateRevision(e.ctx, &dataexchange.CreateRevisionInput{DataSetId: aws.String(missing)})
	nf = wantTyped[*types.ResourceNotFoundException](t, err)
	if aws.ToString(nf.ResourceId) != missing || nf.ResourceType != types.ResourceTypeDataSet {
		t.Fatalf("not found names %s %s", nf.ResourceType, aws.ToString(nf.ResourceId))
	}
}

func TestRevisionQuota(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.svc.RevisionsPerDataSet = 1
	ds := e.dataSet(e.a)
	e.revision(e.a, aws.ToString(ds.Id))
	_, err := e.a.CreateRevision(e.ctx, &dataexchange.CreateRevisionInput{DataSetId: ds.Id})
	// CreateRevision doesn't model ServiceLimitExceededException, so the SDK
	// hands it over as a generic error that keeps the code and message.
	ae := wantAPIError(t, err, "ServiceLimitExceededException")
	if !strings.Contains(ae.ErrorMessage(), exchange.LimitRevisionsPerDataSet) {
		t.Fatalf("message %q", ae.ErrorMessage())
	}
}

func TestListDataSetRevisionsPaginates(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ds := e.dataSet(e.a)
	want := map[string]bool{}
	for range 9 {
		want[aws.ToString(e.revision(e.a, aws.ToString(ds.Id)).Id)] = true
	}
	e.revision(e.a, aws.ToString(e.dataSet(e.a).Id))
	seen := map[string]bool{}
	p := dataexchange.NewListDataSetRevisionsPaginator(e.a, &dataexchange.ListDataSetRevisionsInput{DataSetId: ds.Id, MaxResults: 4})
	for p.HasMorePages() {
		page, err := p.NextPage(e.ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range page.Revisions {
			id := aws.ToString(r.Id)
			if !want[id] || seen[id] {
				t.Fatalf("revision %s listed twice or not in the data set", id)
			}
			seen[id] = true
			if aws.ToString(r.DataSetId) != aws.ToString(ds.Id) || r.Arn == nil || r.Finalized || r.Revoked {
				t.Fatalf("entry %+v", r)
			}
		}
	}
	if len(seen) != len(want) {
		t.Fatalf("listed %d of %d", len(seen), len(want))
	}
	_, err := e.a.ListDataSetRevisions(e.ctx, &dataexchange.ListDataSetRevisionsInput{DataSetId: aws.String(resource.NewID())})
	wantTyped[*types.ResourceNotFoundException](t, err)
}
