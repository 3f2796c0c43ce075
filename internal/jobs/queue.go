package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivermigrate"
	"github.com/riverqueue/river/rivertype"

	"github.com/wharf-dev/wharf/internal/store"
	"github.com/wharf-dev/wharf/internal/store/postgres"
	"github.com/wharf-dev/wharf/internal/store/sqlite"
)

// queue is River as the engine uses it. River's Client is generic over the
// database driver's transaction type (*sql.Tx, pgx.Tx); this interface
// hides that, with one instantiation per store driver.
type queue interface {
	// enqueue queues a run of a job in the transaction q belongs to (the
	// Queries of a store.InTx callback), so that both commit or neither.
	enqueue(ctx context.Context, q store.Queries, args runArgs) error
	// start starts working queue entries; a no-op without runners.
	start(ctx context.Context) error
	// stop stops working, giving runs until half of ctx's time to end
	// before cancelling them.
	stop(ctx context.Context) error
	// wakeLater wakes the workers of a job type's queue after a while (a
	// snoozed entry's time), instead of leaving the entry to the next poll.
	wakeLater(jobType string, after time.Duration)
	// running lists the entries River has had running since before
	// attemptedBefore (up to orphanBatch).
	running(ctx context.Context, attemptedBefore time.Time) ([]queueEntry, error)
	// finishTx marks the queue entry whose run ctx is (if any) done, in the
	// transaction q belongs to: the one that records how the job ended, so
	// that the database needs no write of River's own after the run.
	finishTx(ctx context.Context, q store.Queries) error
}

// orphanBatch bounds the running entries one reap looks at.
const orphanBatch = 1000

// queueEntry is a River queue entry: its id and the run it asks for.
type queueEntry struct {
	ID   int64
	Args runArgs
}

type riverQueue[TTx any] struct {
	client  *river.Client[TTx]
	driver  riverdriver.Driver[TTx]
	txOf    func(store.Queries) (TTx, bool)
	working bool
	log     *slog.Logger
}

// newQueue returns the queue in st's database, migrating River's tables.
func newQueue(ctx context.Context, st store.Store, s *Service) (queue, error) {
	switch st := st.(type) {
	case *sqlite.Store:
		return newRiverQueue(ctx, newLocalDriver(st.DB()), sqlite.Tx, s)
	case *postgres.Store:
		return newRiverQueue(ctx, riverpgxv5.New(st.QueuePool()), postgres.Tx, s)
	}
	return nil, fmt.Errorf("jobs: no job queue for a %T store", st)
}

func newRiverQueue[TTx any](ctx context.Context, driver riverdriver.Driver[TTx], txOf func(store.Queries) (TTx, bool), s *Service) (*riverQueue[TTx], error) {
	if err := migrateRiver(ctx, driver, s.store, s.log); err != nil {
		return nil, err
	}
	workers := river.NewWorkers()
	if err := river.AddWorkerSafely(workers, &worker{s: s}); err != nil {
		return nil, err
	}
	// One River queue per job type with a runner, as many workers as the
	// type's limit: a replica never runs more, and the lease count taken
	// with each run holds the limit across replicas.
	queues := map[string]river.QueueConfig{}
	for jobType := range s.runners {
		queues[queueName(jobType)] = river.QueueConfig{MaxWorkers: s.cfg.Concurrency[jobType]}
	}
	cfg := &river.Config{
		Logger:  slog.New(minLevel{s.log.Handler(), slog.LevelWarn}),
		Workers: workers,
		// Workers are woken when there is work (see enqueue and wake); the
		// poll is only the fallback for a lost notification. The cooldown
		// spaces a burst's fetches without delaying the first.
		FetchPollInterval: s.cfg.PollInterval,
		FetchCooldown:     min(s.cfg.PollInterval, fetchCooldown),
		// Wharf enforces the time limit itself (TIMED_OUT needs a state
		// change), and reaps dead runs by lease within seconds; River's
		// rescuer only gets queue entries that outlived any run.
		JobTimeout:           -1,
		RescueStuckJobsAfter: s.cfg.JobTimeout + time.Hour,
	}
	if len(queues) > 0 {
		cfg.Queues = queues
	}
	client, err := river.NewClient(driver, cfg)
	if err != nil {
		return nil, fmt.Errorf("jobs: river: %w", err)
	}
	return &riverQueue[TTx]{client: client, driver: driver, txOf: txOf, working: len(queues) > 0, log: s.log}, nil
}

