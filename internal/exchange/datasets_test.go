package exchange_test

import (
	"strings"
	"sync"
	"testing"

	"github.com/wharf-dev/wharf/internal/exchange"
	"github.com/wharf-dev/wharf/internal/fault"
	"github.com/wharf-dev/wharf/internal/resource"
)

func TestCreateDataSetValidation(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	valid := func() exchange.CreateDataSetInput {
		return exchange.CreateDataSetInput{Name: ptr("n"), Description: ptr(""), AssetType: ptr(resource.AssetTypeS3Snapshot)}
	}
	tooManyTags := map[string]string{}
	for i := range 51 {
		tooManyTags[strings.Repeat("k", i+1)] = "v"
	}
	tests := []struct {
		name   string
		change func(*exchange.CreateDataSetInput)
		field  string // "" means the input is valid
	}{
		{"valid, empty description", func(*exchange.CreateDataSetInput) {}, ""},
		{"name missing", func(in *exchange.CreateDataSetInput) { in.Name = nil }, "Name"},
		{"name empty", func(in *exchange.CreateDataSetInput) { in.Name = ptr("") }, "Name"},
		{"name 256 characters", func(in *exchange.CreateDataSetInput) { in.Name = ptr(strings.Repeat("é", 256)) }, ""},
		{"name 257 characters", func(in *exchange.CreateDataSetInput) { in.Name = ptr(strings.Repeat("n", 257)) }, "Name"},
		{"description missing", func(in *exchange.CreateDataSetInput) { in.Description = nil }, "Description"},
		{"description too long", func(in *exchange.CreateDataSetInput) { in.Description = ptr(strings.Repeat("d", 16385)) }, "Description"},
		{"asset type missing", func(in *exchange.CreateDataSetInput) { in.AssetType = nil }, "AssetType"},
		{"asset type unknown", func(in *exchange.CreateDataSetInput) { in.AssetType = ptr("S3_SNAP") }, "AssetType"},
		{"every asset type", func(in *exchange.CreateDataSetInput) {
			in.AssetType = ptr(resource.AssetTypeLakeFormationDataPermission)
		}, ""},
		{"50 tags", func(in *exchange.CreateDataSetInput) { delete(tooManyTags, "k"); in.Tags = tooManyTags }, ""},
		{"51 tags", func(in *exchange.CreateDataSetInput) {
			in.Tags = map[string]string{}
			for i := range 51 {
				in.Tags[strings.Repeat("t", i+1)] = ""
			}
		}, "Tags"},
		{"tag key empty", func(in *exchange.CreateDataSetInput) { in.Tags = map[string]string{"": "v"} }, "tag key"},
		{"tag key 129", func(in *exchange.CreateDataSetInput) { in.Tags = map[string]string{strings.Repeat("k", 129): "v"} }, "tag key"},
		{"tag value 257", func(in *exchange.CreateDataSetInput) { in.Tags = map[string]string{"k": strings.Repeat("v", 257)} }, "value of tag k"},
		{"tag key aws:", func(in *exchange.CreateDataSetInput) { in.Tags = map[string]string{"aws:team": "v"} }, "reserved"},
		{"tag key AWS:", func(in *exchange.CreateDataSetInput) { in.Tags = map[string]string{"AWS:team": "v"} }, "reserved"},
	}
	for _, tc := range tests {
		in := valid()
		tc.change(&in)
		_, err := f.svc.CreateDataSet(f.ctx, accountA, in)
		if tc.field == "" {
			if err != nil {
				t.Errorf("%s: %v", tc.name, err)
			}
			continue
		}
		fe := fault.As(err)
		if fe == nil || fe.Name != fault.Validation || !strings.Contains(fe.Message, tc.field) {
			t.Errorf("%s: got %v, want a ValidationException naming %s", tc.name, err, tc.field)
		}
	}
}

