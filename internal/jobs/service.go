// Package jobs runs AWS Data Exchange jobs: the job operations' rules
// (CreateJob, StartJob, GetJob, CancelJob, ListJobs) and the durable engine
// that runs started jobs, on River (riverqueue/river) in the metadata
// database, so that StartJob's state change and its queue entry commit in
// one transaction.
//
// The work of each job type is a Runner (runner.go); the engine owns the
// rest:
//
//   - States: WAITING -> IN_PROGRESS -> COMPLETED | ERROR | TIMED_OUT, and
//     WAITING -> CANCELLED.
//   - Leases: a worker running a job holds a lease on it in the jobs table
//     and renews it while it runs. A lease that expires (its worker died, or
//     lost the database) is taken by the reaper, which runs on every
//     replica: it calls the runner's Cleanup and queues the job again, in
//     the transaction that frees the lease. Every queue entry carries the
//     job's dispatch number, so an entry left over from an abandoned run
//     finds itself stale and does nothing.
//   - Commit: a run's assets, their tags and the COMPLETED state are written
//     in one transaction, by the holder of the lease only, after locking the
//     data set and then the revision, re-checking that the revision still
//     takes assets and the "Assets per revision" quota.
//   - Limits: a time limit per job (TIMED_OUT), a concurrency limit per job
//     type across replicas (jobs beyond it stay IN_PROGRESS and wait), a
//     retention after which jobs are gone.
//
// See docs/jobs.md for the behaviour as users see it.
package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/wharf-dev/wharf/internal/exchange"
	"github.com/wharf-dev/wharf/internal/fault"
	"github.com/wharf-dev/wharf/internal/resource"
	"github.com/wharf-dev/wharf/internal/store"
)

// Defaults.
const (
	// DefaultJobTimeout is how long a job may run before it ends TIMED_OUT.
	// AWS documents no limit. Six hours moves the largest asset AWS allows
	// (100 GB) at under 5 MB/s, and a whole 100-object job of large objects
	// at typical S3 speeds, while a job stuck on an endpoint that stopped
	// answering still ends the same day.
	DefaultJobTimeout = 6 * time.Hour
	// DefaultRetention is how long jobs are kept after their creation, as
	// AWS does.
	DefaultRetention = 90 * 24 * time.Hour

	// A run renews its lease every heartbeat; a replica that dies leaves
	// leases that the others take over within LeaseDuration plus a margin
	// plus one ReapInterval (see leaseMargin), about 8 s by default. A reap
	// is one indexed query when there is nothing to reap.
	DefaultLeaseDuration     = 5 * time.Second
	DefaultHeartbeatInterval = time.Second
	DefaultReapInterval      = 2 * time.Second
	DefaultSweepInterval     = time.Hour
	DefaultProgressInterval  = time.Second
	// DefaultPollInterval is how often River looks for queue entries
	// without being told there are some: only a fallback for a lost
	// notification, since a started job (and the end of a snooze) wakes the
	// workers at once, through River's notifier (in-process on SQLite,
	// LISTEN/NOTIFY on PostgreSQL). A poll costs a write transaction per
	// queue, nine per interval.
	DefaultPollInterval = 30 * time.Second
	// DefaultMaxAttempts is how many runs of one job may begin (and be
	// abandoned) before the job ends in ERROR, so that a job that crashes
	// its worker every time can't take the service down forever.
	DefaultMaxAttempts = 5
)

// DefaultConcurrency is AWS's default quota of jobs in progress at once, per
// type: 10, and 5 for revision exports, Lake Formation tag policies and S3
// data access.
func DefaultConcurrency() map[string]int {
	return map[string]int{
		resource.JobTypeImportAssetsFromS3:                     10,
		resource.JobTypeImportAssetFromSignedURL:               10,
		resource.JobTypeExportAssetsToS3:                       10,
		resource.JobTypeExportAssetToSignedURL:                 10,
		resource.JobTypeImportAssetFromAPIGatewayAPI:           10,
		resource.JobTypeImportAssetsFromRedshiftDataShares:     10,
		resource.JobTypeExportRevisionsToS3:                    5,
		resource.JobTypeImportAssetsFromLakeFormationTagPolicy: 5,
		resource.JobTypeCreateS3DataAccessFromS3Bucket:         5,
	}
}

