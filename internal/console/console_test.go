package console_test

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/wharf-dev/wharf/internal/console"
)

var app = fstest.MapFS{
	"index.html":              {Data: []byte("<!doctype html><title>app</title>" + strings.Repeat(" ", 600))},
	"favicon.svg":             {Data: []byte("<svg xmlns='http://www.w3.org/2000/svg'/>")},
	"assets/index-3f2a1b.js":  {Data: []byte("console.log('app');" + strings.Repeat("// padding\n", 100))},
	"assets/index-9c8d7e.css": {Data: []byte("body{margin:0}")},
	"assets/font-1a2b.woff2":  {Data: []byte{0x77, 0x4f, 0x46, 0x32}},
}

func newHandler(t *testing.T, cfg console.Config) http.Handler {
	t.Helper()
	if cfg.Files == nil {
		cfg.Files = app
	}
	h, err := console.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func get(h http.Handler, method, path string, header ...string) *http.Response {
	req := httptest.NewRequest(method, path, nil)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Result()
}

func body(t *testing.T, r *http.Response) string {
	t.Helper()
	b, err := io.ReadAll(r.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestFilesAndHistoryRouting(t *testing.T) {
	t.Parallel()
	h := newHandler(t, console.Config{Region: "eu-west-1", SessionDuration: 12 * time.Hour})
	for _, c := range []struct {
		path, ctype, cache, contains string
		status                       int
	}{
		{"/console/", "text/html; charset=utf-8", "no-cache", "<title>app</title>", 200},
		{"/console/index.html", "text/html; charset=utf-8", "no-cache", "<title>app</title>", 200},
		{"/console/data-sets/0123/revisions", "text/html; charset=utf-8", "no-cache", "<title>app</title>", 200},
		{"/console/jobs?state=WAITING", "text/html; charset=utf-8", "no-cache", "<title>app</title>", 200},
		{"/console/../../etc/passwd", "text/html; charset=utf-8", "no-cache", "<title>app</title>", 200},
		{"/console/favicon.svg", "image/svg+xml", "no-cache", "<svg", 200},
		{"/console/assets/index-3f2a1b.js", "text/javascript; charset=utf-8", "public, max-age=31536000, immutable", "console.log", 200},
		{"/console/assets/index-9c8d7e.css", "text/css; charset=utf-8", "public, max-age=31536000, immutable", "margin", 200},
		{"/console/assets/font-1a2b.woff2", "font/woff2", "public, max-age=31536000, immutable", "wOF2", 200},
		{"/console/assets/missing-0000.js", "text/plain; charset=utf-8", "no-cache", "No such console asset", 404},
	} {
		r := get(h, http.MethodGet, c.path)
		b := body(t, r)
		if r.StatusCode != c.status || r.Header.Get("Content-Type") != c.ctype || r.Header.Get("Cache-Control") != c.cache ||
			!strings.Contains(b, c.contains) {
			t.Errorf("GET %s: %d %q %q %.40q", c.path, r.StatusCode, r.Header.Get("Content-Type"), r.Header.Get("Cache-Control"), b)
		}
		wantSecurityHeaders(t, c.path, r, "'self'")
	}
	r := get(h, http.MethodGet, "/console/config.json")
	var cfg map[string]any
	if err := json.Unmarshal([]byte(body(t, r)), &cfg); err != nil || cfg["Region"] != "eu-west-1" ||
		cfg["SessionDurationSeconds"] != float64(43200) || len(cfg) != 2 {
		t.Errorf("config.json: %v (%v)", cfg, err)
	}
	if r.Header.Get("Content-Type") != "application/json" || r.Header.Get("Cache-Control") != "no-cache" {
		t.Errorf("config.json headers: %v", r.Header)
	}
	wantSecurityHeaders(t, "config.json", r, "'self'")

	for _, m := range []string{http.MethodPost, http.MethodPut, http.MethodDelete} {
		r := get(h, m, "/console/")
		if r.StatusCode != http.StatusMethodNotAllowed || r.Header.Get("Allow") != "GET, HEAD" {
			t.Errorf("%s /console/: %d Allow %q", m, r.StatusCode, r.Header.Get("Allow"))
		}
	}
	if r := get(h, http.MethodHead, "/console/"); r.StatusCode != 200 || body(t, r) != "" {
		t.Errorf("HEAD /console/: %d", r.StatusCode)
	}
}

func wantSecurityHeaders(t *testing.T, what string, r *http.Response, connect string) {
	t.Helper()
	csp := r.Header.Get("Content-Security-Policy")
	for _, part := range []string{"default-src 'self'", "img-src 'self' data:", "connect-src " + connect + ";",
		"frame-ancestors 'none'", "object-src 'none'"} {
		if !strings.Contains(csp, part) {
			t.Errorf("%s: CSP %q lacks %q", what, csp, part)
		}
	}
	if r.Header.Get("X-Content-Type-Options") != "nosniff" || r.Header.Get("Referrer-Policy") != "no-referrer" {
		t.Errorf("%s: security headers %v", what, r.Header)
	}
	if r.Header.Get("Set-Cookie") != "" {
		t.Errorf("%s sets a cookie", what)
	}
}

func TestConnectSources(t *testing.T) {
	t.Parallel()
	h := newHandler(t, console.Config{ConnectSources: []string{"http://127.0.0.1:9000/bucket/key?X-Amz-Signature=1", "https://Bucket.S3.amazonaws.com"}})
	wantSecurityHeaders(t, "with S3", get(h, http.MethodGet, "/console/"), "'self' http://127.0.0.1:9000 https://bucket.s3.amazonaws.com")
	for _, bad := range []string{"ftp://x", "not a url", "http://", "http://a b"} {
		if _, err := console.New(console.Config{Files: app, ConnectSources: []string{bad}}); err == nil {
			t.Errorf("connect source %q: no error", bad)
		}
	}
}

func TestCompressionAndRevalidation(t *testing.T) {
	t.Parallel()
	h := newHandler(t, console.Config{})
	const js = "/console/assets/index-3f2a1b.js"
	plain := get(h, http.MethodGet, js)
	want := body(t, plain)
	if plain.Header.Get("Content-Encoding") != "" || plain.Header.Get("Vary") != "Accept-Encoding" {
		t.Errorf("without Accept-Encoding: %v", plain.Header)
	}
	zipped := get(h, http.MethodGet, js, "Accept-Encoding", "br, gzip;q=0.8")
	if zipped.Header.Get("Content-Encoding") != "gzip" || zipped.Header.Get("ETag") == plain.Header.Get("ETag") {
		t.Fatalf("with gzip: %v", zipped.Header)
	}
	zr, err := gzip.NewReader(bytes.NewReader([]byte(body(t, zipped))))
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(zr)
	if string(got) != want {
		t.Error("the gzipped body is not the file")
	}
	if r := get(h, http.MethodGet, js, "Accept-Encoding", "gzip;q=0"); r.Header.Get("Content-Encoding") != "" {
		t.Error("gzip;q=0 got gzip")
	}
	if r := get(h, http.MethodGet, js, "If-None-Match", plain.Header.Get("ETag")); r.StatusCode != http.StatusNotModified {
		t.Errorf("If-None-Match: %d", r.StatusCode)
	}
	// Small files stay as they are.
	if r := get(h, http.MethodGet, "/console/assets/index-9c8d7e.css", "Accept-Encoding", "gzip"); r.Header.Get("Content-Encoding") != "" {
		t.Error("a 14-byte file was gzipped")
	}
}

func TestEmbeddedApp(t *testing.T) {
	t.Parallel()
	h, err := console.New(console.Config{Region: "us-east-1", SessionDuration: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if r := get(h, http.MethodGet, "/console/"); r.StatusCode != 200 || !strings.Contains(body(t, r), "<html") {
		t.Errorf("the embedded index.html: %d", r.StatusCode)
	}
	if _, err := console.New(console.Config{Files: fstest.MapFS{"app.js": {Data: []byte("x")}}}); err == nil {
		t.Error("an app without index.html: no error")
	}
}