func TestDataSetLifecycle(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	created, err := f.svc.CreateDataSet(f.ctx, accountA, exchange.CreateDataSetInput{
		Name: ptr("n"), Description: ptr("d"), AssetType: ptr(resource.AssetTypeS3Snapshot),
		Tags: map[string]string{"team": "data"},
	})
	mustOK(t, err)
	if !resource.ValidID(created.ID) || len(created.ID) != 32 {
		t.Fatalf("id %q", created.ID)
	}
	if want := resource.DataSetARN(region, accountA, created.ID); created.ARN != want {
		t.Fatalf("ARN %s, want %s", created.ARN, want)
	}
	if created.Origin != resource.OriginOwned || created.AccountID != accountA || !created.CreatedAt.Equal(created.UpdatedAt) {
		t.Fatalf("created %+v", created)
	}
	if created.Tags["team"] != "data" {
		t.Fatalf("create returned tags %v", created.Tags)
	}

	got, err := f.svc.GetDataSet(f.ctx, accountA, exchange.GetDataSetInput{DataSetID: created.ID})
	mustOK(t, err)
	if got.Name != "n" || got.Description != "d" || got.Tags["team"] != "data" || !got.CreatedAt.Equal(created.CreatedAt) {
		t.Fatalf("get %+v", got)
	}

	updated, err := f.svc.UpdateDataSet(f.ctx, accountA, exchange.UpdateDataSetInput{DataSetID: created.ID, Name: ptr("n2")})
	mustOK(t, err)
	if updated.Name != "n2" || updated.Description != "d" || updated.Tags != nil {
		t.Fatalf("update %+v", updated)
	}
	if !updated.UpdatedAt.After(created.UpdatedAt) {
		t.Fatalf("UpdatedAt did not move: %v then %v", created.UpdatedAt, updated.UpdatedAt)
	}
	again, err := f.svc.UpdateDataSet(f.ctx, accountA, exchange.UpdateDataSetInput{DataSetID: created.ID, Description: ptr("")})
	mustOK(t, err)
	if again.Name != "n2" || again.Description != "" || !again.UpdatedAt.After(updated.UpdatedAt) {
		t.Fatalf("second update %+v", again)
	}
	for _, in := range []exchange.UpdateDataSetInput{
		{DataSetID: created.ID, Name: ptr("")},
		{DataSetID: created.ID, Description: ptr(strings.Repeat("x", 16385))},
	} {
		_, err := f.svc.UpdateDataSet(f.ctx, accountA, in)
		wantFault(t, err, fault.Validation, "")
	}

	// Deleting cascades to revisions, assets and every tag.
	r, a := f.finalized(accountA, created.ID)
	mustOK(t, f.svc.TagResource(f.ctx, accountA, exchange.TagResourceInput{ResourceARN: r.ARN, Tags: map[string]string{"k": "v"}}))
	mustOK(t, f.svc.DeleteDataSet(f.ctx, accountA, exchange.DeleteDataSetInput{DataSetID: created.ID}))
	_, err = f.svc.GetDataSet(f.ctx, accountA, exchange.GetDataSetInput{DataSetID: created.ID})
	wantNotFound(t, err, resource.KindDataSet, created.ID)
	if _, err := f.st.GetAsset(f.ctx, accountA, created.ID, r.ID, a.ID); err == nil {
		t.Fatal("asset survived its data set")
	}
	for _, id := range []string{created.ID, r.ID} {
		if tags, _ := f.st.GetTags(f.ctx, id); len(tags) != 0 {
			t.Fatalf("tags of %s survived: %v", id, tags)
		}
	}
	err = f.svc.DeleteDataSet(f.ctx, accountA, exchange.DeleteDataSetInput{DataSetID: created.ID})
	wantNotFound(t, err, resource.KindDataSet, created.ID)
}

