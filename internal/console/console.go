// Package console serves Wharf's web console: the browser app built into
// dist/ (embedded in the binary, so the console needs no internet access and
// no npm at run time), its configuration at /console/config.json, and the
// security headers every console response carries. The app signs its API
// calls itself with session credentials (package auth's console sessions),
// so no cookie is ever set and no request is authorized by one.
//
// Paths under /console/ that name a file of dist are that file; any other
// path is dist/index.html, so that the app's own URLs (history routing)
// load the app — except under /console/assets/, where a missing file is a
// 404 rather than a page the browser would try to run as a script.
package console

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"mime"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"
	"time"
)

//go:embed all:dist
var dist embed.FS

// PathPrefix is where the console is served.
const PathPrefix = "/console/"

// Config configures the console's handler.
type Config struct {
	// Region is the region the console signs its requests for.
	Region string
	// SessionDuration is how long a session lasts unless the app asks for
	// a shorter one (config.json's SessionDurationSeconds).
	SessionDuration time.Duration
	// ConnectSources are the origins, besides the console's own, the app
	// may fetch from: where signed URLs point (the S3 asset store's
	// endpoint, or a public URL other than the console's address).
	ConnectSources []string
	// Files replaces the embedded dist/ (for tests); it must hold
	// index.html at its root.
	Files fs.FS
}

type file struct {
	body        []byte
	gzipped     []byte // nil when compression doesn't pay
	etag        string
	contentType string
}

type handler struct {
	files  map[string]*file // by path relative to dist/
	index  *file
	config *file
	csp    string
}

// New returns the console's handler, for requests under PathPrefix.
func New(cfg Config) (http.Handler, error) {
	files := cfg.Files
	if files == nil {
		sub, err := fs.Sub(dist, "dist")
		if err != nil {
			return nil, err
		}
		files = sub
	}
	h := &handler{files: map[string]*file{}}
	err := fs.WalkDir(files, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(files, p)
		if err != nil {
			return err
		}
		h.files[p] = newFile(b, contentType(p))
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("console: read the app's files: %w", err)
	}
	if h.index = h.files["index.html"]; h.index == nil {
		return nil, errors.New("console: the app's files hold no index.html")
	}
	config, err := json.Marshal(struct {
		Region                 string
		SessionDurationSeconds int64
	}{cfg.Region, int64(cfg.SessionDuration / time.Second)})
	if err != nil {
		return nil, err
	}
	h.config = newFile(config, "application/json")

	connect := []string{"'self'"}
	for _, src := range cfg.ConnectSources {
		origin, err := Origin(src)
		if err != nil {
			return nil, err
		}
		connect = append(connect, origin)
	}
	h.csp = "default-src 'self'; img-src 'self' data:; connect-src " + strings.Join(connect, " ") +
		"; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
	return h, nil
}

// Origin returns the origin (scheme://host[:port]) of an http or https URL,
// for the Content-Security-Policy.
func Origin(rawURL string) (string, error) {
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || strings.ContainsAny(u.Host, " ;,'") {
		return "", fmt.Errorf("console: %q is not an http or https URL", rawURL)
	}
	return u.Scheme + "://" + strings.ToLower(u.Host), nil
}

func newFile(b []byte, ctype string) *file {
	sum := sha256.Sum256(b)
	f := &file{body: b, contentType: ctype, etag: `"` + base64.RawURLEncoding.EncodeToString(sum[:18]) + `"`}
	if compressible(ctype) && len(b) > 512 {
		var buf bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
		_, _ = zw.Write(b) // writes to a bytes.Buffer don't fail
		_ = zw.Close()
		if buf.Len() < len(b)*9/10 {
			f.gzipped = buf.Bytes()
		}
	}
	return f
}

