// Package s3test gives tests a real S3-compatible server.
//
// Start returns a server shared by the whole test binary: a MinIO server
// binary (`go install github.com/minio/minio@latest`), found on PATH or in
// $(go env GOPATH)/bin, started on a free loopback port with a temporary
// data directory, root credentials and a KMS key, so that SSE-S3 (AES256)
// and SSE-KMS (aws:kms with KMSKeyID) work. StartNamed starts further,
// independent servers (other endpoints, other credentials), and
// StartWithoutKMS a MinIO with no KMS, which refuses server-side encryption
// as MinIO does when MINIO_KMS_SECRET_KEY is not set. When MinIO is
// not installed, versitygw (`go install
// github.com/versity/versitygw/cmd/versitygw@latest`) over a POSIX
// directory is used instead; it has no server-side encryption (Server.HasSSE
// and Server.HasKMS are false).
//
// With WHARF_TEST_S3_URL, WHARF_TEST_S3_ACCESS_KEY and
// WHARF_TEST_S3_SECRET_KEY set (and optionally WHARF_TEST_S3_KMS_KEY),
// Start uses that server instead.
//
// A test binary that uses Start should call Main from its TestMain to stop
// the servers at the end; a watchdog process stops them anyway if the binary
// dies first.
//
// Without a server binary, Start skips the test, or fails it when
// WHARF_TEST_REQUIRE_S3=1.
package s3test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
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
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/wharf-dev/wharf/internal/proctest"
)

// Environment variables.
const (
	// EnvRequire, set to 1, turns "no S3 server" from a skip into a failure.
	EnvRequire = "WHARF_TEST_REQUIRE_S3"
	// EnvURL, EnvAccessKey and EnvSecretKey name an existing server.
	EnvURL       = "WHARF_TEST_S3_URL"
	EnvAccessKey = "WHARF_TEST_S3_ACCESS_KEY"
	EnvSecretKey = "WHARF_TEST_S3_SECRET_KEY"
	// EnvKMSKey is the KMS key id to use on the server named by EnvURL.
	EnvKMSKey = "WHARF_TEST_S3_KMS_KEY"
)

// KMSKeyName is the name of the KMS key s3test configures MinIO with
// (MINIO_KMS_SECRET_KEY=wharf-test-key:<base64>).
const KMSKeyName = "wharf-test-key"

// Region is the region the servers are addressed with.
const Region = "us-east-1"

// Server is a running S3-compatible server.
type Server struct {
	Name            string // "" for Start's server, else StartNamed's name
	Kind            string // "minio", "versitygw" or "external"
	URL             string // http://127.0.0.1:port, no trailing slash
	Region          string
	AccessKeyID     string
	SecretAccessKey string
	// KMSKeyID is what to pass as SSEKMSKeyId for SSE-KMS; empty when the
	// server has no KMS.
	KMSKeyID string

	proc  *process // nil for an external server
	noKMS bool     // started by StartWithoutKMS
}

// PID is the server's process id, or 0 for an external server (for the
// benchmarks that measure its CPU as a baseline).
func (s *Server) PID() int {
	if s.proc == nil {
		return 0
	}
	return s.proc.cmd.Process.Pid
}

// HasKMS reports whether the server can encrypt with SSE-KMS.
func (s *Server) HasKMS() bool { return s.KMSKeyID != "" }

// HasSSE reports whether the server applies server-side encryption
// (AES256) and reports it back. versitygw's POSIX backend ignores it; a
// server of StartWithoutKMS refuses it.
func (s *Server) HasSSE() bool { return s.Kind != "versitygw" && !s.noKMS }

// Start returns the test binary's shared server, starting it on first use.
func Start(t testing.TB) *Server {
	t.Helper()
	if os.Getenv(EnvURL) != "" {
		return external(t)
	}
	return StartNamed(t, "")
}

// StartNamed returns the test binary's server of that name, starting it on
// first use: a server of its own, with its own port, data and credentials.
func StartNamed(t testing.TB, name string) *Server {
	t.Helper()
	return start(t, name, false)
}

func start(t testing.TB, name string, noKMS bool) *Server {
	t.Helper()
	mu.Lock()
	e, ok := servers[name]
	if !ok {
		e = &entry{}
		servers[name] = e
	}
	mu.Unlock()
	e.once.Do(func() { e.srv, e.err = startLocal(name, noKMS) })
	if e.err != nil {
		if errors.Is(e.err, errNoBinary) && os.Getenv(EnvRequire) != "1" {
			t.Skipf("s3test: no S3 server, skipping (set %s=1 to fail instead): %v", EnvRequire, e.err)
		}
		t.Fatalf("s3test: %v", e.err)
	}
	return e.srv
}

