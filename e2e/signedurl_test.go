package e2e

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dataexchange"
	"github.com/aws/aws-sdk-go-v2/service/dataexchange/types"
)

// assetStoreSetup is one asset store a signed-URL test runs wharf with.
type assetStoreSetup struct {
	name string
	// options returns the server options selecting the store.
	options func(t *testing.T) serverOptions
}

var signedURLStores = []assetStoreSetup{
	{name: "local", options: func(*testing.T) serverOptions { return serverOptions{} }},
	{name: "s3", options: func(t *testing.T) serverOptions {
		srv, env := s3Env(t)
		bucket := srv.NewBucket(t)
		return serverOptions{Env: env, Args: []string{"--asset-store", "s3://" + bucket + "/assets"}}
	}},
}

func b64MD5(b []byte) string {
	sum := md5.Sum(b)
	return base64.StdEncoding.EncodeToString(sum[:])
}

// signedFixture is a data set and revision of the root account.
type signedFixture struct {
	s        *server
	dx       *dataexchange.Client
	dataSet  string
	revision string
}

func newSignedFixture(t *testing.T, s *server) signedFixture {
	t.Helper()
	ctx := context.Background()
	dx := s.client(s.Root)
	ds, err := dx.CreateDataSet(ctx, &dataexchange.CreateDataSetInput{
		AssetType: types.AssetTypeS3Snapshot, Name: aws.String("signed"), Description: aws.String("signed-URL tests"),
	})
	if err != nil {
		t.Fatal(err)
	}
	rev, err := dx.CreateRevision(ctx, &dataexchange.CreateRevisionInput{DataSetId: ds.Id})
	if err != nil {
		t.Fatal(err)
	}
	return signedFixture{s: s, dx: dx, dataSet: *ds.Id, revision: *rev.Id}
}

// createImport creates an IMPORT_ASSET_FROM_SIGNED_URL job and returns it.
func (f signedFixture) createImport(t *testing.T, name string, body []byte) *dataexchange.CreateJobOutput {
	t.Helper()
	out, err := f.dx.CreateJob(context.Background(), &dataexchange.CreateJobInput{
		Type: types.TypeImportAssetFromSignedUrl,
		Details: &types.RequestDetails{ImportAssetFromSignedUrl: &types.ImportAssetFromSignedUrlRequestDetails{
			AssetName: aws.String(name), DataSetId: aws.String(f.dataSet), RevisionId: aws.String(f.revision),
			Md5Hash: aws.String(b64MD5(body)),
		}},
	})
	if err != nil {
		t.Fatalf("CreateJob: %v", err)
	}
	d := out.Details.ImportAssetFromSignedUrl
	if d == nil || aws.ToString(d.SignedUrl) == "" || d.SignedUrlExpiresAt == nil || aws.ToString(d.Md5Hash) != b64MD5(body) {
		t.Fatalf("CreateJob's Details lack SignedUrl, SignedUrlExpiresAt or Md5Hash: %+v", d)
	}
	return out
}

// startAndWait starts a job and polls GetJob until it ends.
func (f signedFixture) startAndWait(t *testing.T, jobID string) *dataexchange.GetJobOutput {
	t.Helper()
	ctx := context.Background()
	if _, err := f.dx.StartJob(ctx, &dataexchange.StartJobInput{JobId: aws.String(jobID)}); err != nil {
		t.Fatalf("StartJob: %v", err)
	}
	return f.wait(t, jobID)
}

