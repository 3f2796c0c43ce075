package auth_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dataexchange"
	"github.com/aws/smithy-go"

	"github.com/wharf-dev/wharf/internal/auth"
)

// recorder authenticates with the real clock (real clients sign with it) and
// remembers who signed each request.
type recorder struct {
	mu    sync.Mutex
	seen  []string // "METHOD escaped-path account"
	inner http.Handler
}

func (rec *recorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
	rec.inner.ServeHTTP(rw, r)
	rec.mu.Lock()
	defer rec.mu.Unlock()
	rec.seen = append(rec.seen, r.Method+" "+r.URL.EscapedPath()+" "+http.StatusText(rw.status))
}

func (rec *recorder) requests() []string {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	return append([]string(nil), rec.seen...)
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(status int) {
	w.status = status
	w.ResponseWriter.WriteHeader(status)
}

// newClientFixture starts a server that authenticates with the real clock.
func newClientFixture(t *testing.T) (*fixture, *recorder) {
	t.Helper()
	f := newFixture(t, testNow) // for the keyring and credentials
	rec := &recorder{inner: authEchoHandler(auth.NewVerifier(f.keyring, testRegion))}
	f.srv = httptest.NewServer(rec)
	t.Cleanup(f.srv.Close)
	return f, rec
}

func sdkClient(url string, c auth.Credentials) *dataexchange.Client {
	return dataexchange.New(dataexchange.Options{
		Region:           testRegion,
		BaseEndpoint:     aws.String(url),
		RetryMaxAttempts: 1,
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{AccessKeyID: c.AccessKeyID, SecretAccessKey: c.SecretAccessKey}, nil
		}),
	})
}

func TestGoSDKClient(t *testing.T) {
	t.Parallel()
	f, rec := newClientFixture(t)
	ctx := context.Background()
	client := sdkClient(f.srv.URL, f.a)

	if _, err := client.ListDataSets(ctx, &dataexchange.ListDataSetsInput{Origin: aws.String("OWNED"), MaxResults: 5}); err != nil {
		t.Fatalf("ListDataSets: %v", err)
	}
	if _, err := client.TagResource(ctx, &dataexchange.TagResourceInput{
		ResourceArn: aws.String(testArn), Tags: map[string]string{"team": "data", "k": "v w"},
	}); err != nil {
		t.Fatalf("TagResource: %v", err)
	}
	if _, err := client.UntagResource(ctx, &dataexchange.UntagResourceInput{
		ResourceArn: aws.String(testArn), TagKeys: []string{"team", "k"},
	}); err != nil {
		t.Fatalf("UntagResource: %v", err)
	}
	if _, err := client.StartJob(ctx, &dataexchange.StartJobInput{JobId: aws.String("0123456789abcdef0123456789abcdef")}); err != nil {
		t.Fatalf("StartJob: %v", err)
	}
	want := []string{
		"GET /v1/data-sets OK",
		"POST /tags/" + escapedArn + " OK",
		"DELETE /tags/" + escapedArn + " OK",
		"PATCH /v1/jobs/0123456789abcdef0123456789abcdef OK",
	}
	if got := rec.requests(); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("requests:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestGoSDKClientRejected(t *testing.T) {
	t.Parallel()
	f, _ := newClientFixture(t)
	wrongSecret := f.a
	wrongSecret.SecretAccessKey = f.b.SecretAccessKey
	unknownKey := f.a
	unknownKey.AccessKeyID = "AKIAAAAAAAAAAAAAAAAA"
	for _, tt := range []struct {
		name  string
		creds auth.Credentials
		code  string
	}{
		{"wrong secret", wrongSecret, "InvalidSignatureException"},
		{"unknown key", unknownKey, "UnrecognizedClientException"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := sdkClient(f.srv.URL, tt.creds).ListDataSets(context.Background(), &dataexchange.ListDataSetsInput{})
			var apiErr smithy.APIError
			if !errors.As(err, &apiErr) || apiErr.ErrorCode() != tt.code {
				t.Fatalf("err = %v, want %s", err, tt.code)
			}
		})
	}
}

// TestAWSCLI drives the `aws` first on PATH, or the one WHARF_TEST_AWSCLI
// names (the pip-installed v1 CLI signs with botocore, Debian's v2 with its
// own botocore fork). It is skipped without one unless
// WHARF_TEST_REQUIRE_AWSCLI=1.
func TestAWSCLI(t *testing.T) {
	t.Parallel()
	awsCLI := os.Getenv("WHARF_TEST_AWSCLI")
	if awsCLI == "" {
		awsCLI = "aws"
	}
	awsPath, err := exec.LookPath(awsCLI)
	if err != nil {
		if os.Getenv("WHARF_TEST_REQUIRE_AWSCLI") == "1" {
			t.Fatalf("%s not found and WHARF_TEST_REQUIRE_AWSCLI=1", awsCLI)
		}
		t.Skipf("%s not found", awsCLI)
	}
	version, _ := exec.Command(awsPath, "--version").CombinedOutput()
	t.Logf("using %s: %s", awsPath, strings.TrimSpace(string(version)))

	f, _ := newClientFixture(t)
	wrongSecret := f.a
	wrongSecret.SecretAccessKey = f.b.SecretAccessKey
	tests := []struct {
		name    string
		creds   auth.Credentials
		args    []string
		wantErr string
	}{
		{name: "list-data-sets", creds: f.a, args: []string{"list-data-sets"}},
		{name: "create-data-set", creds: f.b, args: []string{"create-data-set", "--asset-type", "S3_SNAPSHOT",
			"--name", "n", "--description", "d e", "--tags", "k=v"}},
		{name: "tag-resource", creds: f.a, args: []string{"tag-resource", "--resource-arn", testArn, "--tags", "team=data"}},
		{name: "untag-resource", creds: f.a, args: []string{"untag-resource", "--resource-arn", testArn, "--tag-keys", "a", "b c"}},
		{name: "start-job", creds: f.a, args: []string{"start-job", "--job-id", "0123456789abcdef0123456789abcdef"}},
		{name: "wrong secret", creds: wrongSecret, args: []string{"list-data-sets"}, wantErr: "InvalidSignatureException"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			cmd := exec.Command(awsPath, append(append([]string{"dataexchange"}, tt.args...),
				"--endpoint-url", f.srv.URL, "--region", testRegion, "--output", "json")...)
			cmd.Env = append(cleanEnv(),
				"AWS_ACCESS_KEY_ID="+tt.creds.AccessKeyID,
				"AWS_SECRET_ACCESS_KEY="+tt.creds.SecretAccessKey,
				"AWS_CONFIG_FILE="+filepath.Join(dir, "config"),
				"AWS_SHARED_CREDENTIALS_FILE="+filepath.Join(dir, "credentials"),
				"AWS_EC2_METADATA_DISABLED=true",
				"AWS_MAX_ATTEMPTS=1",
				"AWS_PAGER=",
			)
			out, err := cmd.CombinedOutput()
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("%v: %s", err, out)
				}
				return
			}
			if err == nil || !strings.Contains(string(out), tt.wantErr) {
				t.Fatalf("err = %v, output %q; want a failure mentioning %s", err, out, tt.wantErr)
			}
		})
	}
}

// cleanEnv is the environment without AWS_* variables, so that the
// developer's profile, region or session token can't leak into the test.
func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "AWS_") {
			env = append(env, kv)
		}
	}
	return env
}