// StartWithoutKMS returns the test binary's server of that name started
// with no KMS (MinIO without MINIO_KMS_SECRET_KEY): it refuses server-side
// encryption, AES256 included, with NotImplemented. Such a server is kept
// apart from StartNamed's: a name means one or the other. It skips the test
// when only versitygw is installed (it has no encryption to refuse) or an
// external server is configured.
func StartWithoutKMS(t testing.TB, name string) *Server {
	t.Helper()
	if os.Getenv(EnvURL) != "" {
		t.Skipf("s3test: %s names an external server; no KMS-less server can be started", EnvURL)
	}
	srv := start(t, "nokms:"+name, true)
	if srv.Kind != "minio" {
		t.Skipf("s3test: %s has no server-side encryption to refuse", srv.Kind)
	}
	return srv
}

// Main runs the tests and then stops the servers s3test started. Call it
// from TestMain:
//
//	func TestMain(m *testing.M) { s3test.Main(m) }
func Main(m *testing.M) {
	code := m.Run()
	stopAll()
	os.Exit(code)
}

// Stop stops the servers s3test started, for a TestMain that can't call
// Main because it also needs another helper's (pgtest's) clean-up:
//
//	func TestMain(m *testing.M) {
//		code := m.Run()
//		s3test.Stop()
//		pgtest.Stop()
//		os.Exit(code)
//	}
func Stop() { stopAll() }

type entry struct {
	once sync.Once
	srv  *Server
	err  error
}

var (
	mu      sync.Mutex
	servers = map[string]*entry{}
)

func external(t testing.TB) *Server {
	s := &Server{
		Kind:            "external",
		URL:             strings.TrimSuffix(os.Getenv(EnvURL), "/"),
		Region:          Region,
		AccessKeyID:     os.Getenv(EnvAccessKey),
		SecretAccessKey: os.Getenv(EnvSecretKey),
		KMSKeyID:        os.Getenv(EnvKMSKey),
	}
	if s.AccessKeyID == "" || s.SecretAccessKey == "" {
		t.Fatalf("s3test: %s is set but %s or %s is not", EnvURL, EnvAccessKey, EnvSecretKey)
	}
	return s
}

// Client returns an S3 client for the server with its root credentials,
// path-style.
func (s *Server) Client() *s3.Client {
	return s3.New(s3.Options{
		Region:       s.Region,
		BaseEndpoint: aws.String(s.URL),
		UsePathStyle: true,
		Credentials:  credentials.NewStaticCredentialsProvider(s.AccessKeyID, s.SecretAccessKey, ""),
	})
}

// CreateBucket creates a bucket of that name, deleted (with what it holds)
// when t ends.
func (s *Server) CreateBucket(t testing.TB, name string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c := s.Client()
	if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: &name}); err != nil {
		t.Fatalf("s3test: create bucket %s: %v", name, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := s.deleteBucket(ctx, name); err != nil {
			t.Errorf("s3test: delete bucket %s: %v", name, err)
		}
	})
}

// NewBucket creates a bucket with a fresh name and returns the name.
func (s *Server) NewBucket(t testing.TB) string {
	t.Helper()
	var b [6]byte
	_, _ = rand.Read(b[:])
	name := "wharf-test-" + hex.EncodeToString(b[:])
	s.CreateBucket(t, name)
	return name
}

// PutObject writes an object, failing t on error.
func (s *Server) PutObject(t testing.TB, bucket, key string, data []byte) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	_, err := s.Client().PutObject(ctx, &s3.PutObjectInput{
		Bucket: &bucket, Key: &key, Body: bytes.NewReader(data), ContentLength: aws.Int64(int64(len(data))),
	})
	if err != nil {
		t.Fatalf("s3test: put s3://%s/%s: %v", bucket, key, err)
	}
}

// GetObject reads an object, failing t on error.
func (s *Server) GetObject(t testing.TB, bucket, key string) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out, err := s.Client().GetObject(ctx, &s3.GetObjectInput{Bucket: &bucket, Key: &key})
	if err != nil {
		t.Fatalf("s3test: get s3://%s/%s: %v", bucket, key, err)
	}
	defer out.Body.Close()
	data, err := io.ReadAll(out.Body)
	if err != nil {
		t.Fatalf("s3test: read s3://%s/%s: %v", bucket, key, err)
	}
	return data
}