func (f signedFixture) wait(t *testing.T, jobID string) *dataexchange.GetJobOutput {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		j, err := f.dx.GetJob(context.Background(), &dataexchange.GetJobInput{JobId: aws.String(jobID)})
		if err != nil {
			t.Fatalf("GetJob: %v", err)
		}
		switch j.State {
		case types.StateCompleted, types.StateError, types.StateCancelled, types.StateTimedOut:
			return j
		}
		if time.Now().After(deadline) {
			t.Fatalf("job %s still %s", jobID, j.State)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func (f signedFixture) exportJob(t *testing.T, assetID string) (string, time.Time) {
	t.Helper()
	out, err := f.dx.CreateJob(context.Background(), &dataexchange.CreateJobInput{
		Type: types.TypeExportAssetToSignedUrl,
		Details: &types.RequestDetails{ExportAssetToSignedUrl: &types.ExportAssetToSignedUrlRequestDetails{
			AssetId: aws.String(assetID), DataSetId: aws.String(f.dataSet), RevisionId: aws.String(f.revision),
		}},
	})
	if err != nil {
		t.Fatalf("CreateJob: %v", err)
	}
	j := f.startAndWait(t, *out.Id)
	if j.State != types.StateCompleted {
		t.Fatalf("export ended %s: %+v", j.State, j.Errors)
	}
	d := j.Details.ExportAssetToSignedUrl
	if d == nil || aws.ToString(d.SignedUrl) == "" || d.SignedUrlExpiresAt == nil || aws.ToString(d.AssetId) != assetID {
		t.Fatalf("GetJob's Details lack SignedUrl or SignedUrlExpiresAt: %+v", d)
	}
	return *d.SignedUrl, *d.SignedUrlExpiresAt
}

// curl runs curl and returns the HTTP status it printed and its output file.
func curl(t *testing.T, args ...string) (int, []byte) {
	t.Helper()
	if _, err := exec.LookPath("curl"); err != nil {
		if os.Getenv("WHARF_TEST_REQUIRE_CURL") == "1" {
			t.Fatal("curl is not installed and WHARF_TEST_REQUIRE_CURL=1")
		}
		t.Skip("curl is not installed (set WHARF_TEST_REQUIRE_CURL=1 to fail instead)")
	}
	out := filepath.Join(t.TempDir(), "curl-out")
	full := append([]string{"-sS", "-o", out, "-w", "%{http_code}"}, args...)
	status, err := exec.Command("curl", full...).Output()
	if err != nil {
		t.Fatalf("curl %v: %v", args, err)
	}
	var code int
	fmt.Sscan(string(status), &code)
	body, _ := os.ReadFile(out)
	return code, body
}

func writeFile(t *testing.T, name string, b []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func patternBytes(seed, n int) []byte {
	b := make([]byte, n)
	x := uint32(seed*2654435761 + 1)
	for i := range b {
		x ^= x << 13
		x ^= x >> 17
		x ^= x << 5
		b[i] = byte(x)
	}
	return b
}

func errorAssetName(j *dataexchange.GetJobOutput) string {
	if len(j.Errors) != 1 || j.Errors[0].Details == nil || j.Errors[0].Details.ImportAssetFromSignedUrlJobErrorDetails == nil {
		return ""
	}
	return aws.ToString(j.Errors[0].Details.ImportAssetFromSignedUrlJobErrorDetails.AssetName)
}

// TestSignedURLJobs drives both signed-URL job types through the real
// binary on both metadata stores and both asset stores: curl, the Go SDK
// (terraform-provider-aws's loop), the AWS CLI and the wharf client
// commands.
func TestSignedURLJobs(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		for _, as := range signedURLStores {
			t.Run(as.name, func(t *testing.T) {
				t.Parallel()
				s := startServer(t, b, as.options(t))
				f := newSignedFixture(t, s)
				ctx := context.Background()

				// curl: a wrong body with the job's Content-MD5 is refused
				// (400) and stores nothing: the job then has no upload.
				body := patternBytes(1, 300_000)
				bad := f.createImport(t, "bad.bin", body)
				wrong := writeFile(t, "wrong.bin", patternBytes(2, 300_000))
				code, out := curl(t, "-T", wrong, "-H", "Content-MD5: "+b64MD5(body), *bad.Details.ImportAssetFromSignedUrl.SignedUrl)
				if code != 400 || !bytes.Contains(out, []byte("BadDigest")) {
					t.Errorf("curl PUT of a wrong body: %d %s", code, out)
				}
				j := f.startAndWait(t, *bad.Id)
				if j.State != types.StateError || errorAssetName(j) != "bad.bin" ||
					!strings.Contains(aws.ToString(j.Errors[0].Message), "nothing was uploaded") {
					t.Errorf("job after a refused upload: %s %+v", j.State, j.Errors)
				}

				// curl: the right body is taken.
				good := f.createImport(t, "curl/good.bin", body)
				code, out = curl(t, "-T", writeFile(t, "good.bin", body), "-H", "Content-MD5: "+b64MD5(body),
					*good.Details.ImportAssetFromSignedUrl.SignedUrl)
				if code != 200 || len(out) != 0 {
					t.Fatalf("curl PUT: %d %q", code, out)
				}
				if j := f.startAndWait(t, *good.Id); j.State != types.StateCompleted {
					t.Fatalf("curl import ended %s: %+v", j.State, j.Errors)
				}

				// terraform-provider-aws's aws_dataexchange_revision_assets
				// loop, with the Go SDK and net/http.
				tfBody := patternBytes(3, 1<<20+3)
				job := f.createImport(t, "terraform.csv", tfBody)
				req, err := http.NewRequest(http.MethodPut, *job.Details.ImportAssetFromSignedUrl.SignedUrl, bytes.NewReader(tfBody))
				if err != nil {
					t.Fatal(err)
				}
				req.Header.Set("Content-MD5", b64MD5(tfBody))
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				respBody, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode/100 != 2 || len(respBody) != 0 {
					t.Fatalf("PUT: %d %q", resp.StatusCode, respBody)
				}
				if j := f.startAndWait(t, *job.Id); j.State != types.StateCompleted {
					t.Fatalf("terraform loop: job ended %s: %+v", j.State, j.Errors)
				}
				assets, err := f.dx.ListRevisionAssets(ctx, &dataexchange.ListRevisionAssetsInput{
					DataSetId: aws.String(f.dataSet), RevisionId: aws.String(f.revision)})
				if err != nil {
					t.Fatal(err)
				}
				byName := map[string]types.AssetEntry{}
				for _, a := range assets.Assets {
					byName[aws.ToString(a.Name)] = a
				}
				tf, ok := byName["terraform.csv"]
				if !ok || len(assets.Assets) != 2 || tf.AssetDetails.S3SnapshotAsset.Size != float64(len(tfBody)) {
					t.Fatalf("ListRevisionAssets: %+v", assets.Assets)
				}

				// Export to a signed URL; curl downloads identical bytes,
				// and ranges.
				dl, _ := f.exportJob(t, *tf.Id)
				code, out = curl(t, dl)
				if code != 200 || !bytes.Equal(out, tfBody) {
					t.Errorf("curl GET: %d, %d bytes (want %d identical)", code, len(out), len(tfBody))
				}
				code, out = curl(t, "-r", "1000-1999", dl)
				if code != 206 || !bytes.Equal(out, tfBody[1000:2000]) {
					t.Errorf("curl GET with a range: %d, %d bytes", code, len(out))
				}

				// The AWS CLI sees the jobs' signed URLs too (on one
				// metadata store: the CLI takes seconds to start).
				if b.name != "sqlite" {
				} else if clis := findCLIs(t); len(clis) > 0 {
					cli := clis[0]
					details := fmt.Sprintf(`{"ExportAssetToSignedUrl":{"AssetId":%q,"DataSetId":%q,"RevisionId":%q}}`, *tf.Id, f.dataSet, f.revision)
					created := cli.ok(t, s, s.Root, "create-job", "--type", "EXPORT_ASSET_TO_SIGNED_URL", "--details", details)
					cli.ok(t, s, s.Root, "start-job", "--job-id", str(created, "Id"))
					got := f.wait(t, str(created, "Id"))
					if got.State != types.StateCompleted {
						t.Fatalf("CLI export ended %s", got.State)
					}
					shown := cli.ok(t, s, s.Root, "get-job", "--job-id", str(created, "Id"))
					d, _ := shown["Details"].(map[string]any)
					e, _ := d["ExportAssetToSignedUrl"].(map[string]any)
					if code, out := curl(t, str(e, "SignedUrl")); code != 200 || !bytes.Equal(out, tfBody) {
						t.Errorf("%s get-job's SignedUrl: %d, %d bytes", cli.name(), code, len(out))
					}
				} else if os.Getenv("WHARF_TEST_REQUIRE_AWSCLI") == "1" {
					t.Fatal("no AWS CLI installed and WHARF_TEST_REQUIRE_AWSCLI=1")
				}

				testClientCommands(t, f, *bad.Id)
			})
		}
	})
}

// wharfClient runs a wharf client command against f's server.
func wharfClient(t *testing.T, f signedFixture, dir string, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	return wharfClientEnv(t, f, dir, nil, args...)
}

// wharfClientEnv is wharfClient with more environment variables.
func wharfClientEnv(t *testing.T, f signedFixture, dir string, extraEnv []string, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, wharfBin, args...)
	cmd.Dir = dir
	var env []string
	for _, kv := range baseEnv() {
		if !strings.HasPrefix(kv, "AWS_") {
			env = append(env, kv)
		}
	}
	cfgDir := t.TempDir()
	cmd.Env = append(env,
		"AWS_ENDPOINT_URL_DATAEXCHANGE="+f.s.URL,
		"AWS_ACCESS_KEY_ID="+f.s.Root.AccessKeyID,
		"AWS_SECRET_ACCESS_KEY="+f.s.Root.SecretAccessKey,
		"AWS_REGION="+f.s.Region,
		"AWS_CONFIG_FILE="+filepath.Join(cfgDir, "config"),
		"AWS_SHARED_CREDENTIALS_FILE="+filepath.Join(cfgDir, "credentials"),
		"AWS_EC2_METADATA_DISABLED=true",
	)
	cmd.Env = append(cmd.Env, extraEnv...)
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err = cmd.Run()
	return o.String(), e.String(), err
}

