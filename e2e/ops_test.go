package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dataexchange"
	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wharf-dev/wharf/internal/pgtest"
)

// runWharf runs the wharf binary with args in dir (a temp dir when empty)
// and the base environment plus env, and returns what it printed.
func runWharf(t *testing.T, dir string, env []string, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, wharfBin, args...)
	if dir == "" {
		dir = t.TempDir()
	}
	cmd.Dir = dir
	cmd.Env = append(baseEnv(), env...)
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err = cmd.Run()
	require.NoError(t, ctx.Err(), "wharf %s did not end within a minute", strings.Join(args, " "))
	return o.String(), e.String(), err
}

// TestServeChecksBeforeSideEffects: a bad flag or variable makes `wharf
// serve` fail before it creates its data dir, migrates, creates or prints
// the root key or starts anything, with a message that names the mistake.
func TestServeChecksBeforeSideEffects(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name string
		args []string
		env  []string
		want string
	}{
		{"bare port", []string{"--listen", "8686"}, nil, "127.0.0.1:8686"},
		{"bare port from the environment", nil, []string{"WHARF_LISTEN=8686"}, "127.0.0.1:8686"},
		{"port out of range", []string{"--listen", "127.0.0.1:99999"}, nil, "port"},
		{"log level", []string{"--log-level", "loud"}, nil, "--log-level"},
		{"log format", []string{"--log-format", "xml"}, nil, "--log-format"},
		{"database", []string{"--database", "mysql://db/wharf"}, nil, "--database"},
		{"asset store", []string{"--asset-store", "ftp://host/dir"}, nil, "--asset-store"},
		{"public URL", []string{"--public-url", "ftp://host"}, nil, "--public-url"},
		{"job concurrency", []string{"--job-concurrency", "NOT_A_TYPE=1"}, nil, "--job-concurrency"},
		{"upload expiry", []string{"--upload-url-expiry", "0s"}, nil, "--upload-url-expiry"},
		{"download expiry", nil, []string{"WHARF_DOWNLOAD_URL_EXPIRY=200h"}, "--download-url-expiry"},
		{"parallelism", nil, []string{"WHARF_JOB_PARALLELISM=0"}, "--job-parallelism"},
		{"api endpoint", []string{"--api-endpoint", "no-equals-sign"}, nil, "--api-endpoint"},
		{"region", []string{"--region", "US East"}, nil, "--region"},
		{"unparsable variable", nil, []string{"WHARF_SHUTDOWN_TIMEOUT=soon"}, "WHARF_SHUTDOWN_TIMEOUT"},
		{"root account id", nil, []string{"WHARF_ROOT_ACCOUNT_ID=abc"}, "12 digits"},
		{"half a root key", nil, []string{"WHARF_ROOT_ACCESS_KEY_ID=AKIAHALFAKEY"}, "WHARF_ROOT_SECRET_ACCESS_KEY"},
		{"master key", nil, []string{"WHARF_MASTER_KEY=too-short"}, "WHARF_MASTER_KEY"},
		{"path style", nil, []string{"WHARF_S3_FORCE_PATH_STYLE=maybe"}, "WHARF_S3_FORCE_PATH_STYLE"},
	} {
		t.Run(c.name, func(t *testing.T) {
			dataDir := filepath.Join(t.TempDir(), "wharf-data")
			args := append([]string{"serve", "--data-dir", dataDir}, c.args...)
			if !hasFlag(args, "--listen") && !hasFlag(c.env, "WHARF_LISTEN") {
				args = append(args, "--listen", "127.0.0.1:0")
			}
			stdout, stderr, err := runWharf(t, "", c.env, args...)
			require.Error(t, err, "wharf %s must fail\nstderr:\n%s", strings.Join(args, " "), stderr)
			assert.Contains(t, stderr, c.want, "the failure must name the mistake")
			assert.Empty(t, stdout, "nothing printed (no root key)")
			assert.NotContains(t, stderr, "store ready", "the store was opened")
			_, statErr := os.Stat(dataDir)
			assert.True(t, os.IsNotExist(statErr), "the data dir was created: %v", statErr)
		})
	}
}

func hasFlag(args []string, flag string) bool {
	for _, a := range args {
		if a == flag || strings.HasPrefix(a, flag+"=") {
			return true
		}
	}
	return false
}

// TestServeLocksSQLiteDataDir: a second `wharf serve` on a running server's
// SQLite data dir is refused at once, whatever its port, and changes
// nothing; admin commands still work beside the server, and a server may
// start on the dir once the first has stopped.
func TestServeLocksSQLiteDataDir(t *testing.T) {
	t.Parallel()
	s := startServer(t, backends[0], serverOptions{NoRootEnv: true})
	for _, listen := range []string{"127.0.0.1:0", strings.TrimPrefix(s.URL, "http://")} {
		start := time.Now()
		stdout, stderr, err := runWharf(t, "", nil, "serve", "--listen", listen, "--data-dir", s.DataDir)
		require.Error(t, err, "a second wharf serve on %s must be refused\nstderr:\n%s", s.DataDir, stderr)
		assert.Less(t, time.Since(start), 10*time.Second, "refused at once")
		assert.Contains(t, stderr, "in use by process", "the refusal says why")
		assert.Contains(t, stderr, s.DataDir)
		assert.NotContains(t, stderr, "address already in use", "the lock is checked before the port")
		assert.Empty(t, stdout)
	}
	// The first server is unharmed, and admin commands work beside it.
	acct := s.createAccount(t, "")
	_, err := s.client(acct).ListDataSets(context.Background(), &dataexchange.ListDataSetsInput{})
	require.NoError(t, err)

	s.restart(t, backends[0], serverOptions{NoRootEnv: true})
}