func (r *riverQueue[TTx]) enqueue(ctx context.Context, q store.Queries, args runArgs) error {
	tx, ok := r.txOf(q)
	if !ok {
		return errors.New("jobs: enqueue needs the Queries of a transaction")
	}
	queue := queueName(args.Type)
	if _, err := r.client.InsertTx(ctx, tx, args, &river.InsertOpts{Queue: queue}); err != nil {
		return err
	}
	// River's insert notifies the queue's workers too, but at most once
	// per fetch cooldown: a second job started within it would wait for
	// the poll. This notification, sent in the transaction, is delivered
	// when it commits (on SQLite, at once: see localDriver).
	return notifyWork(ctx, r.driver.UnwrapExecutor(tx), queue)
}

// notifyWork tells every replica's workers of a queue to look for entries,
// with the notification River's own inserts send (topic river_insert, in
// River's current schema), which every replica's notifier hears.
func notifyWork(ctx context.Context, exec riverdriver.Executor, queue string) error {
	return exec.NotifyMany(ctx, &riverdriver.NotifyManyParams{
		Topic:   "river_insert",
		Payload: []string{fmt.Sprintf(`{"queue": %q}`, queue)},
	})
}

// wake wakes the workers of a queue now, outside any transaction.
func (r *riverQueue[TTx]) wake(queue string) {
	ctx, cancel := context.WithTimeout(context.Background(), handOverTimeout)
	defer cancel()
	if err := notifyWork(ctx, r.driver.GetExecutor(), queue); err != nil {
		r.log.Warn("jobs: wake the workers (they poll instead)", "queue", queue, "error", err)
	}
}

func (r *riverQueue[TTx]) wakeLater(jobType string, after time.Duration) {
	if r.working {
		time.AfterFunc(after, func() { r.wake(queueName(jobType)) })
	}
}

func (r *riverQueue[TTx]) running(ctx context.Context, attemptedBefore time.Time) ([]queueEntry, error) {
	res, err := r.client.JobList(ctx, river.NewJobListParams().
		Kinds(runArgs{}.Kind()).States(rivertype.JobStateRunning).First(orphanBatch))
	if err != nil {
		return nil, fmt.Errorf("jobs: list running queue entries: %w", err)
	}
	var out []queueEntry
	for _, row := range res.Jobs {
		if row.AttemptedAt == nil || row.AttemptedAt.After(attemptedBefore) {
			continue
		}
		e := queueEntry{ID: row.ID}
		if err := json.Unmarshal(row.EncodedArgs, &e.Args); err != nil {
			return nil, fmt.Errorf("jobs: queue entry %d: %w", row.ID, err)
		}
		out = append(out, e)
	}
	return out, nil
}

// riverJobKey keys the River job of a run in its context.
type riverJobKey struct{}

func (r *riverQueue[TTx]) finishTx(ctx context.Context, q store.Queries) error {
	job, ok := ctx.Value(riverJobKey{}).(*river.Job[runArgs])
	if !ok {
		return nil
	}
	tx, ok := r.txOf(q)
	if !ok {
		return errors.New("jobs: finishing a queue entry needs the Queries of a transaction")
	}
	// River's completer, after Work returns, then finds the entry no longer
	// running and leaves it.
	_, err := river.JobCompleteTx[riverdriver.Driver[TTx]](ctx, tx, job)
	if errors.Is(err, rivertype.ErrNotFound) {
		return nil // not running any more: nothing to finish
	}
	return err
}

