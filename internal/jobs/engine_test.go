package jobs_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/wharf-dev/wharf/internal/exchange"
	"github.com/wharf-dev/wharf/internal/fault"
	"github.com/wharf-dev/wharf/internal/jobs"
	"github.com/wharf-dev/wharf/internal/jobs/jobstest"
	"github.com/wharf-dev/wharf/internal/resource"
	"github.com/wharf-dev/wharf/internal/store"
)

func TestCompletedJobCommitsTaggedAssets(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		e := newEnv(t, b)
		e.start(e.svc)
		v := e.createAndStart("a.csv", "dir/b.csv", "c.csv")
		j := e.waitEnd(v.ID, resource.JobStateCompleted)

		assets := e.assets()
		if got, want := assetIDs(assets), expectedAssetIDs(v.ID, 3); !slices.Equal(got, want) {
			t.Fatalf("assets %v, want %v", got, want)
		}
		for _, a := range assets {
			if a.AccountID != account || a.DataSetID != e.dataSet.ID || a.RevisionID != e.revision.ID ||
				a.AssetType != resource.AssetTypeS3Snapshot || !strings.Contains(string(a.Details), "S3SnapshotAsset") {
				t.Errorf("asset %+v", a)
			}
			tags, err := e.st.GetTags(e.ctx, a.ID)
			if err != nil || len(tags) != 2 || tags["team"] != "data" || tags["env"] != "test" {
				t.Errorf("tags of asset %s: %v, %v", a.Name, tags, err)
			}
		}
		if len(j.Errors) != 0 || j.BytesDone != 3*jobstest.SourceSize || j.BytesTotal != 3*jobstest.SourceSize {
			t.Errorf("completed job: errors %s, progress %d/%d", j.Errors, j.BytesDone, j.BytesTotal)
		}
		if j.StartedAt == nil || j.Attempts != 1 || !j.UpdatedAt.After(v.UpdatedAt) {
			t.Errorf("completed job bookkeeping: %+v", j)
		}
		if e.runner.Cleanups(v.ID) != 0 || e.runner.Runs(v.ID) != 1 {
			t.Errorf("runs %d, cleanups %d; want 1 run and no cleanup", e.runner.Runs(v.ID), e.runner.Cleanups(v.ID))
		}

		// Finished: neither startable nor cancellable.
		wantFault(t, e.svc.StartJob(e.ctx, account, v.ID), fault.Conflict)
		wantFault(t, e.svc.CancelJob(e.ctx, account, v.ID), fault.Conflict)
	})
}

func TestCommitIsAllOrNothing(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		for _, c := range []struct {
			name   string
			before func(e *env)
			// during runs while the job's run is blocked.
			during     func(e *env)
			code       string
			limit      bool
			resourceOf resource.Kind
		}{
			{
				name: "quota",
				before: func(e *env) {
					for i := range 4 {
						e.must(e.st.InsertAsset(e.ctx, resource.Asset{AccountID: account, DataSetID: e.dataSet.ID,
							RevisionID: e.revision.ID, ID: resource.NewID(), Name: fmt.Sprint("existing-", i),
							AssetType: resource.AssetTypeS3Snapshot, Details: json.RawMessage(`{}`),
							CreatedAt: resource.Now(), UpdatedAt: resource.Now()}))
					}
				},
				code: jobs.CodeServiceQuotaExceeded, limit: true, resourceOf: resource.KindRevision,
			},
			{
				name: "finalized meanwhile",
				during: func(e *env) {
					r := e.revision
					r.Finalized = true
					e.must(e.st.UpdateRevision(e.ctx, r))
				},
				code: jobs.CodeValidation, resourceOf: resource.KindRevision,
			},
			{
				name: "data set deleted meanwhile",
				during: func(e *env) {
					e.must(e.st.DeleteDataSet(e.ctx, account, e.dataSet.ID))
				},
				code: jobs.CodeResourceNotFound, resourceOf: resource.KindDataSet,
			},
		} {
			t.Run(c.name, func(t *testing.T) {
				t.Parallel()
				e := newEnv(t, b, func(cfg *jobs.Config) { cfg.AssetsPerRevision = 6 })
				e.start(e.svc)
				if c.before != nil {
					c.before(e)
				}
				kept := assetIDs(e.assets())
				v := e.createAndStart("a", jobstest.KeyBlock, "c")
				e.waitFor(v.ID, "a run", func(resource.Job) bool { return e.runner.Running() == 1 })
				if c.during != nil {
					c.during(e)
				}
				e.runner.Release()
				j := e.waitEnd(v.ID, resource.JobStateError)
				errs := jobErrors(t, j)
				if len(errs) != 1 || errs[0].Code != c.code || errs[0].ResourceType != string(c.resourceOf) || errs[0].Message == "" {
					t.Fatalf("errors %s", j.Errors)
				}
				if c.limit && (errs[0].LimitName != "Assets per revision" || errs[0].LimitValue != 6) {
					t.Errorf("limit %q %v", errs[0].LimitName, errs[0].LimitValue)
				}
				if c.name != "data set deleted meanwhile" {
					if got := assetIDs(e.assets()); !slices.Equal(got, kept) {
						t.Errorf("assets after the refused commit: %v, want %v", got, kept)
					}
				}
				if e.runner.Cleanups(v.ID) == 0 || len(e.runner.Objects(v.ID)) != 0 {
					t.Errorf("cleanups %d, objects left %v", e.runner.Cleanups(v.ID), e.runner.Objects(v.ID))
				}
			})
		}
	})
}