// Keys lists the keys in bucket, failing t on error.
func (s *Server) Keys(t testing.TB, bucket string) []string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var keys []string
	p := s3.NewListObjectsV2Paginator(s.Client(), &s3.ListObjectsV2Input{Bucket: &bucket})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatalf("s3test: list s3://%s: %v", bucket, err)
		}
		for _, o := range page.Contents {
			keys = append(keys, aws.ToString(o.Key))
		}
	}
	return keys
}

// Uploads lists the multipart uploads in progress in bucket, as "key
// uploadID", failing t on error.
func (s *Server) Uploads(t testing.TB, bucket string) []string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	uploads, err := s.listUploads(ctx, bucket)
	if err != nil {
		t.Fatalf("s3test: list multipart uploads of %s: %v", bucket, err)
	}
	var out []string
	for _, u := range uploads {
		out = append(out, aws.ToString(u.Key)+" "+aws.ToString(u.UploadId))
	}
	return out
}

func (s *Server) listUploads(ctx context.Context, bucket string) ([]types.MultipartUpload, error) {
	var all []types.MultipartUpload
	in := &s3.ListMultipartUploadsInput{Bucket: &bucket}
	for {
		out, err := s.Client().ListMultipartUploads(ctx, in)
		if err != nil {
			return nil, err
		}
		all = append(all, out.Uploads...)
		if !aws.ToBool(out.IsTruncated) {
			return all, nil
		}
		in.KeyMarker, in.UploadIdMarker = out.NextKeyMarker, out.NextUploadIdMarker
	}
}

func (s *Server) deleteBucket(ctx context.Context, name string) error {
	c := s.Client()
	uploads, err := s.listUploads(ctx, name)
	if err != nil {
		return err
	}
	for _, u := range uploads {
		if _, err := c.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{
			Bucket: &name, Key: u.Key, UploadId: u.UploadId}); err != nil {
			return err
		}
	}
	p := s3.NewListObjectsV2Paginator(c, &s3.ListObjectsV2Input{Bucket: &name})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return err
		}
		for _, o := range page.Contents {
			if _, err := c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: &name, Key: o.Key}); err != nil {
				return err
			}
		}
	}
	_, err = c.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: &name})
	return err
}

// errNoBinary: neither MinIO nor versitygw is installed.
var errNoBinary = errors.New("no S3 server binary")

// process is a server s3test started.
type process struct {
	cmd    *exec.Cmd
	dir    string
	out    *proctest.Buffer
	exited chan struct{} // closed once the server has exited
}

func startLocal(name string, noKMS bool) (*Server, error) {
	kind, bin, err := findBinary()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "wharf-s3test-")
	if err != nil {
		return nil, err
	}
	s := &Server{
		Name:            name,
		Kind:            kind,
		Region:          Region,
		AccessKeyID:     "wharf" + randomHex(6),
		SecretAccessKey: randomHex(20),
		noKMS:           noKMS,
	}
	// Two tries: a port found free may be taken before the server binds it.
	for attempt := 0; ; attempt++ {
		port, err := proctest.FreePort()
		if err != nil {
			os.RemoveAll(dir)
			return nil, err
		}
		s.URL = fmt.Sprintf("http://127.0.0.1:%d", port)
		s.proc, err = launch(s, bin, dir, port, noKMS)
		if err == nil {
			return s, nil
		}
		if attempt == 1 {
			os.RemoveAll(dir)
			return nil, err
		}
	}
}

