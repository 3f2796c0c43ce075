package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"github.com/riverqueue/river"

	"github.com/wharf-dev/wharf/internal/crashpoint"
	"github.com/wharf-dev/wharf/internal/resource"
	"github.com/wharf-dev/wharf/internal/store"
)

// runArgs is a queue entry: one run of a job. Dispatch is the job's dispatch
// number when the entry was queued; an entry whose number is no longer the
// job's is stale (its run was abandoned and the job queued again).
type runArgs struct {
	AccountID string `json:"account_id"`
	JobID     string `json:"job_id"`
	Type      string `json:"type"`
	Dispatch  int64  `json:"dispatch"`
}

// Kind names Wharf's queue entries among River's.
func (runArgs) Kind() string { return "wharf_job_run" }

func argsOf(j resource.Job) runArgs {
	return runArgs{AccountID: j.AccountID, JobID: j.ID, Type: j.Type, Dispatch: j.Dispatch}
}

// Why a run stops early (the causes of its contexts).
var (
	errLeaseLost = errors.New("jobs: the run lost the job's lease")
	errJobGone   = errors.New("jobs: the job was deleted")
	errTimedOut  = errors.New("jobs: the job ran past its time limit")
)

// verdict is what a queue entry is to do with its job.
type verdict int

const (
	skip    verdict = iota // nothing: the entry is stale or the job finished
	wait                   // later: the type is at its limit, or the job is leased
	run                    // run the job
	timeOut                // end it TIMED_OUT: its time is up
	giveUp                 // end it in ERROR: too many runs were abandoned
)

// reapBatch and sweepBatch bound the jobs one reap or sweep query returns.
const (
	reapBatch  = 100
	sweepBatch = 500
)

// handOverTimeout bounds the write that hands a job over at shutdown.
const handOverTimeout = 5 * time.Second

// commitTimeout bounds the transaction that records a job's outcome. It
// runs even while the replica shuts down: a finished run's work isn't
// thrown away for want of a few milliseconds.
const commitTimeout = 30 * time.Second

// detached returns a context for recording an outcome: not cancelled with
// ctx, bounded by commitTimeout.
func detached(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), commitTimeout)
}

// work runs one queue entry. It returns nil once the entry has done what it
// can (the job's outcome is in the jobs table, not in River), a snooze to be
// tried again, or an error for River to retry (the database failed before
// the entry could take the job).
func (s *Service) work(ctx context.Context, args runArgs, lastTry bool) error {
	runner, ok := s.runners[args.Type]
	if !ok {
		return fmt.Errorf("jobs: this replica has no runner for %s jobs", args.Type)
	}
	// River has the entry running, attempted by this replica; the job has
	// no lease yet. A replica that dies here leaves the entry to
	// reapOrphans.
	crashpoint.Reached("jobs.work.before-claim")
	l, job, v, err := s.claim(ctx, args)
	if err != nil {
		if lastTry {
			s.failUnclaimed(ctx, args, err)
		}
		return err
	}
	switch v {
	case skip:
		return nil
	case wait:
		d := jitter(s.snoozeDelay())
		s.queue.wakeLater(args.Type, d+snoozeSlack)
		// Dying before River records the snooze leaves the entry running
		// and the job unleased: reapOrphans' case again.
		crashpoint.Reached("jobs.work.snoozed")
		return river.JobSnooze(d)
	}
	// The lease is taken, the run not started: a replica that dies here
	// leaves a lease to expire and the reaper.
	crashpoint.Reached("jobs.work.claimed")

	leaseCtx, lose := context.WithCancelCause(ctx)
	keeperDone := make(chan struct{})
	go func() {
		defer close(keeperDone)
		l.keep(leaseCtx, lose)
	}()
	defer func() {
		lose(nil)
		<-keeperDone
	}()

	switch v {
	case timeOut:
		s.end(ctx, leaseCtx, l, job, resource.JobStateTimedOut, nil)
	case giveUp:
		s.end(ctx, leaseCtx, l, job, resource.JobStateError, []JobError{{Code: CodeInternalServer,
			Message: fmt.Sprintf("the job was interrupted %d times without finishing", job.Attempts)}})
	case run:
		s.runOnce(ctx, leaseCtx, l, runner, job)
	}
	// The job's outcome is committed (or handed over), River's entry not
	// completed yet: a replica that dies here leaves the entry running
	// with a job that is no longer IN_PROGRESS (or whose lease the reaper
	// takes), which reapOrphans leaves alone and which, should River's
	// rescuer ever run it again, finds itself stale.
	crashpoint.Reached("jobs.work.done")
	return nil
}