func TestFailedJobsReportErrors(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		e := newEnv(t, b)
		e.start(e.svc)
		for _, c := range []struct {
			key  string
			want jobs.JobError
		}{
			{jobstest.KeyMissing, jobs.JobError{Code: jobs.CodeResourceNotFound, Message: "s3://bucket/missing does not exist",
				Details: json.RawMessage(`{"ImportAssetsFromS3JobErrorDetails":[{"Bucket":"bucket","Key":"missing"}]}`)}},
			{jobstest.KeyFail, jobs.JobError{Code: jobs.CodeInternalServer, Message: "an internal error occurred; it has been logged"}},
			{jobstest.KeyPanic, jobs.JobError{Code: jobs.CodeInternalServer, Message: "an internal error occurred; it has been logged"}},
		} {
			t.Run(c.key, func(t *testing.T) {
				v := e.createAndStart("first", c.key)
				j := e.waitEnd(v.ID, resource.JobStateError)
				errs := jobErrors(t, j)
				if len(errs) != 1 || errs[0].Code != c.want.Code || errs[0].Message != c.want.Message ||
					string(errs[0].Details) != string(c.want.Details) {
					t.Errorf("errors %s, want [%+v]", j.Errors, c.want)
				}
				if e.runner.Cleanups(v.ID) != 1 || len(e.runner.Objects(v.ID)) != 0 {
					t.Errorf("cleanups %d, objects left %v", e.runner.Cleanups(v.ID), e.runner.Objects(v.ID))
				}
			})
		}
		if n := len(e.assets()); n != 0 {
			t.Errorf("failed jobs left %d assets", n)
		}
	})
}

func TestTimedOut(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		e := newEnv(t, b, func(cfg *jobs.Config) { cfg.JobTimeout = 500 * time.Millisecond })
		e.start(e.svc)
		v := e.createAndStart("a", jobstest.KeyHang)
		j := e.waitEnd(v.ID, resource.JobStateTimedOut)
		if took := j.UpdatedAt.Sub(*j.StartedAt); took < 500*time.Millisecond || took > 10*time.Second {
			t.Errorf("timed out after %v, want about 500ms", took)
		}
		if len(j.Errors) != 0 {
			t.Errorf("errors %s", j.Errors)
		}
		if e.runner.Cleanups(v.ID) != 1 || len(e.runner.Objects(v.ID)) != 0 || len(e.assets()) != 0 {
			t.Errorf("cleanups %d, objects %v, assets %d", e.runner.Cleanups(v.ID), e.runner.Objects(v.ID), len(e.assets()))
		}
		// River does not run it again.
		time.Sleep(300 * time.Millisecond)
		if runs := e.runner.Runs(v.ID); runs != 1 {
			t.Errorf("%d runs, want 1", runs)
		}
	})
}