// Content types by extension, so that they don't depend on the host's
// /etc/mime.types (nosniff makes a wrong one fatal for scripts and styles).
var contentTypes = map[string]string{
	".html":        "text/html; charset=utf-8",
	".js":          "text/javascript; charset=utf-8",
	".mjs":         "text/javascript; charset=utf-8",
	".css":         "text/css; charset=utf-8",
	".json":        "application/json",
	".map":         "application/json",
	".webmanifest": "application/manifest+json",
	".svg":         "image/svg+xml",
	".png":         "image/png",
	".jpg":         "image/jpeg",
	".jpeg":        "image/jpeg",
	".gif":         "image/gif",
	".webp":        "image/webp",
	".avif":        "image/avif",
	".ico":         "image/x-icon",
	".woff":        "font/woff",
	".woff2":       "font/woff2",
	".ttf":         "font/ttf",
	".otf":         "font/otf",
	".wasm":        "application/wasm",
	".txt":         "text/plain; charset=utf-8",
}

func contentType(p string) string {
	ext := strings.ToLower(path.Ext(p))
	if t, ok := contentTypes[ext]; ok {
		return t
	}
	if t := mime.TypeByExtension(ext); t != "" {
		return t
	}
	return "application/octet-stream"
}

func compressible(ctype string) bool {
	return strings.HasPrefix(ctype, "text/") || strings.HasPrefix(ctype, "application/json") ||
		strings.HasPrefix(ctype, "application/manifest+json") || strings.HasPrefix(ctype, "image/svg+xml") ||
		ctype == "application/wasm"
}

const (
	cacheImmutable  = "public, max-age=31536000, immutable"
	cacheRevalidate = "no-cache"
)

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	hdr := w.Header()
	hdr.Set("Content-Security-Policy", h.csp)
	hdr.Set("X-Content-Type-Options", "nosniff")
	hdr.Set("Referrer-Policy", "no-referrer")
	hdr.Set("X-Frame-Options", "DENY")
	hdr.Set("Cross-Origin-Opener-Policy", "same-origin")
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		hdr.Set("Allow", "GET, HEAD")
		http.Error(w, "The console's pages take GET and HEAD only.", http.StatusMethodNotAllowed)
		return
	}
	rel, ok := strings.CutPrefix(r.URL.Path, PathPrefix)
	if !ok {
		http.NotFound(w, r)
		return
	}
	rel = strings.TrimPrefix(path.Clean("/"+rel), "/")
	switch f := h.files[rel]; {
	case rel == "config.json":
		h.serve(w, r, h.config, cacheRevalidate)
	case f != nil && strings.HasPrefix(rel, "assets/"):
		h.serve(w, r, f, cacheImmutable) // hashed names: a new build, a new name
	case f != nil:
		h.serve(w, r, f, cacheRevalidate)
	case strings.HasPrefix(rel, "assets/"):
		hdr.Set("Cache-Control", cacheRevalidate)
		http.Error(w, "No such console asset: "+rel, http.StatusNotFound)
	default:
		h.serve(w, r, h.index, cacheRevalidate) // one of the app's own URLs
	}
}

func (h *handler) serve(w http.ResponseWriter, r *http.Request, f *file, cacheControl string) {
	hdr := w.Header()
	hdr.Set("Content-Type", f.contentType)
	hdr.Set("Cache-Control", cacheControl)
	body, etag := f.body, f.etag
	if f.gzipped != nil {
		hdr.Add("Vary", "Accept-Encoding")
		if acceptsGzip(r.Header.Values("Accept-Encoding")) {
			body, etag = f.gzipped, strings.TrimSuffix(f.etag, `"`)+`-gz"`
			hdr.Set("Content-Encoding", "gzip")
		}
	}
	hdr.Set("ETag", etag)
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(body))
}

// acceptsGzip reports whether Accept-Encoding takes gzip (with a q above 0).
func acceptsGzip(values []string) bool {
	for _, v := range values {
		for part := range strings.SplitSeq(v, ",") {
			name, params, _ := strings.Cut(strings.TrimSpace(part), ";")
			if !strings.EqualFold(strings.TrimSpace(name), "gzip") {
				continue
			}
			q, ok := strings.CutPrefix(strings.TrimSpace(params), "q=")
			if !ok {
				return true
			}
			n, err := strconv.ParseFloat(q, 64)
			return err == nil && n > 0
		}
	}
	return false
}