func launch(s *Server, bin, dir string, port int, noKMS bool) (*process, error) {
	data := filepath.Join(dir, "data")
	if err := os.MkdirAll(data, 0o700); err != nil {
		return nil, err
	}
	var cmd *exec.Cmd
	env := os.Environ()
	switch s.Kind {
	case "minio":
		consolePort, err := proctest.FreePort()
		if err != nil {
			return nil, err
		}
		key := make([]byte, 32)
		_, _ = rand.Read(key)
		cmd = exec.Command(bin, "server", "--quiet", "--address", fmt.Sprintf("127.0.0.1:%d", port),
			"--console-address", fmt.Sprintf("127.0.0.1:%d", consolePort), data)
		env = append(withoutMinIOKMS(env),
			"MINIO_ROOT_USER="+s.AccessKeyID,
			"MINIO_ROOT_PASSWORD="+s.SecretAccessKey,
			"MINIO_BROWSER=off",
			"MINIO_UPDATE=off",
			"MINIO_CI_CD=on", // accept a data directory on the root disk or tmpfs
			"MINIO_REGION="+Region,
			"HOME="+dir,
		)
		if !noKMS {
			env = append(env, "MINIO_KMS_SECRET_KEY="+KMSKeyName+":"+base64.StdEncoding.EncodeToString(key))
			s.KMSKeyID = KMSKeyName
		}
	case "versitygw":
		cmd = exec.Command(bin, "--port", fmt.Sprintf("127.0.0.1:%d", port),
			"--access", s.AccessKeyID, "--secret", s.SecretAccessKey, "--region", Region, "posix", data)
		env = append(env, "HOME="+dir)
	}
	out := &proctest.Buffer{}
	cmd.Env = env
	cmd.Dir = dir
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %v", s.Kind, err)
	}
	p := &process{cmd: cmd, dir: dir, out: out, exited: make(chan struct{})}
	go func() {
		_ = cmd.Wait()
		close(p.exited)
	}()
	if err := waitReady(s, p.exited); err != nil {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-p.exited
		return nil, fmt.Errorf("%s did not start: %v\n%s", s.Kind, err, out.String())
	}
	startWatchdog(cmd.Process.Pid, dir)
	return p, nil
}

// withoutMinIOKMS drops the KMS configuration a developer's shell may hold,
// so that a server's KMS is only what s3test gives it.
func withoutMinIOKMS(env []string) []string {
	var out []string
	for _, kv := range env {
		if strings.HasPrefix(kv, "MINIO_KMS_") || strings.HasPrefix(kv, "MINIO_KES_") {
			continue
		}
		out = append(out, kv)
	}
	return out
}

// waitReady waits until the server answers an S3 request.
func waitReady(s *Server, exited <-chan struct{}) error {
	deadline := time.Now().Add(60 * time.Second)
	c := s.Client()
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		_, err := c.ListBuckets(ctx, &s3.ListBucketsInput{})
		cancel()
		if err == nil {
			return nil
		}
		select {
		case <-exited:
			return errors.New("the server exited")
		default:
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("not ready after 60s: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// findBinary finds MinIO, else versitygw, on PATH or in $GOPATH/bin.
func findBinary() (kind, path string, err error) {
	dirs := []string{}
	if gp := goPath(); gp != "" {
		for _, d := range filepath.SplitList(gp) {
			dirs = append(dirs, filepath.Join(d, "bin"))
		}
	}
	for _, kind := range []string{"minio", "versitygw"} {
		if p, err := exec.LookPath(kind); err == nil {
			return kind, p, nil
		}
		for _, d := range dirs {
			p := filepath.Join(d, kind)
			if fi, err := os.Stat(p); err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0 {
				return kind, p, nil
			}
		}
	}
	return "", "", fmt.Errorf("%w: minio not found on PATH or in %s (go install github.com/minio/minio@latest)",
		errNoBinary, strings.Join(dirs, ", "))
}

var goPathOnce = sync.OnceValue(func() string {
	if gp := os.Getenv("GOPATH"); gp != "" {
		return gp
	}
	if out, err := exec.Command("go", "env", "GOPATH").Output(); err == nil {
		return strings.TrimSpace(string(out))
	}
	if home, err := os.UserHomeDir(); err == nil {
		return filepath.Join(home, "go")
	}
	return ""
})

func goPath() string { return goPathOnce() }

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// startWatchdog starts a process that kills the server and removes its
// directory once this test binary has exited, however it exits.
func startWatchdog(serverPID int, dir string) {
	const script = `pid=$1; server=$2; dir=$3
while kill -0 "$pid" 2>/dev/null; do sleep 1; done
kill -9 -"$server" "$server" 2>/dev/null
rm -rf "$dir"`
	cmd := exec.Command("/bin/sh", "-c", script, "wharf-s3test-watchdog",
		strconv.Itoa(os.Getpid()), strconv.Itoa(serverPID), dir)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err == nil {
		_ = cmd.Process.Release()
	}
}

func stopAll() {
	mu.Lock()
	defer mu.Unlock()
	for name, e := range servers {
		if e.srv != nil && e.srv.proc != nil {
			e.srv.proc.stop()
		}
		delete(servers, name)
	}
}

func (p *process) stop() {
	_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGTERM)
	select {
	case <-p.exited:
	case <-time.After(10 * time.Second):
		_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
		<-p.exited
	}
	os.RemoveAll(p.dir)
}