func TestConcurrencyLimitAcrossReplicas(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		const limit, jobCount = 2, 8
		limits := func(cfg *jobs.Config) {
			cfg.Concurrency = map[string]int{resource.JobTypeImportAssetsFromS3: limit}
		}
		e := newEnv(t, b, limits)
		e.runner.Delay = 200 * time.Millisecond
		e.start(e.svc)
		if b.name == "postgres" {
			// A second replica on the same database, same runner (so
			// that MaxRunning counts both): each replica alone would
			// run `limit` at once.
			cfg := fastConfig(e.runner)
			cfg.Logger = testLogger(t)
			limits(&cfg)
			e.start(e.service(e.reopen(t), cfg))
		}
		var ids []string
		for range jobCount {
			ids = append(ids, e.createAndStart(jobstest.KeySlow).ID)
		}
		// While they run, the database never shows more leases than the limit.
		var mu sync.Mutex
		maxLeased := 0
		done := make(chan struct{})
		go func() {
			defer close(done)
			for {
				n, err := e.st.CountLeasedJobs(e.ctx, resource.JobTypeImportAssetsFromS3)
				if err != nil {
					return
				}
				mu.Lock()
				maxLeased = max(maxLeased, n)
				mu.Unlock()
				if e.runner.Running() == 0 && allEnded(e, ids) {
					return
				}
				time.Sleep(10 * time.Millisecond)
			}
		}()
		for _, id := range ids {
			e.waitEnd(id, resource.JobStateCompleted)
		}
		<-done
		if m := e.runner.MaxRunning(); m > limit || m < 1 {
			t.Errorf("%d runs at once, want at most %d", m, limit)
		}
		mu.Lock()
		defer mu.Unlock()
		if maxLeased > limit {
			t.Errorf("%d leases at once, want at most %d", maxLeased, limit)
		}
		if n := len(e.assets()); n != jobCount {
			t.Errorf("%d assets, want %d", n, jobCount)
		}
	})
}

func allEnded(e *env, ids []string) bool {
	for _, id := range ids {
		j, err := e.st.GetJob(e.ctx, account, id)
		if err != nil || !resource.JobStateTerminal(j.State) {
			return false
		}
	}
	return true
}

// TestCrashedRunIsResumedOnce simulates a worker killed mid-run: its job is
// IN_PROGRESS under a lease nobody renews, with objects written under the
// job's asset ids, and its queue entry is still in River.
func TestCrashedRunIsResumedOnce(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		e := newEnv(t, b)
		v := e.createAndStart("a", "b", "c", "d")

		j := e.job(v.ID)
		expires, started := resource.Now().Add(500*time.Millisecond), resource.Now()
		j.LeaseID, j.LeaseExpiresAt, j.StartedAt, j.Attempts = "dead-worker", &expires, &started, 1
		e.must(e.st.UpdateJob(e.ctx, j))
		// What the dead run left: the objects of two of its assets.
		dead := jobstest.New()
		e.runner = dead
		// (The runner records objects; let a run of the fake write them.)
		_, err := dead.Run(e.ctx, j, func(int64, int64) {})
		e.must(err)
		if len(dead.Objects(v.ID)) != 4 {
			t.Fatal("the simulated dead run wrote no objects")
		}
		e.metrics = prometheus.NewRegistry()
		cfg := fastConfig(dead)
		cfg.Metrics, cfg.Logger = e.metrics, testLogger(t)
		svc := e.service(e.st, cfg)
		e.start(svc)

		done := e.waitEnd(v.ID, resource.JobStateCompleted)
		if got, want := assetIDs(e.assets()), expectedAssetIDs(v.ID, 4); !slices.Equal(got, want) {
			t.Fatalf("assets %v, want exactly %v", got, want)
		}
		if dead.Cleanups(v.ID) != 1 {
			t.Errorf("%d cleanups before the new run, want 1", dead.Cleanups(v.ID))
		}
		// The simulated run plus one resumed run; the stale queue entry ran
		// nothing.
		if runs := dead.Runs(v.ID); runs != 2 {
			t.Errorf("%d runs, want 2", runs)
		}
		if done.Attempts != 2 || done.Dispatch != 2 {
			t.Errorf("attempts %d, dispatch %d; want 2 and 2", done.Attempts, done.Dispatch)
		}
		if n := metricSum(t, e, "wharf_job_leases_reaped_total"); n != 1 {
			t.Errorf("wharf_job_leases_reaped_total = %v, want 1", n)
		}
	})
}

// metricSum returns the sum of a counter's or gauge's series in e's registry.
func metricSum(t *testing.T, e *env, name string) float64 {
	t.Helper()
	families, err := e.metrics.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var sum float64
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
		for _, m := range f.GetMetric() {
			sum += m.GetCounter().GetValue() + m.GetGauge().GetValue()
		}
	}
	return sum
}

