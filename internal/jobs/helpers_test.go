package jobs_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/wharf-dev/wharf/internal/jobs"
	"github.com/wharf-dev/wharf/internal/jobs/jobstest"
	"github.com/wharf-dev/wharf/internal/pgtest"
	"github.com/wharf-dev/wharf/internal/resource"
	"github.com/wharf-dev/wharf/internal/store"
	"github.com/wharf-dev/wharf/internal/store/postgres"
	"github.com/wharf-dev/wharf/internal/store/sqlite"
)

func TestMain(m *testing.M) {
	if kind := os.Getenv(childEnv); kind != "" {
		// This process is the worker TestKilledWorkerIsResumed kills.
		if err := runChild(kind, os.Getenv(childDSNEnv)); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	pgtest.Main(m)
}

const (
	region  = "us-east-1"
	account = "111111111111"
)

// backend makes a fresh database of one driver and returns its data source
// name, for open (several opens are several replicas).
type backend struct {
	name    string
	newDSN  func(t *testing.T) string
	openDSN func(ctx context.Context, dsn string) (store.Store, error)
}

var backends = []backend{
	{
		name:   "sqlite",
		newDSN: func(t *testing.T) string { return filepath.Join(t.TempDir(), "wharf.db") },
		openDSN: func(ctx context.Context, dsn string) (store.Store, error) {
			return sqlite.Open(ctx, dsn)
		},
	},
	{
		name:   "postgres",
		newDSN: func(t *testing.T) string { return pgtest.PooledURL(t, 10) },
		openDSN: func(ctx context.Context, dsn string) (store.Store, error) {
			return postgres.Open(ctx, dsn)
		},
	},
}

// open opens the database at dsn, closing it when t ends.
func (b backend) open(t *testing.T, dsn string) store.Store {
	t.Helper()
	st, err := b.openDSN(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// forEachBackend runs test on every store driver, in parallel.
func forEachBackend(t *testing.T, test func(t *testing.T, b backend)) {
	t.Parallel()
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			test(t, b)
		})
	}
}

// testLogger logs to the test's output, shown when it fails or with -v.
func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// fastConfig is a Config whose timings suit tests.
func fastConfig(runner jobs.Runner) jobs.Config {
	return jobs.Config{
		Region:            region,
		Runners:           map[string]jobs.Runner{resource.JobTypeImportAssetsFromS3: runner},
		LeaseDuration:     time.Second,
		HeartbeatInterval: 200 * time.Millisecond,
		ReapInterval:      100 * time.Millisecond,
		ProgressInterval:  50 * time.Millisecond,
		PollInterval:      50 * time.Millisecond,
	}
}

// env is a job service on a fresh database with one account's data set and
// revision, and a fake runner for IMPORT_ASSETS_FROM_S3.
type env struct {
	t        *testing.T
	ctx      context.Context
	st       store.Store
	backend  backend
	dsn      string
	svc      *jobs.Service
	runner   *jobstest.Runner
	metrics  *prometheus.Registry
	dataSet  resource.DataSet
	revision resource.Revision
}

// newEnv starts the service unless edit clears start.
func newEnv(t *testing.T, b backend, edit ...func(*jobs.Config)) *env {
	t.Helper()
	dsn := b.newDSN(t)
	st := b.open(t, dsn)
	e := &env{t: t, ctx: context.Background(), st: st, backend: b, dsn: dsn, runner: jobstest.New(), metrics: prometheus.NewRegistry()}
	cfg := fastConfig(e.runner)
	cfg.Metrics, cfg.Logger = e.metrics, testLogger(t)
	for _, f := range edit {
		f(&cfg)
	}
	e.svc = e.service(st, cfg)
	e.dataSet, e.revision = jobstest.SeedRevision(t, st, account)
	return e
}

// reopen opens another handle on e's database: another replica's.
func (e *env) reopen(t *testing.T) store.Store { return e.backend.open(t, e.dsn) }

// service returns a service (not started) that stops when the test ends.
func (e *env) service(st store.Store, cfg jobs.Config) *jobs.Service {
	e.t.Helper()
	return jobstest.NewService(e.t, st, cfg)
}

