package jobtypes_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wharf-dev/wharf/internal/assetstore"
	"github.com/wharf-dev/wharf/internal/fault"
	"github.com/wharf-dev/wharf/internal/jobs"
	"github.com/wharf-dev/wharf/internal/jobtypes"
	"github.com/wharf-dev/wharf/internal/resource"
	"github.com/wharf-dev/wharf/internal/s3access"
	"github.com/wharf-dev/wharf/internal/s3test"
)

func TestImportValidation(t *testing.T) {
	t.Parallel()
	e := newEnv(t, options{noStart: true})
	bucket := e.srv.NewBucket(t)
	finalized := e.newRevision(e.dataSet, true, false)
	revoked := e.newRevision(e.dataSet, false, true)
	entitled := e.newDataSet(account, resource.OriginEntitled, resource.AssetTypeS3Snapshot)
	entitledRev := e.newRevision(entitled, false, false)
	redshift := e.newDataSet(account, resource.OriginOwned, resource.AssetTypeRedshiftDataShare)
	redshiftRev := e.newRevision(redshift, false, false)
	foreign := e.newDataSet(other, resource.OriginOwned, resource.AssetTypeS3Snapshot)
	foreignRev := e.newRevision(foreign, false, false)

	many := func(n int) []src {
		var s []src
		for i := range n {
			s = append(s, src{bucket, fmt.Sprintf("k%d", i)})
		}
		return s
	}
	ok := []src{{bucket, "k"}}
	ds, rev := e.dataSet.ID, e.revision.ID
	raw := func(member string) json.RawMessage {
		return json.RawMessage(fmt.Sprintf(`{"ImportAssetsFromS3":%s}`, member))
	}
	for _, c := range []struct {
		name    string
		details json.RawMessage
		want    string // exception name
		message string // part of its message
	}{
		{"101 sources", importDetails(ds, rev, many(101)...), fault.ServiceLimitExceeded, "at most 100"},
		{"no sources", raw(fmt.Sprintf(`{"AssetSources":[],"DataSetId":%q,"RevisionId":%q}`, ds, rev)), fault.Validation, "at least one"},
		{"sources missing", raw(fmt.Sprintf(`{"DataSetId":%q,"RevisionId":%q}`, ds, rev)), fault.Validation, "AssetSources is required"},
		{"sources not a list", raw(fmt.Sprintf(`{"AssetSources":{},"DataSetId":%q,"RevisionId":%q}`, ds, rev)), fault.Validation, "AssetSources"},
		{"revision id missing", raw(fmt.Sprintf(`{"AssetSources":[{"Bucket":"abc","Key":"k"}],"DataSetId":%q}`, ds)), fault.Validation, "RevisionId is required"},
		{"bucket missing", raw(fmt.Sprintf(`{"AssetSources":[{"Key":"k"}],"DataSetId":%q,"RevisionId":%q}`, ds, rev)), fault.Validation, "AssetSources[0].Bucket is required"},
		{"key missing", raw(fmt.Sprintf(`{"AssetSources":[{"Bucket":"abc"}],"DataSetId":%q,"RevisionId":%q}`, ds, rev)), fault.Validation, "AssetSources[0].Key is required"},
		{"uppercase bucket", importDetails(ds, rev, src{"MyBucket", "k"}), fault.Validation, "not a valid S3 bucket name"},
		{"short bucket", importDetails(ds, rev, src{"ab", "k"}), fault.Validation, "3 to 63"},
		{"ip bucket", importDetails(ds, rev, src{"192.168.1.1", "k"}), fault.Validation, "IP address"},
		{"dotdot bucket", importDetails(ds, rev, src{"a..b", "k"}), fault.Validation, "adjacent dots"},
		{"empty key", importDetails(ds, rev, src{bucket, ""}), fault.Validation, "1 to 1024 bytes"},
		{"long key", importDetails(ds, rev, src{bucket, strings.Repeat("k", 1025)}), fault.Validation, "1 to 1024 bytes"},
		{"duplicate", importDetails(ds, rev, src{bucket, "a"}, src{bucket, "b"}, src{bucket, "a"}), fault.Validation, "AssetSources[0] and AssetSources[2]"},
		{"unknown data set", importDetails(resource.NewID(), rev, ok...), fault.ResourceNotFound, "data set"},
		{"another account's data set", importDetails(foreign.ID, foreignRev.ID, ok...), fault.ResourceNotFound, "data set " + foreign.ID},
		{"entitled data set", importDetails(entitled.ID, entitledRev.ID, ok...), fault.AccessDenied, "only its owner"},
		{"redshift data set", importDetails(redshift.ID, redshiftRev.ID, ok...), fault.Validation, "REDSHIFT_DATA_SHARE"},
		{"unknown revision", importDetails(ds, resource.NewID(), ok...), fault.ResourceNotFound, "revision"},
		{"finalized revision", importDetails(ds, finalized.ID, ok...), fault.Conflict, "revision " + finalized.ID + " is finalized"},
		{"revoked revision", importDetails(ds, revoked.ID, ok...), fault.Conflict, "revision " + revoked.ID + " is revoked"},
	} {
		t.Run(c.name, func(t *testing.T) {
			fe := e.wantCreate(t, resource.JobTypeImportAssetsFromS3, c.details, c.want, c.message)
			switch c.want {
			case fault.ServiceLimitExceeded:
				if fe.LimitName != jobtypes.LimitImportSources || fe.LimitValue != 100 {
					t.Errorf("limit %q %g, want %q 100", fe.LimitName, fe.LimitValue, jobtypes.LimitImportSources)
				}
			case fault.Conflict:
				if fe.ResourceType != resource.KindRevision {
					t.Errorf("ResourceType %s, want REVISION", fe.ResourceType)
				}
			}
		})
	}

	t.Run("100 sources are fine", func(t *testing.T) {
		if _, err := e.createJob(resource.JobTypeImportAssetsFromS3, importDetails(ds, rev, many(100)...)); err != nil {
			t.Fatal(err)
		}
	})
}