func TestJobsThatKeepCrashingEndInError(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		e := newEnv(t, b, func(cfg *jobs.Config) { cfg.MaxAttempts = 2 })
		v := e.createAndStart("a")
		j := e.job(v.ID)
		expired, started := resource.Now().Add(-time.Second), resource.Now()
		j.LeaseID, j.LeaseExpiresAt, j.StartedAt, j.Attempts = "dead-worker", &expired, &started, 2
		e.must(e.st.UpdateJob(e.ctx, j))
		e.start(e.svc)
		j = e.waitEnd(v.ID, resource.JobStateError)
		if errs := jobErrors(t, j); len(errs) != 1 || errs[0].Code != jobs.CodeInternalServer ||
			!strings.Contains(errs[0].Message, "interrupted 2 times") {
			t.Errorf("errors %s", j.Errors)
		}
		if e.runner.Runs(v.ID) != 0 || e.runner.Cleanups(v.ID) < 1 || len(e.assets()) != 0 {
			t.Errorf("runs %d, cleanups %d, assets %d", e.runner.Runs(v.ID), e.runner.Cleanups(v.ID), len(e.assets()))
		}
	})
}

// TestLostLeaseCommitsNothing: a run whose lease was taken over (its worker
// stalled past the lease) may finish, but can't commit.
func TestLostLeaseCommitsNothing(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		e := newEnv(t, b, func(cfg *jobs.Config) { cfg.ReapInterval = time.Hour })
		e.start(e.svc)
		v := e.createAndStart("a", jobstest.KeyBlock)
		e.waitFor(v.ID, "a lease", func(j resource.Job) bool { return j.LeaseID != "" && e.runner.Running() == 1 })

		err := e.st.InTx(e.ctx, func(q store.Queries) error {
			j, err := q.GetJob(e.ctx, account, v.ID)
			if err != nil {
				return err
			}
			expires := resource.Now().Add(time.Hour)
			j.LeaseID, j.LeaseExpiresAt = "another-worker", &expires
			return q.UpdateJob(e.ctx, j)
		})
		e.must(err)
		time.Sleep(500 * time.Millisecond) // a heartbeat notices
		e.runner.Release()
		deadline := time.Now().Add(5 * time.Second)
		for e.runner.Running() > 0 && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		time.Sleep(200 * time.Millisecond)
		j := e.job(v.ID)
		if j.State != resource.JobStateInProgress || j.LeaseID != "another-worker" || len(e.assets()) != 0 {
			t.Errorf("after the stale run: state %s, lease %q, %d assets", j.State, j.LeaseID, len(e.assets()))
		}
		// The stale run left the cleanup to the new holder.
		if e.runner.Cleanups(v.ID) != 0 {
			t.Errorf("%d cleanups by the run that lost its lease", e.runner.Cleanups(v.ID))
		}
	})
}

// TestStopHandsJobsOver: a replica stopping cancels its runs, which hand
// their jobs over; another replica resumes them at once, not a lease later.
func TestStopHandsJobsOver(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		long := func(cfg *jobs.Config) { cfg.LeaseDuration, cfg.HeartbeatInterval = time.Hour, 200*time.Millisecond }
		e := newEnv(t, b, long)
		e.start(e.svc)
		v := e.createAndStart("a", jobstest.KeyHangFirstRun)
		e.waitFor(v.ID, "a run", func(resource.Job) bool { return e.runner.Running() == 1 })

		ctx, cancel := context.WithTimeout(e.ctx, 2*time.Second)
		defer cancel()
		e.must(e.svc.Stop(ctx))
		j := e.job(v.ID)
		if j.State != resource.JobStateInProgress || j.LeaseExpiresAt == nil || j.LeaseExpiresAt.After(resource.Now()) || j.Attempts != 0 {
			t.Fatalf("after Stop: state %s, lease expiry %v, attempts %d; want IN_PROGRESS, expired, 0", j.State, j.LeaseExpiresAt, j.Attempts)
		}

		st := e.st
		if b.name == "postgres" {
			st = e.reopen(t)
		}
		cfg := fastConfig(e.runner)
		cfg.Logger = testLogger(t)
		long(&cfg)
		e.start(e.service(st, cfg))
		e.waitEnd(v.ID, resource.JobStateCompleted)
		if e.runner.Runs(v.ID) != 2 || e.runner.Cleanups(v.ID) != 1 || len(e.assets()) != 2 {
			t.Errorf("runs %d, cleanups %d, assets %d; want 2, 1, 2", e.runner.Runs(v.ID), e.runner.Cleanups(v.ID), len(e.assets()))
		}
	})
}