func (e *env) start(svc *jobs.Service) {
	e.t.Helper()
	e.must(svc.Start(e.ctx))
}

func (e *env) must(err error) {
	e.t.Helper()
	if err != nil {
		e.t.Fatal(err)
	}
}

// create creates a job importing the given keys into e's revision.
func (e *env) create(keys ...string) jobs.JobView {
	e.t.Helper()
	typ := resource.JobTypeImportAssetsFromS3
	v, err := e.svc.CreateJob(e.ctx, account, jobs.CreateJobInput{
		Type:               &typ,
		Details:            jobstest.Details(e.dataSet.ID, e.revision.ID, keys...),
		AssetConfiguration: json.RawMessage(`{"Tags":[{"Key":"team","Value":"data"},{"Key":"env","Value":"test"}]}`),
	})
	if err != nil {
		e.t.Fatalf("CreateJob: %v", err)
	}
	return v
}

// createAndStart creates a job and starts it.
func (e *env) createAndStart(keys ...string) jobs.JobView {
	e.t.Helper()
	v := e.create(keys...)
	if err := e.svc.StartJob(e.ctx, account, v.ID); err != nil {
		e.t.Fatalf("StartJob: %v", err)
	}
	return v
}

// job reads a job from the store, whatever its age.
func (e *env) job(id string) resource.Job {
	e.t.Helper()
	return jobstest.Job(e.t, e.st, account, id)
}

// waitFor polls the job until cond holds, failing after a while.
func (e *env) waitFor(id, what string, cond func(resource.Job) bool) resource.Job {
	e.t.Helper()
	return jobstest.WaitFor(e.t, e.st, account, id, what, cond)
}

// waitEnd waits for the job to reach a terminal state, checks it is want
// and that the job let go of its lease.
func (e *env) waitEnd(id, want string) resource.Job {
	e.t.Helper()
	j := jobstest.WaitEnd(e.t, e.st, account, id, want)
	if j.LeaseID != "" || j.LeaseExpiresAt != nil {
		e.t.Errorf("job %s ended holding lease %q", id, j.LeaseID)
	}
	return j
}

// assets lists the revision's assets.
func (e *env) assets() []resource.Asset {
	e.t.Helper()
	p, err := e.st.ListAssets(e.ctx, account, e.dataSet.ID, e.revision.ID, store.PageRequest{Limit: 1000})
	if err != nil {
		e.t.Fatal(err)
	}
	return p.Items
}

// execDriver runs a statement in q's transaction through the driver.
func execDriver(e *env, q store.Queries, statement string) error {
	if tx, ok := sqlite.Tx(q); ok {
		_, err := tx.ExecContext(e.ctx, statement)
		return err
	}
	tx, ok := postgres.Tx(q)
	if !ok {
		e.t.Fatal("execDriver: not in a transaction")
	}
	_, err := tx.Exec(e.ctx, statement)
	return err
}

// Short names for the shared fixtures.
var (
	jobErrors = jobstest.JobErrors
	wantFault = jobstest.WantFault
)

// assetIDs returns the ids of the assets, sorted.
func assetIDs(assets []resource.Asset) []string {
	var ids []string
	for _, a := range assets {
		ids = append(ids, a.ID)
	}
	slices.Sort(ids)
	return ids
}

// expectedAssetIDs are the ids a job's n assets get, sorted.
func expectedAssetIDs(jobID string, n int) []string {
	var ids []string
	for i := range n {
		ids = append(ids, jobs.AssetID(jobID, i))
	}
	slices.Sort(ids)
	return ids
}

// queryDriverString runs a query of one text value in q's transaction.
func queryDriverString(e *env, q store.Queries, query string) (string, error) {
	var s string
	if tx, ok := sqlite.Tx(q); ok {
		err := tx.QueryRowContext(e.ctx, query).Scan(&s)
		return s, err
	}
	tx, ok := postgres.Tx(q)
	if !ok {
		e.t.Fatal("queryDriverString: not in a transaction")
	}
	err := tx.QueryRow(e.ctx, query).Scan(&s)
	return s, err
}
