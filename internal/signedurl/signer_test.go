package signedurl_test

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wharf-dev/wharf/internal/assetstore"
	"github.com/wharf-dev/wharf/internal/signedurl"
)

const (
	acct  = "111111111111"
	jobID = "0123456789abcdef0123456789abcdef"
	dsID  = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	asset = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
)

var masterKey = bytes.Repeat([]byte{7}, 32)

func newSigner(t testing.TB, now *time.Time) *signedurl.Signer {
	t.Helper()
	s, err := signedurl.NewSigner(masterKey, "http://wharf.example:8686")
	if err != nil {
		t.Fatal(err)
	}
	s.Now = func() time.Time { return *now }
	return s
}

func md5b64(b []byte) string {
	sum := md5.Sum(b)
	return base64.StdEncoding.EncodeToString(sum[:])
}

func mustKey(t testing.TB, ids ...string) assetstore.Key {
	t.Helper()
	k, err := assetstore.NewKey(acct, ids...)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// parse reads a URL the way the handler does.
func parse(t *testing.T, raw string) (signedurl.Request, error) {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	rest, ok := strings.CutPrefix(u.Path, signedurl.PathPrefix)
	if !ok {
		t.Fatalf("URL %s does not start with %s", raw, signedurl.PathPrefix)
	}
	return signedurl.Parse(rest, u.Query())
}

func TestVerify(t *testing.T) {
	t.Parallel()
	now := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	s := newSigner(t, &now)
	up := mustKey(t, jobID)
	down := mustKey(t, dsID, asset)
	digest := md5b64([]byte("hello"))
	exp := now.Add(time.Hour)
	upURL := s.UploadURL(up, digest, exp)
	downURL := s.DownloadURL(down, exp)
	if !strings.HasPrefix(upURL, "http://wharf.example:8686/_wharf/signed/upload/"+acct+"/"+jobID+"?") {
		t.Errorf("upload URL %s", upURL)
	}

	other, err := signedurl.NewSigner(bytes.Repeat([]byte{8}, 32), "http://wharf.example:8686")
	if err != nil {
		t.Fatal(err)
	}
	replace := func(raw, old, new string) string {
		if !strings.Contains(raw, old) {
			t.Fatalf("%s does not contain %s", raw, old)
		}
		return strings.Replace(raw, old, new, 1)
	}
	expStr := fmt.Sprint(exp.Unix())
	tests := []struct {
		name       string
		signer     *signedurl.Signer
		url        string
		method     string
		contentMD5 string
		at         time.Time
		want       error
	}{
		{"upload", s, upURL, "PUT", digest, now, nil},
		{"upload just before expiry", s, upURL, "PUT", digest, exp.Add(-time.Nanosecond), nil},
		{"upload at expiry", s, upURL, "PUT", digest, exp, signedurl.ErrExpired},
		{"upload after expiry", s, upURL, "PUT", digest, exp.Add(time.Hour), signedurl.ErrExpired},
		{"upload with another digest", s, upURL, "PUT", md5b64([]byte("other")), now, signedurl.ErrSignature},
		{"upload without Content-MD5", s, upURL, "PUT", "", now, signedurl.ErrSignature},
		{"upload as GET", s, upURL, "GET", digest, now, signedurl.ErrSignature},
		{"upload for another job", s, replace(upURL, jobID, "fedcba9876543210fedcba9876543210"), "PUT", digest, now, signedurl.ErrSignature},
		{"upload for another account", s, replace(upURL, "/"+acct+"/", "/222222222222/"), "PUT", digest, now, signedurl.ErrSignature},
		{"upload with a later expiry", s, replace(upURL, expStr, fmt.Sprint(exp.Unix()+3600)), "PUT", digest, now, signedurl.ErrSignature},
		{"upload signed with another master key", other, upURL, "PUT", digest, now, signedurl.ErrSignature},
		{"upload URL used as a download", s, replace(upURL, "/upload/", "/download/"), "GET", "", now, signedurl.ErrSignature},
		{"download", s, downURL, "GET", "", now, nil},
		{"download ignores Content-MD5", s, downURL, "GET", digest, now, nil},
		{"download after expiry", s, downURL, "GET", "", exp.Add(time.Second), signedurl.ErrExpired},
		{"download of another asset", s, replace(downURL, asset, "cccccccccccccccccccccccccccccccc"), "GET", "", now, signedurl.ErrSignature},
		{"download as PUT", s, downURL, "PUT", "", now, signedurl.ErrSignature},
		{"download with the signature cut", s, downURL[:len(downURL)-3], "GET", "", now, signedurl.ErrSignature},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			at := tc.at
			signer := *tc.signer
			signer.Now = func() time.Time { return at }
			req, err := parse(t, tc.url)
			if err == nil {
				err = signer.Verify(req, tc.method, tc.contentMD5)
			}
			if !errors.Is(err, tc.want) || (tc.want == nil) != (err == nil) {
				t.Errorf("got %v, want %v", err, tc.want)
			}
		})
	}
}

