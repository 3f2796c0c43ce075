package sqlite

import (
	"context"
	"database/sql/driver"
	"strings"
)

// stmtConn is a connection that keeps the statements run on it prepared.
//
// SQLite compiles a statement each time it is prepared, and in this pure-Go
// build compiling is slow: the profile of a small job showed the parser
// taking 15% of the server's CPU, most of it for River's queries (River's
// driver runs every query text afresh: the fetch of a queue entry, its
// insert, its completion, the polls) and for the statements of the store's
// transactions. Everything runs on the store's one connection, so a cache
// at the connection prepares each distinct text once, for every user.
//
// database/sql uses a connection from one goroutine at a time. A cached
// statement whose rows are still open (a query within a transaction while
// another query's rows are read) is busy: the second use runs unprepared.
// The cache is bounded; past the bound an arbitrary idle statement makes
// room. Only single reads and writes of rows are cached (scripts and schema
// changes run unprepared, as before).
type stmtConn struct {
	baseConn
	stmts map[string]*cachedStmt
}

// baseConn is what database/sql uses of modernc.org/sqlite's connection.
type baseConn interface {
	driver.Conn
	driver.ConnBeginTx
	driver.ConnPrepareContext
	driver.ExecerContext
	driver.QueryerContext
	driver.Pinger
	driver.SessionResetter
	driver.Validator
}

type cachedStmt struct {
	stmt interface {
		driver.Stmt
		driver.StmtExecContext
		driver.StmtQueryContext
	}
	busy bool
}

// maxCachedStatements bounds a connection's prepared statements.
const maxCachedStatements = 256

// connector opens the store's connections, each a stmtConn.
type connector struct {
	dsn    string
	driver driver.Driver
}

func (c connector) Connect(context.Context) (driver.Conn, error) {
	conn, err := c.driver.Open(c.dsn)
	if err != nil {
		return nil, err
	}
	if bc, ok := conn.(baseConn); ok {
		return &stmtConn{baseConn: bc, stmts: map[string]*cachedStmt{}}, nil
	}
	return conn, nil
}

func (c connector) Driver() driver.Driver { return c.driver }

// cacheable reports whether query is one statement reading or writing rows
// (after any leading comments, as River's queries have).
func cacheable(query string) bool {
	q := strings.TrimSpace(query)
	for strings.HasPrefix(q, "--") {
		_, rest, ok := strings.Cut(q, "\n")
		if !ok {
			return false
		}
		q = strings.TrimSpace(rest)
	}
	end := strings.IndexAny(q, " \t\r\n(")
	if end < 0 {
		return false
	}
	switch strings.ToUpper(q[:end]) {
	case "SELECT", "INSERT", "UPDATE", "DELETE", "WITH", "REPLACE":
	default:
		return false
	}
	// A semicolon before the end may separate statements: leave such
	// texts to run as scripts.
	return !strings.Contains(strings.TrimRight(q, "; \t\r\n"), ";")
}

// cached returns query's prepared statement, marking it busy; nil to run
// it unprepared.
func (c *stmtConn) cached(ctx context.Context, query string) *cachedStmt {
	if s, ok := c.stmts[query]; ok {
		if s.busy {
			return nil
		}
		s.busy = true
		return s
	}
	if !cacheable(query) {
		return nil
	}
	if len(c.stmts) >= maxCachedStatements {
		for q, s := range c.stmts {
			if !s.busy {
				s.stmt.Close()
				delete(c.stmts, q)
				break
			}
		}
		if len(c.stmts) >= maxCachedStatements {
			return nil
		}
	}
	ds, err := c.baseConn.PrepareContext(ctx, query)
	if err != nil {
		return nil // run unprepared: the error, if it is one, shows there
	}
	st, ok := ds.(interface {
		driver.Stmt
		driver.StmtExecContext
		driver.StmtQueryContext
	})
	if !ok {
		ds.Close()
		return nil
	}
	s := &cachedStmt{stmt: st, busy: true}
	c.stmts[query] = s
	return s
}

func (c *stmtConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	s := c.cached(ctx, query)
	if s == nil {
		return c.baseConn.ExecContext(ctx, query, args)
	}
	defer func() { s.busy = false }()
	return s.stmt.ExecContext(ctx, args)
}

func (c *stmtConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	s := c.cached(ctx, query)
	if s == nil {
		return c.baseConn.QueryContext(ctx, query, args)
	}
	rows, err := s.stmt.QueryContext(ctx, args)
	if err != nil {
		s.busy = false
		return nil, err
	}
	if full, ok := rows.(fullRows); ok {
		return &cachedRows{fullRows: full, s: s}, nil
	}
	return &plainCachedRows{Rows: rows, s: s}, nil
}

func (c *stmtConn) Close() error {
	for _, s := range c.stmts {
		s.stmt.Close()
	}
	c.stmts = nil
	return c.baseConn.Close()
}

// fullRows is modernc.org/sqlite's rows, with its column types.
type fullRows interface {
	driver.Rows
	driver.RowsColumnTypeDatabaseTypeName
	driver.RowsColumnTypeLength
	driver.RowsColumnTypeNullable
	driver.RowsColumnTypePrecisionScale
	driver.RowsColumnTypeScanType
}

// cachedRows frees its statement for the next use when closed.
type cachedRows struct {
	fullRows
	s *cachedStmt
}

func (r *cachedRows) Close() error {
	err := r.fullRows.Close()
	r.s.busy = false
	return err
}

type plainCachedRows struct {
	driver.Rows
	s *cachedStmt
}

func (r *plainCachedRows) Close() error {
	err := r.Rows.Close()
	r.s.busy = false
	return err
}