// Config configures a Service. Zero values mean the defaults.
type Config struct {
	// Region is the region in the jobs' ARNs.
	Region string
	// Runners maps job types to their runners. CreateJob refuses the
	// types without one.
	Runners map[string]Runner
	// JobTimeout limits how long a job runs, counted from the start of its
	// first run (time spent waiting for a concurrency slot doesn't count).
	JobTimeout time.Duration
	// Retention is how long after its creation a job is kept.
	Retention time.Duration
	// Concurrency overrides DefaultConcurrency for some types.
	Concurrency map[string]int
	// AssetsPerRevision is the "Assets per revision" quota a completing
	// job must respect.
	AssetsPerRevision int
	// Logger receives the engine's logs (River's from warnings up); nil
	// means slog.Default().
	Logger *slog.Logger
	// Metrics, when set, registers the engine's Prometheus metrics.
	Metrics prometheus.Registerer

	// Tuning, shortened by tests.
	LeaseDuration     time.Duration // how long a lease lasts unless renewed
	HeartbeatInterval time.Duration // how often a running job renews its lease
	ReapInterval      time.Duration // how often each replica looks for expired leases
	SweepInterval     time.Duration // how often each replica deletes expired jobs
	ProgressInterval  time.Duration // at most one progress write per job this often
	PollInterval      time.Duration // how often River looks for new queue entries
	MaxAttempts       int           // see DefaultMaxAttempts
}

func (c *Config) withDefaults() (Config, error) {
	out := *c
	def := func(d *time.Duration, v time.Duration) {
		if *d == 0 {
			*d = v
		}
	}
	def(&out.JobTimeout, DefaultJobTimeout)
	def(&out.Retention, DefaultRetention)
	def(&out.LeaseDuration, DefaultLeaseDuration)
	def(&out.HeartbeatInterval, DefaultHeartbeatInterval)
	def(&out.ReapInterval, DefaultReapInterval)
	def(&out.SweepInterval, DefaultSweepInterval)
	def(&out.ProgressInterval, DefaultProgressInterval)
	def(&out.PollInterval, DefaultPollInterval)
	if out.MaxAttempts == 0 {
		out.MaxAttempts = DefaultMaxAttempts
	}
	if out.AssetsPerRevision == 0 {
		out.AssetsPerRevision = DefaultAssetsPerRevision
	}
	if out.Logger == nil {
		out.Logger = slog.Default()
	}
	concurrency := DefaultConcurrency()
	for t, n := range c.Concurrency {
		if !slices.Contains(resource.JobTypes, t) {
			return out, fmt.Errorf("jobs: concurrency limit for unknown job type %q", t)
		}
		if n < 1 {
			return out, fmt.Errorf("jobs: concurrency limit of %s must be at least 1, got %d", t, n)
		}
		concurrency[t] = n
	}
	out.Concurrency = concurrency
	for t, r := range c.Runners {
		if !slices.Contains(resource.JobTypes, t) || r == nil {
			return out, fmt.Errorf("jobs: runner for unknown job type %q", t)
		}
	}
	switch {
	case out.JobTimeout < 0, out.Retention <= 0:
		return out, errors.New("jobs: the job timeout and the retention must be positive")
	case out.HeartbeatInterval >= out.LeaseDuration:
		return out, fmt.Errorf("jobs: the heartbeat interval (%s) must be shorter than the lease (%s)", out.HeartbeatInterval, out.LeaseDuration)
	}
	return out, nil
}

// Service serves the job operations and runs the engine.
type Service struct {
	cfg     Config
	store   store.Store
	runners map[string]Runner
	queue   queue
	log     *slog.Logger
	metrics *metrics

	mu      sync.Mutex
	started bool
	stop    context.CancelFunc // stops the reaper and the sweeper
	loops   sync.WaitGroup
	running atomic.Int64 // runs in progress in this process
	stale   staleEntries // queue entries the reaper found stale
}

// Running is how many job runs are in progress in this process (what a
// shutdown waits for).
func (s *Service) Running() int { return int(s.running.Load()) }

// New returns a Service on st, a *sqlite.Store or a *postgres.Store, whose
// database it also gives River's tables (migrating them). It runs no job
// until Start.
func New(ctx context.Context, st store.Store, cfg Config) (*Service, error) {
	c, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	s := &Service{cfg: c, store: st, runners: maps.Clone(c.Runners), log: c.Logger}
	if s.runners == nil {
		s.runners = map[string]Runner{}
	}
	if s.metrics, err = newMetrics(c.Metrics, st); err != nil {
		return nil, err
	}
	if s.queue, err = newQueue(ctx, st, s); err != nil {
		return nil, err
	}
	return s, nil
}

