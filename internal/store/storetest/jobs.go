package storetest

import (
	"encoding/json"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/wharf-dev/wharf/internal/resource"
	"github.com/wharf-dev/wharf/internal/store"
)

func (e *env) newJob(accountID string) resource.Job {
	now := e.now()
	ds, rev := resource.NewID(), resource.NewID()
	return resource.Job{
		AccountID:  accountID,
		ID:         resource.NewID(),
		Type:       resource.JobTypeImportAssetsFromS3,
		State:      resource.JobStateWaiting,
		DataSetID:  ds,
		RevisionID: rev,
		Details: json.RawMessage(fmt.Sprintf(
			`{"ImportAssetsFromS3":{"AssetSources":[{"Bucket":"b","Key":"k"}],"DataSetId":%q,"RevisionId":%q}}`, ds, rev)),
		CreatedAt: now,
		UpdatedAt: now,
	}
}

func (e *env) job(accountID string, edit ...func(*resource.Job)) resource.Job {
	e.t.Helper()
	j := e.newJob(accountID)
	for _, f := range edit {
		f(&j)
	}
	e.must(e.s.InsertJob(e.ctx, j))
	return j
}

// leased edits a job into one a worker runs, its lease expiring at expires.
func leased(expires time.Time) func(*resource.Job) {
	return func(j *resource.Job) {
		started := expires.Add(-time.Minute)
		j.State, j.LeaseID, j.LeaseExpiresAt, j.StartedAt, j.Attempts, j.Dispatch =
			resource.JobStateInProgress, resource.NewID(), &expires, &started, 1, 1
	}
}

func jobID(j resource.Job) string         { return j.ID }
func jobCreated(j resource.Job) time.Time { return j.CreatedAt }

