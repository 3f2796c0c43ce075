package api_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/md5"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dataexchange"

	"github.com/wharf-dev/wharf/internal/api"
	"github.com/wharf-dev/wharf/internal/assetstore"
	"github.com/wharf-dev/wharf/internal/resource"
	"github.com/wharf-dev/wharf/internal/signedurl"
)

// newBodyEnv is a Wharf API with every operation (jobs and event
// actions too) whose log goes to e.logs, with the Config changed by tweak.
func newBodyEnv(t *testing.T, tweak func(e *env, cfg *api.Config)) *env {
	t.Helper()
	return newEventActionsEnvWith(t, stores[0].open(t), func(e *env, cfg *api.Config) {
		cfg.Logger = slog.New(slog.NewTextHandler(io.MultiWriter(e.logs, t.Output()), &slog.HandlerOptions{Level: slog.LevelDebug}))
		if tweak != nil {
			tweak(e, cfg)
		}
	})
}

// allOperations lists a method and path of each of the 37 operations.
func allOperations() [][2]string {
	id := resource.NewID()
	ds := "/v1/data-sets/" + id
	rev := ds + "/revisions/" + id
	asset := rev + "/assets/" + id
	tags := "/tags/" + url.PathEscape(resource.DataSetARN(region, accountA, id))
	grantARN := url.PathEscape(resource.DataGrantARN(region, accountA, id))
	return [][2]string{
		{"POST", "/v1/data-sets"}, {"GET", "/v1/data-sets"}, {"GET", ds}, {"PATCH", ds}, {"DELETE", ds},
		{"POST", ds + "/revisions"}, {"GET", ds + "/revisions"}, {"GET", rev}, {"PATCH", rev}, {"DELETE", rev}, {"POST", rev + "/revoke"},
		{"GET", rev + "/assets"}, {"GET", asset}, {"PATCH", asset}, {"DELETE", asset},
		{"POST", tags}, {"DELETE", tags + "?tagKeys=k"}, {"GET", tags},
		{"POST", "/v1/data-grants"}, {"GET", "/v1/data-grants"}, {"GET", "/v1/data-grants/" + id}, {"DELETE", "/v1/data-grants/" + id},
		{"POST", "/v1/data-grants/" + grantARN + "/accept"}, {"POST", ds + "/notification"},
		{"GET", "/v1/received-data-grants"}, {"GET", "/v1/received-data-grants/" + grantARN},
		{"POST", "/v1"},
		{"POST", "/v1/jobs"}, {"GET", "/v1/jobs"}, {"GET", "/v1/jobs/" + id}, {"PATCH", "/v1/jobs/" + id}, {"DELETE", "/v1/jobs/" + id},
		{"POST", "/v1/event-actions"}, {"GET", "/v1/event-actions"}, {"GET", "/v1/event-actions/" + id},
		{"PATCH", "/v1/event-actions/" + id}, {"DELETE", "/v1/event-actions/" + id},
	}
}

const fakeAuth = "Authorization: AWS4-HMAC-SHA256 Credential=" + keyA + "/20260101/us-east-1/dataexchange/aws4_request, SignedHeaders=host, Signature=00\r\n"

// rawResponse is what a raw request got back.
type rawResponse struct {
	status    int
	errorType string
	body      string
}

