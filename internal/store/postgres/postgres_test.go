package postgres_test

import (
	"context"
	"path/filepath"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/wharf-dev/wharf/internal/pgtest"
	"github.com/wharf-dev/wharf/internal/resource"
	"github.com/wharf-dev/wharf/internal/store"
	"github.com/wharf-dev/wharf/internal/store/postgres"
	"github.com/wharf-dev/wharf/internal/store/storetest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

func open(t *testing.T, dbURL string) *postgres.Store {
	t.Helper()
	s, err := postgres.Open(context.Background(), dbURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		// A bounded pool per test, so that many parallel tests on a large
		// machine stay under the server's max_connections.
		return open(t, pgtest.PooledURL(t, 8))
	})
}

func TestConcurrentOpensMigrateOnce(t *testing.T) {
	dbURL := pgtest.URL(t)
	var wg sync.WaitGroup
	stores := make([]*postgres.Store, 8)
	errs := make([]error, len(stores))
	for i := range stores {
		wg.Go(func() { stores[i], errs[i] = postgres.Open(context.Background(), dbURL) })
	}
	wg.Wait()
	for i, s := range stores {
		if errs[i] != nil {
			t.Fatalf("open %d: %v", i, errs[i])
		}
		t.Cleanup(func() { s.Close() })
	}
	var applied int
	if err := stores[0].Pool().QueryRow(context.Background(), "SELECT count(*) FROM schema_migrations").Scan(&applied); err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob("migrations/*.sql")
	if applied != len(files) {
		t.Errorf("%d migrations recorded, want %d", applied, len(files))
	}
}

func TestDriverTx(t *testing.T) {
	ctx := context.Background()
	s := open(t, pgtest.URL(t))
	if _, ok := postgres.Tx(s); ok {
		t.Error("postgres.Tx of the store outside a transaction reports a transaction")
	}

	// A write through the driver's transaction commits with the store's.
	err := s.InTx(ctx, func(q store.Queries) error {
		tx, ok := postgres.Tx(q)
		if !ok || tx == nil {
			t.Fatal("postgres.Tx inside InTx: no transaction")
		}
		if _, err := tx.Exec(ctx, "INSERT INTO accounts (id, created_at) VALUES ('100000000001', 0)"); err != nil {
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
	tx, err := s.Pool().Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	q := s.TxQueries(tx)
	if got, ok := postgres.Tx(q); !ok || got != pgx.Tx(tx) {
		t.Error("postgres.Tx(TxQueries(tx)) is not tx")
	}
	if err := q.InsertAccount(ctx, resource.Account{ID: "100000000003"}); err != nil {
		t.Fatal(err)
	}
	if err := tx.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetAccount(ctx, "100000000003"); err != store.ErrNotFound {
		t.Errorf("account inserted in a rolled-back transaction: %v", err)
	}
}

// TestInitialized: a database is initialized once Open migrated it, and
// asking changes nothing.
func TestInitialized(t *testing.T) {
	ctx := context.Background()
	url := pgtest.URL(t)
	for range 2 {
		ok, err := postgres.Initialized(ctx, url)
		if err != nil || ok {
			t.Fatalf("Initialized on a fresh database: %v, %v; want false", ok, err)
		}
	}
	st, err := postgres.Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	st.Close()
	if ok, err := postgres.Initialized(ctx, url); err != nil || !ok {
		t.Fatalf("Initialized after Open: %v, %v; want true", ok, err)
	}
	if _, err := postgres.Initialized(ctx, "postgres://127.0.0.1:1/none?connect_timeout=2"); err == nil {
		t.Error("Initialized on an unreachable server succeeded")
	}
}

// River's own statements run on QueuePool, whose sessions commit without
// waiting for the WAL's flush; the store's, on Pool, wait as configured
// (on a server with PostgreSQL's default durability).
func TestQueuePoolCommitsAsynchronously(t *testing.T) {
	s := open(t, pgtest.DurableURL(t))
	for _, tc := range []struct {
		name string
		q    interface {
			QueryRow(context.Context, string, ...any) pgx.Row
		}
		want string
	}{{"Pool", s.Pool(), "on"}, {"QueuePool", s.QueuePool(), "off"}} {
		var got string
		if err := tc.q.QueryRow(context.Background(), "SHOW synchronous_commit").Scan(&got); err != nil {
			t.Fatal(err)
		}
		if got != tc.want {
			t.Errorf("%s: synchronous_commit %s, want %s", tc.name, got, tc.want)
		}
	}
}
