package sqlstore

import (
	"cmp"
	"context"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"slices"
	"strconv"
	"time"
)

// Migration is one versioned schema change.
type Migration struct {
	Version int64
	Name    string
	SQL     string
}

var migrationFile = regexp.MustCompile(`^(\d+)_([a-z0-9_]+)\.sql$`)

// LoadMigrations reads the migrations in dir of fsys, one file each, named
// NNNN_what_it_does.sql (the number is the version), sorted by version.
func LoadMigrations(fsys fs.FS, dir string) ([]Migration, error) {
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil, err
	}
	var ms []Migration
	for _, e := range entries {
		m := migrationFile.FindStringSubmatch(e.Name())
		if e.IsDir() || m == nil {
			return nil, fmt.Errorf("store: migration file %q is not named NNNN_name.sql", e.Name())
		}
		version, err := strconv.ParseInt(m[1], 10, 64)
		if err != nil {
			return nil, fmt.Errorf("store: migration file %q: %w", e.Name(), err)
		}
		text, err := fs.ReadFile(fsys, path.Join(dir, e.Name()))
		if err != nil {
			return nil, err
		}
		ms = append(ms, Migration{Version: version, Name: m[2], SQL: string(text)})
	}
	slices.SortFunc(ms, func(a, b Migration) int { return cmp.Compare(a.Version, b.Version) })
	for i := 1; i < len(ms); i++ {
		if ms[i].Version == ms[i-1].Version {
			return nil, fmt.Errorf("store: two migrations with version %d", ms[i].Version)
		}
	}
	return ms, nil
}

// Migrate applies, in version order, every migration not yet recorded in
// the schema_migrations table, all in one transaction. Processes that
// migrate the same database at once are serialised (the dialect's
// MigrationLock, or SQLite's BEGIN IMMEDIATE), so the second one finds the
// work done. Versions recorded in the database but unknown to this binary
// (a newer binary migrated) are left alone, as goose does.
//
// Because everything runs in one transaction, a migration must not use
// statements PostgreSQL refuses inside one (CREATE INDEX CONCURRENTLY).
func Migrate(ctx context.Context, db DB, d *Dialect, migrations []Migration) error {
	s := New(db, d)
	return s.inTx(ctx, func(q *queries) error {
		if d.MigrationLock != "" {
			if _, err := q.exec(ctx, d.MigrationLock); err != nil {
				return fmt.Errorf("store: take the migration lock: %w", err)
			}
		}
		if _, err := q.exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
			version    BIGINT PRIMARY KEY,
			name       TEXT NOT NULL,
			applied_at BIGINT NOT NULL
		)`); err != nil {
			return fmt.Errorf("store: create schema_migrations: %w", err)
		}
		applied, err := queryAll(ctx, q, func(r scanner) (int64, error) {
			var v int64
			err := r.Scan(&v)
			return v, err
		}, `SELECT version FROM schema_migrations`)
		if err != nil {
			return fmt.Errorf("store: read schema_migrations: %w", err)
		}
		for _, m := range migrations {
			if slices.Contains(applied, m.Version) {
				continue
			}
			// Straight to the driver: migration text is not rebound, so a ?
			// in it (a comment, say) stays as written.
			if _, err := q.conn.Exec(ctx, m.SQL); err != nil {
				return fmt.Errorf("store: migration %d_%s on %s: %w", m.Version, m.Name, d.Name, err)
			}
			if _, err := q.exec(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)`,
				m.Version, m.Name, time.Now().UnixMilli()); err != nil {
				return fmt.Errorf("store: record migration %d_%s: %w", m.Version, m.Name, err)
			}
		}
		return nil
	})
}