var jobTests = []test{
	{"RoundTrip", func(t *testing.T, e *env) {
		account := newAccountID()
		expires, started := e.now(), e.now()
		cases := []resource.Job{
			e.newJob(account),
			func() resource.Job {
				j := e.newJob(account)
				j.Type, j.State, j.RevisionID = resource.JobTypeExportRevisionsToS3, resource.JobStateError, ""
				// Whitespace and key order come back as stored.
				j.Details = json.RawMessage("{ \"ExportRevisionsToS3\" :\n {\"b\":1, \"a\":\"ünïcødé\"} }")
				j.Errors = json.RawMessage(`[{"Code":"SERVICE_QUOTA_EXCEEDED_EXCEPTION","Message":"m","LimitName":"Assets per revision","LimitValue":10000}]`)
				j.AssetConfiguration = json.RawMessage(`{"Tags":[{"Key":"k","Value":"v"}]}`)
				j.BytesDone, j.BytesTotal = 1<<40, 1<<41
				j.LeaseID, j.LeaseExpiresAt, j.StartedAt = "lease-1", &expires, &started
				j.Attempts, j.Dispatch = 3, 7
				j.UpdatedAt = j.CreatedAt.Add(time.Hour)
				return j
			}(),
		}
		for _, j := range cases {
			e.must(e.s.InsertJob(e.ctx, j))
			got, err := e.s.GetJob(e.ctx, j.AccountID, j.ID)
			wantEqual(t, "GetJob", got, j, err)
			if string(got.Details) != string(j.Details) {
				t.Errorf("details: got %q, want %q", got.Details, j.Details)
			}
		}
		bad := e.newJob(account)
		bad.Details = json.RawMessage(`{"unterminated"`)
		if err := e.s.InsertJob(e.ctx, bad); err == nil {
			t.Error("InsertJob with invalid details JSON: no error")
		}
	}},
	{"DuplicateAndScopedToAccount", func(t *testing.T, e *env) {
		j := e.job(newAccountID())
		again := e.newJob(newAccountID())
		again.ID = j.ID
		wantErr(t, "InsertJob with an existing id in another account", e.s.InsertJob(e.ctx, again), store.ErrDuplicate)
		_, err := e.s.GetJob(e.ctx, again.AccountID, j.ID)
		wantErr(t, "GetJob from another account", err, store.ErrNotFound)
		_, err = e.s.GetJob(e.ctx, j.AccountID, resource.NewID())
		wantErr(t, "GetJob of a missing id", err, store.ErrNotFound)
		got, err := e.s.GetJob(e.ctx, j.AccountID, j.ID)
		wantEqual(t, "job after the duplicate insert", got, j, err)
	}},
	{"Update", func(t *testing.T, e *env) {
		j := e.job(newAccountID(), func(j *resource.Job) {
			j.AssetConfiguration = json.RawMessage(`{"Tags":[]}`)
		})
		expires := e.now()
		change := j
		change.State, change.DataSetID, change.RevisionID = resource.JobStateInProgress, resource.NewID(), resource.NewID()
		change.Details = json.RawMessage(`{"ImportAssetsFromS3":{"changed":true}}`)
		change.Errors = json.RawMessage(`[]`)
		change.BytesDone, change.BytesTotal = 5, 10
		change.LeaseID, change.LeaseExpiresAt, change.StartedAt = "l", &expires, &expires
		change.Attempts, change.Dispatch, change.UpdatedAt = 2, 9, e.now()
		// Not written:
		change.Type, change.AssetConfiguration, change.CreatedAt = resource.JobTypeExportAssetsToS3, nil, e.now()
		e.must(e.s.UpdateJob(e.ctx, change))
		want := change
		want.Type, want.AssetConfiguration, want.CreatedAt = j.Type, j.AssetConfiguration, j.CreatedAt
		got, err := e.s.GetJob(e.ctx, j.AccountID, j.ID)
		wantEqual(t, "after UpdateJob", got, want, err)

		// Back to unset: the lease and the errors go.
		back := want
		back.Errors, back.LeaseID, back.LeaseExpiresAt, back.StartedAt = nil, "", nil, nil
		e.must(e.s.UpdateJob(e.ctx, back))
		got, err = e.s.GetJob(e.ctx, j.AccountID, j.ID)
		wantEqual(t, "after clearing the lease", got, back, err)

		foreign := back
		foreign.AccountID, foreign.State = newAccountID(), resource.JobStateCancelled
		wantErr(t, "UpdateJob from another account", e.s.UpdateJob(e.ctx, foreign), store.ErrNotFound)
		got, err = e.s.GetJob(e.ctx, j.AccountID, j.ID)
		wantEqual(t, "after the refused update", got, back, err)
	}},
	{"ListNewestFirstFilteredEachOnce", func(t *testing.T, e *env) {
		account, other := newAccountID(), newAccountID()
		dataSets := []string{resource.NewID(), resource.NewID()}
		revisions := []string{resource.NewID(), resource.NewID(), resource.NewID()}
		base := e.now()
		var all []resource.Job
		for i := range 23 {
			at := func(j *resource.Job) {
				j.CreatedAt = base.Add(time.Duration(i%4) * time.Second)
				j.DataSetID, j.RevisionID = dataSets[i%2], revisions[i%3]
				j.State = []string{resource.JobStateWaiting, resource.JobStateCompleted, resource.JobStateError}[i%3]
				if i%4 == 1 {
					j.Type = resource.JobTypeExportAssetsToS3
				}
			}
			all = append(all, e.job(account, at))
			if i%5 == 0 {
				e.job(other, at)
			}
		}
		order := newestFirst(jobCreated, jobID)
		slices.SortFunc(all, order)
		keep := func(f func(resource.Job) bool) []resource.Job {
			var out []resource.Job
			for _, j := range all {
				if f(j) {
					out = append(out, j)
				}
			}
			return out
		}
		for _, c := range []struct {
			name   string
			filter store.JobFilter
			want   []resource.Job
		}{
			{"all", store.JobFilter{}, all},
			{"data set", store.JobFilter{DataSetID: dataSets[1]}, keep(func(j resource.Job) bool { return j.DataSetID == dataSets[1] })},
			{"revision", store.JobFilter{RevisionID: revisions[2]}, keep(func(j resource.Job) bool { return j.RevisionID == revisions[2] })},
			{"both", store.JobFilter{DataSetID: dataSets[0], RevisionID: revisions[0]},
				keep(func(j resource.Job) bool { return j.DataSetID == dataSets[0] && j.RevisionID == revisions[0] })},
			{"state", store.JobFilter{State: resource.JobStateCompleted},
				keep(func(j resource.Job) bool { return j.State == resource.JobStateCompleted })},
			{"type", store.JobFilter{Type: resource.JobTypeExportAssetsToS3},
				keep(func(j resource.Job) bool { return j.Type == resource.JobTypeExportAssetsToS3 })},
			{"data set, state and type", store.JobFilter{DataSetID: dataSets[1], State: resource.JobStateError, Type: resource.JobTypeImportAssetsFromS3},
				keep(func(j resource.Job) bool {
					return j.DataSetID == dataSets[1] && j.State == resource.JobStateError && j.Type == resource.JobTypeImportAssetsFromS3
				})},
			{"created after", store.JobFilter{CreatedAfter: base.Add(time.Second)},
				keep(func(j resource.Job) bool { return j.CreatedAt.After(base.Add(time.Second)) })},
		} {
			for _, limit := range pageLimits {
				got := readAll(t, limit, func(p store.PageRequest) (store.Page[resource.Job], error) {
					return e.s.ListJobs(e.ctx, account, c.filter, p)
				})
				wantIDs(t, "ListJobs "+c.name, got, c.want, jobID)
				if limit == 1000 {
					wantEqual(t, "listed jobs", got, c.want, nil)
				}
			}
		}
		if _, err := e.s.ListJobs(e.ctx, account, store.JobFilter{}, store.PageRequest{}); err == nil {
			t.Error("ListJobs with limit 0: no error")
		}
	}},
	{"CountLeasedJobs", func(t *testing.T, e *env) {
		now := e.now()
		for _, edit := range []func(*resource.Job){
			leased(now.Add(time.Hour)),
			leased(now.Add(-time.Hour)), // expired, still held until reaped
			func(j *resource.Job) { j.State = resource.JobStateInProgress },
			func(j *resource.Job) {
				leased(now.Add(time.Hour))(j)
				j.Type = resource.JobTypeExportAssetsToS3
			},
		} {
			e.job(newAccountID(), edit)
		}
		e.job(newAccountID())
		for jobType, want := range map[string]int{
			resource.JobTypeImportAssetsFromS3:  2,
			resource.JobTypeExportAssetsToS3:    1,
			resource.JobTypeExportRevisionsToS3: 0,
		} {
			n, err := e.s.CountLeasedJobs(e.ctx, jobType)
			wantEqual(t, "CountLeasedJobs "+jobType, n, want, err)
			e.must(e.s.InTx(e.ctx, func(q store.Queries) error {
				n, err := q.CountLeasedJobs(e.ctx, jobType)
				wantEqual(t, "CountLeasedJobs in a transaction "+jobType, n, want, err)
				return nil
			}))
		}
	}},
	{"ListExpiredJobLeases", func(t *testing.T, e *env) {
		now := e.now()
		var want []resource.Job
		for i := range 5 {
			want = append(want, e.job(newAccountID(), leased(now.Add(-time.Duration(5-i)*time.Second))))
		}
		want = append(want, e.job(newAccountID(), leased(now))) // expiring exactly now counts
		e.job(newAccountID(), leased(now.Add(time.Millisecond)))
		e.job(newAccountID(), func(j *resource.Job) { // finished, lease left behind
			leased(now.Add(-time.Hour))(j)
			j.State = resource.JobStateCompleted
		})
		e.job(newAccountID(), func(j *resource.Job) { j.State = resource.JobStateInProgress })
		got, err := e.s.ListExpiredJobLeases(e.ctx, now, 100)
		wantEqual(t, "ListExpiredJobLeases", got, want, err)
		got, err = e.s.ListExpiredJobLeases(e.ctx, now, 2)
		wantEqual(t, "ListExpiredJobLeases limit 2", got, want[:2], err)
	}},
	{"DeleteJobsCreatedBefore", func(t *testing.T, e *env) {
		var old []resource.Job
		for _, state := range []string{resource.JobStateWaiting, resource.JobStateCompleted,
			resource.JobStateError, resource.JobStateCancelled, resource.JobStateTimedOut} {
			old = append(old, e.job(newAccountID(), func(j *resource.Job) { j.State = state }))
		}
		running := e.job(newAccountID(), leased(e.clock.Add(time.Hour)))
		cutoff := e.now()
		kept := []resource.Job{
			running,
			e.job(newAccountID(), func(j *resource.Job) { j.CreatedAt = cutoff }),
			e.job(newAccountID()),
		}

		got, err := e.s.DeleteJobsCreatedBefore(e.ctx, cutoff, 2)
		wantEqual(t, "first batch (oldest first)", got, old[:2], err)
		got, err = e.s.DeleteJobsCreatedBefore(e.ctx, cutoff, 100)
		wantEqual(t, "second batch", got, old[2:], err)
		for _, j := range old {
			_, err := e.s.GetJob(e.ctx, j.AccountID, j.ID)
			wantErr(t, "GetJob of a deleted job", err, store.ErrNotFound)
		}
		for _, j := range kept {
			got, err := e.s.GetJob(e.ctx, j.AccountID, j.ID)
			wantEqual(t, "a job kept", got, j, err)
		}
		if got, err := e.s.DeleteJobsCreatedBefore(e.ctx, cutoff, 100); err != nil || len(got) != 0 {
			t.Errorf("third batch: %d jobs, %v; want none", len(got), err)
		}
	}},
	{"CountJobsByTypeAndState", func(t *testing.T, e *env) {
		for range 3 {
			e.job(newAccountID())
		}
		e.job(newAccountID(), func(j *resource.Job) { j.State = resource.JobStateCompleted })
		e.job(newAccountID(), func(j *resource.Job) { j.Type = resource.JobTypeExportAssetsToS3 })
		got, err := e.s.CountJobsByTypeAndState(e.ctx)
		wantEqual(t, "CountJobsByTypeAndState", got, []store.JobCount{
			{Type: resource.JobTypeExportAssetsToS3, State: resource.JobStateWaiting, Count: 1},
			{Type: resource.JobTypeImportAssetsFromS3, State: resource.JobStateCompleted, Count: 1},
			{Type: resource.JobTypeImportAssetsFromS3, State: resource.JobStateWaiting, Count: 3},
		}, err)
	}},
}