func TestStartJobIsAtomicWithTheQueue(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		e := newEnv(t, b)
		v := e.create("a")
		// Break River's table: the queue insert in StartJob's transaction fails.
		e.must(e.st.InTx(e.ctx, func(q store.Queries) error {
			return execDriver(e, q, "ALTER TABLE river_job RENAME TO river_job_away")
		}))
		err := e.svc.StartJob(e.ctx, account, v.ID)
		if err == nil || fault.As(err) != nil {
			t.Fatalf("StartJob with a broken queue: %v, want an internal error", err)
		}
		j := e.job(v.ID)
		if j.State != resource.JobStateWaiting || j.Dispatch != 0 || !j.UpdatedAt.Equal(v.UpdatedAt) {
			t.Fatalf("after the failed StartJob: %s, dispatch %d", j.State, j.Dispatch)
		}
		// With the queue back, the job starts and runs.
		e.must(e.st.InTx(e.ctx, func(q store.Queries) error {
			return execDriver(e, q, "ALTER TABLE river_job_away RENAME TO river_job")
		}))
		e.must(e.svc.StartJob(e.ctx, account, v.ID))
		e.start(e.svc)
		e.waitEnd(v.ID, resource.JobStateCompleted)
	})
}

func TestRetention(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		e := newEnv(t, b)
		old := e.create("a")
		young := e.create("b")
		oldRunning := e.createAndStart(jobstest.KeyHang)
		for _, id := range []string{old.ID, oldRunning.ID} {
			j := e.job(id)
			e.must(e.st.InTx(e.ctx, func(q store.Queries) error {
				return execDriver(e, q, fmt.Sprintf("UPDATE jobs SET created_at = %d WHERE id = '%s'",
					j.CreatedAt.Add(-91*24*time.Hour).UnixMilli(), j.ID))
			}))
		}
		for _, id := range []string{old.ID, oldRunning.ID} {
			_, err := e.svc.GetJob(e.ctx, account, id)
			if fe := wantFault(t, err, fault.ResourceNotFound); fe.ResourceType != resource.KindJob || fe.ResourceID != id {
				t.Errorf("not found names %s %s", fe.ResourceType, fe.ResourceID)
			}
			wantFault(t, e.svc.StartJob(e.ctx, account, id), fault.ResourceNotFound)
			wantFault(t, e.svc.CancelJob(e.ctx, account, id), fault.ResourceNotFound)
		}
		page, err := e.svc.ListJobs(e.ctx, account, jobs.ListJobsInput{})
		e.must(err)
		if len(page.Items) != 1 || page.Items[0].ID != young.ID {
			t.Fatalf("ListJobs lists %d jobs, want only the young one", len(page.Items))
		}

		// The sweeper deletes the expired WAITING job (cleaning up after
		// it), and leaves the running one until it ends.
		n, err := e.svc.Sweep(e.ctx)
		if err != nil || n != 1 {
			t.Fatalf("Sweep = %d, %v; want 1", n, err)
		}
		if _, err := e.st.GetJob(e.ctx, account, old.ID); err != store.ErrNotFound {
			t.Errorf("the old job is still stored: %v", err)
		}
		if e.runner.Cleanups(old.ID) != 1 {
			t.Errorf("%d cleanups of the deleted WAITING job, want 1", e.runner.Cleanups(old.ID))
		}
		for _, id := range []string{young.ID, oldRunning.ID} {
			if _, err := e.st.GetJob(e.ctx, account, id); err != nil {
				t.Errorf("job %s: %v", id, err)
			}
		}
	})
}

