package sqlite_test

import (
	"bufio"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wharf-dev/wharf/internal/resource"
	"github.com/wharf-dev/wharf/internal/store"
	"github.com/wharf-dev/wharf/internal/store/sqlite"
	"github.com/wharf-dev/wharf/internal/store/storetest"
)

// holdLockEnv makes the test binary, re-run as a child, play another process
// that holds the database's write lock for a while.
const holdLockEnv = "WHARF_SQLITE_TEST_HOLD_LOCK"

func TestMain(m *testing.M) {
	if path := os.Getenv(holdLockEnv); path != "" {
		if err := holdLock(path); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func open(t *testing.T, path string) *sqlite.Store {
	t.Helper()
	s, err := sqlite.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		return open(t, filepath.Join(t.TempDir(), "wharf.db"))
	})
}

func TestOpenConfiguresTheDatabase(t *testing.T) {
	s := open(t, filepath.Join(t.TempDir(), "wharf.db"))
	db := s.DB()
	if n := db.Stats().MaxOpenConnections; n != 1 {
		t.Errorf("MaxOpenConnections = %d, want 1", n)
	}
	for pragma, want := range map[string]string{
		"journal_mode": "wal",
		"foreign_keys": "1",
		"busy_timeout": fmt.Sprint(sqlite.BusyTimeout.Milliseconds()),
	} {
		var got string
		if err := db.QueryRow("PRAGMA " + pragma).Scan(&got); err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Errorf("PRAGMA %s = %s, want %s", pragma, got, want)
		}
	}
}

func migrationsApplied(t *testing.T, db *sql.DB) int {
	t.Helper()
	var n int
	if err := db.QueryRow("SELECT count(*) FROM schema_migrations").Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestReopenKeepsDataAndMigratesOnce(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "wharf.db")
	s, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	a := resource.Account{ID: "123456789012", CreatedAt: resource.Now()}
	if err := s.InsertAccount(ctx, a); err != nil {
		t.Fatal(err)
	}
	applied := migrationsApplied(t, s.DB())
	if applied == 0 {
		t.Fatal("no migration recorded")
	}
	s.Close()

	s = open(t, path)
	got, err := s.GetAccount(ctx, a.ID)
	if err != nil || !got.CreatedAt.Equal(a.CreatedAt) {
		t.Errorf("after reopening: %+v, %v; want %+v", got, err, a)
	}
	if n := migrationsApplied(t, s.DB()); n != applied {
		t.Errorf("%d migrations recorded after reopening, want %d", n, applied)
	}
}

func TestConcurrentOpensMigrateOnce(t *testing.T) {
	path := filepath.Join(t.TempDir(), "wharf.db")
	var wg sync.WaitGroup
	stores := make([]*sqlite.Store, 8)
	errs := make([]error, len(stores))
	for i := range stores {
		wg.Go(func() { stores[i], errs[i] = sqlite.Open(context.Background(), path) })
	}
	wg.Wait()
	for i, s := range stores {
		if errs[i] != nil {
			t.Fatalf("open %d: %v", i, errs[i])
		}
		defer s.Close()
	}
	applied := migrationsApplied(t, stores[0].DB())
	var files []string
	files, _ = filepath.Glob("migrations/*.sql")
	if applied != len(files) {
		t.Errorf("%d migrations recorded, want %d", applied, len(files))
	}
}

// holdLock is the child process of TestWriteWaitsForAnotherProcess.
func holdLock(path string) error {
	ctx := context.Background()
	s, err := sqlite.Open(ctx, path)
	if err != nil {
		return err
	}
	defer s.Close()
	return s.InTx(ctx, func(q store.Queries) error {
		if err := q.InsertAccount(ctx, resource.Account{ID: "111111111111", CreatedAt: resource.Now()}); err != nil {
			return err
		}
		fmt.Println("locked")
		time.Sleep(time.Second)
		return nil
	})
}

func TestWriteWaitsForAnotherProcess(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "wharf.db")
	s := open(t, path)

	child := exec.Command(os.Args[0], "-test.run=^$")
	child.Env = append(os.Environ(), holdLockEnv+"="+path)
	child.Stderr = os.Stderr
	out, err := child.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil || line != "locked\n" {
		child.Wait()
		t.Fatalf("child: %q, %v", line, err)
	}

	// The child holds the write lock for a second: this write must wait
	// for it, not fail with SQLITE_BUSY.
	start := time.Now()
	if err := s.InsertAccount(ctx, resource.Account{ID: "222222222222", CreatedAt: resource.Now()}); err != nil {
		t.Fatalf("write while another process holds the lock: %v", err)
	}
	waited := time.Since(start)
	if err := child.Wait(); err != nil {
		t.Fatalf("child: %v", err)
	}
	if waited < 200*time.Millisecond {
		t.Errorf("the write took %v: it did not wait for the other process's lock", waited)
	}
	accounts, err := s.ListAccounts(ctx)
	if err != nil || len(accounts) != 2 {
		t.Errorf("ListAccounts = %v, %v; want both processes' accounts", accounts, err)
	}
}

func TestDriverTx(t *testing.T) {
	ctx := context.Background()
	s := open(t, filepath.Join(t.TempDir(), "wharf.db"))
	if _, ok := sqlite.Tx(s); ok {
		t.Error("sqlite.Tx of the store outside a transaction reports a transaction")
	}

	// A write through the driver's transaction commits with the store's.
	err := s.InTx(ctx, func(q store.Queries) error {
		tx, ok := sqlite.Tx(q)
		if !ok || tx == nil {
			t.Fatal("sqlite.Tx inside InTx: no transaction")
		}
		if _, err := tx.ExecContext(ctx, "INSERT INTO accounts (id, created_at) VALUES ('100000000001', 0)"); err != nil {
			return err
		}
		return q.InsertAccount(ctx, resource.Account{ID: "100000000002"})
	})
	if err != nil {
		t.Fatal(err)
	}
	if accounts, err := s.ListAccounts(ctx); err != nil || len(accounts) != 2 {
		t.Errorf("after commit: %v, %v; want 2 accounts", accounts, err)
	}

	// The store's writes in someone else's transaction roll back with it.
	tx, err := s.DB().BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	q := s.TxQueries(tx)
	if got, ok := sqlite.Tx(q); !ok || got != tx {
		t.Error("sqlite.Tx(TxQueries(tx)) is not tx")
	}
	if err := q.InsertAccount(ctx, resource.Account{ID: "100000000003"}); err != nil {
		t.Fatal(err)
	}
	if err := tx.Rollback(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetAccount(ctx, "100000000003"); err != store.ErrNotFound {
		t.Errorf("account inserted in a rolled-back transaction: %v", err)
	}
}

// TestLockDir: a second lock on a data dir is refused at once, naming the
// holder, and taken once the first is released.
func TestLockDir(t *testing.T) {
	dir := t.TempDir()
	first, err := sqlite.LockDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	second, err := sqlite.LockDir(dir)
	if !errors.Is(err, sqlite.ErrLocked) {
		t.Fatalf("second LockDir: %v, %v; want sqlite.ErrLocked", second, err)
	}
	if want := "process " + strconv.Itoa(os.Getpid()); !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), dir) {
		t.Errorf("the refusal %q names neither the holder (%s) nor the dir", err, want)
	}
	if err := first.Release(); err != nil {
		t.Fatal(err)
	}
	again, err := sqlite.LockDir(dir)
	if err != nil {
		t.Fatalf("LockDir after Release: %v", err)
	}
	again.Release()
}
