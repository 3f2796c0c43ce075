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

func TestDataSetOperations(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	created, err := e.a.CreateDataSet(e.ctx, &dataexchange.CreateDataSetInput{
		Name: aws.String("weather"), Description: aws.String("daily"), AssetType: types.AssetTypeS3Snapshot,
		Tags: map[string]string{"team": "data"},
	})
	if err != nil {
		t.Fatalf("CreateDataSet: %v", err)
	}
	id := aws.ToString(created.Id)
	if len(id) != 32 || aws.ToString(created.Arn) != resource.DataSetARN(region, accountA, id) ||
		created.Origin != types.OriginOwned || created.AssetType != types.AssetTypeS3Snapshot ||
		aws.ToString(created.Name) != "weather" || aws.ToString(created.Description) != "daily" ||
		created.CreatedAt == nil || created.UpdatedAt == nil || created.Tags["team"] != "data" {
		t.Fatalf("CreateDataSet returned %+v", created)
	}

	got, err := e.a.GetDataSet(e.ctx, &dataexchange.GetDataSetInput{DataSetId: created.Id})
	if err != nil {
		t.Fatalf("GetDataSet: %v", err)
	}
	if aws.ToString(got.Arn) != aws.ToString(created.Arn) || got.Tags["team"] != "data" || !got.CreatedAt.Equal(*created.CreatedAt) {
		t.Fatalf("GetDataSet returned %+v", got)
	}

	updated, err := e.a.UpdateDataSet(e.ctx, &dataexchange.UpdateDataSetInput{DataSetId: created.Id, Name: aws.String("climate")})
	if err != nil {
		t.Fatalf("UpdateDataSet: %v", err)
	}
	if aws.ToString(updated.Name) != "climate" || aws.ToString(updated.Description) != "daily" || !updated.UpdatedAt.After(*created.UpdatedAt) {
		t.Fatalf("UpdateDataSet returned %+v", updated)
	}

	_, err = e.a.UpdateDataSet(e.ctx, &dataexchange.UpdateDataSetInput{DataSetId: created.Id, Name: aws.String(strings.Repeat("n", 257))})
	if ve := wantTyped[*types.ValidationException](t, err); !strings.Contains(aws.ToString(ve.Message), "Name") {
		t.Fatalf("message %q", aws.ToString(ve.Message))
	}

	if _, err := e.a.DeleteDataSet(e.ctx, &dataexchange.DeleteDataSetInput{DataSetId: created.Id}); err != nil {
		t.Fatalf("DeleteDataSet: %v", err)
	}
	_, err = e.a.GetDataSet(e.ctx, &dataexchange.GetDataSetInput{DataSetId: created.Id})
	nf := wantTyped[*types.ResourceNotFoundException](t, err)
	if aws.ToString(nf.ResourceId) != id || nf.ResourceType != types.ResourceTypeDataSet {
		t.Fatalf("not found names %s %s", nf.ResourceType, aws.ToString(nf.ResourceId))
	}
	_, err = e.a.DeleteDataSet(e.ctx, &dataexchange.DeleteDataSetInput{DataSetId: created.Id})
	wantTyped[*types.ResourceNotFoundException](t, err)
}

