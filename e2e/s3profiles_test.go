package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dataexchange"
	"github.com/aws/aws-sdk-go-v2/service/dataexchange/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wharf-dev/wharf/internal/s3test"
)

// adminWith runs `wharf <args> <store flags>` with extra environment and
// stdin.
func (s *server) adminWith(t *testing.T, env []string, stdin string, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, wharfBin, append(args, s.storeFlags()...)...)
	cmd.Env = append(baseEnv(), env...)
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	s.openMu.Lock()
	err = cmd.Run()
	s.openMu.Unlock()
	return out.String(), errb.String(), err
}

type s3ProfileJSON struct {
	AccountId, Endpoint, Region, AccessKeyId, UpdatedAt string
	PathStyle                                           bool
}

// TestS3Profiles: an account other than the root has no S3 access until an
// admin sets its profile (while the server runs); its jobs then use that
// profile's endpoint and credentials, never the server's own.
func TestS3Profiles(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		s := startS3Server(t, b)
		// The root's bucket, on the server's ambient MinIO.
		rootBucket := s.minio.NewBucket(t)
		s.minio.PutObject(t, rootBucket, "root-only.csv", []byte("root's data"))
		// The tenant's own S3 server, with credentials of its own.
		tenantS3 := s3test.StartNamed(t, "tenant")
		tenantBucket := tenantS3.NewBucket(t)
		tenantS3.PutObject(t, tenantBucket, "mine.csv", []byte("tenant's data, 32 bytes long...."))

		tenant := s.createAccount(t, "")
		tc := s.client(tenant)
		dsID, _ := revision(t, tc)
		importInto := func(bucket, key string) *dataexchange.GetJobOutput {
			t.Helper()
			_, rev := revisionIn(t, tc, dsID)
			return runJob(t, tc, types.TypeImportAssetsFromS3, importDetails(dsID, rev, bucket, key))
		}
		requireJobError := func(job *dataexchange.GetJobOutput, code types.Code, contains string) {
			t.Helper()
			require.Equal(t, types.StateError, job.State)
			require.Len(t, job.Errors, 1, jobErrors(job.Errors))
			assert.Equal(t, code, job.Errors[0].Code)
			assert.Contains(t, aws.ToString(job.Errors[0].Message), contains)
		}

		// Without a profile: the job is accepted and ends in ERROR with an
		// ACCESS_DENIED_EXCEPTION (the credentials are looked up when it
		// runs, so that a profile set meanwhile is used).
		requireJobError(importInto(rootBucket, "root-only.csv"), types.CodeAccessDeniedException, "no S3 credentials")
		_, errOut, err := s.admin(t, "accounts", "s3", "show", "--account", tenant.AccountID)
		require.Error(t, err)
		assert.Contains(t, errOut, "no S3 profile")

		// Set it: the secret comes from stdin, and is never printed.
		out, errOut, err := s.adminWith(t, nil, tenantS3.SecretAccessKey+"\n", "accounts", "s3", "set",
			"--account", tenant.AccountID, "--endpoint", tenantS3.URL, "--path-style", "--access-key-id", tenantS3.AccessKeyID)
		require.NoError(t, err, errOut)
		assert.NotContains(t, out, tenantS3.SecretAccessKey)
		var set s3ProfileJSON
		require.NoError(t, json.Unmarshal([]byte(out), &set), out)
		assert.Equal(t, s3ProfileJSON{AccountId: tenant.AccountID, Endpoint: tenantS3.URL, Region: "us-east-1",
			AccessKeyId: tenantS3.AccessKeyID, PathStyle: true, UpdatedAt: set.UpdatedAt}, set)
		out, errOut, err = s.admin(t, "accounts", "s3", "show", "--account", tenant.AccountID)
		require.NoError(t, err, errOut)
		assert.NotContains(t, out, tenantS3.SecretAccessKey)
		var shown s3ProfileJSON
		require.NoError(t, json.Unmarshal([]byte(out), &shown))
		assert.Equal(t, set, shown)

		// The running server uses it at once.
		job := importInto(tenantBucket, "mine.csv")
		requireCompleted(t, job)
		assets := listAssets(t, tc, dsID, aws.ToString(job.Details.ImportAssetsFromS3.RevisionId))
		require.Len(t, assets, 1)
		assert.Equal(t, "mine.csv", aws.ToString(assets[0].Name))
		assert.Equal(t, 32.0, assets[0].AssetDetails.S3SnapshotAsset.Size)

		// The tenant's jobs reach only its own S3 server: the root's bucket
		// does not exist there, and the server's credentials are not used.
		requireJobError(importInto(rootBucket, "root-only.csv"), types.CodeResourceNotFoundException, rootBucket)

		// A wrong secret (from the environment this time) is the S3
		// server's refusal, as an ACCESS_DENIED_EXCEPTION naming the source.
		_, errOut, err = s.adminWith(t, []string{"WHARF_S3_SECRET_ACCESS_KEY=not-the-secret"}, "", "accounts", "s3", "set",
			"--account", tenant.AccountID, "--endpoint", tenantS3.URL, "--path-style", "--access-key-id", tenantS3.AccessKeyID)
		require.NoError(t, err, errOut)
		requireJobError(importInto(tenantBucket, "mine.csv"), types.CodeAccessDeniedException, "mine.csv")

		// Deleted: refused again; the root's own jobs are unaffected.
		_, errOut, err = s.admin(t, "accounts", "s3", "delete", "--account", tenant.AccountID)
		require.NoError(t, err, errOut)
		requireJobError(importInto(tenantBucket, "mine.csv"), types.CodeAccessDeniedException, "no S3 credentials")
		_, errOut, err = s.admin(t, "accounts", "s3", "delete", "--account", tenant.AccountID)
		require.Error(t, err)
		assert.Contains(t, errOut, "no S3 profile")

		rootDS, rootRev := revision(t, s.c)
		requireCompleted(t, runJob(t, s.c, types.TypeImportAssetsFromS3, importDetails(rootDS, rootRev, rootBucket, "root-only.csv")))

		// Refusals of the admin command change nothing.
		for _, args := range [][]string{
			{"--account", "999999999999", "--access-key-id", "AK"},                            // no such account
			{"--account", tenant.AccountID},                                                   // no access key id
			{"--account", tenant.AccountID, "--access-key-id", "AK", "--endpoint", "ftp://x"}, // not http(s)
		} {
			_, _, err := s.adminWith(t, []string{"WHARF_S3_SECRET_ACCESS_KEY=x"}, "", append([]string{"accounts", "s3", "set"}, args...)...)
			assert.Error(t, err, "wharf accounts s3 set %v", args)
		}
		_, _, err = s.adminWith(t, nil, "", "accounts", "s3", "set", "--account", tenant.AccountID, "--access-key-id", "AK")
		assert.Error(t, err, "set without a secret")
		_, _, err = s.admin(t, "accounts", "s3", "show", "--account", tenant.AccountID)
		assert.Error(t, err, "a refused set stored a profile")
	})
}
