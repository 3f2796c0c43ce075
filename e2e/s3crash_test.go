package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dataexchange"
	"github.com/aws/aws-sdk-go-v2/service/dataexchange/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// kill ends the server with SIGKILL: no shutdown, no hand-over, leases left
// to expire.
func (s *server) kill(t *testing.T) {
	t.Helper()
	s.stopOnce.Do(func() {
		require.NoError(t, s.cmd.Process.Signal(syscall.SIGKILL))
		<-s.exited
	})
}

// jobProgress reads GetJob's Progress member (Wharf's addition, which the
// SDK drops) with a raw signed request.
func jobProgress(t *testing.T, s *server, c creds, jobID string) (state string, done, total int64) {
	t.Helper()
	resp := s.signed(t, c, http.MethodGet, "/v1/jobs/"+jobID, "", time.Now(), nil)
	require.Equal(t, http.StatusOK, resp.StatusCode, resp.Body)
	var out struct {
		State    string
		Progress *struct{ BytesDone, BytesTotal int64 }
	}
	require.NoError(t, json.Unmarshal([]byte(resp.Body), &out))
	if out.Progress == nil {
		return out.State, 0, 0
	}
	return out.State, out.Progress.BytesDone, out.Progress.BytesTotal
}

// waitMidway polls the job's progress until some of its bytes, but not
// all, are copied.
func waitMidway(t *testing.T, s *server, jobID string) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for {
		state, done, total := jobProgress(t, s, s.Root, jobID)
		require.Contains(t, []string{"WAITING", "IN_PROGRESS"}, state, "the job ended before the kill")
		if done > 0 && done < total {
			t.Logf("killing the server with %d of %d bytes copied", done, total)
			return
		}
		require.True(t, time.Now().Before(deadline), "no progress after 2 minutes (%d of %d bytes)", done, total)
		time.Sleep(20 * time.Millisecond)
	}
}

// TestImportSurvivesKill9 kills -9 the server in the middle of an import
// into the local asset store and restarts it on the same store: the job
// ends COMPLETED with exactly its assets, their bytes right, and no
// temporary file left.
func TestImportSurvivesKill9(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		minio, directEnv := s3Env(t)
		// 3 objects of 6 MiB, each read at 1.5 MiB/s: the copy takes about
		// four seconds, so progress (written once a second) shows it part
		// done. The objects copy in parallel, each on its own connection.
		const (
			objects = 3
			size    = 6 << 20
		)
		proxy := startSlowProxy(t, minio.URL, 3<<19)
		slowEnv := append([]string{}, directEnv...)
		for i, kv := range slowEnv {
			if strings.HasPrefix(kv, "AWS_ENDPOINT_URL_S3=") {
				slowEnv[i] = "AWS_ENDPOINT_URL_S3=" + proxy.URL
			}
		}
		leaseArgs := []string{"--test-job-lease", "3s"}
		s := startServer(t, b, serverOptions{Env: slowEnv, Args: leaseArgs})
		c := s.client(s.Root)

		src := minio.NewBucket(t)
		want := map[string][]byte{}
		var keys []string
		for i := 0; i < objects; i++ {
			data := make([]byte, size)
			rng := rand.NewChaCha8([32]byte{byte(i)})
			_, _ = rng.Read(data)
			key := "large/part-" + string(rune('a'+i)) + ".bin"
			minio.PutObject(t, src, key, data)
			want[key] = data
			keys = append(keys, key)
		}
		dsID, revID := revision(t, c)
		jobID := createJob(t, c, types.TypeImportAssetsFromS3, importDetails(dsID, revID, src, keys...))
		_, err := c.StartJob(context.Background(), &dataexchange.StartJobInput{JobId: aws.String(jobID)})
		require.NoError(t, err)

		waitMidway(t, s, jobID)
		s.kill(t)
		var temps []string
		for _, f := range localStoreFiles(t, s) {
			if strings.HasPrefix(filepath.Base(f), ".tmp-") {
				temps = append(temps, f)
			}
		}
		assert.NotEmpty(t, temps, "the kill came mid-copy, so the local store holds partial files")

		// Restart on the same store, now at full speed.
		db := s.Database
		s2 := startServer(t, b, serverOptions{DataDir: s.DataDir, Database: &db, Env: directEnv, Args: leaseArgs})
		c2 := s2.client(s2.Root)
		job := waitJob(t, c2, jobID)
		requireCompleted(t, job)

		assets := listAssets(t, c2, dsID, revID)
		require.Len(t, assets, objects, "exactly one asset per source")
		var wantFiles []string
		for _, a := range assets {
			name := aws.ToString(a.Name)
			data, ok := want[name]
			require.True(t, ok, "unexpected asset %q", name)
			assert.Equal(t, float64(size), a.AssetDetails.S3SnapshotAsset.Size)
			rel := filepath.Join(s.Root.AccountID, dsID, aws.ToString(a.Id))
			wantFiles = append(wantFiles, filepath.ToSlash(rel))
			got, err := os.ReadFile(filepath.Join(s.DataDir, "assets", rel))
			require.NoError(t, err, "asset %q's bytes", name)
			assert.True(t, bytes.Equal(data, got), "asset %q: bytes differ from the source", name)
		}
		assert.ElementsMatch(t, wantFiles, localStoreFiles(t, s2), "the local store holds the assets' files and nothing else")
		assert.Empty(t, minio.Uploads(t, src))
	})
}

