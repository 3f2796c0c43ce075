package jobs_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivermigrate"

	"github.com/wharf-dev/wharf/internal/resource"
	"github.com/wharf-dev/wharf/internal/store"
	"github.com/wharf-dev/wharf/internal/store/postgres"
	"github.com/wharf-dev/wharf/internal/store/sqlite"
)

// riverV031Version is the last River migration River v0.31.0 had: a
// database Wharf ran on with that River is at it.
const riverV031Version = 6

// TestUpgradeFromRiverV031 is a database last run by a Wharf on River
// v0.31, with a job IN_PROGRESS whose queue entry that River wrote (on
// SQLite, JSON as text; v0.51 migrates it to JSONB): the service on the
// current River migrates River's tables and runs the job.
func TestUpgradeFromRiverV031(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		e := newEnv(t, b)
		migrateTo := func(ctx context.Context, st store.Store) (*rivermigrate.MigrateResult, error) {
			opts := &rivermigrate.MigrateOpts{TargetVersion: riverV031Version}
			if s, ok := st.(*sqlite.Store); ok {
				m, err := rivermigrate.New(riversqlite.New(s.DB()), nil)
				if err != nil {
					return nil, err
				}
				return m.Migrate(ctx, rivermigrate.DirectionDown, opts)
			}
			m, err := rivermigrate.New(riverpgxv5.New(st.(*postgres.Store).Pool()), nil)
			if err != nil {
				return nil, err
			}
			return m.Migrate(ctx, rivermigrate.DirectionDown, opts)
		}
		// newEnv's service migrated River to the latest version: take the
		// database back to v0.31's schema (down migrations), as if the new
		// River had never run on it.
		if _, err := migrateTo(e.ctx, e.st); err != nil {
			t.Fatalf("migrate River down to version %d: %v", riverV031Version, err)
		}
		v := e.create("a", "b")
		j := e.job(v.ID)
		j.State, j.Dispatch = resource.JobStateInProgress, 1
		e.must(e.st.UpdateJob(e.ctx, j))
		args := fmt.Sprintf(`{"account_id":%q,"job_id":%q,"type":%q,"dispatch":1}`, account, v.ID, j.Type)
		e.must(e.st.InTx(e.ctx, func(q store.Queries) error {
			return execDriver(e, q, `INSERT INTO river_job (args, kind, max_attempts, queue, state, attempt, priority)
				VALUES ('`+args+`', 'wharf_job_run', 25, 'wharf_import_assets_from_s3', 'available', 0, 1)`)
		}))

		svc := e.service(e.reopen(t), fastConfig(e.runner))
		e.start(svc)
		e.waitEnd(v.ID, resource.JobStateCompleted)
		if runs := e.runner.Runs(v.ID); runs != 1 {
			t.Errorf("%d runs, want 1", runs)
		}
	})
}