// A revision finalized between CreateJob and StartJob refuses the job at
// StartJob.
func TestImportStartJobChecksAgain(t *testing.T) {
	t.Parallel()
	e := newEnv(t, options{noStart: true})
	v, err := e.createJob(resource.JobTypeImportAssetsFromS3, importDetails(e.dataSet.ID, e.revision.ID, src{"abc", "k"}))
	e.must(err)
	r := e.revision
	r.Finalized = true
	e.must(e.st.UpdateRevision(e.ctx, r))
	fe := wantFault(t, e.svc.StartJob(e.ctx, account, v.ID), fault.Conflict)
	if fe.ResourceID != r.ID {
		t.Errorf("ResourceId %s, want the revision %s", fe.ResourceID, r.ID)
	}
	if j := e.job(v.ID); j.State != resource.JobStateWaiting {
		t.Errorf("job is %s, want WAITING still", j.State)
	}
}

func TestImportMissingSources(t *testing.T) {
	t.Parallel()
	for _, assets := range []string{localAssets, s3Assets} {
		t.Run(assets, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, options{assets: assets})
			bucket := e.srv.NewBucket(t)
			e.srv.PutObject(t, bucket, "present", []byte("here"))
			job := e.importJob(resource.JobStateError,
				src{bucket, "present"}, src{bucket, "missing/key.csv"}, src{"wharf-no-such-bucket-x1", "k"})
			errs := jobErrors(t, job)
			if len(errs) != 1 {
				t.Fatalf("errors %s, want one", job.Errors)
			}
			je := errs[0]
			if je.Code != jobs.CodeResourceNotFound || !strings.Contains(je.Message, `"missing/key.csv"`) ||
				!strings.Contains(je.Message, "wharf-no-such-bucket-x1") {
				t.Errorf("error %+v: want RESOURCE_NOT_FOUND_EXCEPTION naming the key and the bucket", je)
			}
			if je.ResourceType != string(resource.KindAsset) || je.ResourceID != "s3://"+bucket+"/missing/key.csv" {
				t.Errorf("ResourceType %q ResourceId %q", je.ResourceType, je.ResourceID)
			}
			got := errorSources(t, je)
			want := []src{{bucket, "missing/key.csv"}, {"wharf-no-such-bucket-x1", "k"}}
			if !slices.Equal(got, want) {
				t.Errorf("ImportAssetsFromS3JobErrorDetails %v, want %v", got, want)
			}
			if a := e.revisionAssets(e.revision); len(a) != 0 {
				t.Errorf("%d assets created", len(a))
			}
			if left := e.storeLeftovers(); len(left) != 0 {
				t.Errorf("asset store holds %v", left)
			}
		})
	}

	t.Run("one missing key", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, options{})
		bucket := e.srv.NewBucket(t)
		job := e.importJob(resource.JobStateError, src{bucket, "nope.txt"})
		errs := jobErrors(t, job)
		if len(errs) != 1 || errs[0].Message != fmt.Sprintf(`key "nope.txt" does not exist in bucket %q`, bucket) {
			t.Fatalf("errors %s", job.Errors)
		}
	})

	// A single source into the local store is read without a HeadObject:
	// its GetObject's answer must say the same.
	t.Run("one missing bucket", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, options{})
		job := e.importJob(resource.JobStateError, src{"wharf-no-such-bucket-x2", "k"})
		errs := jobErrors(t, job)
		if len(errs) != 1 || errs[0].Code != jobs.CodeResourceNotFound ||
			errs[0].Message != `bucket "wharf-no-such-bucket-x2" does not exist (source s3://wharf-no-such-bucket-x2/k)` {
			t.Fatalf("errors %s", job.Errors)
		}
		if got := errorSources(t, errs[0]); !slices.Equal(got, []src{{"wharf-no-such-bucket-x2", "k"}}) {
			t.Errorf("details %v", got)
		}
	})
}