// testClientCommands runs `wharf upload`, `wharf download` and `wharf jobs
// wait` against the server; failedJob is a job that ended in ERROR.
func testClientCommands(t *testing.T, f signedFixture, failedJob string) {
	dir := t.TempDir()
	one, two := patternBytes(10, 200_000), patternBytes(11, 0)
	p1, p2 := filepath.Join(dir, "one.dat"), filepath.Join(dir, "two.dat")
	if err := os.WriteFile(p1, one, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p2, two, 0o600); err != nil {
		t.Fatal(err)
	}
	stdout, stderr, err := wharfClient(t, f, dir, "upload", p1, p2, "--data-set", f.dataSet, "--revision", f.revision)
	if err != nil {
		t.Fatalf("wharf upload: %v\n%s", err, stderr)
	}
	dec := json.NewDecoder(strings.NewReader(stdout))
	var uploaded []struct {
		Id, Name string
		Size     int64
	}
	for dec.More() {
		var a struct {
			Id, Name string
			Size     int64
		}
		if err := dec.Decode(&a); err != nil {
			t.Fatalf("wharf upload printed %q: %v", stdout, err)
		}
		uploaded = append(uploaded, a)
	}
	if len(uploaded) != 2 || uploaded[0].Name != "one.dat" || uploaded[0].Size != int64(len(one)) ||
		uploaded[1].Name != "two.dat" || uploaded[1].Size != 0 {
		t.Fatalf("wharf upload printed %s", stdout)
	}
	if !strings.Contains(stderr, "COMPLETED") {
		t.Errorf("wharf upload did not report the job's states: %s", stderr)
	}

	out := filepath.Join(dir, "back.dat")
	if _, stderr, err := wharfClient(t, f, dir, "download", "--data-set", f.dataSet, "--revision", f.revision,
		"--asset", uploaded[0].Id, "-o", out); err != nil {
		t.Fatalf("wharf download: %v\n%s", err, stderr)
	}
	if got, err := os.ReadFile(out); err != nil || !bytes.Equal(got, one) {
		t.Errorf("wharf download wrote %d bytes (%v), want %d identical", len(got), err, len(one))
	}
	// Default output: the asset name, in the working directory.
	sub := t.TempDir()
	if stdout, stderr, err := wharfClient(t, f, sub, "download", "--data-set", f.dataSet, "--revision", f.revision,
		"--asset", uploaded[0].Id); err != nil || strings.TrimSpace(stdout) != "one.dat" {
		t.Fatalf("wharf download: %v %q\n%s", err, stdout, stderr)
	}
	if got, err := os.ReadFile(filepath.Join(sub, "one.dat")); err != nil || !bytes.Equal(got, one) {
		t.Errorf("wharf download (default output) wrote %d bytes (%v)", len(got), err)
	}

	testDownloadDestination(t, f, dir, uploaded[0].Id, one)
	testJobCommands(t, f, dir, failedJob)

	// jobs wait: the failed job exits non-zero and prints its error.
	stdout, stderr, err = wharfClient(t, f, dir, "jobs", "wait", failedJob)
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() == 0 || strings.TrimSpace(stdout) != "ERROR" ||
		!strings.Contains(stderr, "VALIDATION_EXCEPTION") || !strings.Contains(stderr, "bad.bin") {
		t.Errorf("wharf jobs wait on a failed job: %v\nstdout %s\nstderr %s", err, stdout, stderr)
	}
	// ... and a missing one fails with the API's error.
	if _, stderr, err := wharfClient(t, f, dir, "jobs", "wait", "0123456789abcdef0123456789abcdef"); err == nil ||
		!strings.Contains(stderr, "ResourceNotFoundException") {
		t.Errorf("wharf jobs wait on a missing job: %v %s", err, stderr)
	}
	// An upload to a revision that does not exist fails before anything.
	if _, _, err := wharfClient(t, f, dir, "upload", p1, "--data-set", f.dataSet, "--revision", "0123456789abcdef0123456789abcdef"); err == nil {
		t.Error("wharf upload to a missing revision succeeded")
	}
}