// raw sends head (the request line and headers, without the blank line
// that ends them), then has send write the rest (nil: nothing), and reads
// the response, on a TCP connection of its own.
func (e *env) raw(head string, send func(c *net.TCPConn)) rawResponse {
	e.t.Helper()
	conn, err := net.Dial("tcp", e.srv.Listener.Addr().String())
	if err != nil {
		e.t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(20 * time.Second))
	if _, err := io.WriteString(conn, head+"\r\n"); err != nil {
		e.t.Fatal(err)
	}
	if send != nil {
		send(conn.(*net.TCPConn))
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		e.t.Fatalf("reading the response to %q: %v", strings.SplitN(head, "\r\n", 2)[0], err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return rawResponse{status: resp.StatusCode, errorType: resp.Header.Get("X-Amzn-ErrorType"), body: string(b)}
}

// noErrorLogged fails if the API logged at ERROR level.
func (e *env) noErrorLogged() {
	e.t.Helper()
	if strings.Contains(e.logs.String(), "level=ERROR") {
		e.t.Errorf("the API logged an ERROR:\n%s", e.logs.String())
	}
}

// TestUnreadableBodies sends every operation a body that can't be read
// whole, on raw connections: the answer is 400 SerializationException,
// and nothing is logged as an ERROR.
func TestUnreadableBodies(t *testing.T) {
	t.Parallel()
	e := newBodyEnv(t, nil)
	host := "Host: " + e.srv.Listener.Addr().String() + "\r\n"
	cases := []struct {
		name    string
		headers string
		send    func(c *net.TCPConn)
		message string
	}{
		{"bad chunked encoding", "Transfer-Encoding: chunked\r\n", func(c *net.TCPConn) {
			_, _ = io.WriteString(c, "zz\r\n{}\r\n0\r\n\r\n")
		}, "chunk"},
		{"body shorter than its Content-Length, then a half-close", "Content-Length: 100\r\n", func(c *net.TCPConn) {
			_, _ = io.WriteString(c, `{"Name":"x"}`)
			_ = c.CloseWrite()
		}, "unexpected EOF"},
		{"chunked body cut by a half-close", "Transfer-Encoding: chunked\r\n", func(c *net.TCPConn) {
			_, _ = io.WriteString(c, "5\r\n{\"Na\r\n")
			_ = c.CloseWrite()
		}, "unexpected EOF"},
	}
	ops := allOperations()
	if len(ops) != 37 {
		t.Fatalf("%d operations listed, want 37", len(ops))
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := e.on(t)
			for _, op := range ops {
				head := op[0] + " " + op[1] + " HTTP/1.1\r\n" + host + fakeAuth + "Content-Type: application/json\r\n" + tc.headers
				got := e.raw(head, tc.send)
				if got.status != 400 || got.errorType != "SerializationException" || !strings.Contains(got.body, tc.message) {
					t.Errorf("%s %s: %d %s %s, want 400 SerializationException saying %q", op[0], op[1], got.status, got.errorType, got.body, tc.message)
				}
			}
		})
	}
	e.noErrorLogged()
	// The same connection-less failures changed nothing.
	out, err := e.a.ListDataSets(e.ctx, &dataexchange.ListDataSetsInput{})
	if err != nil || len(out.DataSets) != 0 {
		t.Errorf("ListDataSets after the refusals: %v, %d data sets", err, len(out.DataSets))
	}
}