func TestImportSizeLimit(t *testing.T) {
	t.Parallel()
	const limit = 1000
	// Several sources are described (HeadObject) before any copy; a single
	// one into the local store is refused from its GetObject's size.
	for name, sources := range map[string][]string{"several": {"small", "big"}, "one": {"big"}} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			testImportSizeLimit(t, limit, sources)
		})
	}
}

func testImportSizeLimit(t *testing.T, limit int, keys []string) {
	e := newEnv(t, options{deps: func(d *jobtypes.Deps) { d.MaxAssetSize = int64(limit) }})
	bucket := e.srv.NewBucket(t)
	e.srv.PutObject(t, bucket, "small", make([]byte, limit))
	e.srv.PutObject(t, bucket, "big", make([]byte, limit+1))
	var sources []src
	for _, k := range keys {
		sources = append(sources, src{bucket, k})
	}
	job := e.importJob(resource.JobStateError, sources...)
	errs := jobErrors(t, job)
	if len(errs) != 1 {
		t.Fatalf("errors %s, want one", job.Errors)
	}
	je := errs[0]
	if je.Code != jobs.CodeServiceQuotaExceeded || je.LimitName != "Asset size in GB" ||
		je.LimitValue != float64(limit)/(1<<30) || !strings.Contains(je.Message, "s3://"+bucket+"/big") {
		t.Errorf("error %+v", je)
	}
	if got := errorSources(t, je); !slices.Equal(got, []src{{bucket, "big"}}) {
		t.Errorf("details %v", got)
	}
	if left := e.storeLeftovers(); len(left) != 0 {
		t.Errorf("asset store holds %v", left)
	}
}

// An account without S3 credentials can't run imports: the run fails with
// the AccessDeniedException the engine reports as ACCESS_DENIED_EXCEPTION.
func TestImportWithoutS3Credentials(t *testing.T) {
	t.Parallel()
	e := newEnv(t, options{noStart: true})
	r, err := jobtypes.NewImportFromS3(jobtypes.Deps{Store: e.st, Assets: e.assets, S3: nopResolver{}})
	e.must(err)
	job := e.createdJob(resource.JobTypeImportAssetsFromS3, importDetails(e.dataSet.ID, e.revision.ID, src{"abc", "k"}))
	res, err := r.Run(e.ctx, job, func(int64, int64) {})
	if res.Errors != nil || res.Assets != nil {
		t.Errorf("result %+v", res)
	}
	if je := jobs.ErrorFromFault(err); je.Code != jobs.CodeAccessDenied || !strings.Contains(je.Message, "no S3") {
		t.Errorf("Run: %v, reported as %+v", err, je)
	}
}

type nopResolver struct{}

func (nopResolver) Resolve(context.Context, string) (*s3access.Endpoint, error) {
	return nil, fault.AccessDeniedf("no S3 credentials are configured for this account")
}

// createdJob creates a job (not started) and returns its record as the
// engine hands it to a run (started, first attempt), for tests that call a
// runner directly.
func (e *env) createdJob(jobType string, details json.RawMessage) resource.Job {
	e.t.Helper()
	v, err := e.createJob(jobType, details)
	if err != nil {
		e.t.Fatalf("CreateJob: %v", err)
	}
	return claimed(e.job(v.ID))
}

// claimed is job as the engine claims it for its first run.
func claimed(job resource.Job) resource.Job {
	now := resource.Now()
	job.StartedAt, job.Attempts = &now, 1
	return job
}

// progressLog records a run's progress reports.
type progressLog struct {
	mu      sync.Mutex
	reports [][2]int64
	onFirst func()
}