// claim takes the job of a queue entry, with a new lease, if the entry is to
// do something with it.
func (s *Service) claim(ctx context.Context, args runArgs) (*lease, resource.Job, verdict, error) {
	var (
		l   *lease
		job resource.Job
		v   = skip
	)
	// A type at its limit: wait without the type's lock. Every claim of a
	// type, on every replica, takes that lock (CountLeasedJobs in a
	// transaction) and holds it to its commit, so with more workers than
	// slots (several replicas) the entries that could only wait queued for
	// it ahead of those that could run. This count, unlocked, may be stale:
	// a slot freed meanwhile costs this entry one more snooze, and the count
	// under the lock below still decides who runs. (An entry whose job was
	// cancelled, or is past its time limit, is dropped or timed out once the
	// count is under the limit, rather than at once.)
	if n, err := s.store.CountLeasedJobs(ctx, args.Type); err == nil && n >= s.cfg.Concurrency[args.Type] {
		return nil, resource.Job{}, wait, nil
	}
	err := s.store.InTx(ctx, func(q store.Queries) error {
		j, err := q.GetJob(ctx, args.AccountID, args.JobID)
		if errors.Is(err, store.ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		if j.State != resource.JobStateInProgress || j.Dispatch != args.Dispatch {
			return nil
		}
		if j.LeaseID != "" {
			// A live run holds it, or a dead one whose lease the reaper
			// will take.
			v = wait
			return nil
		}
		now := resource.Now()
		switch {
		case j.StartedAt != nil && !now.Before(j.StartedAt.Add(s.cfg.JobTimeout)):
			v = timeOut
		case j.Attempts >= s.cfg.MaxAttempts:
			v = giveUp
		default:
			leased, err := q.CountLeasedJobs(ctx, j.Type)
			if err != nil {
				return err
			}
			if leased >= s.cfg.Concurrency[j.Type] {
				v = wait
				return nil
			}
			v = run
			if j.StartedAt == nil {
				j.StartedAt = &now
			}
			j.Attempts++
			j.BytesDone, j.BytesTotal = 0, 0
		}
		l = s.newLease(j)
		expires := now.Add(s.cfg.LeaseDuration)
		j.LeaseID, j.LeaseExpiresAt = l.id, &expires
		job = j
		return q.UpdateJob(ctx, j)
	})
	if err != nil {
		return nil, resource.Job{}, skip, fmt.Errorf("jobs: claim job %s: %w", args.JobID, err)
	}
	return l, job, v, nil
}

// runOnce runs the job under lease l and records how the run ended.
func (s *Service) runOnce(ctx, leaseCtx context.Context, l *lease, runner Runner, job resource.Job) {
	runCtx, cancelRun := context.WithDeadlineCause(leaseCtx, job.StartedAt.Add(s.cfg.JobTimeout), errTimedOut)
	defer cancelRun()
	s.metrics.runs.WithLabelValues(job.Type).Inc()
	defer s.metrics.runs.WithLabelValues(job.Type).Dec()
	s.running.Add(1)
	defer s.running.Add(-1)

	res, runErr := safeRun(runCtx, runner, job, l.progress)

	lost := context.Cause(leaseCtx)
	switch {
	case errors.Is(lost, errJobGone):
		// Retention deleted it: nobody else will clean up after it.
		s.cleanup(ctx, job)
	case errors.Is(lost, errLeaseLost):
		// The reaper took the job over: it cleans up and queues it again.
		s.log.Warn("jobs: a run lost its lease and stopped", "job", job.ID, "type", job.Type)
	case runErr == nil && len(res.Errors) == 0:
		s.completeRun(ctx, leaseCtx, l, job, res)
	case runErr == nil:
		s.end(ctx, leaseCtx, l, job, resource.JobStateError, res.Errors)
	case errors.Is(context.Cause(runCtx), errTimedOut):
		s.end(ctx, leaseCtx, l, job, resource.JobStateTimedOut, nil)
	case ctx.Err() != nil:
		// Shutting down: another replica (or this one, restarted) resumes it.
		s.handOver(l)
	default:
		je := ErrorFromFault(runErr)
		if je.Code == CodeInternalServer {
			s.log.Error("jobs: a run failed", "job", job.ID, "type", job.Type, "error", runErr)
		}
		s.end(ctx, leaseCtx, l, job, resource.JobStateError, []JobError{je})
	}
}

// safeRun runs the runner, turning a panic into an error.
func safeRun(ctx context.Context, runner Runner, job resource.Job, progress Progress) (res Result, err error) {
	defer func() {
		if v := recover(); v != nil {
			err = fmt.Errorf("jobs: the %s runner panicked: %v\n%s", job.Type, v, debug.Stack())
		}
	}()
	return runner.Run(ctx, job, progress)
}

// end cleans up after the job and then records its final state (in that
// order: a crash in between leaves the job to the reaper, which cleans up
// again, rather than leftovers that nobody would clean).
func (s *Service) end(ctx, leaseCtx context.Context, l *lease, job resource.Job, state string, jobErrors []JobError) {
	s.cleanup(leaseCtx, job)
	switch {
	case ctx.Err() != nil:
		s.handOver(l)
		return
	case errors.Is(context.Cause(leaseCtx), errJobGone):
		s.cleanup(ctx, job) // again: the first may have been cut short
		return
	case leaseCtx.Err() != nil:
		return
	}
	commitCtx, cancel := detached(ctx)
	defer cancel()
	err := s.finish(commitCtx, l, state, jobErrors)
	if err != nil && !errors.Is(err, errLeaseLost) && !errors.Is(err, errJobGone) {
		s.log.Error("jobs: record the end of a job", "job", job.ID, "state", state, "error", err)
		s.handOver(l)
	}
}

// finish records that the job ended in state (ERROR, TIMED_OUT), freeing
// its lease.
func (s *Service) finish(ctx context.Context, l *lease, state string, jobErrors []JobError) error {
	var errs json.RawMessage
	if len(jobErrors) > 0 {
		var err error
		if errs, err = json.Marshal(jobErrors); err != nil {
			return err
		}
	}
	var finished resource.Job
	err := s.store.InTx(ctx, func(q store.Queries) error {
		j, err := l.hold(ctx, q)
		if err != nil {
			return err
		}
		j.State, j.Errors = state, errs
		l.release(&j)
		finished = j
		if err := q.UpdateJob(ctx, j); err != nil {
			return err
		}
		return s.queue.finishTx(ctx, q)
	})
	if err == nil {
		l.countBytes(finished.BytesDone)
		s.metrics.finished(finished)
	}
	return err
}

// completeRun commits a successful run, or ends the job in ERROR if the
// commit is refused (the revision was finalized meanwhile, the quota).
func (s *Service) completeRun(ctx, leaseCtx context.Context, l *lease, job resource.Job, res Result) {
	commitCtx, cancel := detached(ctx)
	defer cancel()
	refusal, err := s.complete(commitCtx, l, job, res)
	switch {
	case refusal != nil:
		s.end(ctx, leaseCtx, l, job, resource.JobStateError, []JobError{*refusal})
	case errors.Is(err, errJobGone):
		s.cleanup(ctx, job)
	case errors.Is(err, errLeaseLost):
		s.log.Warn("jobs: a run lost its lease before committing", "job", job.ID, "type", job.Type)
	case err != nil:
		// Nothing was committed; the next run does it all again.
		s.log.Error("jobs: commit a job's result", "job", job.ID, "type", job.Type, "error", err)
		s.handOver(l)
	}
}

// errRefused rolls back a commit that a JobError refuses.
var errRefused = errors.New("jobs: commit refused")

// complete writes the run's assets, their tags and the COMPLETED state in
// one transaction, if l still holds the job. A refusal is returned as the
// JobError to end the job with.
func (s *Service) complete(ctx context.Context, l *lease, job resource.Job, res Result) (*JobError, error) {
	tags, err := AssetTags(job)
	if err != nil {
		s.log.Error("jobs: a stored asset configuration is invalid", "job", job.ID, "error", err)
		return &JobError{Code: CodeInternalServer, Message: internalJobErrorMessage}, nil
	}
	if len(res.Details) > 0 && !json.Valid(res.Details) {
		s.log.Error("jobs: a runner returned invalid details", "job", job.ID, "type", job.Type)
		return &JobError{Code: CodeInternalServer, Message: internalJobErrorMessage}, nil
	}
	var (
		refusal  *JobError
		finished resource.Job
	)
	err = s.store.InTx(ctx, func(q store.Queries) error {
		j, err := l.hold(ctx, q)
		if err != nil {
			return err
		}
		if len(res.Assets) > 0 {
			if refusal, err = s.addAssets(ctx, q, j, res.Assets, tags, res.RevisionQuota); err != nil {
				return err
			}
			if refusal != nil {
				return errRefused
			}
		}
		if len(res.Details) > 0 {
			j.Details = res.Details
		}
		j.State, j.Errors = resource.JobStateCompleted, nil
		l.release(&j)
		finished = j
		if err := q.UpdateJob(ctx, j); err != nil {
			return err
		}
		return s.queue.finishTx(ctx, q)
	})
	if refusal != nil {
		return refusal, nil
	}
	if err != nil {
		return nil, err
	}
	l.countBytes(finished.BytesDone)
	s.metrics.finished(finished)
	return nil, nil
}

// addAssets inserts a run's assets into the job's revision, after checking
// that the revision still takes them.
func (s *Service) addAssets(ctx context.Context, q store.Queries, j resource.Job, assets []resource.Asset, tags map[string]string, quota *Quota) (*JobError, error) {
	// Data set first, then revision: the order exchange locks them in.
	if _, err := q.GetDataSet(ctx, j.AccountID, j.DataSetID); errors.Is(err, store.ErrNotFound) {
		return &JobError{Code: CodeResourceNotFound, ResourceType: string(resource.KindDataSet), ResourceID: j.DataSetID,
			Message: fmt.Sprintf("data set %s was deleted while the job ran", j.DataSetID)}, nil
	} else if err != nil {
		return nil, err
	}
	rev, err := q.GetRevision(ctx, j.AccountID, j.DataSetID, j.RevisionID)
	if errors.Is(err, store.ErrNotFound) {
		return &JobError{Code: CodeResourceNotFound, ResourceType: string(resource.KindRevision), ResourceID: j.RevisionID,
			Message: fmt.Sprintf("revision %s was deleted while the job ran", j.RevisionID)}, nil
	} else if err != nil {
		return nil, err
	}
	if rev.Revoked || rev.Finalized {
		what := "finalized"
		if rev.Revoked {
			what = "revoked"
		}
		return &JobError{Code: CodeValidation, ResourceType: string(resource.KindRevision), ResourceID: rev.ID,
			Message: fmt.Sprintf("revision %s was %s while the job ran: it takes no new assets", rev.ID, what)}, nil
	}
	n, err := q.CountAssets(ctx, j.AccountID, j.DataSetID, j.RevisionID)
	if err != nil {
		return nil, err
	}
	limit := Quota{Name: LimitAssetsPerRevision, Value: s.cfg.AssetsPerRevision}
	if quota != nil && quota.Value < limit.Value {
		limit = *quota
	}
	if n+len(assets) > limit.Value {
		return &JobError{Code: CodeServiceQuotaExceeded, ResourceType: string(resource.KindRevision), ResourceID: rev.ID,
			LimitName: limit.Name, LimitValue: float64(limit.Value),
			Message: fmt.Sprintf("revision %s has %d assets: %d more would exceed the limit %q (%d)",
				rev.ID, n, len(assets), limit.Name, limit.Value)}, nil
	}
	now := resource.Now()
	for i, a := range assets {
		if !resource.ValidID(a.ID) || a.Name == "" || a.AssetType == "" || !json.Valid(a.Details) {
			s.log.Error("jobs: a runner returned an invalid asset", "job", j.ID, "type", j.Type, "index", i)
			return &JobError{Code: CodeInternalServer, Message: internalJobErrorMessage}, nil
		}
		a.AccountID, a.DataSetID, a.RevisionID = j.AccountID, j.DataSetID, j.RevisionID
		a.CreatedAt, a.UpdatedAt = now, now
		if err := q.InsertAsset(ctx, a); err != nil {
			return nil, fmt.Errorf("insert asset %d (%s): %w", i, a.ID, err)
		}
		if len(tags) > 0 {
			if err := q.SetTags(ctx, a.ID, tags); err != nil {
				return nil, err
			}
		}
	}
	return nil, nil
}

// handOver expires l at once, so that the reaper queues the job again at its
// next pass instead of a lease duration later. The abandoned run doesn't
// count towards the job's attempts: it was stopped, not crashed.
func (s *Service) handOver(l *lease) {
	ctx, cancel := context.WithTimeout(context.Background(), handOverTimeout)
	defer cancel()
	err := s.store.InTx(ctx, func(q store.Queries) error {
		j, err := l.hold(ctx, q)
		if err != nil {
			return err
		}
		// Expired by the margin already: the run has stopped.
		expired := resource.Now().Add(-s.leaseMargin())
		j.LeaseExpiresAt = &expired
		j.Attempts = max(j.Attempts-1, 0)
		return q.UpdateJob(ctx, j)
	})
	if err != nil && !errors.Is(err, errLeaseLost) && !errors.Is(err, errJobGone) {
		s.log.Warn("jobs: hand a job over (its lease will expire instead)", "job", l.jobID, "error", err)
	}
}

// failUnclaimed ends a job in ERROR when River gives up on its queue entry
// (the database kept failing), so that it doesn't stay IN_PROGRESS forever.
func (s *Service) failUnclaimed(ctx context.Context, args runArgs, cause error) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), handOverTimeout)
	defer cancel()
	errs, _ := json.Marshal([]JobError{{Code: CodeInternalServer, Message: internalJobErrorMessage}})
	err := s.store.InTx(ctx, func(q store.Queries) error {
		j, err := q.GetJob(ctx, args.AccountID, args.JobID)
		if err != nil || j.State != resource.JobStateInProgress || j.Dispatch != args.Dispatch || j.LeaseID != "" {
			return err
		}
		j.State, j.Errors, j.UpdatedAt = resource.JobStateError, errs, updateTime(j.UpdatedAt)
		return q.UpdateJob(ctx, j)
	})
	s.log.Error("jobs: gave up on a job the database kept failing", "job", args.JobID, "cause", cause, "error", err)
}