// TestBodyLimits: a body over its operation's limit is refused with 413
// at once when its Content-Length says so (the server does not wait for
// it), and when a chunked body passes the limit.
func TestBodyLimits(t *testing.T) {
	t.Parallel()
	e := newBodyEnv(t, nil)
	host := "Host: " + e.srv.Listener.Addr().String() + "\r\n"
	head := func(method, path string) string {
		return method + " " + path + " HTTP/1.1\r\n" + host + fakeAuth + "Content-Type: application/json\r\n"
	}
	const mib = 1 << 20
	ds := e.dataSet(e.a)
	dsPath := "/v1/data-sets/" + aws.ToString(ds.Id)

	// Only the headers are sent: the answer can't wait for the body.
	for _, c := range []struct {
		method, path string
		length       int
	}{
		{"POST", "/v1/data-sets", mib + 1},
		{"PATCH", dsPath, 16 * mib},
		{"POST", "/v1/jobs", mib + 1},
		{"POST", "/v1", 10*mib + 1},
	} {
		got := e.raw(head(c.method, c.path)+fmt.Sprintf("Content-Length: %d\r\n", c.length), nil)
		if got.status != 413 || got.errorType != "RequestEntityTooLargeException" {
			t.Errorf("%s %s with Content-Length %d: %d %s %s, want 413", c.method, c.path, c.length, got.status, got.errorType, got.body)
		}
	}

	chunked := func(c *net.TCPConn, size int) {
		chunk := bytes.Repeat([]byte(" "), 64<<10)
		for sent := 0; sent < size; sent += len(chunk) {
			if _, err := fmt.Fprintf(c, "%x\r\n%s\r\n", len(chunk), chunk); err != nil {
				return // the server stopped reading: the answer is waiting
			}
		}
		_, _ = io.WriteString(c, "0\r\n\r\n")
	}
	got := e.raw(head("PATCH", dsPath)+"Transfer-Encoding: chunked\r\n", func(c *net.TCPConn) { chunked(c, 2*mib) })
	if got.status != 413 || got.errorType != "RequestEntityTooLargeException" {
		t.Errorf("2 MiB chunked UpdateDataSet: %d %s %s, want 413", got.status, got.errorType, got.body)
	}
	got = e.raw(head("POST", "/v1")+"Transfer-Encoding: chunked\r\n", func(c *net.TCPConn) { chunked(c, 11*mib) })
	if got.status != 413 {
		t.Errorf("11 MiB chunked SendApiAsset: %d %s %s, want 413", got.status, got.errorType, got.body)
	}

	// At the limit is taken: 1 MiB of JSON for UpdateDataSet (white
	// space after the object), 2 MiB for SendApiAsset (which then wants
	// its headers).
	body := `{"Name":"renamed"}`
	body += strings.Repeat(" ", mib-len(body))
	resp, b := e.do("PATCH", dsPath, keyA, body)
	if resp.StatusCode != 200 || !strings.Contains(string(b), "renamed") {
		t.Errorf("a 1 MiB UpdateDataSet: %d %s", resp.StatusCode, b)
	}
	resp, b = e.do("POST", "/v1", keyA, strings.Repeat("x", 2*mib))
	if resp.StatusCode != 400 || resp.Header.Get("X-Amzn-ErrorType") != "ValidationException" {
		t.Errorf("a 2 MiB SendApiAsset without its headers: %d %s, want its ValidationException", resp.StatusCode, b)
	}
	e.noErrorLogged()
}

// TestSlowBodyIsCut: a body that trickles in is cut at the body read
// deadline with 400 RequestTimeoutException, while the client is still
// sending it.
func TestSlowBodyIsCut(t *testing.T) {
	t.Parallel()
	e := newBodyEnv(t, func(_ *env, cfg *api.Config) { cfg.BodyReadTimeout = 300 * time.Millisecond })
	body := `{"Name":"slow","Description":"d","AssetType":"S3_SNAPSHOT"}`
	conn, err := net.Dial("tcp", e.srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(20 * time.Second))
	head := "POST /v1/data-sets HTTP/1.1\r\nHost: x\r\n" + fakeAuth + fmt.Sprintf("Content-Length: %d\r\n\r\n", len(body))
	if _, err := io.WriteString(conn, head); err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		// One byte every 100 ms: the whole body would take 6 s.
		for i := range len(body) {
			select {
			case <-stop:
				return
			case <-time.After(100 * time.Millisecond):
			}
			if _, err := conn.Write([]byte{body[i]}); err != nil {
				return
			}
		}
	}()
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	close(stop)
	<-stopped
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 400 || resp.Header.Get("X-Amzn-ErrorType") != "RequestTimeoutException" {
		t.Fatalf("a slow body: %d %s %s, want 400 RequestTimeoutException", resp.StatusCode, resp.Header.Get("X-Amzn-ErrorType"), b)
	}
	// The server drops the connection: it does not wait for the rest of
	// the body (the client sends no more).
	_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	if n, err := br.Read(make([]byte, 1)); n != 0 || errors.Is(err, os.ErrDeadlineExceeded) {
		t.Errorf("after the answer, the connection is still open (read %d, %v)", n, err)
	}
	out, err := e.a.ListDataSets(e.ctx, &dataexchange.ListDataSetsInput{})
	if err != nil || len(out.DataSets) != 0 {
		t.Errorf("ListDataSets: %v, %d data sets, want none", err, len(out.DataSets))
	}
	e.noErrorLogged()

}