func (p *progressLog) report(done, total int64) {
	p.mu.Lock()
	p.reports = append(p.reports, [2]int64{done, total})
	first := done > 0 && p.onFirst != nil
	if first {
		f := p.onFirst
		p.onFirst = nil
		defer f()
	}
	p.mu.Unlock()
}

func (p *progressLog) last() [2]int64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.reports) == 0 {
		return [2]int64{-1, -1}
	}
	return p.reports[len(p.reports)-1]
}

func (p *progressLog) monotonic() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	for i := 1; i < len(p.reports); i++ {
		if p.reports[i][0] < p.reports[i-1][0] {
			return false
		}
	}
	return true
}

func TestRunReportsProgress(t *testing.T) {
	t.Parallel()
	for _, assets := range []string{localAssets, s3Assets} {
		t.Run(assets, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, options{assets: assets, noStart: true})
			bucket := e.srv.NewBucket(t)
			var sources []src
			var total int64
			for i := range 20 {
				size := objectSize(i)
				if i == 3 {
					size = 11 * mib
				}
				e.srv.PutObject(t, bucket, objectKey(i), pattern(i, size))
				sources = append(sources, src{bucket, objectKey(i)})
				total += int64(size)
			}
			job := e.createdJob(resource.JobTypeImportAssetsFromS3, importDetails(e.dataSet.ID, e.revision.ID, sources...))
			var log progressLog
			res, err := e.runners[resource.JobTypeImportAssetsFromS3].Run(e.ctx, job, log.report)
			e.must(err)
			if len(res.Errors) > 0 || len(res.Assets) != len(sources) {
				t.Fatalf("result %+v", res)
			}
			if got := log.last(); got != [2]int64{total, total} {
				t.Errorf("last progress %v, want %d/%d", got, total, total)
			}
			if !log.monotonic() {
				t.Errorf("progress went backwards: %v", log.reports)
			}
		})
	}
}

// A single source into the local store, read without a HeadObject, reports
// its total once its GetObject answers.
func TestRunReportsProgressOfOneSource(t *testing.T) {
	t.Parallel()
	e := newEnv(t, options{noStart: true})
	bucket := e.srv.NewBucket(t)
	const size = 3 * mib
	e.srv.PutObject(t, bucket, "one", pattern(1, size))
	job := e.createdJob(resource.JobTypeImportAssetsFromS3, importDetails(e.dataSet.ID, e.revision.ID, src{bucket, "one"}))
	var log progressLog
	res, err := e.runners[resource.JobTypeImportAssetsFromS3].Run(e.ctx, job, log.report)
	e.must(err)
	if len(res.Errors) > 0 || len(res.Assets) != 1 {
		t.Fatalf("result %+v", res)
	}
	if got := log.last(); got != [2]int64{size, size} {
		t.Errorf("last progress %v, want %d/%d", got, size, size)
	}
	if !log.monotonic() {
		t.Errorf("progress went backwards: %v", log.reports)
	}
}

// A run cancelled mid-copy returns promptly, and Cleanup leaves nothing in
// the asset store.
func TestImportCancelledMidCopy(t *testing.T) {
	t.Parallel()
	for _, assets := range []string{localAssets, s3Assets} {
		t.Run(assets, func(t *testing.T) {
			t.Parallel()
			srv := s3test.Start(t)
			slow := slowProxy(t, srv, 2*mib)
			e := newEnv(t, options{assets: assets, noStart: true, accountProfile: &slow})
			bucket := srv.NewBucket(t)
			var sources []src
			for i := range 6 {
				srv.PutObject(t, bucket, objectKey(i), pattern(i, 12*mib))
				sources = append(sources, src{bucket, objectKey(i)})
			}
			job := e.createdJob(resource.JobTypeImportAssetsFromS3, importDetails(e.dataSet.ID, e.revision.ID, sources...))
			ctx, cancel := context.WithCancelCause(e.ctx)
			defer cancel(nil)
			log := progressLog{onFirst: func() { time.AfterFunc(300*time.Millisecond, func() { cancel(errStop) }) }}
			runner := e.runners[resource.JobTypeImportAssetsFromS3]
			start := time.Now()
			res, err := runner.Run(ctx, job, log.report)
			if !errors.Is(err, errStop) && !errors.Is(err, context.Canceled) {
				t.Fatalf("Run returned %v, %+v; want the cancellation", err, res)
			}
			if d := time.Since(start); d > 20*time.Second {
				t.Errorf("Run took %s", d)
			}
			if got := log.last(); got[0] <= 0 || got[0] >= got[1] {
				t.Errorf("last progress %v: want the run stopped mid-copy", got)
			}
			e.must(runner.Cleanup(e.ctx, job))
			if left := e.storeLeftovers(); len(left) != 0 {
				t.Errorf("after Cleanup the asset store holds %v", left)
			}
		})
	}
}

