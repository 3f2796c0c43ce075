package pgtest_test

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/wharf-dev/wharf/internal/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

func TestURLGivesAFreshEmptyDatabaseDroppedAfterTheTest(t *testing.T) {
	ctx := context.Background()
	var first, second string
	t.Run("create", func(t *testing.T) {
		first, second = pgtest.URL(t), pgtest.URL(t)
		if first == second {
			t.Fatalf("two calls returned the same database %s", first)
		}
		for _, u := range []string{first, second} {
			conn, err := pgx.Connect(ctx, u)
			if err != nil {
				t.Fatal(err)
			}
			var tables int
			if err := conn.QueryRow(ctx,
				`SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'`).Scan(&tables); err != nil {
				t.Fatal(err)
			}
			if tables != 0 {
				t.Errorf("%s: %d tables in a fresh database", u, tables)
			}
			// Left open on purpose: the drop must cope with it.
			_, _ = conn.Exec(ctx, `CREATE TABLE leftover (x int)`)
		}
	})
	if t.Skipped() || first == "" {
		return
	}

	// Both databases are gone once the subtest has ended.
	admin := pgtest.URL(t)
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	for _, u := range []string{first, second} {
		cfg, err := pgx.ParseConfig(u)
		if err != nil {
			t.Fatal(err)
		}
		var n int
		if err := conn.QueryRow(ctx, `SELECT count(*) FROM pg_database WHERE datname = $1`, cfg.Database).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != 0 {
			t.Errorf("database %s still exists after its test ended", cfg.Database)
		}
	}
}