func TestProgressAndMetrics(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		e := newEnv(t, b)
		e.runner.Delay = time.Second
		e.start(e.svc)
		v := e.createAndStart(jobstest.KeySlow, jobstest.KeySlow)
		mid := e.waitFor(v.ID, "progress", func(j resource.Job) bool { return j.BytesDone > 0 })
		if mid.BytesTotal != 2*jobstest.SourceSize || mid.State != resource.JobStateInProgress {
			t.Errorf("progress while running: %d/%d, %s", mid.BytesDone, mid.BytesTotal, mid.State)
		}
		view, err := e.svc.GetJob(e.ctx, account, v.ID)
		e.must(err)
		if view.BytesTotal != 2*jobstest.SourceSize {
			t.Errorf("GetJob progress %d/%d", view.BytesDone, view.BytesTotal)
		}
		j := e.waitEnd(v.ID, resource.JobStateCompleted)
		if j.BytesDone != j.BytesTotal {
			t.Errorf("final progress %d/%d", j.BytesDone, j.BytesTotal)
		}

		// The run adds its last bytes to the counter as it ends, which
		// may be a moment after the job's COMPLETED state is visible.
		var n float64
		for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
			if n = metricSum(t, e, "wharf_job_bytes_transferred_total"); n == 2*jobstest.SourceSize || time.Now().After(deadline) {
				break
			}
		}
		if n != 2*jobstest.SourceSize {
			t.Errorf("bytes transferred %v, want %d", n, 2*jobstest.SourceSize)
		}
		want := `
# HELP wharf_jobs Jobs in the database (all accounts, all replicas), by type and state.
# TYPE wharf_jobs gauge
wharf_jobs{state="COMPLETED",type="IMPORT_ASSETS_FROM_S3"} 1
`
		if err := testutil.GatherAndCompare(e.metrics, strings.NewReader(want), "wharf_jobs"); err != nil {
			t.Error(err)
		}
		if n, err := testutil.GatherAndCount(e.metrics, "wharf_job_duration_seconds", "wharf_jobs_started_total"); err != nil || n != 2 {
			t.Errorf("duration and started series: %d, %v", n, err)
		}
	})
}

func TestCreateJobValidation(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		e := newEnv(t, b)
		str := func(s string) *string { return &s }
		ds, rev := e.dataSet.ID, e.revision.ID
		for _, c := range []struct {
			name    string
			in      jobs.CreateJobInput
			want    string
			message string
		}{
			{"no type", jobs.CreateJobInput{Details: jobstest.Details(ds, rev, "a")}, fault.Validation, "Type is required"},
			{"unknown type", jobs.CreateJobInput{Type: str("COPY"), Details: jobstest.Details(ds, rev, "a")}, fault.Validation, "COPY"},
			{"type without runner", jobs.CreateJobInput{Type: str(resource.JobTypeExportRevisionsToS3),
				Details: json.RawMessage(`{"ExportRevisionsToS3":{"DataSetId":"` + ds + `"}}`)},
				fault.Validation, "job type EXPORT_REVISIONS_TO_S3 is not supported by Wharf yet"},
			{"no details", jobs.CreateJobInput{Type: str(resource.JobTypeImportAssetsFromS3)}, fault.Validation, "Details is required"},
			{"details not an object", jobs.CreateJobInput{Type: str(resource.JobTypeImportAssetsFromS3), Details: json.RawMessage(`[1]`)},
				fault.Validation, "object"},
			{"another type's member", jobs.CreateJobInput{Type: str(resource.JobTypeImportAssetsFromS3),
				Details: json.RawMessage(`{"ExportAssetsToS3":{"DataSetId":"` + ds + `"}}`)}, fault.Validation, "exactly one member, ImportAssetsFromS3"},
			{"two members", jobs.CreateJobInput{Type: str(resource.JobTypeImportAssetsFromS3),
				Details: json.RawMessage(`{"ImportAssetsFromS3":{"DataSetId":"` + ds + `"},"ExportAssetsToS3":{}}`)}, fault.Validation, "exactly one member"},
			{"no data set", jobs.CreateJobInput{Type: str(resource.JobTypeImportAssetsFromS3),
				Details: json.RawMessage(`{"ImportAssetsFromS3":{"RevisionId":"` + rev + `"}}`)}, fault.Validation, "DataSetId is required"},
			{"data set not a string", jobs.CreateJobInput{Type: str(resource.JobTypeImportAssetsFromS3),
				Details: json.RawMessage(`{"ImportAssetsFromS3":{"DataSetId":5}}`)}, fault.Validation, "DataSetId"},
			{"runner refuses", jobs.CreateJobInput{Type: str(resource.JobTypeImportAssetsFromS3),
				Details: json.RawMessage(`{"ImportAssetsFromS3":{"DataSetId":"` + ds + `","RevisionId":"` + rev + `","AssetSources":[]}}`)},
				fault.Validation, "AssetSources"},
			{"missing revision", jobs.CreateJobInput{Type: str(resource.JobTypeImportAssetsFromS3),
				Details: jobstest.Details(ds, resource.NewID(), "a")}, fault.ResourceNotFound, "revision"},
			{"tag without value", jobs.CreateJobInput{Type: str(resource.JobTypeImportAssetsFromS3), Details: jobstest.Details(ds, rev, "a"),
				AssetConfiguration: json.RawMessage(`{"Tags":[{"Key":"k"}]}`)}, fault.Validation, "Key and Value are required"},
			{"reserved tag", jobs.CreateJobInput{Type: str(resource.JobTypeImportAssetsFromS3), Details: jobstest.Details(ds, rev, "a"),
				AssetConfiguration: json.RawMessage(`{"Tags":[{"Key":"aws:x","Value":"v"}]}`)}, fault.Validation, "reserved"},
			{"duplicate tag", jobs.CreateJobInput{Type: str(resource.JobTypeImportAssetsFromS3), Details: jobstest.Details(ds, rev, "a"),
				AssetConfiguration: json.RawMessage(`{"Tags":[{"Key":"k","Value":"1"},{"Key":"k","Value":"2"}]}`)}, fault.Validation, "twice"},
		} {
			t.Run(c.name, func(t *testing.T) {
				_, err := e.svc.CreateJob(e.ctx, account, c.in)
				if fe := wantFault(t, err, c.want); !strings.Contains(fe.Message, c.message) {
					t.Errorf("message %q, want it to mention %q", fe.Message, c.message)
				}
			})
		}
		page, err := e.svc.ListJobs(e.ctx, account, jobs.ListJobsInput{})
		if err != nil || len(page.Items) != 0 {
			t.Errorf("refused CreateJobs stored %d jobs (%v)", len(page.Items), err)
		}

		// Details are echoed as sent, inside their member.
		v, err := e.svc.CreateJob(e.ctx, account, jobs.CreateJobInput{Type: str(resource.JobTypeImportAssetsFromS3),
			Details: json.RawMessage(`{"ImportAssetsFromS3": {"RevisionId":"` + rev + `", "DataSetId":"` + ds +
				`","AssetSources":[{"Key":"k","Bucket":"b"}]}, "ExportAssetsToS3": null}`)})
		e.must(err)
		if want := `{"ImportAssetsFromS3":{"RevisionId":"` + rev + `", "DataSetId":"` + ds +
			`","AssetSources":[{"Key":"k","Bucket":"b"}]}}`; string(v.Details) != want {
			t.Errorf("details\n got  %s\n want %s", v.Details, want)
		}
		if v.DataSetID != ds || v.RevisionID != rev || v.State != resource.JobStateWaiting ||
			v.ARN != resource.JobARN(region, account, v.ID) || v.AssetConfiguration != nil {
			t.Errorf("created %+v", v)
		}
	})
}