// fetchCooldown is the least time between two fetches of a queue: River's
// default is 100 ms, which a second job started within it would wait.
const fetchCooldown = 5 * time.Millisecond

func (r *riverQueue[TTx]) start(ctx context.Context) error {
	if !r.working {
		return nil
	}
	return r.client.Start(ctx)
}

func (r *riverQueue[TTx]) stop(ctx context.Context) error {
	if !r.working {
		return nil
	}
	soft := ctx
	if deadline, ok := ctx.Deadline(); ok {
		var cancel context.CancelFunc
		soft, cancel = context.WithTimeout(ctx, time.Until(deadline)/2)
		defer cancel()
	}
	if err := r.client.Stop(soft); err == nil || ctx.Err() != nil {
		return err
	}
	return r.client.StopAndCancel(ctx)
}

// queueName is the River queue of a job type.
func queueName(jobType string) string { return "wharf_" + strings.ToLower(jobType) }

// worker runs Wharf's queue entries.
type worker struct {
	river.WorkerDefaults[runArgs]
	s *Service
}

func (w *worker) Work(ctx context.Context, job *river.Job[runArgs]) error {
	ctx = context.WithValue(ctx, riverJobKey{}, job)
	return w.s.work(ctx, job.Args, job.Attempt >= job.MaxAttempts)
}

// Timeout: none from River; the engine's own time limit ends the run.
func (w *worker) Timeout(*river.Job[runArgs]) time.Duration { return -1 }

// Migrate creates or updates River's tables in st's database (store
// migrations are the store's). New does it too; `wharf migrate` calls it.
func Migrate(ctx context.Context, st store.Store, logger *slog.Logger) error {
	if logger == nil {
		logger = slog.Default()
	}
	switch st := st.(type) {
	case *sqlite.Store:
		return migrateRiver(ctx, riversqlite.New(st.DB()), st, logger)
	case *postgres.Store:
		return migrateRiver(ctx, riverpgxv5.New(st.Pool()), st, logger)
	}
	return fmt.Errorf("jobs: no job queue for a %T store", st)
}

// riverMigrationLockKey names the advisory lock that keeps replicas starting
// at once from migrating River's tables together: "wharf_rv" as an int64.
const riverMigrationLockKey = 0x77686172665f7276

func migrateRiver[TTx any](ctx context.Context, driver riverdriver.Driver[TTx], st store.Store, logger *slog.Logger) error {
	if pg, ok := st.(*postgres.Store); ok {
		// rivermigrate takes no lock of its own. The lock is held by one
		// pooled connection while the migration runs on others.
		conn, err := pg.Pool().Acquire(ctx)
		if err != nil {
			return fmt.Errorf("jobs: migrate river: %w", err)
		}
		defer conn.Release()
		if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock($1)", int64(riverMigrationLockKey)); err != nil {
			return fmt.Errorf("jobs: migrate river: take the lock: %w", err)
		}
		defer func() {
			_, _ = conn.Exec(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock($1)", int64(riverMigrationLockKey))
		}()
	}
	migrator, err := rivermigrate.New(driver, &rivermigrate.Config{Logger: slog.New(minLevel{logger.Handler(), slog.LevelWarn})})
	if err != nil {
		return fmt.Errorf("jobs: migrate river: %w", err)
	}
	if _, err := migrator.Migrate(ctx, rivermigrate.DirectionUp, nil); err != nil {
		return fmt.Errorf("jobs: migrate river: %w", err)
	}
	return nil
}

// minLevel drops records below a level: River reports routine events
// (starting, stopping, leadership) at info, which would drown Wharf's log.
type minLevel struct {
	slog.Handler
	min slog.Level
}

func (h minLevel) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= h.min && h.Handler.Enabled(ctx, l)
}

func (h minLevel) WithAttrs(attrs []slog.Attr) slog.Handler {
	return minLevel{h.Handler.WithAttrs(attrs), h.min}
}

func (h minLevel) WithGroup(name string) slog.Handler {
	return minLevel{h.Handler.WithGroup(name), h.min}
}
