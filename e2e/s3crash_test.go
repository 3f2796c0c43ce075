package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dataexchange"
	"github.com/aws/aws-sdk-go-v2/service/dataexchange/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// slowProxy forwards TCP connections to an S3 server, passing its answers
// on at a limited rate per connection: a slow network, so that a copy is
// still under way when the test kills the server.
type slowProxy struct {
	URL         string
	target      string // host:port
	bytesPerSec int
	ln          net.Listener
	wg          sync.WaitGroup
	mu          sync.Mutex
	conns       []net.Conn
}

func startSlowProxy(t *testing.T, targetURL string, bytesPerSec int) *slowProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	p := &slowProxy{
		URL:         "http://" + ln.Addr().String(),
		target:      strings.TrimPrefix(targetURL, "http://"),
		bytesPerSec: bytesPerSec,
		ln:          ln,
	}
	p.wg.Add(1)
	go p.serve()
	t.Cleanup(p.close)
	return p
}

func (p *slowProxy) serve() {
	defer p.wg.Done()
	for {
		client, err := p.ln.Accept()
		if err != nil {
			return
		}
		upstream, err := net.Dial("tcp", p.target)
		if err != nil {
			client.Close()
			continue
		}
		p.mu.Lock()
		p.conns = append(p.conns, client, upstream)
		p.mu.Unlock()
		p.wg.Add(2)
		go func() {
			defer p.wg.Done()
			_, _ = io.Copy(upstream, client)
			upstream.Close()
		}()
		go func() {
			defer p.wg.Done()
			p.throttledCopy(client, upstream)
			client.Close()
		}()
	}
}

func (p *slowProxy) throttledCopy(dst io.Writer, src io.Reader) {
	buf := make([]byte, 16<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
			time.Sleep(time.Duration(n) * time.Second / time.Duration(p.bytesPerSec))
		}
		if err != nil {
			return
		}
	}
}

func (p *slowProxy) close() {
	p.ln.Close()
	p.mu.Lock()
	for _, c := range p.conns {
		c.Close()
	}
	p.mu.Unlock()
	p.wg.Wait()
}

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

		// Wait until some bytes, but not all, are copied; then kill.
		deadline := time.Now().Add(2 * time.Minute)
		for {
			state, done, total := jobProgress(t, s, s.Root, jobID)
			require.Contains(t, []string{"WAITING", "IN_PROGRESS"}, state, "the job ended before the kill")
			if done > 0 && done < total {
				t.Logf("killing the server with %d of %d bytes copied", done, total)
				break
			}
			require.True(t, time.Now().Before(deadline), "no progress after 2 minutes (%d of %d bytes)", done, total)
			time.Sleep(20 * time.Millisecond)
		}
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