// TestSignedURLExpiry runs wharf with one-second URLs on both asset stores:
// an expired upload URL and an expired download URL are refused (403), and
// a job whose upload URL expired unused ends in ERROR.
func TestSignedURLExpiry(t *testing.T) {
	for _, as := range signedURLStores {
		t.Run(as.name, func(t *testing.T) {
			t.Parallel()
			o := as.options(t)
			o.Args = append(o.Args, "--upload-url-expiry", "2s", "--download-url-expiry", "2s")
			s := startServer(t, backends[0], o)
			f := newSignedFixture(t, s)
			body := []byte("expiring soon")
			unused := f.createImport(t, "unused", body)

			// An asset to export: upload it at once (a fresh URL each
			// time, should a slow machine let one expire first).
			var assetJob *dataexchange.CreateJobOutput
			for attempt := 0; ; attempt++ {
				assetJob = f.createImport(t, "exported", body)
				code, out := curl(t, "-T", writeFile(t, "b", body), "-H", "Content-MD5: "+b64MD5(body),
					*assetJob.Details.ImportAssetFromSignedUrl.SignedUrl)
				if code == 200 {
					break
				}
				if code != 403 || attempt == 3 {
					t.Fatalf("PUT: %d %s", code, out)
				}
			}
			if j := f.startAndWait(t, *assetJob.Id); j.State != types.StateCompleted {
				t.Fatalf("import ended %s: %+v", j.State, j.Errors)
			}
			assets, err := f.dx.ListRevisionAssets(context.Background(), &dataexchange.ListRevisionAssetsInput{
				DataSetId: aws.String(f.dataSet), RevisionId: aws.String(f.revision)})
			if err != nil || len(assets.Assets) != 1 {
				t.Fatalf("ListRevisionAssets: %v %+v", err, assets)
			}
			dl, dexp := f.exportJob(t, *assets.Assets[0].Id)

			// Past both expiries (servers count whole seconds).
			until := *unused.Details.ImportAssetFromSignedUrl.SignedUrlExpiresAt
			if dexp.After(until) {
				until = dexp
			}
			time.Sleep(time.Until(until.Add(1100 * time.Millisecond)))
			if code, out := curl(t, "-T", writeFile(t, "u", body), "-H", "Content-MD5: "+b64MD5(body),
				*unused.Details.ImportAssetFromSignedUrl.SignedUrl); code != 403 {
				t.Errorf("PUT after expiry: %d %s", code, out)
			}
			if code, out := curl(t, dl); code != 403 {
				t.Errorf("GET after expiry: %d %s", code, out)
			}
			j := f.startAndWait(t, *unused.Id)
			if j.State != types.StateError || errorAssetName(j) != "unused" ||
				!strings.Contains(aws.ToString(j.Errors[0].Message), "expired") {
				t.Errorf("job with an expired URL: %s %+v", j.State, j.Errors)
			}
		})
	}
}

