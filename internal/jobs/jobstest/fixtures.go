package jobstest

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/wharf-dev/wharf/internal/fault"
	"github.com/wharf-dev/wharf/internal/jobs"
	"github.com/wharf-dev/wharf/internal/resource"
	"github.com/wharf-dev/wharf/internal/store"
)

// Fixtures the tests of the job service and of the job types share.

// NewService returns a job service (not started) on st that stops when t
// ends.
func NewService(t testing.TB, st store.Store, cfg jobs.Config) *jobs.Service {
	t.Helper()
	svc, err := jobs.New(context.Background(), st, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		if err := svc.Stop(ctx); err != nil {
			t.Errorf("Stop: %v", err)
		}
	})
	return svc
}

// SeedRevision inserts an owned S3_SNAPSHOT data set of account with one
// open revision.
func SeedRevision(t testing.TB, st store.Store, account string) (resource.DataSet, resource.Revision) {
	t.Helper()
	now := resource.Now()
	d := resource.DataSet{AccountID: account, ID: resource.NewID(), Name: "d", Description: "test",
		AssetType: resource.AssetTypeS3Snapshot, Origin: resource.OriginOwned, CreatedAt: now, UpdatedAt: now}
	r := resource.Revision{AccountID: account, DataSetID: d.ID, ID: resource.NewID(), CreatedAt: now, UpdatedAt: now}
	if err := st.InsertDataSet(context.Background(), d); err != nil {
		t.Fatal(err)
	}
	if err := st.InsertRevision(context.Background(), r); err != nil {
		t.Fatal(err)
	}
	return d, r
}

// Job reads a job from st, whatever its age.
func Job(t testing.TB, st store.Store, account, id string) resource.Job {
	t.Helper()
	j, err := st.GetJob(context.Background(), account, id)
	if err != nil {
		t.Fatalf("GetJob: %v", err)
	}
	return j
}

// WaitFor polls the job until cond holds, failing after a while.
func WaitFor(t testing.TB, st store.Store, account, id, what string, cond func(resource.Job) bool) resource.Job {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for {
		j := Job(t, st, account, id)
		if cond(j) {
			return j
		}
		if time.Now().After(deadline) {
			t.Fatalf("job %s: waited in vain for %s; it is %s (lease %q, attempts %d, dispatch %d, errors %s)",
				id, what, j.State, j.LeaseID, j.Attempts, j.Dispatch, j.Errors)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// WaitEnd waits for the job to reach a terminal state, and fails unless it
// is want.
func WaitEnd(t testing.TB, st store.Store, account, id, want string) resource.Job {
	t.Helper()
	j := WaitFor(t, st, account, id, "the end", func(j resource.Job) bool { return resource.JobStateTerminal(j.State) })
	if j.State != want {
		t.Fatalf("job %s ended %s, want %s; errors %s", id, j.State, want, j.Errors)
	}
	return j
}

// JobErrors decodes a job's Errors (nil for none).
func JobErrors(t testing.TB, j resource.Job) []jobs.JobError {
	t.Helper()
	if len(j.Errors) == 0 {
		return nil
	}
	var errs []jobs.JobError
	if err := json.Unmarshal(j.Errors, &errs); err != nil {
		t.Fatalf("Errors %q: %v", j.Errors, err)
	}
	return errs
}

// WantFault fails unless err is the named exception.
func WantFault(t testing.TB, err error, name string) *fault.Error {
	t.Helper()
	fe := fault.As(err)
	if fe == nil || fe.Name != name {
		t.Fatalf("got %v, want %s", err, name)
	}
	return fe
}