var jobConcurrencyTests = []test{
	{"CountThenLeaseHoldsTheLimit", func(t *testing.T, e *env) {
		// The engine's lease taking: count the type's leases, lease one
		// more if there is room. Across concurrent transactions (replicas),
		// no more than the limit may end up leased.
		const limit = 5
		jobs := make([]resource.Job, writers)
		for i := range jobs {
			jobs[i] = e.job(newAccountID(), func(j *resource.Job) { j.State = resource.JobStateInProgress })
		}
		concurrently(t, func(i int) error {
			return e.s.InTx(e.ctx, func(q store.Queries) error {
				n, err := q.CountLeasedJobs(e.ctx, resource.JobTypeImportAssetsFromS3)
				if err != nil || n >= limit {
					return err
				}
				j, err := q.GetJob(e.ctx, jobs[i].AccountID, jobs[i].ID)
				if err != nil {
					return err
				}
				expires := time.Now().Add(time.Minute)
				j.LeaseID, j.LeaseExpiresAt = resource.NewID(), &expires
				return q.UpdateJob(e.ctx, j)
			})
		})
		if n, err := e.s.CountLeasedJobs(e.ctx, resource.JobTypeImportAssetsFromS3); err != nil || n != limit {
			t.Errorf("CountLeasedJobs = %d, %v; want exactly %d", n, err, limit)
		}
	}},
}
