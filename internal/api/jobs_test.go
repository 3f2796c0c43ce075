package api_test

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dataexchange"
	"github.com/aws/aws-sdk-go-v2/service/dataexchange/types"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/wharf-dev/wharf/internal/api"
	"github.com/wharf-dev/wharf/internal/exchange"
	"github.com/wharf-dev/wharf/internal/jobs"
	"github.com/wharf-dev/wharf/internal/jobs/jobstest"
	"github.com/wharf-dev/wharf/internal/pgtest"
	"github.com/wharf-dev/wharf/internal/proctest"
	"github.com/wharf-dev/wharf/internal/resource"
	"github.com/wharf-dev/wharf/internal/store"
	"github.com/wharf-dev/wharf/internal/store/postgres"
	"github.com/wharf-dev/wharf/internal/store/sqlite"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// stores open a fresh store of each driver.
var stores = []struct {
	name string
	open func(t *testing.T) store.Store
}{
	{"sqlite", func(t *testing.T) store.Store {
		st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "wharf.db"))
		if err != nil {
			t.Fatalf("open sqlite: %v", err)
		}
		t.Cleanup(func() { st.Close() })
		return st
	}},
	{"postgres", func(t *testing.T) store.Store {
		st, err := postgres.Open(context.Background(), pgtest.PooledURL(t, 8))
		if err != nil {
			t.Fatalf("open postgres: %v", err)
		}
		t.Cleanup(func() { st.Close() })
		return st
	}},
}

// forEachStore runs test against a jobs env on each store driver.
func forEachStore(t *testing.T, test func(t *testing.T, e *env)) {
	t.Parallel()
	for _, s := range stores {
		t.Run(s.name, func(t *testing.T) {
			t.Parallel()
			test(t, newJobsEnvOn(t, s.open(t)))
		})
	}
}

// newJobsEnv is newEnv with the job operations, run by a fake
// IMPORT_ASSETS_FROM_S3 runner, and /metrics, on SQLite.
func newJobsEnv(t *testing.T) *env {
	t.Helper()
	return newJobsEnvOn(t, stores[0].open(t))
}

func newJobsEnvOn(t *testing.T, st store.Store) *env {
	t.Helper()
	ctx := context.Background()
	registry := prometheus.NewRegistry()
	logger := slog.New(slog.NewTextHandler(t.Output(), nil))
	svc, err := jobs.New(ctx, st, jobs.Config{
		Region:            region,
		Runners:           map[string]jobs.Runner{resource.JobTypeImportAssetsFromS3: jobstest.New()},
		Logger:            logger,
		Metrics:           registry,
		LeaseDuration:     time.Second,
		HeartbeatInterval: 200 * time.Millisecond,
		ReapInterval:      100 * time.Millisecond,
		ProgressInterval:  50 * time.Millisecond,
		PollInterval:      50 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := svc.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		stopCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		_ = svc.Stop(stopCtx)
	})
	e := &env{t: t, ctx: ctx, st: st, svc: exchange.New(st, region), logs: &proctest.Buffer{}}
	e.srv = httptest.NewServer(api.New(api.Config{
		Service:       e.svc,
		Jobs:          svc,
		Metrics:       promhttp.HandlerFor(registry, promhttp.HandlerOpts{}),
		Authenticator: keyAuthenticator{keyA: accountA, keyB: accountB},
		Logger:        logger,
		Region:        region,
	}))
	t.Cleanup(e.srv.Close)
	e.a, e.b = e.client(keyA), e.client(keyB)
	return e
}

func importDetails(dataSetID, revisionID string, keys ...string) *types.RequestDetails {
	var sources []types.AssetSourceEntry
	for _, k := range keys {
		sources = append(sources, types.AssetSourceEntry{Bucket: aws.String("bucket"), Key: aws.String(k)})
	}
	return &types.RequestDetails{ImportAssetsFromS3: &types.ImportAssetsFromS3RequestDetails{
		AssetSources: sources, DataSetId: aws.String(dataSetID), RevisionId: aws.String(revisionID),
	}}
}