// TestImportSurvivesKill9S3Store kills -9 the server while it streams an
// object into an S3 asset store with a multipart upload (the root account's
// profile reaches MinIO through a slow proxy, so no server-side copy is
// possible), restarts it, and the job completes with exactly one asset
// object and no multipart upload left in the asset bucket.
func TestImportSurvivesKill9S3Store(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		minio, env := s3Env(t)
		// 24 MiB: two parts of the streamed multipart upload (16 MiB
		// parts), each read at 4 MiB/s until the kill.
		const size = 24 << 20
		proxy := startSlowProxy(t, minio.URL, 4<<20)
		assetBucket := minio.NewBucket(t)
		args := []string{"--test-job-lease", "3s", "--asset-store", "s3://" + assetBucket + "/store"}
		s := startServer(t, b, serverOptions{Env: env, Args: args})
		c := s.client(s.Root)
		_, errOut, err := s.adminWith(t, []string{"WHARF_S3_SECRET_ACCESS_KEY=" + minio.SecretAccessKey}, "",
			"accounts", "s3", "set", "--account", s.Root.AccountID, "--endpoint", proxy.URL, "--path-style",
			"--access-key-id", minio.AccessKeyID)
		require.NoError(t, err, errOut)

		src := minio.NewBucket(t)
		data := make([]byte, size)
		_, _ = rand.NewChaCha8([32]byte{42}).Read(data)
		minio.PutObject(t, src, "big.bin", data)
		dsID, revID := revision(t, c)
		jobID := createJob(t, c, types.TypeImportAssetsFromS3, importDetails(dsID, revID, src, "big.bin"))
		_, err = c.StartJob(context.Background(), &dataexchange.StartJobInput{JobId: aws.String(jobID)})
		require.NoError(t, err)

		waitMidway(t, s, jobID)
		s.kill(t)
		assert.NotEmpty(t, minio.Uploads(t, assetBucket), "the kill came mid-upload, so a multipart upload is open")
		assert.Empty(t, minio.Keys(t, assetBucket), "no asset object before the job completes")

		proxy.bytesPerSec.Store(0)
		db := s.Database
		s2 := startServer(t, b, serverOptions{DataDir: s.DataDir, Database: &db, Env: env, Args: args})
		c2 := s2.client(s2.Root)
		requireCompleted(t, waitJob(t, c2, jobID))

		assets := listAssets(t, c2, dsID, revID)
		require.Len(t, assets, 1)
		assert.Equal(t, "big.bin", aws.ToString(assets[0].Name))
		assert.Equal(t, float64(size), assets[0].AssetDetails.S3SnapshotAsset.Size)
		keys := minio.Keys(t, assetBucket)
		require.Len(t, keys, 1, "the asset store holds exactly the asset's object")
		assert.True(t, strings.HasPrefix(keys[0], "store/") && strings.HasSuffix(keys[0], aws.ToString(assets[0].Id)),
			"asset object key %q", keys[0])
		assert.True(t, bytes.Equal(data, minio.GetObject(t, assetBucket, keys[0])), "the asset's bytes differ from the source")
		assert.Empty(t, minio.Uploads(t, assetBucket), "no multipart upload left behind")
	})
}
