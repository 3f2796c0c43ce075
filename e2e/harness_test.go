package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dataexchange"

	"github.com/wharf-dev/wharf/internal/pgtest"
	"github.com/wharf-dev/wharf/internal/proctest"
	"github.com/wharf-dev/wharf/internal/resource"
	"github.com/wharf-dev/wharf/internal/s3test"
	"github.com/wharf-dev/wharf/internal/store"
	"github.com/wharf-dev/wharf/internal/store/postgres"
	"github.com/wharf-dev/wharf/internal/store/sqlite"
)

// wharfBin is the wharf binary TestMain builds once for the whole run.
var wharfBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "wharf-e2e-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		os.Exit(2)
	}
	wharfBin = filepath.Join(dir, "wharf")
	if err := buildWharf(wharfBin); err != nil {
		os.RemoveAll(dir)
		fmt.Fprintln(os.Stderr, "e2e: build wharf:", err)
		os.Exit(2)
	}
	// pgtest.Main runs the tests, stops the throwaway PostgreSQL server it
	// may have started, and exits; a watchdog removes the binary once this
	// process has gone, however it ends (os.Exit skips deferred calls, and
	// a test timeout skips everything).
	removeWhenGone(dir)
	code := m.Run()
	pgtest.Stop()
	s3test.Stop()
	os.Exit(code)
}

// s3Env starts (or reuses) the test binary's MinIO and returns it with the
// environment that points a wharf process's ambient S3 configuration at it,
// for serverOptions.Env: the root account's jobs and an s3:// asset store
// then use it.
func s3Env(t *testing.T) (*s3test.Server, []string) {
	t.Helper()
	srv := s3test.Start(t)
	return srv, []string{
		"AWS_ENDPOINT_URL_S3=" + srv.URL,
		"AWS_ACCESS_KEY_ID=" + srv.AccessKeyID,
		"AWS_SECRET_ACCESS_KEY=" + srv.SecretAccessKey,
		"AWS_REGION=" + srv.Region,
		"AWS_EC2_METADATA_DISABLED=true",
	}
}

// removeWhenGone starts a process that deletes dir once this process has
// exited.
func removeWhenGone(dir string) {
	const script = `while kill -0 "$1" 2>/dev/null; do sleep 1; done; rm -rf "$2"`
	cmd := exec.Command("/bin/sh", "-c", script, "wharf-e2e-cleanup", strconv.Itoa(os.Getpid()), dir)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err == nil {
		_ = cmd.Process.Release()
	}
}

func goTool() string {
	if p, err := exec.LookPath("go"); err == nil {
		return p
	}
	if root := os.Getenv("GOROOT"); root != "" {
		return filepath.Join(root, "bin", "go")
	}
	return "/usr/local/go/bin/go"
}

func buildWharf(out string, flags ...string) error {
	// -buildvcs=false: the tests need no VCS stamp, and stamping fails in
	// a checkout git refuses to read (another owner) or where git is absent.
	args := append([]string{"build", "-buildvcs=false", "-o", out}, flags...)
	cmd := exec.Command(goTool(), append(args, "github.com/wharf-dev/wharf/cmd/wharf")...)
	cmd.Stdout = os.Stderr
	cmd.Stderr = os.Stderr
	return cmd.Run()
}

// backend is a metadata store a server can run on.
type backend struct {
	name string
	// database returns the --database value for a fresh store: "" for
	// SQLite under the data dir, a PostgreSQL URL otherwise.
	database func(t *testing.T) string
}

var backends = []backend{
	{name: "sqlite", database: func(*testing.T) string { return "" }},
	{name: "postgres", database: func(t *testing.T) string { return pgtest.URL(t) }},
}

// eachBackend runs fn as a parallel subtest per backend.
func eachBackend(t *testing.T, fn func(t *testing.T, b backend)) {
	t.Helper()
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			fn(t, b)
		})
	}
}

// creds are an account's access key.
type creds struct {
	AccountID       string
	AccessKeyID     string
	SecretAccessKey string
}

// Fixed root credentials the servers start with (unless a test asks for
// generated ones).
var rootCreds = creds{
	AccountID:       "123456789012",
	AccessKeyID:     "AKIAWHARFE2EROOT0001",
	SecretAccessKey: "e2e-root-secret/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
}