// waitJob polls GetJob until the job leaves WAITING and IN_PROGRESS.
func (e *env) waitJob(c *dataexchange.Client, id string) *dataexchange.GetJobOutput {
	e.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		out, err := c.GetJob(e.ctx, &dataexchange.GetJobInput{JobId: aws.String(id)})
		if err != nil {
			e.t.Fatalf("GetJob: %v", err)
		}
		if out.State != types.StateWaiting && out.State != types.StateInProgress {
			return out
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("job %s still %s", id, out.State)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestJobLifecycleThroughTheSDK(t *testing.T) {
	forEachStore(t, testJobLifecycle)
}

func testJobLifecycle(t *testing.T, e *env) {
	ds := e.dataSet(e.a)
	rev := e.revision(e.a, aws.ToString(ds.Id))

	created, err := e.a.CreateJob(e.ctx, &dataexchange.CreateJobInput{
		Type:               types.TypeImportAssetsFromS3,
		Details:            importDetails(aws.ToString(ds.Id), aws.ToString(rev.Id), "data/a.csv", "data/b.csv"),
		AssetConfiguration: &types.AssetConfiguration{Tags: []types.Tag{{Key: aws.String("team"), Value: aws.String("data")}}},
	})
	if err != nil {
		t.Fatalf("CreateJob: %v", err)
	}
	id := aws.ToString(created.Id)
	d := created.Details.ImportAssetsFromS3
	if len(id) != 32 || aws.ToString(created.Arn) != resource.JobARN(region, accountA, id) ||
		created.State != types.StateWaiting || created.Type != types.TypeImportAssetsFromS3 ||
		created.CreatedAt == nil || created.UpdatedAt == nil || d == nil || aws.ToString(d.DataSetId) != aws.ToString(ds.Id) ||
		aws.ToString(d.RevisionId) != aws.ToString(rev.Id) || len(d.AssetSources) != 2 ||
		aws.ToString(d.AssetSources[1].Key) != "data/b.csv" || len(created.Errors) != 0 ||
		created.AssetConfiguration == nil || aws.ToString(created.AssetConfiguration.Tags[0].Value) != "data" {
		t.Fatalf("CreateJob returned %+v", created)
	}

	if _, err := e.a.StartJob(e.ctx, &dataexchange.StartJobInput{JobId: created.Id}); err != nil {
		t.Fatalf("StartJob: %v", err)
	}
	done := e.waitJob(e.a, id)
	if done.State != types.StateCompleted || len(done.Errors) != 0 || !done.UpdatedAt.After(*created.UpdatedAt) ||
		!done.CreatedAt.Equal(*created.CreatedAt) {
		t.Fatalf("job ended %s: %+v", done.State, done)
	}
	assets, err := e.a.ListRevisionAssets(e.ctx, &dataexchange.ListRevisionAssetsInput{DataSetId: ds.Id, RevisionId: rev.Id})
	if err != nil || len(assets.Assets) != 2 || aws.ToString(assets.Assets[0].Name) != "data/b.csv" {
		t.Fatalf("ListRevisionAssets: %+v, %v", assets, err)
	}
	asset, err := e.a.GetAsset(e.ctx, &dataexchange.GetAssetInput{DataSetId: ds.Id, RevisionId: rev.Id, AssetId: assets.Assets[0].Id})
	if err != nil || asset.Tags["team"] != "data" || asset.AssetDetails.S3SnapshotAsset == nil {
		t.Fatalf("GetAsset: %+v, %v", asset, err)
	}

	// A finished job can't be started or cancelled.
	_, err = e.a.StartJob(e.ctx, &dataexchange.StartJobInput{JobId: created.Id})
	if c := wantTyped[*types.ConflictException](t, err); c.ResourceType != types.ResourceTypeJob || aws.ToString(c.ResourceId) != id {
		t.Errorf("conflict names %s %s", c.ResourceType, aws.ToString(c.ResourceId))
	}
	_, err = e.a.CancelJob(e.ctx, &dataexchange.CancelJobInput{JobId: created.Id})
	wantTyped[*types.ConflictException](t, err)

	// Cancelling a WAITING job.
	waiting, err := e.a.CreateJob(e.ctx, &dataexchange.CreateJobInput{
		Type: types.TypeImportAssetsFromS3, Details: importDetails(aws.ToString(ds.Id), aws.ToString(rev.Id), "c"),
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.a.CancelJob(e.ctx, &dataexchange.CancelJobInput{JobId: waiting.Id}); err != nil {
		t.Fatalf("CancelJob: %v", err)
	}
	got, err := e.a.GetJob(e.ctx, &dataexchange.GetJobInput{JobId: waiting.Id})
	if err != nil || got.State != types.StateCancelled {
		t.Fatalf("after CancelJob: %+v, %v", got, err)
	}
	_, err = e.a.StartJob(e.ctx, &dataexchange.StartJobInput{JobId: waiting.Id})
	wantTyped[*types.ConflictException](t, err)

	// Another account sees none of it.
	_, err = e.b.GetJob(e.ctx, &dataexchange.GetJobInput{JobId: created.Id})
	if nf := wantTyped[*types.ResourceNotFoundException](t, err); nf.ResourceType != types.ResourceTypeJob || aws.ToString(nf.ResourceId) != id {
		t.Errorf("not found names %s %s", nf.ResourceType, aws.ToString(nf.ResourceId))
	}
	_, err = e.b.CancelJob(e.ctx, &dataexchange.CancelJobInput{JobId: created.Id})
	wantTyped[*types.ResourceNotFoundException](t, err)
	_, err = e.b.StartJob(e.ctx, &dataexchange.StartJobInput{JobId: created.Id})
	wantTyped[*types.ResourceNotFoundException](t, err)
	list, err := e.b.ListJobs(e.ctx, &dataexchange.ListJobsInput{})
	if err != nil || len(list.Jobs) != 0 {
		t.Errorf("account B lists %d jobs (%v)", len(list.Jobs), err)
	}
	// Nor may it import into A's revision.
	_, err = e.b.CreateJob(e.ctx, &dataexchange.CreateJobInput{
		Type: types.TypeImportAssetsFromS3, Details: importDetails(aws.ToString(ds.Id), aws.ToString(rev.Id), "x"),
	})
	wantTyped[*types.ResourceNotFoundException](t, err)
}

func TestFailedJobErrorsThroughTheSDK(t *testing.T) {
	t.Parallel()
	e := newJobsEnv(t)
	ds := e.dataSet(e.a)
	rev := e.revision(e.a, aws.ToString(ds.Id))
	created, err := e.a.CreateJob(e.ctx, &dataexchange.CreateJobInput{
		Type: types.TypeImportAssetsFromS3, Details: importDetails(aws.ToString(ds.Id), aws.ToString(rev.Id), "ok", jobstest.KeyMissing),
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.a.StartJob(e.ctx, &dataexchange.StartJobInput{JobId: created.Id}); err != nil {
		t.Fatal(err)
	}
	out := e.waitJob(e.a, aws.ToString(created.Id))
	if out.State != types.StateError || len(out.Errors) != 1 {
		t.Fatalf("job ended %s with %d errors", out.State, len(out.Errors))
	}
	je := out.Errors[0]
	if je.Code != types.CodeResourceNotFoundException || !strings.Contains(aws.ToString(je.Message), "missing") ||
		je.Details == nil || len(je.Details.ImportAssetsFromS3JobErrorDetails) != 1 ||
		aws.ToString(je.Details.ImportAssetsFromS3JobErrorDetails[0].Key) != jobstest.KeyMissing ||
		aws.ToString(je.Details.ImportAssetsFromS3JobErrorDetails[0].Bucket) != "bucket" {
		t.Fatalf("JobError %+v", je)
	}
	assets, err := e.a.ListRevisionAssets(e.ctx, &dataexchange.ListRevisionAssetsInput{DataSetId: ds.Id, RevisionId: rev.Id})
	if err != nil || len(assets.Assets) != 0 {
		t.Fatalf("a failed job left %d assets (%v)", len(assets.Assets), err)
	}
}

func TestCreateJobRefusals(t *testing.T) {
	t.Parallel()
	e := newJobsEnv(t)
	ds := e.dataSet(e.a)
	rev := e.revision(e.a, aws.ToString(ds.Id))
	for _, c := range []struct {
		name    string
		in      *dataexchange.CreateJobInput
		message string
	}{
		{"unsupported type", &dataexchange.CreateJobInput{Type: types.TypeExportRevisionsToS3,
			Details: &types.RequestDetails{ExportRevisionsToS3: &types.ExportRevisionsToS3RequestDetails{
				DataSetId: ds.Id, RevisionDestinations: []types.RevisionDestinationEntry{{Bucket: aws.String("b"), RevisionId: rev.Id}},
			}}}, "job type EXPORT_REVISIONS_TO_S3 is not supported by Wharf yet"},
		{"details of another type", &dataexchange.CreateJobInput{Type: types.TypeImportAssetsFromS3,
			Details: &types.RequestDetails{ExportAssetToSignedUrl: &types.ExportAssetToSignedUrlRequestDetails{
				AssetId: aws.String(resource.NewID()), DataSetId: ds.Id, RevisionId: rev.Id,
			}}}, "exactly one member, ImportAssetsFromS3"},
		{"unknown type", &dataexchange.CreateJobInput{Type: "COPY_EVERYTHING",
			Details: importDetails(aws.ToString(ds.Id), aws.ToString(rev.Id), "k")}, "COPY_EVERYTHING"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := e.a.CreateJob(e.ctx, c.in)
			if ve := wantTyped[*types.ValidationException](t, err); !strings.Contains(aws.ToString(ve.Message), c.message) {
				t.Errorf("message %q, want it to mention %q", aws.ToString(ve.Message), c.message)
			}
		})
	}
	_, err := e.a.GetJob(e.ctx, &dataexchange.GetJobInput{JobId: aws.String(resource.NewID())})
	wantTyped[*types.ResourceNotFoundException](t, err)
}

func TestListJobsThroughTheSDK(t *testing.T) {
	forEachStore(t, testListJobs)
}

func testListJobs(t *testing.T, e *env) {
	ds := e.dataSet(e.a)
	rev1 := e.revision(e.a, aws.ToString(ds.Id))
	rev2 := e.revision(e.a, aws.ToString(ds.Id))
	var all, inRev2 []string
	for i := range 5 {
		rev := rev1
		if i%2 == 1 {
			rev = rev2
		}
		out, err := e.a.CreateJob(e.ctx, &dataexchange.CreateJobInput{
			Type: types.TypeImportAssetsFromS3, Details: importDetails(aws.ToString(ds.Id), aws.ToString(rev.Id), "k"),
		})
		if err != nil {
			t.Fatal(err)
		}
		all = append([]string{aws.ToString(out.Id)}, all...)
		if rev == rev2 {
			inRev2 = append([]string{aws.ToString(out.Id)}, inRev2...)
		}
		time.Sleep(2 * time.Millisecond)
	}
	list := func(in *dataexchange.ListJobsInput) []string {
		var ids []string
		p := dataexchange.NewListJobsPaginator(e.a, in)
		for p.HasMorePages() {
			page, err := p.NextPage(e.ctx)
			if err != nil {
				t.Fatalf("ListJobs: %v", err)
			}
			if len(page.Jobs) > int(in.MaxResults) {
				t.Fatalf("page of %d jobs, asked for %d", len(page.Jobs), in.MaxResults)
			}
			for _, j := range page.Jobs {
				if j.Arn == nil || j.CreatedAt == nil || j.Details == nil || j.State != types.StateWaiting {
					t.Fatalf("job entry %+v", j)
				}
				ids = append(ids, aws.ToString(j.Id))
			}
		}
		return ids
	}
	if got := list(&dataexchange.ListJobsInput{MaxResults: 2}); !slices.Equal(got, all) {
		t.Errorf("ListJobs: %v, want newest first %v", got, all)
	}
	if got := list(&dataexchange.ListJobsInput{MaxResults: 1, DataSetId: ds.Id, RevisionId: rev2.Id}); !slices.Equal(got, inRev2) {
		t.Errorf("ListJobs of revision 2: %v, want %v", got, inRev2)
	}
	_, err := e.a.ListJobs(e.ctx, &dataexchange.ListJobsInput{NextToken: aws.String("not-a-token")})
	wantTyped[*types.ValidationException](t, err)
}

func TestJobWireShapes(t *testing.T) {
	t.Parallel()
	e := newJobsEnv(t)
	ds := e.dataSet(e.a)
	rev := e.revision(e.a, aws.ToString(ds.Id))
	body := `{"Type":"IMPORT_ASSETS_FROM_S3","Details":{"ImportAssetsFromS3":{"DataSetId":"` + aws.ToString(ds.Id) +
		`","RevisionId":"` + aws.ToString(rev.Id) + `","AssetSources":[{"Bucket":"b","Key":"k"}]}}}`
	resp, b := e.do(http.MethodPost, "/v1/jobs", keyA, body)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("CreateJob: %d %s", resp.StatusCode, b)
	}
	created := decodeObject(t, b)
	wantKeys(t, "CreateJob", created, "Arn", "CreatedAt", "Details", "Errors", "Id", "State", "Type", "UpdatedAt")
	if errs, ok := created["Errors"].([]any); !ok || len(errs) != 0 {
		t.Errorf("Errors %v, want []", created["Errors"])
	}
	if !timestampPattern.MatchString(created["CreatedAt"].(string)) {
		t.Errorf("CreatedAt %v", created["CreatedAt"])
	}
	id := created["Id"].(string)

	resp, b = e.do(http.MethodPatch, "/v1/jobs/"+id, keyA, "")
	if resp.StatusCode != http.StatusAccepted || len(b) != 0 {
		t.Fatalf("StartJob: %d %q", resp.StatusCode, b)
	}
	e.waitJob(e.a, id)
	resp, b = e.do(http.MethodGet, "/v1/jobs/"+id, keyA, "")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GetJob: %d %s", resp.StatusCode, b)
	}
	got := decodeObject(t, b)
	wantKeys(t, "GetJob", got, "Arn", "CreatedAt", "Details", "Errors", "Id", "State", "Type", "UpdatedAt", "Progress")
	progress, ok := got["Progress"].(map[string]any)
	if !ok || progress["BytesDone"] != float64(jobstest.SourceSize) || progress["BytesTotal"] != float64(jobstest.SourceSize) {
		t.Errorf("Progress %v", got["Progress"])
	}

	_, b = e.do(http.MethodPost, "/v1/jobs", keyA, body)
	waitingID := decodeObject(t, b)["Id"].(string)
	resp, b = e.do(http.MethodDelete, "/v1/jobs/"+waitingID, keyA, "")
	if resp.StatusCode != http.StatusNoContent || len(b) != 0 {
		t.Fatalf("CancelJob: %d %q", resp.StatusCode, b)
	}
	resp, b = e.do(http.MethodDelete, "/v1/jobs/"+waitingID, keyA, "")
	if resp.StatusCode != http.StatusConflict || resp.Header.Get("X-Amzn-ErrorType") != "ConflictException" {
		t.Fatalf("CancelJob twice: %d %s", resp.StatusCode, b)
	}
	if m := decodeObject(t, b); m["ResourceType"] != "JOB" || m["ResourceId"] != waitingID {
		t.Errorf("conflict body %s", b)
	}

	// /metrics answers without credentials.
	resp, b = e.do(http.MethodGet, "/metrics", "", "")
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(b), `wharf_jobs{state="COMPLETED",type="IMPORT_ASSETS_FROM_S3"} 1`) {
		t.Fatalf("/metrics: %d\n%s", resp.StatusCode, b)
	}
}

func TestJobRoutesNeedTheJobService(t *testing.T) {
	t.Parallel()
	e := newEnv(t) // no Jobs in its Config
	resp, b := e.do(http.MethodGet, "/v1/jobs", keyA, "")
	if resp.StatusCode != http.StatusNotFound || resp.Header.Get("X-Amzn-ErrorType") != "UnknownOperationException" {
		t.Fatalf("ListJobs without jobs: %d %s", resp.StatusCode, b)
	}
	resp, _ = e.do(http.MethodGet, "/metrics", "", "")
	if resp.StatusCode == http.StatusOK {
		t.Error("/metrics served without a Metrics handler")
	}
}