func TestCreateDataSetValidation(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tests := []struct {
		name  string
		in    dataexchange.CreateDataSetInput
		field string
	}{
		{"name too long", dataexchange.CreateDataSetInput{Name: aws.String(strings.Repeat("n", 257)), Description: aws.String(""), AssetType: types.AssetTypeS3Snapshot}, "Name"},
		{"name empty", dataexchange.CreateDataSetInput{Name: aws.String(""), Description: aws.String(""), AssetType: types.AssetTypeS3Snapshot}, "Name"},
		{"description too long", dataexchange.CreateDataSetInput{Name: aws.String("n"), Description: aws.String(strings.Repeat("d", 16385)), AssetType: types.AssetTypeS3Snapshot}, "Description"},
		{"unknown asset type", dataexchange.CreateDataSetInput{Name: aws.String("n"), Description: aws.String(""), AssetType: "FILES"}, "AssetType"},
		{"reserved tag", dataexchange.CreateDataSetInput{Name: aws.String("n"), Description: aws.String(""), AssetType: types.AssetTypeS3Snapshot, Tags: map[string]string{"aws:x": "y"}}, "aws:"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := e.a.CreateDataSet(e.ctx, &tc.in)
			ve := wantTyped[*types.ValidationException](t, err)
			if !strings.Contains(aws.ToString(ve.Message), tc.field) {
				t.Fatalf("message %q does not name %s", aws.ToString(ve.Message), tc.field)
			}
		})
	}
	// Members the SDK itself insists on are checked by the server too.
	for _, body := range []string{`{"Description":"","AssetType":"S3_SNAPSHOT"}`, `{"Name":"n","AssetType":"S3_SNAPSHOT"}`, `{"Name":"n","Description":""}`} {
		resp, b := e.do("POST", "/v1/data-sets", keyA, body)
		if resp.StatusCode != 400 || resp.Header.Get("X-Amzn-ErrorType") != "ValidationException" || !strings.Contains(string(b), "required") {
			t.Fatalf("%s: %d %s %s", body, resp.StatusCode, resp.Header.Get("X-Amzn-ErrorType"), b)
		}
	}
}

func TestDataSetQuota(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.svc.DataSetsPerAccount = 2
	e.dataSet(e.a)
	e.dataSet(e.a)
	_, err := e.a.CreateDataSet(e.ctx, &dataexchange.CreateDataSetInput{Name: aws.String("n"), Description: aws.String(""), AssetType: types.AssetTypeS3Snapshot})
	sl := wantTyped[*types.ServiceLimitExceededException](t, err)
	if sl.LimitName != types.LimitNameDataSetsPerAccount || sl.LimitValue != 2 {
		t.Fatalf("limit %q %v", sl.LimitName, sl.LimitValue)
	}
	e.dataSet(e.b) // another account's quota is its own
	if exchange.LimitDataSetsPerAccount != string(types.LimitNameDataSetsPerAccount) ||
		exchange.LimitRevisionsPerDataSet != string(types.LimitNameRevisionsPerDataSet) {
		t.Fatal("limit names differ from the SDK's enum")
	}
}

func TestListDataSetsPaginates(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	want := map[string]bool{}
	for range 11 {
		want[aws.ToString(e.dataSet(e.a).Id)] = true
	}
	e.dataSet(e.b)
	for _, origin := range []*string{nil, aws.String("OWNED")} {
		seen := map[string]bool{}
		p := dataexchange.NewListDataSetsPaginator(e.a, &dataexchange.ListDataSetsInput{MaxResults: 3, Origin: origin})
		pages := 0
		for p.HasMorePages() {
			page, err := p.NextPage(e.ctx)
			if err != nil {
				t.Fatalf("page %d: %v", pages, err)
			}
			pages++
			if len(page.DataSets) > 3 {
				t.Fatalf("page of %d", len(page.DataSets))
			}
			for _, d := range page.DataSets {
				id := aws.ToString(d.Id)
				if !want[id] || seen[id] {
					t.Fatalf("data set %s listed twice or not A's", id)
				}
				seen[id] = true
				if d.Origin != types.OriginOwned || d.Arn == nil || d.CreatedAt == nil || d.Description == nil {
					t.Fatalf("entry %+v", d)
				}
			}
		}
		if len(seen) != len(want) || pages != 4 {
			t.Fatalf("origin %v: listed %d of %d in %d pages", aws.ToString(origin), len(seen), len(want), pages)
		}
	}
	out, err := e.a.ListDataSets(e.ctx, &dataexchange.ListDataSetsInput{Origin: aws.String("ENTITLED")})
	if err != nil || len(out.DataSets) != 0 || out.NextToken != nil {
		t.Fatalf("entitled listing %+v %v", out, err)
	}
	_, err = e.a.ListDataSets(e.ctx, &dataexchange.ListDataSetsInput{Origin: aws.String("MINE")})
	wantTyped[*types.ValidationException](t, err)
	_, err = e.a.ListDataSets(e.ctx, &dataexchange.ListDataSetsInput{NextToken: aws.String("not-a-token")})
	wantTyped[*types.ValidationException](t, err)
	_, err = e.a.ListDataSets(e.ctx, &dataexchange.ListDataSetsInput{MaxResults: 201})
	wantTyped[*types.ValidationException](t, err)
}