const region = "us-east-1"

// server is a running `wharf serve`.
type server struct {
	t        *testing.T
	backend  string
	URL      string // http://127.0.0.1:port
	DataDir  string
	Database string // "" means SQLite under DataDir
	Region   string
	Root     creds // zero when the server generated its own

	cmd    *exec.Cmd
	stdout *proctest.Buffer
	stderr *proctest.Buffer
	exited chan struct{}
	err    error // Wait's result, valid once exited is closed

	stopOnce sync.Once
	// openMu serialises the processes and connections this test opens on
	// the store (admin commands, openStore). Concurrent opens of one SQLite
	// file are the store's own test's business (internal/store/sqlite);
	// here they would only make the e2e tests flaky.
	openMu sync.Mutex
}

type serverOptions struct {
	// DataDir and Database reuse an existing store (a restart); by default
	// the server gets a fresh temp dir and the backend's fresh database.
	DataDir  string
	Database *string
	// NoRootEnv starts the server without WHARF_ROOT_* so that it
	// generates root credentials on first start.
	NoRootEnv bool
	Args      []string
	Env       []string
	// Bin is the wharf binary to run (crashpointBinary's, say); wharfBin
	// when empty.
	Bin string
	// Port is the port to listen on (a stopped server's, so that its
	// clients find the new one); a free one when 0.
	Port int
}

// baseEnv is the environment for wharf processes: this process's, without
// any WHARF_ configuration that could leak in from the developer's shell.
func baseEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "WHARF_") && !strings.HasPrefix(kv, "WHARF_TEST_") {
			continue
		}
		env = append(env, kv)
	}
	return env
}

// startServer starts `wharf serve` for backend b and waits until /readyz
// answers 200. Cleanup stops it with SIGTERM and checks that it exits 0.
func startServer(t *testing.T, b backend, opts ...serverOptions) *server {
	t.Helper()
	var o serverOptions
	if len(opts) > 0 {
		o = opts[0]
	}
	s := &server{t: t, backend: b.name, Region: region}
	if o.DataDir != "" {
		s.DataDir = o.DataDir
	} else {
		s.DataDir = filepath.Join(t.TempDir(), "wharf-data")
	}
	if o.Database != nil {
		s.Database = *o.Database
	} else {
		s.Database = b.database(t)
	}
	if !o.NoRootEnv {
		s.Root = rootCreds
	}

	// Another process can take the port between our probe and wharf's
	// listen; retry a few times when the server dies before it is ready.
	var lastErr error
	for attempt := 0; attempt < 3; attempt++ {
		port := o.Port
		if port == 0 {
			port = freePort(t)
		}
		lastErr = s.launch(t, port, o)
		if lastErr == nil {
			t.Cleanup(s.stop)
			return s
		}
		if !strings.Contains(s.stderr.String(), "address already in use") {
			break
		}
	}
	t.Fatalf("wharf serve (%s) did not become ready: %v\nstdout:\n%s\nstderr:\n%s",
		b.name, lastErr, s.stdout.String(), s.stderr.String())
	return nil
}