// TestAdminCommandsNeedWharfData: the admin commands refuse a data dir (or
// a PostgreSQL database) that holds no Wharf data, creating nothing; only
// serve and migrate create a store.
func TestAdminCommandsNeedWharfData(t *testing.T) {
	t.Parallel()
	commands := [][]string{
		{"accounts", "create"},
		{"keys", "create", "--account", "123456789012"},
		{"audit"},
		{"accounts", "s3", "show", "--account", "123456789012"},
		{"accounts", "webhook", "set", "--account", "123456789012", "--url", "http://127.0.0.1:1/hook"},
	}
	t.Run("default data dir", func(t *testing.T) {
		for _, args := range commands {
			dir := t.TempDir()
			_, stderr, err := runWharf(t, dir, nil, args...)
			require.Error(t, err, "wharf %s", strings.Join(args, " "))
			assert.Contains(t, stderr, "no Wharf data in ./wharf-data: pass --data-dir or --database")
			_, statErr := os.Stat(filepath.Join(dir, "wharf-data"))
			assert.True(t, os.IsNotExist(statErr), "wharf %s created ./wharf-data", strings.Join(args, " "))
		}
	})
	t.Run("named data dir", func(t *testing.T) {
		dataDir := filepath.Join(t.TempDir(), "empty")
		require.NoError(t, os.Mkdir(dataDir, 0o700))
		for _, args := range commands {
			_, stderr, err := runWharf(t, "", nil, append(args, "--data-dir", dataDir)...)
			require.Error(t, err)
			assert.Contains(t, stderr, "no Wharf data in "+dataDir+": pass --data-dir or --database")
		}
		entries, err := os.ReadDir(dataDir)
		require.NoError(t, err)
		assert.Empty(t, entries, "the admin commands wrote into the data dir")
	})
	t.Run("postgres never migrated", func(t *testing.T) {
		url := pgtest.URL(t)
		dataDir := t.TempDir()
		for _, args := range commands {
			_, stderr, err := runWharf(t, "", nil, append(args, "--database", url, "--data-dir", dataDir)...)
			require.Error(t, err)
			assert.Contains(t, stderr, "no Wharf data in the database")
		}
		conn, err := pgx.Connect(context.Background(), url)
		require.NoError(t, err)
		defer conn.Close(context.Background())
		var tables int
		require.NoError(t, conn.QueryRow(context.Background(),
			`SELECT count(*) FROM information_schema.tables WHERE table_schema = current_schema()`).Scan(&tables))
		assert.Zero(t, tables, "the admin commands created tables")
	})
	t.Run("migrated, with variables", func(t *testing.T) {
		dataDir := filepath.Join(t.TempDir(), "d")
		_, stderr, err := runWharf(t, "", []string{"WHARF_DATA_DIR=" + dataDir}, "migrate")
		require.NoError(t, err, stderr)
		env := []string{"WHARF_DATA_DIR=" + dataDir}
		// Every flag from its variable (WHARF_ID, WHARF_ACCOUNT, WHARF_LIMIT).
		stdout, stderr, err := runWharf(t, "", append(env, "WHARF_ID=210987654321"), "accounts", "create")
		require.NoError(t, err, stderr)
		assert.Contains(t, stdout, `"AccountId": "210987654321"`)
		stdout, stderr, err = runWharf(t, "", append(env, "WHARF_ACCOUNT=210987654321"), "keys", "create")
		require.NoError(t, err, stderr)
		var key struct{ AccessKey adminAccessKey }
		require.NoError(t, json.Unmarshal([]byte(stdout), &key))
		checkAdminKey(t, key.AccessKey, "210987654321")
		_, stderr, err = runWharf(t, "", append(env, "WHARF_LIMIT=0"), "audit")
		require.Error(t, err, "WHARF_LIMIT=0 must reach --limit")
		assert.Contains(t, stderr, "--limit must be at least 1")

		// A data dir whose master key is gone is refused too: a new key
		// would seal secrets no server can open.
		require.NoError(t, os.Remove(filepath.Join(dataDir, "master.key")))
		_, stderr, err = runWharf(t, "", append(env, "WHARF_ACCOUNT=210987654321"), "keys", "create")
		require.Error(t, err)
		assert.Contains(t, stderr, "no master key")
		_, statErr := os.Stat(filepath.Join(dataDir, "master.key"))
		assert.True(t, os.IsNotExist(statErr), "keys create made a new master key")
	})
}

// TestVersion: `wharf version` and `wharf --version` print the build's
// version line.
func TestVersion(t *testing.T) {
	t.Parallel()
	a, _, err := runWharf(t, "", nil, "version")
	require.NoError(t, err)
	b, _, err := runWharf(t, "", nil, "--version")
	require.NoError(t, err)
	assert.Equal(t, a, b)
	// The e2e binary is built with -buildvcs=false: no revision.
	assert.Regexp(t, `^wharf \S+ \(revision unknown\) go1\.\S+ \w+/\w+\n$`, a)
}

// TestServeLogs: the server logs the S3 endpoint and the asset store it
// uses when it starts, and the runs it waits for when it stops.
func TestServeLogs(t *testing.T) {
	t.Parallel()
	s := startServer(t, backends[0], serverOptions{Env: []string{
		"AWS_ENDPOINT_URL_S3=http://127.0.0.1:1", "AWS_REGION=eu-west-3", "AWS_EC2_METADATA_DISABLED=true",
	}})
	logs := s.stderr.String()
	assert.Contains(t, logs, "s3_endpoint=http://127.0.0.1:1 s3_region=eu-west-3")
	assert.Contains(t, logs, "asset_store=file://"+filepath.Join(s.DataDir, "assets"))
	s.stop()
	assert.Contains(t, s.stderr.String(), `msg="shutting down" timeout=30s runs_in_progress=0`)
}
