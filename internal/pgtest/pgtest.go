// Package pgtest gives each test a fresh, empty PostgreSQL database.
//
// With WHARF_TEST_POSTGRES_URL set (postgres://superuser@host:port/db), the
// databases are created on that server. Otherwise pgtest starts a throwaway
// server once per test binary from the PostgreSQL binaries under
// /usr/lib/postgresql/*/bin (Debian's postgresql package) or on PATH; when
// the tests run as root it runs them as the postgres user, since PostgreSQL
// refuses to run as root. A test binary that uses URL should call Main from
// its TestMain to stop that server at the end; a watchdog process stops it
// anyway if the binary dies first.
//
// Without a server, URL skips the test, or fails it when
// WHARF_TEST_REQUIRE_POSTGRES=1.
package pgtest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/wharf-dev/wharf/internal/proctest"
)

const (
	// EnvURL names an existing server to create the test databases on.
	EnvURL = "WHARF_TEST_POSTGRES_URL"
	// EnvRequire, set to 1, turns "no PostgreSQL" from a skip into a failure.
	EnvRequire = "WHARF_TEST_REQUIRE_POSTGRES"
)

// PooledURL is URL with the client's pool bounded to maxConns, so that many
// parallel tests on a large machine stay under the server's max_connections.
func PooledURL(t testing.TB, maxConns int) string {
	t.Helper()
	u, err := url.Parse(URL(t))
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	q := u.Query()
	q.Set("pool_max_conns", strconv.Itoa(maxConns))
	u.RawQuery = q.Encode()
	return u.String()
}

// URL creates an empty database for t and returns its URL. The database is
// dropped when t ends (after t's own cleanups, so close pools in those).
func URL(t testing.TB) string {
	t.Helper()
	admin, external, err := adminURL()
	if err != nil {
		if external || os.Getenv(EnvRequire) == "1" {
			t.Fatalf("pgtest: no PostgreSQL: %v", err)
		}
		t.Skipf("pgtest: no PostgreSQL, skipping (set %s=1 to fail instead): %v", EnvRequire, err)
	}
	dbURL, err := withDatabase(admin, newDatabaseName())
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	name := strings.TrimPrefix(dbURL.Path, "/")

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	// template0 rather than template1: creating from template1 fails while
	// anyone else is connected to it.
	if err := adminExec(ctx, admin, "CREATE DATABASE "+name+" TEMPLATE template0"); err != nil {
		t.Fatalf("pgtest: create database: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		// FORCE ends connections the test left open.
		if err := adminExec(ctx, admin, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			t.Errorf("pgtest: drop database %s: %v", name, err)
		}
	})
	return dbURL.String()
}

// Main runs the tests and then stops the server pgtest started, if any. Call
// it from TestMain:
//
//	func TestMain(m *testing.M) { pgtest.Main(m) }
func Main(m *testing.M) {
	code := m.Run()
	stopLocal()
	os.Exit(code)
}

// Stop stops the server pgtest started, if any, for a TestMain that can't
// call Main because it also needs another helper's (s3test's) clean-up. Call
// it after m.Run.
func Stop() { stopLocal() }

var (
	startOnce sync.Once
	local     *server
	localErr  error
)

// adminURL returns the URL of a superuser connection to a server, and
// whether the server was named by EnvURL.
func adminURL() (u string, external bool, err error) {
	if u := os.Getenv(EnvURL); u != "" {
		return u, true, nil
	}
	startOnce.Do(func() { local, localErr = startLocal() })
	if localErr != nil {
		return "", false, localErr
	}
	return local.url, false, nil
}

func newDatabaseName() string {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err)
	}
	return "wharf_test_" + hex.EncodeToString(b[:])
}

func withDatabase(serverURL, name string) (*url.URL, error) {
	u, err := url.Parse(serverURL)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		return nil, fmt.Errorf("%s must be a postgres:// URL, got %q", EnvURL, serverURL)
	}
	u.Path = "/" + name
	u.RawPath = ""
	return u, nil
}

func adminExec(ctx context.Context, serverURL, statement string) error {
	conn, err := pgx.Connect(ctx, serverURL)
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	_, err = conn.Exec(ctx, statement)
	return err
}

// server is a PostgreSQL server pgtest started.
type server struct {
	url     string
	dir     string   // holds the data directory, the socket and the log
	pgCtl   []string // pg_ctl, prefixed by runuser when running as root
	dataDir string
}