func TestParseRefusesMalformedURLs(t *testing.T) {
	t.Parallel()
	for _, raw := range []string{
		"http://h" + signedurl.PathPrefix + "upload/" + acct + "/" + jobID,                                            // no query
		"http://h" + signedurl.PathPrefix + "upload/" + acct + "/" + jobID + "?X-Wharf-Expires=x&X-Wharf-Signature=y", // bad expiry
		"http://h" + signedurl.PathPrefix + "upload/" + acct + "/../etc?X-Wharf-Expires=1&X-Wharf-Signature=y",
		"http://h" + signedurl.PathPrefix + "other/" + acct + "/" + jobID + "?X-Wharf-Expires=1&X-Wharf-Signature=y",
		"http://h" + signedurl.PathPrefix + "upload/" + acct + "/" + jobID + "?X-Wharf-Expires=1&X-Wharf-Expires=2&X-Wharf-Signature=y",
	} {
		if _, err := parse(t, raw); !errors.Is(err, signedurl.ErrSignature) {
			t.Errorf("%s: got %v, want ErrSignature", raw, err)
		}
	}
}

func TestNewSignerRefusesBadConfig(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		key []byte
		url string
	}{
		{masterKey, "ftp://x"},
		{masterKey, "127.0.0.1:8686"},
		{masterKey, "http://x/?q=1"},
		{[]byte("short"), "http://x"},
	} {
		if _, err := signedurl.NewSigner(tc.key, tc.url); err == nil {
			t.Errorf("NewSigner(%q) accepted", tc.url)
		}
	}
}

// gate admits uploads for jobs in its map.
type gate struct {
	waiting map[string]bool
	stale   bool
}

func (g gate) Admit(_ context.Context, _, jobID string) error {
	if !g.waiting[jobID] {
		return errors.New("job " + jobID + " is not WAITING")
	}
	return nil
}

func (g gate) Stale(context.Context, string, string) bool { return g.stale }