// exportJobs counts f's data set's EXPORT_ASSET_TO_SIGNED_URL jobs.
func exportJobs(t *testing.T, f signedFixture) int {
	t.Helper()
	n := 0
	p := dataexchange.NewListJobsPaginator(f.dx, &dataexchange.ListJobsInput{DataSetId: aws.String(f.dataSet)})
	for p.HasMorePages() {
		page, err := p.NextPage(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for _, j := range page.Jobs {
			if j.Type == types.TypeExportAssetToSignedUrl {
				n++
			}
		}
	}
	return n
}

// testDownloadDestination: `wharf download -o` checks its destination
// before it starts the export, and replaces a file only with --force.
func testDownloadDestination(t *testing.T, f signedFixture, dir, assetID string, want []byte) {
	t.Helper()
	download := func(args ...string) (string, error) {
		_, stderr, err := wharfClient(t, f, dir, append([]string{"download", "--data-set", f.dataSet,
			"--revision", f.revision, "--asset", assetID}, args...)...)
		return stderr, err
	}
	before := exportJobs(t, f)
	existing := filepath.Join(dir, "existing.dat")
	if err := os.WriteFile(existing, []byte("keep me"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		out, want string
	}{
		{filepath.Join(dir, "no-such-dir", "x.dat"), "does not exist"},
		{existing, "--force"},
		{dir, "is a directory"},
	} {
		stderr, err := download("-o", c.out)
		if err == nil || !strings.Contains(stderr, c.want) {
			t.Errorf("wharf download -o %s: %v, stderr %q; want a refusal saying %q", c.out, err, stderr, c.want)
		}
	}
	if got, _ := os.ReadFile(existing); string(got) != "keep me" {
		t.Errorf("the refused download changed %s: %q", existing, got)
	}
	if after := exportJobs(t, f); after != before {
		t.Errorf("refused downloads created %d export jobs", after-before)
	}
	if stderr, err := download("-o", existing, "--force"); err != nil {
		t.Fatalf("wharf download --force: %v\n%s", err, stderr)
	}
	if got, _ := os.ReadFile(existing); !bytes.Equal(got, want) {
		t.Errorf("wharf download --force wrote %d bytes, want %d", len(got), len(want))
	}
	if entries, _ := filepath.Glob(filepath.Join(dir, ".*.part-*")); len(entries) != 0 {
		t.Errorf("temporary files left behind: %v", entries)
	}
}

// testJobCommands runs `wharf jobs get`, `wharf jobs list` and `wharf jobs
// wait --timeout`.
func testJobCommands(t *testing.T, f signedFixture, dir, failedJob string) {
	t.Helper()
	stdout, stderr, err := wharfClient(t, f, dir, "jobs", "get", failedJob)
	var got struct{ Id, State, Type string }
	if err != nil || json.Unmarshal([]byte(stdout), &got) != nil || got.Id != failedJob || got.State != "ERROR" ||
		!strings.Contains(stdout, "VALIDATION_EXCEPTION") {
		t.Errorf("wharf jobs get: %v %+v\nstdout %s\nstderr %s", err, got, stdout, stderr)
	}

	// jobs list, its flags from the environment.
	stdout, stderr, err = wharfClientEnv(t, f, dir, []string{"WHARF_DATA_SET=" + f.dataSet}, "jobs", "list")
	lines := strings.Split(strings.TrimSpace(stdout), "\n")
	if err != nil || len(lines) < 3 || !strings.Contains(stdout, `"Id":"`+failedJob+`"`) {
		t.Errorf("wharf jobs list: %v, %d lines\nstdout %s\nstderr %s", err, len(lines), stdout, stderr)
	}
	for _, l := range lines {
		var j struct{ Id, State string }
		if json.Unmarshal([]byte(l), &j) != nil || j.Id == "" || j.State == "" {
			t.Errorf("wharf jobs list printed %q, not a job", l)
		}
	}
	stdout, _, err = wharfClientEnv(t, f, dir, []string{"WHARF_DATA_SET=" + f.dataSet, "WHARF_LIMIT=1"}, "jobs", "list")
	if err != nil || strings.Count(strings.TrimSpace(stdout), "\n") != 0 || stdout == "" {
		t.Errorf("wharf jobs list with WHARF_LIMIT=1: %v\n%s", err, stdout)
	}
	if stdout, _, err := wharfClient(t, f, dir, "jobs", "list", "--data-set", "0123456789abcdef0123456789abcdef"); err != nil || stdout != "" {
		t.Errorf("wharf jobs list of another data set: %v, printed %q", err, stdout)
	}

	// jobs wait --timeout on a job that never starts.
	waiting := f.createImport(t, "never-started.bin", []byte("x"))
	start := time.Now()
	stdout, stderr, err = wharfClient(t, f, dir, "jobs", "wait", "--timeout", "1s", *waiting.Id)
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() == 0 || strings.TrimSpace(stdout) != "WAITING" ||
		!strings.Contains(stderr, "still WAITING after --timeout 1s") {
		t.Errorf("wharf jobs wait --timeout 1s: %v\nstdout %s\nstderr %s", err, stdout, stderr)
	}
	if d := time.Since(start); d > 30*time.Second {
		t.Errorf("wharf jobs wait --timeout 1s took %s", d)
	}
}
