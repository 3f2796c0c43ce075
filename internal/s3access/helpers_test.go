package s3access_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/wharf-dev/wharf/internal/s3access"
	"github.com/wharf-dev/wharf/internal/s3test"
)

func TestMain(m *testing.M) { s3test.Main(m) }

const mib = 1 << 20

// endpoint is an Endpoint on srv with its root credentials.
func endpoint(t testing.TB, srv *s3test.Server) *s3access.Endpoint {
	t.Helper()
	ep, err := s3access.NewEndpoint(s3access.Profile{
		Endpoint: srv.URL, Region: srv.Region, AccessKeyID: srv.AccessKeyID,
		SecretAccessKey: srv.SecretAccessKey, PathStyle: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	return ep
}

// endpointThrough is an Endpoint on srv with its root credentials whose
// requests go through hc.
func endpointThrough(t testing.TB, srv *s3test.Server, hc s3.HTTPClient) *s3access.Endpoint {
	t.Helper()
	client := s3.New(s3.Options{
		Region: srv.Region, BaseEndpoint: aws.String(srv.URL), UsePathStyle: true,
		Credentials: endpoint(t, srv).Client().Options().Credentials,
		HTTPClient:  hc,
	})
	ep, err := s3access.NewEndpointFromClient(client, s3access.Identity{URL: srv.URL, AccessKeyID: srv.AccessKeyID})
	if err != nil {
		t.Fatal(err)
	}
	return ep
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return b
}

func ctxT(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

func head(t testing.TB, loc s3access.Location) *s3.HeadObjectOutput {
	t.Helper()
	out, err := loc.Endpoint.Client().HeadObject(context.Background(), &s3.HeadObjectInput{
		Bucket: &loc.Bucket, Key: &loc.Key})
	if err != nil {
		t.Fatalf("head %s: %v", loc, err)
	}
	return out
}

func read(t testing.TB, loc s3access.Location) []byte {
	t.Helper()
	rc, _, err := s3access.Get(context.Background(), loc)
	if err != nil {
		t.Fatalf("get %s: %v", loc, err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func sameBytes(t testing.TB, what string, got, want []byte) {
	t.Helper()
	if !bytes.Equal(got, want) {
		t.Fatalf("%s: got %d bytes (sha256 %x), want %d bytes (sha256 %x)", what,
			len(got), sha256.Sum256(got), len(want), sha256.Sum256(want))
	}
}

// assertAbsent checks loc holds no object.
func assertAbsent(t testing.TB, loc s3access.Location) {
	t.Helper()
	_, err := s3access.Head(context.Background(), loc)
	if !errors.Is(err, s3access.ErrNoSuchKey) {
		t.Fatalf("%s: want no object, Head says %v", loc, err)
	}
}

// progressLog records progress callbacks and checks they are serialized
// and monotonic.
type progressLog struct {
	mu      sync.Mutex
	calls   int
	last    int64
	bad     []string
	inside  bool
	onFirst func()
}

func (p *progressLog) fn(done int64) {
	p.mu.Lock()
	if p.inside {
		p.bad = append(p.bad, "concurrent callback")
	}
	p.inside = true
	if done <= p.last {
		p.bad = append(p.bad, "not increasing")
	}
	p.last = done
	p.calls++
	first := p.calls == 1
	p.inside = false
	p.mu.Unlock()
	if first && p.onFirst != nil {
		p.onFirst()
	}
}

func (p *progressLog) check(t testing.TB, total int64) {
	t.Helper()
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.bad) > 0 {
		t.Errorf("progress: %v", p.bad)
	}
	if p.last != total {
		t.Errorf("progress ended at %d, want %d", p.last, total)
	}
}

// srv0Time is a cutoff before any upload was initiated.
var srv0Time = time.Unix(1, 0)

// countingClient counts the UploadPart requests in flight.
type countingClient struct {
	inFlight, peak *atomic.Int32
}

func (c countingClient) Do(req *http.Request) (*http.Response, error) {
	if req.Method == http.MethodPut && req.URL.Query().Has("partNumber") {
		n := c.inFlight.Add(1)
		defer c.inFlight.Add(-1)
		for {
			p := c.peak.Load()
			if n <= p || c.peak.CompareAndSwap(p, n) {
				break
			}
		}
		// Hold the part a little so that overlapping parts show.
		time.Sleep(20 * time.Millisecond)
	}
	return http.DefaultClient.Do(req)
}
