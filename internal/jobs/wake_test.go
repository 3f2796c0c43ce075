package jobs_test

import (
	"slices"
	"testing"
	"time"

	"github.com/wharf-dev/wharf/internal/jobs"
	"github.com/wharf-dev/wharf/internal/jobs/jobstest"
	"github.com/wharf-dev/wharf/internal/resource"
	"github.com/wharf-dev/wharf/internal/store"
)

// TestWorkersWakeWithoutPolling turns River's poll off (an hour) and starts
// more jobs than the type's limit, on two replicas on PostgreSQL: every job
// must still run, so the start of a job woke the workers (through River's
// notifier: in-process on SQLite, LISTEN/NOTIFY on PostgreSQL), and so did
// the end of each snooze of the jobs that waited for a slot. Nothing here is
// timed: without the wake-ups the jobs would wait for the hour-long poll and
// the test would fail on WaitEnd's deadline.
func TestWorkersWakeWithoutPolling(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		const limit, jobCount = 2, 6
		noPoll := func(cfg *jobs.Config) {
			cfg.PollInterval = time.Hour
			cfg.Concurrency = map[string]int{resource.JobTypeImportAssetsFromS3: limit}
		}
		e := newEnv(t, b, noPoll)
		e.runner.Delay = 50 * time.Millisecond
		e.start(e.svc)
		other := e.svc
		if b.name == "postgres" {
			// Jobs started through a replica that runs none: only a
			// notification can wake the first replica's workers.
			cfg := fastConfig(e.runner)
			cfg.Logger = testLogger(t)
			noPoll(&cfg)
			cfg.Runners = map[string]jobs.Runner{resource.JobTypeImportAssetsFromS3: e.runner}
			other = e.service(e.reopen(t), cfg)
		}
		var ids []string
		for range jobCount {
			v := e.create(jobstest.KeySlow)
			e.must(other.StartJob(e.ctx, account, v.ID))
			ids = append(ids, v.ID)
		}
		for _, id := range ids {
			e.waitEnd(id, resource.JobStateCompleted)
		}
	})
}

// TestOrphanedEntryIsQueuedAgain is a replica that died after River handed
// it a job's queue entry and before its run took the job's lease: River has
// the entry running (nobody will fetch it again before River's rescuer, a
// job timeout later) and the job is IN_PROGRESS without a lease. Another
// replica's reaper must queue the job again, and it must run once.
func TestOrphanedEntryIsQueuedAgain(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		e := newEnv(t, b)
		v := e.createAndStart("a", "b")
		ago := `datetime('now', '-1 minute')`
		if b.name == "postgres" {
			ago = `now() - interval '1 minute'`
		}
		e.must(e.st.InTx(e.ctx, func(q store.Queries) error {
			return execDriver(e, q, `UPDATE river_job SET state = 'running', attempt = 1, attempted_at = `+ago)
		}))
		e.start(e.svc)
		done := e.waitEnd(v.ID, resource.JobStateCompleted)
		if runs := e.runner.Runs(v.ID); runs != 1 {
			t.Errorf("%d runs, want 1", runs)
		}
		if done.Attempts != 1 || done.Dispatch != 2 {
			t.Errorf("attempts %d, dispatch %d; want 1 and 2", done.Attempts, done.Dispatch)
		}
		if got, want := assetIDs(e.assets()), expectedAssetIDs(v.ID, 2); !slices.Equal(got, want) {
			t.Errorf("assets %v, want %v", got, want)
		}

		// The dead replica's entry is still running in River (until its
		// rescuer, hours later), and stale: later passes remember it rather
		// than read its job again. A new reaper (another replica) reads it
		// once.
		if n, checked, err := e.svc.ReapOrphans(e.ctx); err != nil || n != 0 || checked != 0 {
			t.Errorf("second pass: %d queued again, %d checked, %v; want 0, 0, nil", n, checked, err)
		}
		cfg := fastConfig(e.runner)
		cfg.Logger = testLogger(t)
		other := e.service(e.st, cfg)
		if n, checked, err := other.ReapOrphans(e.ctx); err != nil || n != 0 || checked != 1 {
			t.Errorf("another replica's first pass: %d queued again, %d checked, %v; want 0, 1, nil", n, checked, err)
		}
		if n, checked, err := other.ReapOrphans(e.ctx); err != nil || n != 0 || checked != 0 {
			t.Errorf("another replica's second pass: %d queued again, %d checked, %v; want 0, 0, nil", n, checked, err)
		}
	})
}

// TestQueueEntryEndsWithTheJob: the transaction that ends a job also
// completes its River queue entry, so that no write of River's own follows
// the run (its completer would write a moment later, up to 50 ms). Read
// together in one transaction, a job that has ended never has its entry
// still running.
func TestQueueEntryEndsWithTheJob(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		e := newEnv(t, b)
		e.start(e.svc)
		for key, want := range map[string]string{"a": resource.JobStateCompleted, jobstest.KeyFail: resource.JobStateError} {
			v := e.createAndStart(key)
			for deadline := time.Now().Add(time.Minute); ; {
				var state, entry string
				e.must(e.st.InTx(e.ctx, func(q store.Queries) error {
					j, err := q.GetJob(e.ctx, account, v.ID)
					if err != nil {
						return err
					}
					state = j.State
					entry, err = queryDriverString(e, q, `SELECT state FROM river_job WHERE args->>'job_id' = '`+v.ID+`'`)
					return err
				}))
				if state != resource.JobStateInProgress {
					if state != want || entry != "completed" {
						t.Errorf("job %s %s, its queue entry %q: want %s and completed", key, state, entry, want)
					}
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("job %s still %s", key, state)
				}
				time.Sleep(time.Millisecond)
			}
		}
	})
}