// A job that runs past its time limit ends TIMED_OUT, leaving no asset,
// object or upload.
func TestImportTimedOutMidCopy(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ driver, assets string }{{sqliteDB, s3Assets}, {postgresDB, localAssets}} {
		t.Run(c.driver+"/"+c.assets, func(t *testing.T) {
			t.Parallel()
			srv := s3test.Start(t)
			slow := slowProxy(t, srv, 4*mib)
			e := newEnv(t, options{driver: c.driver, assets: c.assets, accountProfile: &slow,
				config: func(c *jobs.Config) { c.JobTimeout = 6 * time.Second }})
			bucket := srv.NewBucket(t)
			var sources []src
			for i := range 3 {
				srv.PutObject(t, bucket, objectKey(i), pattern(i, 48*mib))
				sources = append(sources, src{bucket, objectKey(i)})
			}
			v, err := e.createJob(resource.JobTypeImportAssetsFromS3, importDetails(e.dataSet.ID, e.revision.ID, sources...))
			e.must(err)
			e.must(e.svc.StartJob(e.ctx, account, v.ID))
			mid := e.waitFor(v.ID, "progress", func(j resource.Job) bool {
				return j.BytesDone > 0 || resource.JobStateTerminal(j.State)
			})
			if mid.State != resource.JobStateInProgress {
				t.Fatalf("job %s before any progress was seen", mid.State)
			}
			e.waitEnd(v.ID, resource.JobStateTimedOut)
			if a := e.revisionAssets(e.revision); len(a) != 0 {
				t.Errorf("%d assets created", len(a))
			}
			if left := e.storeLeftovers(); len(left) != 0 {
				t.Errorf("asset store holds %v", left)
			}
		})
	}
}

// Cleanup removes what a crashed run left: the objects under the job's
// asset ids, temporary files and incomplete multipart uploads, and nothing
// else.
func TestImportCleanupRemovesLeftovers(t *testing.T) {
	t.Parallel()
	for _, assets := range []string{localAssets, s3Assets} {
		t.Run(assets, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, options{assets: assets, noStart: true})
			job := e.createdJob(resource.JobTypeImportAssetsFromS3,
				importDetails(e.dataSet.ID, e.revision.ID, src{"abc", "a"}, src{"abc", "b"}, src{"abc", "c"}))
			// Another asset's object, which must stay.
			keep, err := assetstore.AssetKey(account, e.dataSet.ID, resource.NewID())
			e.must(err)
			_, err = e.assets.Put(e.ctx, keep, strings.NewReader("keep"), 4)
			e.must(err)
			// What a crashed run leaves: a finished object, and an
			// unfinished write.
			first, err := assetstore.AssetKey(account, e.dataSet.ID, jobs.AssetID(job.ID, 0))
			e.must(err)
			second, err := assetstore.AssetKey(account, e.dataSet.ID, jobs.AssetID(job.ID, 1))
			e.must(err)
			_, err = e.assets.Put(e.ctx, first, strings.NewReader("done"), 4)
			e.must(err)
			switch s := e.assets.(type) {
			case *assetstore.S3:
				createUpload(t, e.srv, s.Bucket(), s.Location(second).Key)
			case *assetstore.Local:
				p := filepath.Join(s.Dir(), filepath.FromSlash(second.String()))
				e.must(os.MkdirAll(filepath.Dir(p), 0o750))
				e.must(os.WriteFile(filepath.Join(filepath.Dir(p), ".tmp-"+filepath.Base(p)+"-0123456789abcdef"), []byte("half"), 0o640))
			}
			if left := e.storeLeftovers(); len(left) != 3 {
				t.Fatalf("set-up: store holds %v", left)
			}
			runner := e.runners[resource.JobTypeImportAssetsFromS3]
			for range 2 { // idempotent
				e.must(runner.Cleanup(e.ctx, job))
				left := e.storeLeftovers()
				if len(left) != 1 || !strings.HasSuffix(left[0], keep.String()) {
					t.Fatalf("after Cleanup the store holds %v, want only %s", left, keep)
				}
			}
		})
	}
}
