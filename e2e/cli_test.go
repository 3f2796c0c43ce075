package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// awsCLI is one installed AWS CLI.
type awsCLI struct {
	path    string
	version string // e.g. "1.45.11", "2.9.19"
}

func (c awsCLI) name() string {
	return "aws-cli-" + c.version
}

var cliVersionRE = regexp.MustCompile(`aws-cli/(\d+\.\d+\.\d+)`)

// findCLIs returns the AWS CLIs installed here: the `aws` first on PATH
// (often a pip-installed v1) and Debian's v2 at /usr/bin/aws, once each.
func findCLIs(t *testing.T) []awsCLI {
	t.Helper()
	var candidates []string
	if p, err := exec.LookPath("aws"); err == nil {
		candidates = append(candidates, p)
	}
	candidates = append(candidates, "/usr/bin/aws", "/usr/local/bin/aws")
	var clis []awsCLI
	seen := map[string]bool{}
	for _, p := range candidates {
		if _, err := os.Stat(p); err != nil {
			continue
		}
		// A pyenv shim runs `pyenv exec` (half a second) before the CLI
		// itself; call the CLI it resolves to directly.
		if strings.Contains(p, "/.pyenv/shims/") {
			if out, err := exec.Command("pyenv", "which", "aws").Output(); err == nil {
				if real := strings.TrimSpace(string(out)); real != "" {
					p = real
				}
			}
		}
		out, err := exec.Command(p, "--version").CombinedOutput()
		if err != nil {
			t.Logf("ignoring %s: --version failed: %v: %s", p, err, out)
			continue
		}
		m := cliVersionRE.FindSubmatch(out)
		if m == nil {
			t.Logf("ignoring %s: unrecognised --version output %q", p, out)
			continue
		}
		v := string(m[1])
		if seen[v] {
			continue
		}
		seen[v] = true
		clis = append(clis, awsCLI{path: p, version: v})
	}
	return clis
}

type cliResult struct {
	out    map[string]any
	stdout string
	stderr string
	exit   int
}

// run runs `aws dataexchange <args>` against s, signed with c, and parses
// its JSON output.
func (cli awsCLI) run(t *testing.T, s *server, c creds, args ...string) cliResult {
	t.Helper()
	return cli.runWith(t, s, c, nil, args...)
}

// runWith is run with extraEnv added to the CLI's environment.
func (cli awsCLI) runWith(t *testing.T, s *server, c creds, extraEnv []string, args ...string) cliResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	full := append([]string{"dataexchange"}, args...)
	full = append(full, "--endpoint-url", s.URL, "--region", s.Region, "--output", "json")
	cmd := exec.CommandContext(ctx, cli.path, full...)
	cfgDir := t.TempDir()
	var env []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "AWS_") {
			continue
		}
		env = append(env, kv)
	}
	cmd.Env = append(env,
		"AWS_ACCESS_KEY_ID="+c.AccessKeyID,
		"AWS_SECRET_ACCESS_KEY="+c.SecretAccessKey,
		"AWS_DEFAULT_REGION="+s.Region,
		"AWS_CONFIG_FILE="+filepath.Join(cfgDir, "config"),
		"AWS_SHARED_CREDENTIALS_FILE="+filepath.Join(cfgDir, "credentials"),
		"AWS_PAGER=",
		"AWS_EC2_METADATA_DISABLED=true",
		"AWS_MAX_ATTEMPTS=1",
	)
	cmd.Env = append(cmd.Env, extraEnv...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	r := cliResult{stdout: stdout.String(), stderr: stderr.String()}
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		r.exit = ee.ExitCode()
	default:
		t.Fatalf("aws %s: %v", strings.Join(args, " "), err)
	}
	if r.exit == 0 && strings.TrimSpace(r.stdout) != "" {
		if err := json.Unmarshal(stdout.Bytes(), &r.out); err != nil {
			t.Fatalf("aws %s printed non-JSON %q: %v", strings.Join(args, " "), r.stdout, err)
		}
	}
	return r
}