// Reap takes over the jobs whose lease expired (their run died, or lost the
// database for longer than a lease), cleans up after each and queues it
// again. It returns how many it queued again.
func (s *Service) Reap(ctx context.Context) (int, error) {
	// A lease is taken over only a margin after it expired, and its run
	// stops itself a margin before (lease.keep): the run has stopped before
	// anyone else can start the job, even with the replicas' clocks apart.
	expired, err := s.store.ListExpiredJobLeases(ctx, time.Now().Add(-s.leaseMargin()), reapBatch)
	if err != nil {
		return 0, fmt.Errorf("jobs: list expired leases: %w", err)
	}
	n, _, err := s.reapOrphans(ctx)
	if err != nil {
		if ctx.Err() != nil {
			return n, err
		}
		s.log.Error("jobs: look for runs that died before taking their lease", "error", err)
	}
	for _, j := range expired {
		requeued, err := s.reap(ctx, j)
		if err != nil {
			if ctx.Err() != nil {
				return n, err
			}
			s.log.Error("jobs: reap a job", "job", j.ID, "error", err)
		}
		if requeued {
			n++
		}
	}
	return n, nil
}

// reap takes over one job whose lease expired, unless someone else did.
func (s *Service) reap(ctx context.Context, expired resource.Job) (bool, error) {
	// Take the expired lease over first, so that only this replica cleans
	// up and no run starts meanwhile.
	var (
		l   *lease
		job resource.Job
	)
	err := s.store.InTx(ctx, func(q store.Queries) error {
		j, err := q.GetJob(ctx, expired.AccountID, expired.ID)
		if errors.Is(err, store.ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		now := resource.Now()
		if j.State != resource.JobStateInProgress || j.LeaseID != expired.LeaseID ||
			j.LeaseExpiresAt == nil || j.LeaseExpiresAt.After(now.Add(-s.leaseMargin())) {
			return nil
		}
		l = s.newLease(j)
		expires := now.Add(s.cfg.LeaseDuration)
		j.LeaseID, j.LeaseExpiresAt = l.id, &expires
		job = j
		return q.UpdateJob(ctx, j)
	})
	if err != nil || l == nil {
		return false, err
	}
	s.log.Info("jobs: a job's lease expired; cleaning up and queueing it again", "job", job.ID, "type", job.Type, "attempts", job.Attempts)
	// The reaper holds the job's lease, the job isn't queued again yet: a
	// replica that dies here leaves this lease to expire and another
	// reaper, which cleans up and queues the job.
	crashpoint.Reached("jobs.reap.taken")

	leaseCtx, lose := context.WithCancelCause(ctx)
	keeperDone := make(chan struct{})
	go func() {
		defer close(keeperDone)
		l.keep(leaseCtx, lose)
	}()
	defer func() {
		lose(nil)
		<-keeperDone
	}()

	if _, ok := s.runners[job.Type]; !ok {
		s.log.Warn("jobs: this replica has no runner to clean up after the job", "job", job.ID, "type", job.Type)
	}
	s.cleanup(leaseCtx, job)
	err = s.inTx(leaseCtx, "queue the job again", func(q store.Queries) error {
		j, err := l.hold(leaseCtx, q)
		if err != nil {
			return err
		}
		j.LeaseID, j.LeaseExpiresAt = "", nil
		j.Dispatch++
		if err := q.UpdateJob(leaseCtx, j); err != nil {
			return err
		}
		return s.queue.enqueue(leaseCtx, q, argsOf(j))
	})
	if errors.Is(err, errJobGone) || errors.Is(err, errLeaseLost) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	s.metrics.reaped.WithLabelValues(job.Type).Inc()
	return true, nil
}

// reapOrphans queues again the jobs whose queue entry River handed to a
// replica that died before the run took the job's lease: River still has
// the entry running (its rescuer would free it only after the job timeout),
// and the job is IN_PROGRESS with no lease. An entry is an orphan once it
// has been running for a lease duration without its job being leased: a
// live replica takes the lease within milliseconds of the fetch. Queueing
// the job again makes the old entry stale (the dispatch number moves on).
//
// An entry found stale (its job ended, was deleted, or was queued again
// since) stays stale, since a job's dispatch number only grows: the dead
// replica's entry stays running in River until its rescuer, hours later, so
// the reaper remembers it (s.stale) instead of reading its job again at
// every pass on every replica.
func (s *Service) reapOrphans(ctx context.Context) (requeued, checked int, err error) {
	entries, err := s.queue.running(ctx, time.Now().Add(-s.cfg.LeaseDuration))
	if err != nil {
		return 0, 0, err
	}
	s.stale.keepOnly(entries)
	for _, entry := range entries {
		if s.stale.has(entry.ID) {
			continue
		}
		checked++
		args := entry.Args
		again, stale := false, false
		err := s.inTx(ctx, "queue an orphaned job again", func(q store.Queries) error {
			again, stale = false, false
			j, err := q.GetJob(ctx, args.AccountID, args.JobID)
			if errors.Is(err, store.ErrNotFound) {
				stale = true
				return nil
			}
			if err != nil {
				return err
			}
			if j.State != resource.JobStateInProgress || j.Dispatch != args.Dispatch {
				stale = true
				return nil
			}
			if j.LeaseID != "" {
				return nil // a live run's entry
			}
			j.Dispatch++
			j.UpdatedAt = updateTime(j.UpdatedAt)
			if err := q.UpdateJob(ctx, j); err != nil {
				return err
			}
			again = true
			return s.queue.enqueue(ctx, q, argsOf(j))
		})
		if err != nil {
			return requeued, checked, err
		}
		if again || stale {
			s.stale.add(entry.ID)
		}
		if again {
			s.log.Info("jobs: a replica died between taking a job's queue entry and its lease; queued it again", "job", args.JobID, "type", args.Type)
			s.metrics.reaped.WithLabelValues(args.Type).Inc()
			requeued++
		}
	}
	return requeued, checked, nil
}

// staleEntries are the ids of River queue entries that can never run their
// job again, as the reaper found them.
type staleEntries struct {
	mu  sync.Mutex
	ids map[int64]struct{}
}

func (st *staleEntries) has(id int64) bool {
	st.mu.Lock()
	defer st.mu.Unlock()
	_, ok := st.ids[id]
	return ok
}

func (st *staleEntries) add(id int64) {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.ids == nil {
		st.ids = map[int64]struct{}{}
	}
	st.ids[id] = struct{}{}
}

// keepOnly forgets the entries that are no longer running (River's rescuer
// or cleaner has dealt with them).
func (st *staleEntries) keepOnly(entries []queueEntry) {
	st.mu.Lock()
	defer st.mu.Unlock()
	if len(st.ids) == 0 {
		return
	}
	listed := make(map[int64]bool, len(entries))
	for _, e := range entries {
		listed[e.ID] = true
	}
	for id := range st.ids {
		if !listed[id] {
			delete(st.ids, id)
		}
	}
}

// leaseMargin separates a lease's run from its takeover: the run stops a
// margin before the lease expires unless renewed, the reaper takes it a
// margin after.
func (s *Service) leaseMargin() time.Duration {
	return min(s.cfg.HeartbeatInterval, (s.cfg.LeaseDuration-s.cfg.HeartbeatInterval)/4)
}

// Sweep deletes the jobs past their retention (but not a job still
// running: it goes once it ends), cleaning up after those still WAITING. It
// returns how many it deleted.
func (s *Service) Sweep(ctx context.Context) (int, error) {
	cutoff := s.retentionCutoff()
	total := 0
	for {
		deleted, err := s.store.DeleteJobsCreatedBefore(ctx, cutoff, sweepBatch)
		if err != nil {
			return total, fmt.Errorf("jobs: delete expired jobs: %w", err)
		}
		for _, j := range deleted {
			if j.State == resource.JobStateWaiting {
				s.cleanup(ctx, j)
			}
		}
		total += len(deleted)
		if len(deleted) < sweepBatch {
			return total, nil
		}
	}
}

// cleanup runs the runner's Cleanup, logging and counting a failure.
func (s *Service) cleanup(ctx context.Context, job resource.Job) {
	r, ok := s.runners[job.Type]
	if !ok {
		return
	}
	if err := r.Cleanup(ctx, job); err != nil {
		s.metrics.cleanupFailures.WithLabelValues(job.Type).Inc()
		s.log.Error("jobs: clean up after a job", "job", job.ID, "type", job.Type, "error", err)
	}
}

// snoozeDelay is how long a queue entry waits before trying a busy job
// again. It is under River's scheduler interval (5 s), so that the entry
// needs no leader to become available again, and the workers are woken for
// it then (wakeLater) rather than at their next poll.
func (s *Service) snoozeDelay() time.Duration {
	return min(2*s.cfg.PollInterval, 500*time.Millisecond)
}

// snoozeSlack is how long after a snoozed entry is due its wake-up comes:
// River writes the snooze a moment after Work returns.
const snoozeSlack = 20 * time.Millisecond

// jitter returns d give or take a quarter, so that replicas don't move in step.
func jitter(d time.Duration) time.Duration {
	if d <= 0 {
		return d
	}
	return d*3/4 + rand.N(d/2+1)
}

// lease is a run's (or the reaper's) hold on a job.
type lease struct {
	s         *Service
	accountID string
	jobID     string
	jobType   string
	id        string

	// Progress, as the runner last reported it (reported once it has);
	// dirty until written.
	done, total atomic.Int64
	reported    atomic.Bool
	dirty       atomic.Bool
	// counted is how many bytes the metrics have counted already.
	counted atomic.Int64
	// expires is when the lease ends unless renewed (the keeper's only).
	expires time.Time
}

func (s *Service) newLease(j resource.Job) *lease {
	return &lease{s: s, accountID: j.AccountID, jobID: j.ID, jobType: j.Type, id: resource.NewID(),
		expires: time.Now().Add(s.cfg.LeaseDuration)}
}

// progress is the Progress given to Run.
func (l *lease) progress(done, total int64) {
	l.done.Store(done)
	l.total.Store(total)
	l.reported.Store(true)
	l.dirty.Store(true)
}

// hold reads the job in q's transaction (locking its row) and checks that l
// still holds it.
func (l *lease) hold(ctx context.Context, q store.Queries) (resource.Job, error) {
	j, err := q.GetJob(ctx, l.accountID, l.jobID)
	if errors.Is(err, store.ErrNotFound) {
		return j, errJobGone
	}
	if err != nil {
		return j, err
	}
	if j.LeaseID != l.id || j.State != resource.JobStateInProgress {
		return j, errLeaseLost
	}
	return j, nil
}

// release frees the lease of j, a job ending now, recording its latest
// progress (whether or not the keeper wrote it: a write of the keeper's may
// be waiting behind this transaction, to find the lease gone).
func (l *lease) release(j *resource.Job) {
	j.LeaseID, j.LeaseExpiresAt = "", nil
	if l.reported.Load() {
		j.BytesDone, j.BytesTotal = l.done.Load(), l.total.Load()
	}
	j.UpdatedAt = updateTime(j.UpdatedAt)
}

// keep renews the lease every heartbeat and writes progress (at most every
// progress interval) until ctx is done. When the lease is lost, or isn't
// renewed by a margin before it expires (the database is unreachable, or
// too slow), it calls lose, which stops the run before the reaper may take
// the job over (a margin after the expiry).
func (l *lease) keep(ctx context.Context, lose context.CancelCauseFunc) {
	cfg := l.s.cfg
	tick := min(cfg.ProgressInterval, cfg.HeartbeatInterval)
	ticker := time.NewTicker(tick)
	defer ticker.Stop()
	renewed := time.Now()
	for {
		stopAt := l.expires.Add(-l.s.leaseMargin())
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Until(stopAt)):
			lose(errLeaseLost)
			return
		case <-ticker.C:
		}
		// Half a tick of slack: the tick a heartbeat after the renewing
		// one comes a write's latency less than a heartbeat after the
		// renewal, and without it the lease was renewed every other
		// heartbeat only.
		renew := time.Since(renewed) >= cfg.HeartbeatInterval-tick/2
		if !renew && !l.dirty.Load() {
			continue
		}
		writeCtx, cancel := context.WithDeadline(ctx, stopAt)
		err := l.write(writeCtx, renew)
		cancel()
		switch {
		case err == nil:
			if renew {
				renewed = time.Now()
			}
		case errors.Is(err, errLeaseLost), errors.Is(err, errJobGone):
			lose(err)
			return
		case ctx.Err() != nil:
			return
		default:
			l.s.log.Warn("jobs: renew a lease", "job", l.jobID, "error", err)
			if !time.Now().Before(stopAt) {
				lose(errLeaseLost)
				return
			}
		}
	}
}

// write renews the lease (if renew) and writes the progress (if it changed).
func (l *lease) write(ctx context.Context, renew bool) error {
	dirty := l.dirty.Swap(false)
	done, total := l.done.Load(), l.total.Load()
	var expires time.Time
	err := l.s.store.InTx(ctx, func(q store.Queries) error {
		j, err := l.hold(ctx, q)
		if err != nil {
			return err
		}
		if renew {
			expires = resource.Now().Add(l.s.cfg.LeaseDuration)
			j.LeaseExpiresAt = &expires
		}
		if dirty {
			j.BytesDone, j.BytesTotal = done, total
		}
		return q.UpdateJob(ctx, j)
	})
	if err != nil {
		if dirty {
			l.dirty.Store(true)
		}
		return err
	}
	if renew {
		l.expires = expires
	}
	l.countBytes(done)
	return nil
}

// countBytes adds the bytes done since the last count to the metrics. A run
// that starts over counts from zero again.
func (l *lease) countBytes(done int64) {
	if prev := l.counted.Swap(done); done > prev {
		l.s.metrics.bytes.WithLabelValues(l.jobType).Add(float64(done - prev))
	}
}