func TestHandler(t *testing.T) {
	t.Parallel()
	now := time.Now()
	s := newSigner(t, &now)
	st, err := assetstore.NewLocal(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	h := &signedurl.Handler{Signer: s, Assets: st, Gate: gate{waiting: map[string]bool{jobID: true}}, MaxUploadSize: 1000}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	ctx := context.Background()
	base := func(raw string) string { return srv.URL + strings.TrimPrefix(raw, "http://wharf.example:8686") }

	body := bytes.Repeat([]byte("0123456789"), 50)
	digest := md5b64(body)
	staging := mustKey(t, jobID)
	upURL := base(s.UploadURL(staging, digest, now.Add(time.Hour)))

	put := func(u string, b []byte, contentMD5 string) (*http.Response, string) {
		t.Helper()
		req, err := http.NewRequest(http.MethodPut, u, bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		if contentMD5 != "" {
			req.Header.Set("Content-MD5", contentMD5)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		out, _ := io.ReadAll(resp.Body)
		return resp, string(out)
	}
	stored := func() bool {
		_, err := st.Stat(ctx, staging)
		return err == nil
	}
	expect := func(what string, resp *http.Response, got string, status int, code string) {
		t.Helper()
		if resp.StatusCode != status || !strings.Contains(got, "<Code>"+code+"</Code>") {
			t.Errorf("%s: %d %s, want %d %s", what, resp.StatusCode, got, status, code)
		}
	}

	// Refusals store nothing.
	resp, got := put(upURL, []byte("something else, same length? no"), digest)
	expect("wrong body", resp, got, 400, "BadDigest")
	resp, got = put(upURL, append(append([]byte{}, body[:499]...), 'X'), digest)
	expect("one byte changed", resp, got, 400, "BadDigest")
	resp, got = put(upURL, body, md5b64([]byte("x")))
	expect("another Content-MD5", resp, got, 403, "SignatureDoesNotMatch")
	resp, got = put(upURL, body, "")
	expect("no Content-MD5", resp, got, 403, "SignatureDoesNotMatch")
	big := bytes.Repeat([]byte("x"), 1001)
	bigURL := base(s.UploadURL(staging, md5b64(big), now.Add(time.Hour)))
	resp, got = put(bigURL, big, md5b64(big))
	expect("too large", resp, got, 400, "EntityTooLarge")
	otherJob := mustKey(t, "fedcba9876543210fedcba9876543210")
	resp, got = put(base(s.UploadURL(otherJob, digest, now.Add(time.Hour))), body, digest)
	expect("job not waiting", resp, got, 403, "AccessDenied")
	resp, got = put(base(s.UploadURL(staging, digest, now.Add(-time.Second))), body, digest)
	expect("expired", resp, got, 403, "AccessDenied")
	if !strings.Contains(got, "Request has expired") {
		t.Errorf("expired: %s", got)
	}
	if stored() {
		t.Fatal("a refused upload stored something")
	}

	// The right body is stored; the answer is 200 with an empty body.
	resp, got = put(upURL, body, digest)
	if resp.StatusCode != 200 || got != "" {
		t.Fatalf("upload: %d %q", resp.StatusCode, got)
	}
	rc, _, err := st.Open(ctx, staging, nil)
	if err != nil {
		t.Fatal(err)
	}
	gotBytes, _ := io.ReadAll(rc)
	rc.Close()
	if !bytes.Equal(gotBytes, body) {
		t.Error("stored bytes differ")
	}
	// A bad digest later leaves the good upload in place.
	resp, got = put(upURL, bytes.Repeat([]byte("z"), 500), digest)
	expect("bad digest after a good upload", resp, got, 400, "BadDigest")
	if !stored() {
		t.Error("a refused upload removed the earlier one")
	}

	// Downloads, whole and ranged.
	dl := mustKey(t, dsID, asset)
	if _, err := st.Put(ctx, dl, bytes.NewReader(body), int64(len(body))); err != nil {
		t.Fatal(err)
	}
	downURL := base(s.DownloadURL(dl, now.Add(time.Minute)))
	get := func(u, rng string) (*http.Response, []byte) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, u, nil)
		if rng != "" {
			req.Header.Set("Range", rng)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, b
	}
	resp, b := get(downURL, "")
	if resp.StatusCode != 200 || !bytes.Equal(b, body) {
		t.Errorf("download: %d, %d bytes", resp.StatusCode, len(b))
	}
	resp, b = get(downURL, "bytes=10-19")
	if resp.StatusCode != 206 || string(b) != "0123456789" || resp.Header.Get("Content-Range") != "bytes 10-19/500" {
		t.Errorf("range: %d %q %s", resp.StatusCode, b, resp.Header.Get("Content-Range"))
	}
	resp, b = get(downURL, "bytes=495-")
	if resp.StatusCode != 206 || string(b) != "56789" {
		t.Errorf("suffix range: %d %q", resp.StatusCode, b)
	}
	resp, _ = get(downURL, "bytes=600-")
	if resp.StatusCode != 416 {
		t.Errorf("range past the end: %d", resp.StatusCode)
	}
	resp, b = get(base(s.DownloadURL(dl, now.Add(-time.Second))), "")
	expect("expired download", resp, string(b), 403, "AccessDenied")
	resp, b = get(base(s.DownloadURL(mustKey(t, dsID, "cccccccccccccccccccccccccccccccc"), now.Add(time.Minute))), "")
	expect("missing asset", resp, string(b), 404, "NoSuchKey")
	resp, got = put(downURL, body, digest)
	expect("PUT to a download URL", resp, got, 405, "MethodNotAllowed")
	head, err := http.Head(downURL)
	if err != nil {
		t.Fatal(err)
	}
	head.Body.Close()
	if head.StatusCode != 200 || head.ContentLength != int64(len(body)) {
		t.Errorf("HEAD: %d, length %d", head.StatusCode, head.ContentLength)
	}

	// A chunked upload (no Content-Length) is refused, as S3 does.
	req, _ := http.NewRequest(http.MethodPut, upURL, io.MultiReader(bytes.NewReader(body)))
	req.Header.Set("Content-MD5", digest)
	chunked, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	out, _ := io.ReadAll(chunked.Body)
	chunked.Body.Close()
	expect("chunked upload", chunked, string(out), 411, "MissingContentLength")
}

func TestHandlerDropsUploadsOfEndedJobs(t *testing.T) {
	t.Parallel()
	now := time.Now()
	s := newSigner(t, &now)
	st, err := assetstore.NewLocal(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	h := &signedurl.Handler{Signer: s, Assets: st, Gate: gate{waiting: map[string]bool{jobID: true}, stale: true}}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	body := []byte("late")
	staging := mustKey(t, jobID)
	u := srv.URL + strings.TrimPrefix(s.UploadURL(staging, md5b64(body), now.Add(time.Hour)), "http://wharf.example:8686")
	req, _ := http.NewRequest(http.MethodPut, u, bytes.NewReader(body))
	req.Header.Set("Content-MD5", md5b64(body))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 403 {
		t.Errorf("status %d, want 403", resp.StatusCode)
	}
	if _, err := st.Stat(context.Background(), staging); !errors.Is(err, assetstore.ErrNotFound) {
		t.Errorf("the late upload is still stored: %v", err)
	}
}

// switchGate admits every upload; Stale says what stale holds.
type switchGate struct{ stale *atomic.Bool }

func (switchGate) Admit(context.Context, string, string) error { return nil }
func (g switchGate) Stale(context.Context, string, string) bool {
	return g.stale.Load()
}

// TestHandlerUploadArrivingWhenItsJobStarts: the job starts while the
// upload's bytes arrive; its run finds nothing staged, ends the job, and
// its cleanup removes the upload's temporary file. The upload then gets
// the documented 403, not a 500, and nothing stays stored. The body is a
// pipe, so each step happens at a known point of the upload.
func TestHandlerUploadArrivingWhenItsJobStarts(t *testing.T) {
	t.Parallel()
	now := time.Now()
	s := newSigner(t, &now)
	dir := t.TempDir()
	st, err := assetstore.NewLocal(dir)
	if err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	var stale atomic.Bool
	h := &signedurl.Handler{Signer: s, Assets: st, Gate: switchGate{&stale},
		Logger: slog.New(slog.NewTextHandler(&logs, nil))}
	body := bytes.Repeat([]byte("0123456789"), 1000)
	staging := mustKey(t, jobID)
	u := s.UploadURL(staging, md5b64(body), now.Add(time.Hour))
	pr, pw := io.Pipe()
	req := httptest.NewRequest(http.MethodPut, u, pr)
	req.ContentLength = int64(len(body))
	req.Header.Set("Content-MD5", md5b64(body))
	rec := httptest.NewRecorder()
	done := make(chan struct{})
	go func() {
		defer close(done)
		h.ServeHTTP(rec, req)
	}()

	// A pipe's Write returns once the store has read the bytes: the
	// upload's temporary file exists and holds them.
	if _, err := pw.Write(body[:4000]); err != nil {
		t.Fatal(err)
	}
	temps, _ := filepath.Glob(filepath.Join(dir, acct, ".tmp-*"))
	if len(temps) != 1 {
		t.Fatalf("temporary files during the upload: %v", temps)
	}
	// The job starts and ends; its cleanup discards the staging key.
	stale.Store(true)
	if err := assetstore.Discard(context.Background(), st, staging); err != nil {
		t.Fatal(err)
	}
	if _, err := pw.Write(body[4000:]); err != nil {
		t.Fatal(err)
	}
	pw.Close()
	<-done

	if rec.Code != http.StatusForbidden || !strings.Contains(rec.Body.String(), "<Code>AccessDenied</Code>") ||
		!strings.Contains(rec.Body.String(), "ended while the upload arrived") {
		t.Errorf("upload: %d %s, want 403 AccessDenied: the job ended while the upload arrived", rec.Code, rec.Body)
	}
	if _, err := st.Stat(context.Background(), staging); !errors.Is(err, assetstore.ErrNotFound) {
		t.Errorf("the upload is stored: %v", err)
	}
	if temps, _ := filepath.Glob(filepath.Join(dir, acct, ".tmp-*")); len(temps) != 0 {
		t.Errorf("temporary files left: %v", temps)
	}
	if strings.Contains(logs.String(), "level=ERROR") {
		t.Errorf("an ERROR was logged: %s", logs.String())
	}
}

// TestHandlerUploadIdleTimeout: an upload may take far longer than its
// idle timeout while its bytes keep coming; a pause longer than it is
// answered with S3's 400 RequestTimeout, and nothing is stored.
func TestHandlerUploadIdleTimeout(t *testing.T) {
	t.Parallel()
	now := time.Now()
	s := newSigner(t, &now)
	st, err := assetstore.NewLocal(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	var stale atomic.Bool
	h := &signedurl.Handler{Signer: s, Assets: st, Gate: switchGate{&stale}, UploadIdleTimeout: 200 * time.Millisecond}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	body := bytes.Repeat([]byte("0123456789"), 10000)
	staging := mustKey(t, jobID)
	u := srv.URL + strings.TrimPrefix(s.UploadURL(staging, md5b64(body), now.Add(time.Hour)), "http://wharf.example:8686")

	// upload sends body in pieces, pausing before each piece as pauses say.
	upload := func(pauses ...time.Duration) (int, string) {
		t.Helper()
		pr, pw := io.Pipe()
		go func() {
			piece := len(body) / len(pauses)
			for i, p := range pauses {
				time.Sleep(p)
				if _, err := pw.Write(body[i*piece : (i+1)*piece]); err != nil {
					return
				}
			}
			pw.Close()
		}()
		req, _ := http.NewRequest(http.MethodPut, u, pr)
		req.ContentLength = int64(len(body))
		req.Header.Set("Content-MD5", md5b64(body))
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	stored := func() bool {
		_, err := st.Stat(context.Background(), staging)
		return err == nil
	}

	status, got := upload(0, time.Second, 0, 0)
	if status != 400 || !strings.Contains(got, "<Code>RequestTimeout</Code>") {
		t.Errorf("a paused upload: %d %s, want 400 RequestTimeout", status, got)
	}
	if stored() {
		t.Error("the paused upload was stored")
	}
	// 10 pieces 100 ms apart: a second in all, five times the idle timeout.
	pauses := make([]time.Duration, 10)
	for i := 1; i < len(pauses); i++ {
		pauses[i] = 100 * time.Millisecond
	}
	if status, got := upload(pauses...); status != 200 {
		t.Errorf("a slow upload: %d %s", status, got)
	}
	if !stored() {
		t.Error("the slow upload was not stored")
	}
}