func TestMalformedIDs(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	d := f.dataSet(accountA)
	r := f.revision(accountA, d.ID)
	tests := []struct {
		name  string
		call  func() error
		field string
	}{
		{"GetDataSet", func() error {
			_, err := f.svc.GetDataSet(f.ctx, accountA, exchange.GetDataSetInput{DataSetID: "short"})
			return err
		}, "DataSetId"},
		{"DeleteDataSet", func() error {
			return f.svc.DeleteDataSet(f.ctx, accountA, exchange.DeleteDataSetInput{DataSetID: strings.Repeat("a", 41)})
		}, "DataSetId"},
		{"GetRevision", func() error {
			_, err := f.svc.GetRevision(f.ctx, accountA, exchange.GetRevisionInput{DataSetID: d.ID, RevisionID: "not-an-id-not-an-id-not-an-id-xx"})
			return err
		}, "RevisionId"},
		{"GetAsset", func() error {
			_, err := f.svc.GetAsset(f.ctx, accountA, exchange.GetAssetInput{DataSetID: d.ID, RevisionID: r.ID, AssetID: ""})
			return err
		}, "AssetId"},
		{"ListDataSetRevisions", func() error {
			_, err := f.svc.ListDataSetRevisions(f.ctx, accountA, exchange.ListDataSetRevisionsInput{DataSetID: "x/y"})
			return err
		}, "DataSetId"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			wantFault(t, tc.call(), fault.Validation, tc.field)
		})
	}
}

func TestDataSetQuota(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.svc.DataSetsPerAccount = 3
	// Concurrent creations must not overshoot the quota together.
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for range 8 {
		wg.Go(func() {
			_, err := f.svc.CreateDataSet(f.ctx, accountA, exchange.CreateDataSetInput{
				Name: ptr("n"), Description: ptr("d"), AssetType: ptr(resource.AssetTypeS3Snapshot),
			})
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
		if fe.LimitName != exchange.LimitDataSetsPerAccount || fe.LimitValue != 3 {
			t.Fatalf("limit %q %v", fe.LimitName, fe.LimitValue)
		}
	}
	if created != 3 {
		t.Fatalf("%d data sets created, want 3", created)
	}
	// The quota is per account.
	f.dataSet(accountB)
	if exchange.New(f.st, region).DataSetsPerAccount != 3000 || exchange.New(f.st, region).RevisionsPerDataSet != 10000 {
		t.Fatal("default quotas are not AWS's")
	}
}

func TestListDataSets(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	want := map[string]bool{}
	for range 7 {
		want[f.dataSet(accountA).ID] = true
	}
	f.dataSet(accountB)
	// An entitled data set, as data grants will create them.
	now := resource.Now()
	entitled := resource.DataSet{AccountID: accountA, ID: resource.NewID(), Name: "e", AssetType: resource.AssetTypeS3Snapshot,
		Origin: resource.OriginEntitled, CreatedAt: now, UpdatedAt: now}
	mustOK(t, f.st.InsertDataSet(f.ctx, entitled))

	all := f.listAllDataSets(t, "", 3)
	if len(all) != 8 {
		t.Fatalf("listed %d data sets, want 8", len(all))
	}
	owned := f.listAllDataSets(t, resource.OriginOwned, 2)
	if len(owned) != 7 {
		t.Fatalf("listed %d owned data sets, want 7", len(owned))
	}
	for i, d := range owned {
		if !want[d.ID] {
			t.Fatalf("listed %s, not A's or listed twice", d.ID)
		}
		delete(want, d.ID)
		if i > 0 && d.CreatedAt.After(owned[i-1].CreatedAt) {
			t.Fatal("not newest first")
		}
		if d.Tags != nil || d.ARN == "" {
			t.Fatalf("entry %+v", d)
		}
	}
	ent := f.listAllDataSets(t, resource.OriginEntitled, 0)
	if len(ent) != 1 || ent[0].ID != entitled.ID {
		t.Fatalf("entitled listing %+v", ent)
	}
	_, err := f.svc.ListDataSets(f.ctx, accountA, exchange.ListDataSetsInput{Origin: "MINE"})
	wantFault(t, err, fault.Validation, "origin")
}

func (f *fixture) listAllDataSets(t *testing.T, origin string, pageSize int) []exchange.DataSetView {
	t.Helper()
	var out []exchange.DataSetView
	in := exchange.ListDataSetsInput{Origin: origin}
	if pageSize > 0 {
		in.MaxResults = &pageSize
	}
	for {
		page, err := f.svc.ListDataSets(f.ctx, accountA, in)
		mustOK(t, err)
		if pageSize > 0 && len(page.Items) > pageSize {
			t.Fatalf("page of %d items, asked for %d", len(page.Items), pageSize)
		}
		out = append(out, page.Items...)
		if page.NextToken == "" {
			return out
		}
		in.NextToken = page.NextToken
	}
}