// ok runs a command that must succeed and returns its JSON output (nil for
// commands that print nothing).
func (cli awsCLI) ok(t *testing.T, s *server, c creds, args ...string) map[string]any {
	t.Helper()
	r := cli.run(t, s, c, args...)
	require.Zero(t, r.exit, "aws dataexchange %s failed (exit %d):\n%s", strings.Join(args, " "), r.exit, r.stderr)
	return r.out
}

// fails runs a command that must fail with the named exception.
func (cli awsCLI) fails(t *testing.T, s *server, c creds, exception string, args ...string) {
	t.Helper()
	r := cli.run(t, s, c, args...)
	assert.NotZero(t, r.exit, "aws dataexchange %s must fail with %s; it printed %s", strings.Join(args, " "), exception, r.stdout)
	assert.Contains(t, r.stderr, exception, "aws dataexchange %s: stderr must name the exception", strings.Join(args, " "))
}

func str(m map[string]any, key string) string {
	s, _ := m[key].(string)
	return s
}

func strMap(v any) map[string]string {
	m, _ := v.(map[string]any)
	out := map[string]string{}
	for k, v := range m {
		out[k] = fmt.Sprint(v)
	}
	return out
}

func list(m map[string]any, key string) []map[string]any {
	items, _ := m[key].([]any)
	var out []map[string]any
	for _, it := range items {
		if mm, ok := it.(map[string]any); ok {
			out = append(out, mm)
		}
	}
	return out
}

func ids(items []map[string]any) []string {
	var out []string
	for _, it := range items {
		out = append(out, str(it, "Id"))
	}
	return out
}

func checkCLITime(t *testing.T, m map[string]any, key string) {
	t.Helper()
	v := str(m, key)
	_, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		// CLI v1 prints timestamps with a +00:00 offset; both parse above,
		// but keep the failure message useful.
		t.Errorf("%s = %q is not an ISO 8601 timestamp: %v", key, v, err)
	}
}

// TestAWSCLI walks through every operation with each installed AWS CLI.
func TestAWSCLI(t *testing.T) {
	clis := findCLIs(t)
	if len(clis) == 0 {
		if os.Getenv("WHARF_TEST_REQUIRE_AWSCLI") == "1" {
			t.Fatal("no AWS CLI installed (looked for `aws` on PATH and /usr/bin/aws) and WHARF_TEST_REQUIRE_AWSCLI=1")
		}
		t.Skip("no AWS CLI installed; set WHARF_TEST_REQUIRE_AWSCLI=1 to fail instead")
	}
	eachBackend(t, func(t *testing.T, b backend) {
		s := startServer(t, b)
		for _, cli := range clis {
			t.Run(cli.name(), func(t *testing.T) {
				t.Parallel()
				t.Logf("using %s (aws-cli/%s)", cli.path, cli.version)
				cliWalkthrough(t, s, cli)
			})
		}
	})
}

