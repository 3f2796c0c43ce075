package sqlite

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"
)

func TestCacheable(t *testing.T) {
	for q, want := range map[string]bool{
		"SELECT 1":                          true,
		"  select * from jobs WHERE id = ?": true,
		"-- name: JobGetAvailable :many\nWITH x AS (SELECT 1) SELECT * FROM x": true,
		"INSERT INTO t VALUES (1);":         true,
		"UPDATE t SET a = 1; DELETE FROM t": false,
		"CREATE TABLE t (a)":                false,
		"PRAGMA journal_mode":               false,
		"BEGIN":                             false,
		"-- only a comment":                 false,
	} {
		if got := cacheable(q); got != want {
			t.Errorf("cacheable(%q) = %v, want %v", q, got, want)
		}
	}
}

// A statement is prepared once and reused; one whose rows are still open
// when the same text runs again (in a transaction) runs unprepared, and
// both read their own rows.
func TestStatementsStayPrepared(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, filepath.Join(t.TempDir(), "wharf.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	db := s.DB()
	if _, err := db.ExecContext(ctx, "CREATE TABLE t (a INTEGER)"); err != nil {
		t.Fatal(err)
	}
	const insert, sel = "INSERT INTO t (a) VALUES (?)", "SELECT a FROM t WHERE a >= ? ORDER BY a"
	for i := range 3 {
		if _, err := db.ExecContext(ctx, insert, i); err != nil {
			t.Fatal(err)
		}
	}
	conn, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var sc *stmtConn
	if err := conn.Raw(func(c any) error { sc = c.(*stmtConn); return nil }); err != nil {
		t.Fatal(err)
	}
	if sc.stmts[insert] == nil {
		t.Errorf("the INSERT was not kept prepared: %v", sc.stmts)
	}
	if _, ok := sc.stmts["CREATE TABLE t (a INTEGER)"]; ok {
		t.Error("a schema change was kept prepared")
	}
	cached := sc.stmts[insert]
	conn.Close()

	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	outer, err := tx.QueryContext(ctx, sel, 1)
	if err != nil {
		t.Fatal(err)
	}
	var got []int
	for outer.Next() {
		var a int
		if err := outer.Scan(&a); err != nil {
			t.Fatal(err)
		}
		// The same text while its rows are open.
		var n int
		if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM ("+sel+")", 0).Scan(&n); err != nil {
			t.Fatal(err)
		}
		innerRows := queryInts(t, tx, sel, 2)
		if len(innerRows) != 1 || innerRows[0] != 2 || n != 3 {
			t.Errorf("inner query while the outer one's rows are open: %v, count %d", innerRows, n)
		}
		got = append(got, a)
	}
	if err := outer.Err(); err != nil {
		t.Fatal(err)
	}
	outer.Close()
	if _, err := tx.ExecContext(ctx, insert, 9); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0] != 1 || got[1] != 2 {
		t.Errorf("outer rows %v, want [1 2]", got)
	}
	conn, err = db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.Raw(func(c any) error { sc = c.(*stmtConn); return nil })
	if sc.stmts[insert] != cached {
		t.Error("the INSERT was prepared again")
	}
	if s := sc.stmts[sel]; s == nil || s.busy {
		t.Errorf("the SELECT: %+v, want it prepared and idle", s)
	}
}

// queryInts runs query in tx and returns its rows of one integer.
func queryInts(t *testing.T, tx *sql.Tx, query string, args ...any) []int {
	t.Helper()
	rows, err := tx.QueryContext(context.Background(), query, args...)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []int
	for rows.Next() {
		var n int
		if err := rows.Scan(&n); err != nil {
			t.Fatal(err)
		}
		out = append(out, n)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}