// TestBodyDeadlineEndsWithTheBody: the body read deadline is lifted once
// the body is in, so an operation may take longer than it (here
// SendApiAsset to an API that answers after 3 times the deadline).
func TestBodyDeadlineEndsWithTheBody(t *testing.T) {
	t.Parallel()
	e := newBodyEnv(t, func(_ *env, cfg *api.Config) { cfg.BodyReadTimeout = 200 * time.Millisecond })
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		time.Sleep(600 * time.Millisecond)
		_, _ = fmt.Fprintf(w, "late answer to %s", b)
	}))
	t.Cleanup(api.Close)
	headers := e.apiAsset(api.URL)
	resp, b := e.doWith("POST", "/v1/slow", keyA, "hello", headers)
	if resp.StatusCode != 200 || string(b) != "late answer to hello" {
		t.Fatalf("SendApiAsset to a slow API: %d %s", resp.StatusCode, b)
	}
	// Without a body too.
	resp, b = e.doWith("GET", "/v1/slow", keyA, "", headers)
	if resp.StatusCode != 200 || string(b) != "late answer to " {
		t.Fatalf("SendApiAsset without a body to a slow API: %d %s", resp.StatusCode, b)
	}
	e.noErrorLogged()
}

// openGate admits every upload.
type openGate struct{}

func (openGate) Admit(context.Context, string, string) error { return nil }
func (openGate) Stale(context.Context, string, string) bool  { return false }

// TestSignedURLUploadsKeepTheirOwnDeadline: with an API body deadline of
// 200 ms, a signed-URL upload that takes far longer (its bytes arriving
// steadily) is stored whole.
func TestSignedURLUploadsKeepTheirOwnDeadline(t *testing.T) {
	t.Parallel()
	assets, err := assetstore.NewLocal(filepath.Join(t.TempDir(), "uploads"))
	if err != nil {
		t.Fatal(err)
	}
	signer, err := signedurl.NewSigner(bytes.Repeat([]byte{9}, 32), "http://wharf.example")
	if err != nil {
		t.Fatal(err)
	}
	e := newBodyEnv(t, func(_ *env, cfg *api.Config) {
		cfg.BodyReadTimeout = 200 * time.Millisecond
		cfg.SignedURLs = &signedurl.Handler{Signer: signer, Assets: assets, Gate: openGate{}}
	})
	data := bytes.Repeat([]byte("0123456789abcdef"), 64<<10) // 1 MiB
	sum := md5.Sum(data)
	digest := base64.StdEncoding.EncodeToString(sum[:])
	key, err := signedurl.UploadKey(accountA, resource.NewID())
	if err != nil {
		t.Fatal(err)
	}
	u := strings.Replace(signer.UploadURL(key, digest, time.Now().Add(time.Hour)), "http://wharf.example", e.srv.URL, 1)

	pr, pw := io.Pipe()
	go func() {
		// 8 pieces 100 ms apart: 700 ms in all.
		piece := len(data) / 8
		for i := 0; i < len(data); i += piece {
			if i > 0 {
				time.Sleep(100 * time.Millisecond)
			}
			if _, err := pw.Write(data[i : i+piece]); err != nil {
				return
			}
		}
		pw.Close()
	}()
	req, err := http.NewRequest(http.MethodPut, u, pr)
	if err != nil {
		t.Fatal(err)
	}
	req.ContentLength = int64(len(data))
	req.Header.Set("Content-MD5", digest)
	resp, err := e.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("slow signed-URL upload: %d %s", resp.StatusCode, b)
	}
	info, err := assets.Stat(context.Background(), key)
	if err != nil || info.Size != int64(len(data)) {
		t.Errorf("stored: %+v, %v; want %d bytes", info, err, len(data))
	}
	e.noErrorLogged()
}
