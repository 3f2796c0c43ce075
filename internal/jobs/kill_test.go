package jobs_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/wharf-dev/wharf/internal/jobs"
	"github.com/wharf-dev/wharf/internal/jobs/jobstest"
	"github.com/wharf-dev/wharf/internal/resource"
	"github.com/wharf-dev/wharf/internal/store"
)

// The test binary, run again with these variables set, is a replica that
// runs jobs until it is killed.
const (
	childEnv    = "WHARF_JOBS_TEST_CHILD" // the backend name
	childDSNEnv = "WHARF_JOBS_TEST_CHILD_DSN"
)

// hangingRunner runs nothing to the end: its runs wait to be killed.
type hangingRunner struct{ *jobstest.Runner }

func (hangingRunner) Run(ctx context.Context, _ resource.Job, progress jobs.Progress) (jobs.Result, error) {
	progress(1, 10)
	<-ctx.Done()
	return jobs.Result{}, ctx.Err()
}

// runChild is the killed replica: it runs jobs, says "running" once one of
// them holds a lease, and waits.
func runChild(kind, dsn string) error {
	ctx := context.Background()
	i := slices.IndexFunc(backends, func(b backend) bool { return b.name == kind })
	if i < 0 {
		return fmt.Errorf("no backend %q", kind)
	}
	st, err := backends[i].openDSN(ctx, dsn)
	if err != nil {
		return err
	}
	cfg := fastConfig(hangingRunner{jobstest.New()})
	cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	svc, err := jobs.New(ctx, st, cfg)
	if err != nil {
		return err
	}
	if err := svc.Start(ctx); err != nil {
		return err
	}
	for {
		n, err := st.CountLeasedJobs(ctx, resource.JobTypeImportAssetsFromS3)
		if err != nil {
			return err
		}
		if n > 0 {
			fmt.Println("running")
			select {}
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestKilledWorkerIsResumed kills -9 a process in the middle of a run; the
// job is then resumed by another process and completes exactly once.
func TestKilledWorkerIsResumed(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		e := newEnv(t, b)
		v := e.createAndStart("a", "b", "c")

		child := exec.Command(os.Args[0], "-test.run=^$")
		child.Env = append(os.Environ(), childEnv+"="+b.name, childDSNEnv+"="+e.dsn)
		child.Stderr = os.Stderr
		out, err := child.StdoutPipe()
		e.must(err)
		e.must(child.Start())
		killed := false
		t.Cleanup(func() {
			if !killed {
				_ = child.Process.Kill()
				_ = child.Wait()
			}
		})
		line, err := bufio.NewReader(out).ReadString('\n')
		if err != nil || line != "running\n" {
			t.Fatalf("child: %q, %v", line, err)
		}
		mid := e.job(v.ID)
		if mid.State != resource.JobStateInProgress || mid.LeaseID == "" || mid.Attempts != 1 {
			t.Fatalf("while the child runs it: %s, lease %q, attempts %d", mid.State, mid.LeaseID, mid.Attempts)
		}

		e.must(child.Process.Signal(syscall.SIGKILL))
		killedAt := time.Now()
		killed = true
		var exitErr *exec.ExitError
		if err := child.Wait(); !errors.As(err, &exitErr) {
			t.Fatalf("child: %v, want killed", err)
		}
		if j := e.job(v.ID); j.LeaseID != mid.LeaseID {
			t.Fatalf("the dead child's lease changed: %q", j.LeaseID)
		}

		e.start(e.svc)
		j := e.waitEnd(v.ID, resource.JobStateCompleted)
		if got, want := assetIDs(e.assets()), expectedAssetIDs(v.ID, 3); !slices.Equal(got, want) {
			t.Fatalf("assets %v, want exactly %v", got, want)
		}
		if j.Attempts != 2 || j.Dispatch != 2 || e.runner.Runs(v.ID) != 1 || e.runner.Cleanups(v.ID) != 1 {
			t.Errorf("attempts %d, dispatch %d, runs here %d, cleanups %d; want 2, 2, 1, 1",
				j.Attempts, j.Dispatch, e.runner.Runs(v.ID), e.runner.Cleanups(v.ID))
		}
		// A lease (1 s here) plus a reaper pass, give or take polling.
		if took := time.Since(killedAt); took > 10*time.Second {
			t.Errorf("completed %v after the kill", took)
		}
		var n int
		e.must(e.st.InTx(e.ctx, func(q store.Queries) error {
			var err error
			n, err = q.CountLeasedJobs(e.ctx, resource.JobTypeImportAssetsFromS3)
			return err
		}))
		if n != 0 {
			t.Errorf("%d leases left", n)
		}
	})
}