func cliWalkthrough(t *testing.T, s *server, cli awsCLI) {
	// Each CLI gets its own account, so the two can run side by side.
	c := s.createAccount(t, "")
	acct := c.AccountID

	// Data sets.
	ds := cli.ok(t, s, c, "create-data-set", "--asset-type", "S3_SNAPSHOT", "--name", "cli-ds",
		"--description", "made by the CLI", "--tags", "team=data,env=cli")
	dsID := str(ds, "Id")
	assert.Regexp(t, idRE, dsID)
	assert.Equal(t, dataSetARN(acct, dsID), str(ds, "Arn"))
	assert.Equal(t, "cli-ds", str(ds, "Name"))
	assert.Equal(t, "made by the CLI", str(ds, "Description"))
	assert.Equal(t, "S3_SNAPSHOT", str(ds, "AssetType"))
	assert.Equal(t, "OWNED", str(ds, "Origin"))
	assert.Equal(t, map[string]string{"team": "data", "env": "cli"}, strMap(ds["Tags"]))
	checkCLITime(t, ds, "CreatedAt")
	checkCLITime(t, ds, "UpdatedAt")

	got := cli.ok(t, s, c, "get-data-set", "--data-set-id", dsID)
	assert.Equal(t, str(ds, "Arn"), str(got, "Arn"))
	assert.Equal(t, map[string]string{"team": "data", "env": "cli"}, strMap(got["Tags"]))

	upd := cli.ok(t, s, c, "update-data-set", "--data-set-id", dsID, "--name", "cli-ds-renamed")
	assert.Equal(t, "cli-ds-renamed", str(upd, "Name"))
	assert.Equal(t, "made by the CLI", str(upd, "Description"))

	// Two more data sets, then list with a page size of 1 so that the CLI
	// follows NextToken.
	more := []string{dsID}
	for i := 0; i < 2; i++ {
		d := cli.ok(t, s, c, "create-data-set", "--asset-type", "S3_SNAPSHOT", "--name", fmt.Sprintf("extra-%d", i), "--description", "x")
		more = append(more, str(d, "Id"))
		time.Sleep(5 * time.Millisecond)
	}
	listed := ids(list(cli.ok(t, s, c, "list-data-sets", "--page-size", "1"), "DataSets"))
	assert.Equal(t, []string{more[2], more[1], more[0]}, listed, "list-data-sets: all, newest first")
	listed = ids(list(cli.ok(t, s, c, "list-data-sets", "--origin", "OWNED"), "DataSets"))
	assert.Len(t, listed, 3)

	// Revisions.
	rev := cli.ok(t, s, c, "create-revision", "--data-set-id", dsID, "--comment", "rev 1", "--tags", "stage=raw")
	revID := str(rev, "Id")
	assert.Regexp(t, idRE, revID)
	assert.Equal(t, revisionARN(acct, dsID, revID), str(rev, "Arn"))
	assert.Equal(t, dsID, str(rev, "DataSetId"))
	assert.Equal(t, "rev 1", str(rev, "Comment"))
	assert.Equal(t, false, rev["Finalized"])
	assert.Equal(t, map[string]string{"stage": "raw"}, strMap(rev["Tags"]))
	checkCLITime(t, rev, "CreatedAt")

	cli.fails(t, s, c, "ValidationException", "update-revision", "--data-set-id", dsID, "--revision-id", revID, "--finalized")

	assets := s.insertAssets(t, acct, dsID, revID, "data/part-1.csv", "data/part-2.csv")
	al := list(cli.ok(t, s, c, "list-revision-assets", "--data-set-id", dsID, "--revision-id", revID), "Assets")
	require.Len(t, al, 2)
	assert.Equal(t, []string{"data/part-2.csv", "data/part-1.csv"}, []string{str(al[0], "Name"), str(al[1], "Name")})
	ga := cli.ok(t, s, c, "get-asset", "--data-set-id", dsID, "--revision-id", revID, "--asset-id", assets[0].ID)
	assert.Equal(t, assetARN(acct, dsID, revID, assets[0].ID), str(ga, "Arn"))
	assert.Equal(t, "S3_SNAPSHOT", str(ga, "AssetType"))
	details, _ := ga["AssetDetails"].(map[string]any)
	snap, _ := details["S3SnapshotAsset"].(map[string]any)
	assert.EqualValues(t, 100, snap["Size"])
	ua := cli.ok(t, s, c, "update-asset", "--data-set-id", dsID, "--revision-id", revID, "--asset-id", assets[0].ID, "--name", "data/renamed.csv")
	assert.Equal(t, "data/renamed.csv", str(ua, "Name"))

	fin := cli.ok(t, s, c, "update-revision", "--data-set-id", dsID, "--revision-id", revID, "--finalized")
	assert.Equal(t, true, fin["Finalized"])
	cli.fails(t, s, c, "ConflictException", "update-revision", "--data-set-id", dsID, "--revision-id", revID, "--comment", "too late")
	cli.fails(t, s, c, "ConflictException", "delete-revision", "--data-set-id", dsID, "--revision-id", revID)
	cli.fails(t, s, c, "ConflictException", "delete-asset", "--data-set-id", dsID, "--revision-id", revID, "--asset-id", assets[1].ID)

	unfin := cli.ok(t, s, c, "update-revision", "--data-set-id", dsID, "--revision-id", revID, "--no-finalized", "--comment", "rev 1, fixed")
	assert.Equal(t, false, unfin["Finalized"])
	assert.Equal(t, "rev 1, fixed", str(unfin, "Comment"))
	cli.ok(t, s, c, "update-revision", "--data-set-id", dsID, "--revision-id", revID, "--finalized")

	revoked := cli.ok(t, s, c, "revoke-revision", "--data-set-id", dsID, "--revision-id", revID, "--revocation-comment", "superseded by rev 2")
	assert.Equal(t, true, revoked["Revoked"])
	assert.Equal(t, "superseded by rev 2", str(revoked, "RevocationComment"))
	checkCLITime(t, revoked, "RevokedAt")
	cli.fails(t, s, c, "ConflictException", "revoke-revision", "--data-set-id", dsID, "--revision-id", revID, "--revocation-comment", "and once more")

	// A second revision with an asset that we delete, then delete it.
	rev2 := cli.ok(t, s, c, "create-revision", "--data-set-id", dsID)
	rev2ID := str(rev2, "Id")
	a2 := s.insertAssets(t, acct, dsID, rev2ID, "tmp.csv")
	cli.ok(t, s, c, "delete-asset", "--data-set-id", dsID, "--revision-id", rev2ID, "--asset-id", a2[0].ID)
	cli.fails(t, s, c, "ResourceNotFoundException", "get-asset", "--data-set-id", dsID, "--revision-id", rev2ID, "--asset-id", a2[0].ID)
	revs := list(cli.ok(t, s, c, "list-data-set-revisions", "--data-set-id", dsID, "--page-size", "1"), "Revisions")
	assert.Equal(t, []string{rev2ID, revID}, ids(revs), "list-data-set-revisions: newest first")
	gr := cli.ok(t, s, c, "get-revision", "--data-set-id", dsID, "--revision-id", revID)
	assert.Equal(t, true, gr["Revoked"])
	assert.Equal(t, map[string]string{"stage": "raw"}, strMap(gr["Tags"]))
	cli.ok(t, s, c, "delete-revision", "--data-set-id", dsID, "--revision-id", rev2ID)
	cli.fails(t, s, c, "ResourceNotFoundException", "get-revision", "--data-set-id", dsID, "--revision-id", rev2ID)

	// Tags.
	arn := str(ds, "Arn")
	cli.ok(t, s, c, "tag-resource", "--resource-arn", arn, "--tags", "a=1,b=2")
	tags := cli.ok(t, s, c, "list-tags-for-resource", "--resource-arn", arn)
	assert.Equal(t, map[string]string{"team": "data", "env": "cli", "a": "1", "b": "2"}, strMap(tags["Tags"]))
	cli.ok(t, s, c, "untag-resource", "--resource-arn", arn, "--tag-keys", "a", "env")
	tags = cli.ok(t, s, c, "list-tags-for-resource", "--resource-arn", arn)
	assert.Equal(t, map[string]string{"team": "data", "b": "2"}, strMap(tags["Tags"]))
	revArn := str(rev, "Arn")
	cli.ok(t, s, c, "tag-resource", "--resource-arn", revArn, "--tags", "reviewed=yes")
	tags = cli.ok(t, s, c, "list-tags-for-resource", "--resource-arn", revArn)
	assert.Equal(t, map[string]string{"stage": "raw", "reviewed": "yes"}, strMap(tags["Tags"]))

	// Errors: bad input, wrong secret, unknown key.
	cli.fails(t, s, c, "ValidationException", "create-data-set", "--asset-type", "NOT_A_TYPE", "--name", "n", "--description", "d")
	cli.fails(t, s, creds{AccessKeyID: c.AccessKeyID, SecretAccessKey: "wrong"}, "InvalidSignatureException", "list-data-sets")
	cli.fails(t, s, creds{AccessKeyID: "AKIAUNKNOWNKEY000000", SecretAccessKey: "x"}, "UnrecognizedClientException", "list-data-sets")

	// Delete everything.
	for _, id := range more {
		cli.ok(t, s, c, "delete-data-set", "--data-set-id", id)
	}
	cli.fails(t, s, c, "ResourceNotFoundException", "get-data-set", "--data-set-id", dsID)
	cli.fails(t, s, c, "ResourceNotFoundException", "delete-data-set", "--data-set-id", dsID)
	cli.fails(t, s, c, "ResourceNotFoundException", "get-revision", "--data-set-id", dsID, "--revision-id", revID)
	assert.Empty(t, list(cli.ok(t, s, c, "list-data-sets"), "DataSets"))
}