// Region is the region in the jobs' ARNs.
func (s *Service) Region() string { return s.cfg.Region }

// Start starts running jobs: River's workers, the reaper and the sweeper.
// They run until Stop, whatever happens to ctx.
func (s *Service) Start(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.started {
		return errors.New("jobs: already started")
	}
	ctx = context.WithoutCancel(ctx)
	if err := s.queue.start(ctx); err != nil {
		return fmt.Errorf("jobs: start the queue: %w", err)
	}
	loopCtx, cancel := context.WithCancel(ctx)
	s.stop = cancel
	s.started = true
	s.loops.Go(func() { s.every(loopCtx, s.cfg.ReapInterval, "reap expired leases", s.Reap) })
	s.loops.Go(func() { s.every(loopCtx, s.cfg.SweepInterval, "delete expired jobs", s.Sweep) })
	return nil
}

// Stop stops running jobs. Runs in progress get until half of ctx's time to
// finish; the others are then cancelled and hand their jobs over (their
// leases expire at once, so a replica's reaper queues them again). Stop
// returns when every run has returned, or when ctx is done.
func (s *Service) Stop(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.started {
		return nil
	}
	s.started = false
	s.stop()
	s.loops.Wait()
	return s.queue.stop(ctx)
}

// every runs fn now and then every interval (with jitter, so replicas
// spread out) until ctx is done.
func (s *Service) every(ctx context.Context, interval time.Duration, what string, fn func(context.Context) (int, error)) {
	for {
		if _, err := fn(ctx); err != nil && ctx.Err() == nil {
			s.log.Error("jobs: "+what, "error", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(jitter(interval)):
		}
	}
}

// JobView is a job as the operations return it.
type JobView struct {
	resource.Job
	ARN string
}

func (s *Service) view(j resource.Job) JobView {
	return JobView{Job: j, ARN: resource.JobARN(s.cfg.Region, j.AccountID, j.ID)}
}

// CreateJobInput is CreateJob's request.
type CreateJobInput struct {
	Type *string
	// Details is the RequestDetails object; AssetConfiguration is nil when
	// absent.
	Details            json.RawMessage
	AssetConfiguration json.RawMessage
}

// CreateJob creates a WAITING job, after checking its Details (the runner
// of its type does most of that).
func (s *Service) CreateJob(ctx context.Context, account string, in CreateJobInput) (JobView, error) {
	if in.Type == nil || *in.Type == "" {
		return JobView{}, fault.Validationf("Type is required")
	}
	jobType := *in.Type
	if !slices.Contains(resource.JobTypes, jobType) {
		return JobView{}, fault.Validationf("Type %q is not one of %v", jobType, resource.JobTypes)
	}
	runner, err := s.runner(jobType)
	if err != nil {
		return JobView{}, err
	}
	details, refs, err := parseDetails(jobType, in.Details)
	if err != nil {
		return JobView{}, err
	}
	assetConfiguration, _, err := parseAssetConfiguration(in.AssetConfiguration)
	if err != nil {
		return JobView{}, err
	}
	now := resource.Now()
	job := resource.Job{
		AccountID:          account,
		ID:                 resource.NewID(),
		Type:               jobType,
		State:              resource.JobStateWaiting,
		DataSetID:          refs.dataSetID,
		RevisionID:         refs.revisionID,
		Details:            details,
		AssetConfiguration: assetConfiguration,
		CreatedAt:          now,
		UpdatedAt:          now,
	}
	if err := runner.Validate(ctx, s.store, job); err != nil {
		return JobView{}, unexpected("validate the job", err)
	}
	if p, ok := runner.(Preparer); ok {
		prepared, err := p.Prepare(ctx, job)
		if err != nil {
			return JobView{}, unexpected("prepare the job", err)
		}
		if !json.Valid(prepared) {
			return JobView{}, fmt.Errorf("jobs: the %s runner prepared invalid details", jobType)
		}
		job.Details = prepared
	}
	if err := s.store.InsertJob(ctx, job); err != nil {
		return JobView{}, unexpected("insert job", err)
	}
	return s.view(job), nil
}

// GetJob returns one of the caller's jobs.
func (s *Service) GetJob(ctx context.Context, account, jobID string) (JobView, error) {
	if err := requireJobID(jobID); err != nil {
		return JobView{}, err
	}
	j, err := s.loadJob(ctx, s.store, account, jobID)
	if err != nil {
		return JobView{}, err
	}
	return s.view(j), nil
}

// StartJob starts a WAITING job: in one transaction it checks the job again,
// sets it IN_PROGRESS and queues its first run.
func (s *Service) StartJob(ctx context.Context, account, jobID string) error {
	if err := requireJobID(jobID); err != nil {
		return err
	}
	var job resource.Job
	err := s.inTx(ctx, "start job", func(q store.Queries) error {
		var err error
		if job, err = s.loadJob(ctx, q, account, jobID); err != nil {
			return err
		}
		if job.State != resource.JobStateWaiting {
			return fault.Conflictf(resource.KindJob, job.ID, "job %s is %s: only a WAITING job can be started", job.ID, job.State)
		}
		runner, err := s.runner(job.Type)
		if err != nil {
			return err
		}
		if err := runner.Validate(ctx, q, job); err != nil {
			return unexpected("validate the job", err)
		}
		job.State = resource.JobStateInProgress
		job.UpdatedAt = updateTime(job.UpdatedAt)
		job.Dispatch++
		if err := q.UpdateJob(ctx, job); err != nil {
			return unexpected("update job", err)
		}
		return unexpected("queue the job", s.queue.enqueue(ctx, q, argsOf(job)))
	})
	if err != nil {
		return err
	}
	s.metrics.started.WithLabelValues(job.Type).Inc()
	return nil
}

// CreateStartedJob creates a job and starts it, in the transaction q
// belongs to (the Queries of a store.InTx callback), for the jobs Wharf
// starts by itself (event actions): the job and its queue entry commit with
// whatever caused them, or not at all. A job whose details fail its
// runner's checks is still created, in ERROR with the JobError those
// checks give, so that the cause is seen in ListJobs rather than failing
// the caller's transaction; other errors are returned.
func (s *Service) CreateStartedJob(ctx context.Context, q store.Queries, account string, in CreateJobInput) (JobView, error) {
	if in.Type == nil {
		return JobView{}, errors.New("jobs: CreateStartedJob needs a Type")
	}
	runner, err := s.runner(*in.Type)
	if err != nil {
		return JobView{}, err
	}
	details, refs, err := parseDetails(*in.Type, in.Details)
	if err != nil {
		return JobView{}, err
	}
	now := resource.Now()
	job := resource.Job{
		AccountID:  account,
		ID:         resource.NewID(),
		Type:       *in.Type,
		State:      resource.JobStateInProgress,
		DataSetID:  refs.dataSetID,
		RevisionID: refs.revisionID,
		Details:    details,
		CreatedAt:  now,
		UpdatedAt:  now,
		Dispatch:   1,
	}
	if err := runner.Validate(ctx, q, job); err != nil {
		if fault.As(err) == nil {
			return JobView{}, unexpected("validate the job", err)
		}
		jobErrors, merr := json.Marshal([]JobError{ErrorFromFault(err)})
		if merr != nil {
			return JobView{}, merr
		}
		job.State, job.Errors, job.Dispatch = resource.JobStateError, jobErrors, 0
		return s.view(job), unexpected("insert job", q.InsertJob(ctx, job))
	}
	if err := q.InsertJob(ctx, job); err != nil {
		return JobView{}, unexpected("insert job", err)
	}
	if err := s.queue.enqueue(ctx, q, argsOf(job)); err != nil {
		return JobView{}, unexpected("queue the job", err)
	}
	// Counted before the caller commits (q's transaction is the
	// caller's to commit): a rolled-back start is counted too, a rare
	// overcount docs/jobs.md (Metrics) owns up to.
	s.metrics.started.WithLabelValues(job.Type).Inc()
	return s.view(job), nil
}

// CancelJob cancels a WAITING job.
func (s *Service) CancelJob(ctx context.Context, account, jobID string) error {
	if err := requireJobID(jobID); err != nil {
		return err
	}
	var job resource.Job
	err := s.inTx(ctx, "cancel job", func(q store.Queries) error {
		var err error
		if job, err = s.loadJob(ctx, q, account, jobID); err != nil {
			return err
		}
		if job.State != resource.JobStateWaiting {
			return fault.Conflictf(resource.KindJob, job.ID, "job %s is %s: only a WAITING job can be cancelled", job.ID, job.State)
		}
		job.State = resource.JobStateCancelled
		job.UpdatedAt = updateTime(job.UpdatedAt)
		return unexpected("update job", q.UpdateJob(ctx, job))
	})
	if err != nil {
		return err
	}
	// The job never ran, but its type may have staged something for it
	// at CreateJob (a signed-URL upload).
	s.cleanup(ctx, job)
	return nil
}

// ListJobsInput is ListJobs' request; empty members don't filter. State
// and Type are Wharf extensions (the console's jobs page filters with
// them; AWS's ListJobs has no such parameters).
type ListJobsInput struct {
	DataSetID  string
	RevisionID string
	State      string
	Type       string
	exchange.PageInput
}

// listingJobs names ListJobs' page tokens.
const listingJobs = "jobs"

// ListJobs lists the caller's jobs, newest first.
func (s *Service) ListJobs(ctx context.Context, account string, in ListJobsInput) (exchange.Page[JobView], error) {
	if in.DataSetID != "" && !resource.ValidID(in.DataSetID) {
		return exchange.Page[JobView]{}, fault.Validationf("dataSetId %q is not a valid id", in.DataSetID)
	}
	if in.RevisionID != "" && !resource.ValidID(in.RevisionID) {
		return exchange.Page[JobView]{}, fault.Validationf("revisionId %q is not a valid id", in.RevisionID)
	}
	if in.State != "" && !slices.Contains(resource.JobStates, in.State) {
		return exchange.Page[JobView]{}, fault.Validationf("state %q is not a job state (one of %s)", in.State, strings.Join(resource.JobStates, ", "))
	}
	if in.Type != "" && !slices.Contains(resource.JobTypes, in.Type) {
		return exchange.Page[JobView]{}, fault.Validationf("type %q is not a job type (one of %s)", in.Type, strings.Join(resource.JobTypes, ", "))
	}
	req, err := exchange.NewPageRequest(listingJobs, in.PageInput)
	if err != nil {
		return exchange.Page[JobView]{}, err
	}
	filter := store.JobFilter{DataSetID: in.DataSetID, RevisionID: in.RevisionID, State: in.State, Type: in.Type,
		CreatedAfter: s.retentionCutoff()}
	page, err := s.store.ListJobs(ctx, account, filter, req)
	if err != nil {
		return exchange.Page[JobView]{}, unexpected("list jobs", err)
	}
	return exchange.NewPage(listingJobs, page, s.view), nil
}

// runner returns the runner of a job type, or the ValidationException that
// says Wharf can't run it.
func (s *Service) runner(jobType string) (Runner, error) {
	r, ok := s.runners[jobType]
	if !ok {
		return nil, fault.Validationf("job type %s is not supported by Wharf yet", jobType)
	}
	return r, nil
}

// retentionCutoff is the creation time at or before which jobs are gone.
func (s *Service) retentionCutoff() time.Time {
	return time.Now().Add(-s.cfg.Retention)
}

// loadJob reads the caller's job, treating a job past its retention as gone
// even before the sweeper deletes it. Inside a transaction it locks the row.
func (s *Service) loadJob(ctx context.Context, q store.Queries, account, jobID string) (resource.Job, error) {
	j, err := q.GetJob(ctx, account, jobID)
	if errors.Is(err, store.ErrNotFound) || (err == nil && !j.CreatedAt.After(s.retentionCutoff())) {
		return resource.Job{}, fault.NotFound(resource.KindJob, jobID)
	}
	return j, unexpected("get job", err)
}

func requireJobID(id string) error {
	if !resource.ValidID(id) {
		return fault.Validationf("JobId %q is not a valid id: ids are 30 to 40 letters and digits", id)
	}
	return nil
}

// inTx runs fn in a store transaction and keeps its error as fn returned it.
func (s *Service) inTx(ctx context.Context, op string, fn func(q store.Queries) error) error {
	var fnErr error
	err := s.store.InTx(ctx, func(q store.Queries) error {
		fnErr = fn(q)
		return fnErr
	})
	if fnErr != nil {
		return fnErr
	}
	return unexpected(op, err)
}

// unexpected wraps a failure no client can cause, keeping faults as they are.
func unexpected(op string, err error) error {
	if err == nil || fault.As(err) != nil {
		return err
	}
	return fmt.Errorf("jobs: %s: %w", op, err)
}

// updateTime is the UpdatedAt of a job changed now: always later than the
// previous one, so that every change is visible.
func updateTime(previous time.Time) time.Time {
	now := resource.Now()
	if !now.After(previous) {
		now = previous.Add(time.Millisecond)
	}
	return now
}