func TestStateMachine(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		e := newEnv(t, b)
		other := "222222222222"

		cancelled := e.create("a")
		wantFault(t, e.svc.CancelJob(e.ctx, other, cancelled.ID), fault.ResourceNotFound)
		e.must(e.svc.CancelJob(e.ctx, account, cancelled.ID))
		j := e.job(cancelled.ID)
		if j.State != resource.JobStateCancelled || !j.UpdatedAt.After(cancelled.UpdatedAt) {
			t.Errorf("cancelled job: %s", j.State)
		}
		if e.runner.Cleanups(cancelled.ID) != 1 {
			t.Errorf("%d cleanups after CancelJob, want 1", e.runner.Cleanups(cancelled.ID))
		}
		fe := wantFault(t, e.svc.CancelJob(e.ctx, account, cancelled.ID), fault.Conflict)
		if fe.ResourceType != resource.KindJob || fe.ResourceID != cancelled.ID {
			t.Errorf("conflict names %s %s", fe.ResourceType, fe.ResourceID)
		}
		wantFault(t, e.svc.StartJob(e.ctx, account, cancelled.ID), fault.Conflict)

		started := e.create(jobstest.KeyHang)
		wantFault(t, e.svc.StartJob(e.ctx, other, started.ID), fault.ResourceNotFound)
		e.must(e.svc.StartJob(e.ctx, account, started.ID))
		if j := e.job(started.ID); j.State != resource.JobStateInProgress || j.Dispatch != 1 {
			t.Errorf("started job: %s, dispatch %d", j.State, j.Dispatch)
		}
		wantFault(t, e.svc.StartJob(e.ctx, account, started.ID), fault.Conflict)
		wantFault(t, e.svc.CancelJob(e.ctx, account, started.ID), fault.Conflict)

		// StartJob validates again: the revision was finalized since.
		late := e.create("a")
		r := e.revision
		r.Finalized = true
		e.must(e.st.UpdateRevision(e.ctx, r))
		wantFault(t, e.svc.StartJob(e.ctx, account, late.ID), fault.Conflict)
		if j := e.job(late.ID); j.State != resource.JobStateWaiting {
			t.Errorf("refused StartJob left the job %s", j.State)
		}

		for _, id := range []string{"", "x", strings.Repeat("a", 41)} {
			wantFault(t, e.svc.StartJob(e.ctx, account, id), fault.Validation)
			_, err := e.svc.GetJob(e.ctx, account, id)
			wantFault(t, err, fault.Validation)
		}
		_, err := e.svc.GetJob(e.ctx, other, started.ID)
		wantFault(t, err, fault.ResourceNotFound)
	})
}