func (s *server) launch(t *testing.T, port int, o serverOptions) error {
	listen := fmt.Sprintf("127.0.0.1:%d", port)
	s.URL = "http://" + listen
	args := []string{"serve", "--listen", listen, "--data-dir", s.DataDir, "--region", s.Region}
	if s.Database != "" {
		args = append(args, "--database", s.Database)
	}
	args = append(args, o.Args...)
	bin := wharfBin
	if o.Bin != "" {
		bin = o.Bin
	}
	cmd := exec.Command(bin, args...)
	cmd.Env = baseEnv()
	if !o.NoRootEnv {
		cmd.Env = append(cmd.Env,
			"WHARF_ROOT_ACCOUNT_ID="+s.Root.AccountID,
			"WHARF_ROOT_ACCESS_KEY_ID="+s.Root.AccessKeyID,
			"WHARF_ROOT_SECRET_ACCESS_KEY="+s.Root.SecretAccessKey,
		)
	}
	cmd.Env = append(cmd.Env, o.Env...)
	s.stdout, s.stderr = &proctest.Buffer{}, &proctest.Buffer{}
	cmd.Stdout, cmd.Stderr = s.stdout, s.stderr
	if err := cmd.Start(); err != nil {
		return err
	}
	s.cmd = cmd
	s.exited = make(chan struct{})
	go func() {
		s.err = cmd.Wait()
		close(s.exited)
	}()

	deadline := time.Now().Add(60 * time.Second)
	client := &http.Client{Timeout: 2 * time.Second}
	for time.Now().Before(deadline) {
		select {
		case <-s.exited:
			return fmt.Errorf("wharf serve exited before it was ready: %v", s.err)
		default:
		}
		// Wait for our server's "serving" log line (it names the address)
		// before probing, so that a parallel test's server that grabbed the
		// port can't answer for it.
		if !strings.Contains(s.stderr.String(), listen) {
			time.Sleep(20 * time.Millisecond)
			continue
		}
		resp, err := client.Get(s.URL + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	_ = cmd.Process.Kill()
	<-s.exited
	return fmt.Errorf("timed out waiting for a log line naming %s and for /readyz to answer 200", listen)
}

// stop sends SIGTERM and checks for a clean exit (status 0). Only the
// first call does anything.
func (s *server) stop() {
	s.stopOnce.Do(s.doStop)
}

func (s *server) doStop() {
	t := s.t
	select {
	case <-s.exited:
		t.Errorf("wharf serve (%s) exited by itself: %v\nstderr:\n%s", s.backend, s.err, s.stderr.String())
		return
	default:
	}
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Errorf("SIGTERM: %v", err)
	}
	select {
	case <-s.exited:
	case <-time.After(30 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.exited
		t.Errorf("wharf serve (%s) did not exit within 30s of SIGTERM", s.backend)
	}
	if s.err != nil {
		t.Errorf("wharf serve (%s) after SIGTERM: %v (want exit status 0)\nstderr:\n%s", s.backend, s.err, s.stderr.String())
	}
	if t.Failed() {
		t.Logf("wharf serve (%s) stderr:\n%s", s.backend, tail(s.stderr.String(), 60))
	}
}

// restart stops the server and starts a new one on the same store.
func (s *server) restart(t *testing.T, b backend, o serverOptions) *server {
	t.Helper()
	s.stop()
	o.DataDir = s.DataDir
	db := s.Database
	o.Database = &db
	return startServer(t, b, o)
}

// startAgain starts a new server on the store and the port of s, which
// has been stopped: clients that kept s's URL reach the new one.
func (s *server) startAgain(t *testing.T, b backend, o serverOptions) *server {
	t.Helper()
	_, portText, ok := strings.Cut(strings.TrimPrefix(s.URL, "http://"), ":")
	port, err := strconv.Atoi(portText)
	if !ok || err != nil {
		t.Fatalf("no port in %s", s.URL)
	}
	o.DataDir, o.Port = s.DataDir, port
	db := s.Database
	o.Database = &db
	return startServer(t, b, o)
}

func tail(s string, lines int) string {
	parts := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(parts) > lines {
		parts = parts[len(parts)-lines:]
	}
	return strings.Join(parts, "\n")
}

func freePort(t *testing.T) int {
	t.Helper()
	port, err := proctest.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	return port
}

// client returns an AWS SDK client for the server signed with c. Retries
// are off so that every failure shows as it happened.
func (s *server) client(c creds) *dataexchange.Client {
	return dataexchange.New(dataexchange.Options{
		Region:           s.Region,
		BaseEndpoint:     aws.String(s.URL),
		Credentials:      credentials.NewStaticCredentialsProvider(c.AccessKeyID, c.SecretAccessKey, ""),
		RetryMaxAttempts: 1,
	})
}

// storeFlags are the flags that make an admin command open s's store.
func (s *server) storeFlags() []string {
	args := []string{"--data-dir", s.DataDir}
	if s.Database != "" {
		args = append(args, "--database", s.Database)
	}
	return args
}

// admin runs `wharf <args> <store flags>` against the server's store.
func (s *server) admin(t *testing.T, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, wharfBin, append(args, s.storeFlags()...)...)
	cmd.Env = baseEnv()
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	s.openMu.Lock()
	err = cmd.Run()
	s.openMu.Unlock()
	return out.String(), errb.String(), err
}

// adminAccessKey is the AccessKey object the admin commands print.
type adminAccessKey struct {
	AccountId       string
	AccessKeyId     string
	SecretAccessKey string
	Status          string
	CreateDate      string
}

// createAccount runs `wharf accounts create` (with --id when id is not
// empty) and returns the new account's credentials.
func (s *server) createAccount(t *testing.T, id string) creds {
	t.Helper()
	args := []string{"accounts", "create"}
	if id != "" {
		args = append(args, "--id", id)
	}
	out, errOut, err := s.admin(t, args...)
	if err != nil {
		t.Fatalf("wharf %s: %v\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), err, out, errOut)
	}
	var got struct {
		AccountId string
		AccessKey adminAccessKey
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("wharf accounts create printed %q: %v", out, err)
	}
	checkAdminKey(t, got.AccessKey, got.AccountId)
	return creds{got.AccountId, got.AccessKey.AccessKeyId, got.AccessKey.SecretAccessKey}
}

// createKey runs `wharf keys create --account account`.
func (s *server) createKey(t *testing.T, account string) creds {
	t.Helper()
	out, errOut, err := s.admin(t, "keys", "create", "--account", account)
	if err != nil {
		t.Fatalf("wharf keys create: %v\nstdout:\n%s\nstderr:\n%s", err, out, errOut)
	}
	var got struct{ AccessKey adminAccessKey }
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("wharf keys create printed %q: %v", out, err)
	}
	checkAdminKey(t, got.AccessKey, account)
	return creds{account, got.AccessKey.AccessKeyId, got.AccessKey.SecretAccessKey}
}

func checkAdminKey(t *testing.T, k adminAccessKey, account string) {
	t.Helper()
	if !resource.ValidAccountID(k.AccountId) || k.AccountId != account {
		t.Errorf("AccessKey.AccountId = %q, want %q (12 digits)", k.AccountId, account)
	}
	if k.AccessKeyId == "" || k.SecretAccessKey == "" {
		t.Errorf("AccessKey lacks AccessKeyId or SecretAccessKey: %+v", k)
	}
	if k.Status != "Active" {
		t.Errorf("AccessKey.Status = %q, want Active", k.Status)
	}
	if _, err := time.Parse(time.RFC3339, k.CreateDate); err != nil {
		t.Errorf("AccessKey.CreateDate = %q is not RFC 3339: %v", k.CreateDate, err)
	}
}

// openStore opens the server's metadata store directly, the way a job would
// write to it, for setting up what the API can't create yet (assets).
func (s *server) openStore(t *testing.T) store.Store {
	t.Helper()
	ctx := context.Background()
	var (
		st  store.Store
		err error
	)
	s.openMu.Lock()
	defer s.openMu.Unlock()
	if s.Database == "" {
		st, err = sqlite.Open(ctx, filepath.Join(s.DataDir, "wharf.db"))
	} else {
		st, err = postgres.Open(ctx, s.Database)
	}
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// insertAssets inserts S3_SNAPSHOT assets with the given names into a
// revision of account's data set, through the store. Sizes are 100*(i+1).
func (s *server) insertAssets(t *testing.T, account, dataSetID, revisionID string, names ...string) []resource.Asset {
	t.Helper()
	st := s.openStore(t)
	var out []resource.Asset
	for i, name := range names {
		now := resource.Now()
		a := resource.Asset{
			AccountID:  account,
			DataSetID:  dataSetID,
			RevisionID: revisionID,
			ID:         resource.NewID(),
			Name:       name,
			AssetType:  resource.AssetTypeS3Snapshot,
			Details:    json.RawMessage(fmt.Sprintf(`{"S3SnapshotAsset":{"Size":%d}}`, 100*(i+1))),
			CreatedAt:  now,
			UpdatedAt:  now,
		}
		if err := st.InsertAsset(context.Background(), a); err != nil {
			t.Fatalf("insert asset %q: %v", name, err)
		}
		out = append(out, a)
	}
	return out
}