func startLocal() (*server, error) {
	binDir, err := findBinDir()
	if err != nil {
		return nil, err
	}
	var asPostgres []string
	dir, err := os.MkdirTemp("", "wharf-pgtest-")
	if err != nil {
		return nil, err
	}
	if os.Geteuid() == 0 {
		asPostgres, err = postgresUser(dir)
		if err != nil {
			os.RemoveAll(dir)
			return nil, err
		}
	}
	s := &server{
		dir:     dir,
		dataDir: filepath.Join(dir, "data"),
		pgCtl:   append(slices.Clone(asPostgres), filepath.Join(binDir, "pg_ctl")),
	}
	initdb := append(slices.Clone(asPostgres), filepath.Join(binDir, "initdb"),
		"-D", s.dataDir, "--auth=trust", "--username=postgres", "--encoding=UTF8", "--locale=C", "--no-sync")
	if out, err := run(initdb...); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("initdb: %v\n%s", err, out)
	}
	port, err := proctest.FreePort()
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	// Durability off: the data is thrown away anyway. Many connections:
	// parallel tests each open a pool.
	options := fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off "+
		"-c full_page_writes=off -c max_connections=500", port, dir)
	logFile := filepath.Join(dir, "server.log")
	if out, err := run(append(slices.Clone(s.pgCtl), "-D", s.dataDir, "-l", logFile, "-w", "-t", "60", "-o", options, "start")...); err != nil {
		log, _ := os.ReadFile(logFile)
		os.RemoveAll(dir)
		return nil, fmt.Errorf("pg_ctl start: %v\n%s\n%s", err, out, log)
	}
	s.startWatchdog()
	s.url = fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", port)
	return s, nil
}

// findBinDir finds the directory of initdb and pg_ctl: the newest
// /usr/lib/postgresql/<version>/bin, else PATH.
func findBinDir() (string, error) {
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	slices.SortFunc(dirs, func(a, b string) int { return versionOf(b) - versionOf(a) })
	for _, d := range dirs {
		if isExecutable(filepath.Join(d, "initdb")) && isExecutable(filepath.Join(d, "pg_ctl")) {
			return d, nil
		}
	}
	if initdb, err := exec.LookPath("initdb"); err == nil {
		d := filepath.Dir(initdb)
		if isExecutable(filepath.Join(d, "pg_ctl")) {
			return d, nil
		}
	}
	return "", errors.New("initdb and pg_ctl not found under /usr/lib/postgresql/*/bin or on PATH " +
		"(install Debian's postgresql package, or set " + EnvURL + ")")
}

func versionOf(binDir string) int {
	v, _ := strconv.Atoi(filepath.Base(filepath.Dir(binDir)))
	return v
}

func isExecutable(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0
}

// postgresUser hands dir to the postgres user and returns the command prefix
// that runs a program as that user.
func postgresUser(dir string) ([]string, error) {
	u, err := user.Lookup("postgres")
	if err != nil {
		return nil, fmt.Errorf("running as root, PostgreSQL needs a postgres user to run as: %v", err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	if err := os.Chown(dir, uid, gid); err != nil {
		return nil, err
	}
	runuser, err := exec.LookPath("runuser")
	if err != nil {
		return nil, fmt.Errorf("running as root, need runuser to run PostgreSQL as postgres: %v", err)
	}
	return []string{runuser, "-u", "postgres", "--"}, nil
}

func run(argv ...string) ([]byte, error) {
	cmd := exec.Command(argv[0], argv[1:]...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	// The server pg_ctl leaves running must not hold our pipe open.
	cmd.WaitDelay = 10 * time.Second
	err := cmd.Run()
	return out.Bytes(), err
}

// startWatchdog starts a process that stops the server and removes its
// directory once this test binary has exited, however it exits (a test
// timeout or a crash skips Main's cleanup).
func (s *server) startWatchdog() {
	const script = `pid=$1; dir=$2; shift 2
while kill -0 "$pid" 2>/dev/null; do sleep 1; done
"$@" >/dev/null 2>&1
rm -rf "$dir"`
	args := append([]string{"-c", script, "wharf-pgtest-watchdog", strconv.Itoa(os.Getpid()), s.dir},
		append(slices.Clone(s.pgCtl), "-D", s.dataDir, "-m", "immediate", "stop")...)
	cmd := exec.Command("/bin/sh", args...)
	// Its own session, so a Ctrl-C to the test's process group leaves it
	// to clean up.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err == nil {
		_ = cmd.Process.Release()
	}
}

func stopLocal() {
	if local == nil {
		return
	}
	if out, err := run(append(slices.Clone(local.pgCtl), "-D", local.dataDir, "-m", "immediate", "-w", "stop")...); err != nil {
		fmt.Fprintf(os.Stderr, "pgtest: stop PostgreSQL: %v\n%s", err, out)
	}
	os.RemoveAll(local.dir)
	local = nil
}