func TestListJobs(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		e := newEnv(t, b)
		rev2 := resource.Revision{AccountID: account, DataSetID: e.dataSet.ID, ID: resource.NewID(),
			CreatedAt: resource.Now(), UpdatedAt: resource.Now()}
		e.must(e.st.InsertRevision(e.ctx, rev2))
		var all, inRev2 []string
		for i := range 7 {
			if i%3 == 0 {
				typ := resource.JobTypeImportAssetsFromS3
				v, err := e.svc.CreateJob(e.ctx, account, jobs.CreateJobInput{Type: &typ, Details: jobstest.Details(e.dataSet.ID, rev2.ID, "k")})
				e.must(err)
				all, inRev2 = append(all, v.ID), append(inRev2, v.ID)
			} else {
				all = append(all, e.create("k").ID)
			}
			time.Sleep(2 * time.Millisecond)
		}
		slices.Reverse(all)
		slices.Reverse(inRev2)
		readAll := func(in jobs.ListJobsInput, size int) []string {
			var ids []string
			in.MaxResults = &size
			for {
				page, err := e.svc.ListJobs(e.ctx, account, in)
				e.must(err)
				for _, v := range page.Items {
					ids = append(ids, v.ID)
				}
				if page.NextToken == "" {
					return ids
				}
				in.NextToken = page.NextToken
			}
		}
		for _, size := range []int{1, 2, 3, 200} {
			if got := readAll(jobs.ListJobsInput{}, size); !slices.Equal(got, all) {
				t.Errorf("size %d: %v, want %v", size, got, all)
			}
			if got := readAll(jobs.ListJobsInput{RevisionID: rev2.ID}, size); !slices.Equal(got, inRev2) {
				t.Errorf("revision filter, size %d: %v, want %v", size, got, inRev2)
			}
			if got := readAll(jobs.ListJobsInput{DataSetID: e.dataSet.ID, RevisionID: e.revision.ID}, size); len(got) != len(all)-len(inRev2) {
				t.Errorf("both filters, size %d: %d jobs", size, len(got))
			}
		}
		if got := readAll(jobs.ListJobsInput{DataSetID: resource.NewID()}, 10); len(got) != 0 {
			t.Errorf("another data set: %v", got)
		}
		page, err := e.svc.ListJobs(e.ctx, "222222222222", jobs.ListJobsInput{})
		if err != nil || len(page.Items) != 0 {
			t.Errorf("another account sees %d jobs (%v)", len(page.Items), err)
		}
		_, err = e.svc.ListJobs(e.ctx, account, jobs.ListJobsInput{PageInput: exchange.PageInput{NextToken: "garbage"}})
		wantFault(t, err, fault.Validation)
		_, err = e.svc.ListJobs(e.ctx, account, jobs.ListJobsInput{DataSetID: "bad id"})
		wantFault(t, err, fault.Validation)
	})
}

// TestRunningCountsRunsInProgress: Running is the number of runs in
// progress in the process, what a shutdown waits for.
func TestRunningCountsRunsInProgress(t *testing.T) {
	t.Parallel()
	e := newEnv(t, backends[0])
	e.start(e.svc)
	if n := e.svc.Running(); n != 0 {
		t.Fatalf("Running() = %d before any job", n)
	}
	v := e.createAndStart(jobstest.KeyBlock)
	e.waitFor(v.ID, "its run to start", func(resource.Job) bool { return e.runner.Running() == 1 })
	if n := e.svc.Running(); n != 1 {
		t.Errorf("Running() = %d while one run is blocked, want 1", n)
	}
	e.runner.Release()
	e.waitEnd(v.ID, resource.JobStateCompleted)
	deadline := time.Now().Add(10 * time.Second)
	for e.svc.Running() != 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := e.svc.Running(); n != 0 {
		t.Errorf("Running() = %d after the run ended", n)
	}
}
