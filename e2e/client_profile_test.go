package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
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

// TestClientWithNamedProfile runs `wharf upload`, `wharf download` and
// `wharf jobs wait` with their settings where users keep them: a named
// profile in a shared config file (region; keys in the shared credentials
// file) and the endpoint in AWS_ENDPOINT_URL_DATAEXCHANGE, or the endpoint
// in the profile's services section. No AWS_ACCESS_KEY_ID or AWS_REGION is
// set; the default profile holds keys Wharf doesn't know, so picking it
// instead of the named one fails.
func TestClientWithNamedProfile(t *testing.T) {
	t.Parallel()
	s := startServer(t, backends[0])
	f := newSignedFixture(t, s)

	cfgDir := t.TempDir()
	configFile, credentialsFile := filepath.Join(cfgDir, "config"), filepath.Join(cfgDir, "credentials")
	writeText := func(name, text string) {
		if err := os.WriteFile(name, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	writeText(configFile, `[default]
region = `+s.Region+`

[profile wharf-e2e]
region = `+s.Region+`

[profile wharf-services]
region = `+s.Region+`
services = wharf-local

[services wharf-local]
dataexchange =
  endpoint_url = `+s.URL+`
`)
	writeText(credentialsFile, `[default]
aws_access_key_id = AKIAUNKNOWNTOWHARF00
aws_secret_access_key = not-a-wharf-secret

[wharf-e2e]
aws_access_key_id = `+s.Root.AccessKeyID+`
aws_secret_access_key = `+s.Root.SecretAccessKey+`

[wharf-services]
aws_access_key_id = `+s.Root.AccessKeyID+`
aws_secret_access_key = `+s.Root.SecretAccessKey+`
`)
	var env []string
	for _, kv := range baseEnv() {
		if !strings.HasPrefix(kv, "AWS_") {
			env = append(env, kv)
		}
	}
	env = append(env, "AWS_CONFIG_FILE="+configFile, "AWS_SHARED_CREDENTIALS_FILE="+credentialsFile, "AWS_EC2_METADATA_DISABLED=true")
	run := func(t *testing.T, extraEnv []string, dir string, args ...string) (string, string, error) {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, wharfBin, args...)
		cmd.Dir = dir
		cmd.Env = append(append([]string{}, env...), extraEnv...)
		var o, e bytes.Buffer
		cmd.Stdout, cmd.Stderr = &o, &e
		err := cmd.Run()
		return o.String(), e.String(), err
	}

	for _, c := range []struct {
		name    string
		env     []string
		profile []string // flags
	}{
		{"--profile and AWS_ENDPOINT_URL_DATAEXCHANGE", []string{"AWS_ENDPOINT_URL_DATAEXCHANGE=" + s.URL}, []string{"--profile", "wharf-e2e"}},
		{"AWS_PROFILE and AWS_ENDPOINT_URL_DATAEXCHANGE", []string{"AWS_ENDPOINT_URL_DATAEXCHANGE=" + s.URL, "AWS_PROFILE=wharf-e2e"}, nil},
		{"AWS_PROFILE with the endpoint in its services section", []string{"AWS_PROFILE=wharf-services"}, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			content := patternBytes(len(c.name), 150_000)
			file := filepath.Join(dir, "profiled.dat")
			if err := os.WriteFile(file, content, 0o600); err != nil {
				t.Fatal(err)
			}
			stdout, stderr, err := run(t, c.env, dir, append([]string{"upload", file, "--data-set", f.dataSet, "--revision", f.revision}, c.profile...)...)
			if err != nil {
				t.Fatalf("wharf upload: %v\n%s", err, stderr)
			}
			var asset struct {
				Id, Name string
				Size     int64
			}
			if err := json.Unmarshal([]byte(stdout), &asset); err != nil || asset.Name != "profiled.dat" || asset.Size != int64(len(content)) {
				t.Fatalf("wharf upload printed %q (%v)", stdout, err)
			}
			out := filepath.Join(dir, "back.dat")
			if _, stderr, err := run(t, c.env, dir, append([]string{"download", "--data-set", f.dataSet, "--revision", f.revision,
				"--asset", asset.Id, "-o", out}, c.profile...)...); err != nil {
				t.Fatalf("wharf download: %v\n%s", err, stderr)
			}
			if got, err := os.ReadFile(out); err != nil || !bytes.Equal(got, content) {
				t.Fatalf("wharf download wrote %d bytes (%v), want %d identical", len(got), err, len(content))
			}
			// jobs wait on the import job that made the asset.
			jobs, err := f.dx.ListJobs(context.Background(), &dataexchange.ListJobsInput{RevisionId: aws.String(f.revision)})
			if err != nil {
				t.Fatal(err)
			}
			var jobID string
			for _, j := range jobs.Jobs {
				if d := j.Details.ImportAssetFromSignedUrl; d != nil && aws.ToString(d.AssetName) == "profiled.dat" && j.State == types.StateCompleted && jobID == "" {
					jobID = aws.ToString(j.Id)
				}
			}
			if jobID == "" {
				t.Fatalf("no completed import of profiled.dat among %d jobs", len(jobs.Jobs))
			}
			if stdout, stderr, err := run(t, c.env, dir, append([]string{"jobs", "wait", jobID}, c.profile...)...); err != nil || strings.TrimSpace(stdout) != "COMPLETED" {
				t.Fatalf("wharf jobs wait: %v %q\n%s", err, stdout, stderr)
			}
		})
	}

	// Without a profile the default one is used: its region and keys are
	// not Wharf's, and the command says so.
	_, stderr, err := run(t, []string{"AWS_ENDPOINT_URL_DATAEXCHANGE=" + s.URL}, t.TempDir(), "jobs", "wait", "0123456789abcdef0123456789abcdef")
	var ee *exec.ExitError
	if !errors.As(err, &ee) || !strings.Contains(stderr, "UnrecognizedClientException") {
		t.Fatalf("with the default profile: %v\n%s", err, stderr)
	}
}
