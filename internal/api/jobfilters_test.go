package api_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dataexchange"
	"github.com/aws/aws-sdk-go-v2/service/dataexchange/types"
)

// The console's jobs page filters ListJobs by state and type: Wharf
// extensions the SDKs never send, so raw requests test them.
func TestListJobsStateAndTypeFilters(t *testing.T) {
	forEachStore(t, testListJobsFilters)
}

func testListJobsFilters(t *testing.T, e *env) {
	ds := e.dataSet(e.a)
	rev := e.revision(e.a, aws.ToString(ds.Id))
	var all, completed, waiting []string // newest first
	for i := range 5 {
		out, err := e.a.CreateJob(e.ctx, &dataexchange.CreateJobInput{
			Type: types.TypeImportAssetsFromS3, Details: importDetails(aws.ToString(ds.Id), aws.ToString(rev.Id), "k"),
		})
		if err != nil {
			t.Fatal(err)
		}
		id := aws.ToString(out.Id)
		all = append([]string{id}, all...)
		if i%2 == 0 {
			if _, err := e.a.StartJob(e.ctx, &dataexchange.StartJobInput{JobId: out.Id}); err != nil {
				t.Fatal(err)
			}
			if got := e.waitJob(e.a, id); got.State != types.StateCompleted {
				t.Fatalf("job %s ended %s", id, got.State)
			}
			completed = append([]string{id}, completed...)
		} else {
			waiting = append([]string{id}, waiting...)
		}
	}
	// Account B's completed job is never listed for A.
	dsB := e.dataSet(e.b)
	revB := e.revision(e.b, aws.ToString(dsB.Id))
	outB, err := e.b.CreateJob(e.ctx, &dataexchange.CreateJobInput{
		Type: types.TypeImportAssetsFromS3, Details: importDetails(aws.ToString(dsB.Id), aws.ToString(revB.Id), "k"),
	})
	if err != nil {
		t.Fatal(err)
	}

	list := func(key string, q url.Values) []string {
		t.Helper()
		q.Set("maxResults", "1")
		var ids []string
		for {
			resp, body := e.do(http.MethodGet, "/v1/jobs?"+q.Encode(), key, "")
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("ListJobs %s: %d %s", q.Encode(), resp.StatusCode, body)
			}
			var page struct {
				Jobs      []struct{ Id, State, Type string }
				NextToken string
			}
			if err := json.Unmarshal(body, &page); err != nil {
				t.Fatal(err)
			}
			for _, j := range page.Jobs {
				if s := q.Get("state"); s != "" && j.State != s {
					t.Errorf("state=%s listed a %s job", s, j.State)
				}
				ids = append(ids, j.Id)
			}
			if page.NextToken == "" {
				return ids
			}
			q.Set("nextToken", page.NextToken)
		}
	}
	for _, c := range []struct {
		q    url.Values
		want []string
	}{
		{url.Values{}, all},
		{url.Values{"state": {"COMPLETED"}}, completed},
		{url.Values{"state": {"WAITING"}}, waiting},
		{url.Values{"state": {"ERROR"}}, nil},
		{url.Values{"type": {"IMPORT_ASSETS_FROM_S3"}}, all},
		{url.Values{"type": {"EXPORT_ASSETS_TO_S3"}}, nil},
		{url.Values{"state": {"WAITING"}, "type": {"IMPORT_ASSETS_FROM_S3"}, "dataSetId": {aws.ToString(ds.Id)}}, waiting},
		{url.Values{"state": {"COMPLETED"}, "revisionId": {aws.ToString(revB.Id)}}, nil},
	} {
		if got := list(keyA, c.q); !slices.Equal(got, c.want) {
			t.Errorf("ListJobs %s: %v, want %v", c.q.Encode(), got, c.want)
		}
	}
	if got := list(keyB, url.Values{"state": {"WAITING"}}); !slices.Equal(got, []string{aws.ToString(outB.Id)}) {
		t.Errorf("account B's WAITING jobs: %v", got)
	}
	for _, q := range []string{"state=DONE", "state=completed", "type=IMPORT", "type=import_assets_from_s3"} {
		resp, body := e.do(http.MethodGet, "/v1/jobs?"+q, keyA, "")
		if resp.StatusCode != http.StatusBadRequest || resp.Header.Get("X-Amzn-ErrorType") != "ValidationException" {
			t.Errorf("ListJobs ?%s: %d %s %s, want 400 ValidationException", q, resp.StatusCode, resp.Header.Get("X-Amzn-ErrorType"), body)
		}
	}
}
