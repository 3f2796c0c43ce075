package signedurl

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/base64"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"fmt"
	"hash"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/wharf-dev/wharf/internal/assetstore"
)

// DefaultUploadIdleTimeout is how long an upload's body may pause: each
// read of it must bring bytes within this, however long the whole upload
// takes (a 5 GB upload on a slow link may take hours). The API's own body
// deadline (package api) does not apply to signed URLs.
const DefaultUploadIdleTimeout = time.Minute

// DefaultMaxUploadSize is the largest upload a signed URL takes: 5 GB,
// counted as 5 × 2^30 bytes, S3's limit for one PUT (which is what an S3
// presigned URL takes).
const DefaultMaxUploadSize int64 = 5 << 30

// UploadGate decides whether the job an upload URL names still takes an
// upload (it exists and is WAITING). A refusal's message is sent to the
// client.
type UploadGate interface {
	// Admit is called before an upload is stored.
	Admit(ctx context.Context, accountID, jobID string) error
	// Stale reports, after an upload was stored, whether the job has
	// ended meanwhile, so that nothing will ever use or remove the upload.
	Stale(ctx context.Context, accountID, jobID string) bool
}

// Handler serves the signed URLs of the local asset store: uploads into
// the staging key an upload URL names, downloads of the key a download URL
// names (with Range requests). Errors are S3's: an XML <Error> body with
// Code and Message, and S3's status codes.
type Handler struct {
	Signer *Signer
	Assets assetstore.Store
	Gate   UploadGate
	// MaxUploadSize bounds an upload's Content-Length; 0 means
	// DefaultMaxUploadSize.
	MaxUploadSize int64
	// UploadIdleTimeout bounds a pause in an upload's body; 0 means
	// DefaultUploadIdleTimeout.
	UploadIdleTimeout time.Duration
	// Logger receives failures the client can't be told; nil means
	// slog.Default().
	Logger *slog.Logger
}

// S3-style error codes the handler answers with.
const (
	codeAccessDenied          = "AccessDenied"
	codeSignatureDoesNotMatch = "SignatureDoesNotMatch"
	codeBadDigest             = "BadDigest"
	codeEntityTooLarge        = "EntityTooLarge"
	codeIncompleteBody        = "IncompleteBody"
	codeMissingContentLength  = "MissingContentLength"
	codeRequestTimeout        = "RequestTimeout"
	codeNoSuchKey             = "NoSuchKey"
	codeMethodNotAllowed      = "MethodNotAllowed"
	codeInternalError         = "InternalError"
)

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rest, ok := strings.CutPrefix(r.URL.Path, PathPrefix)
	if !ok {
		h.fail(w, r, http.StatusNotFound, codeNoSuchKey, "no signed URL has this path")
		return
	}
	req, err := Parse(rest, r.URL.Query())
	if err != nil {
		h.fail(w, r, http.StatusForbidden, codeSignatureDoesNotMatch, "the URL is not a valid signed URL")
		return
	}
	switch {
	case req.Kind == KindUpload && r.Method == http.MethodPut:
	case req.Kind == KindDownload && (r.Method == http.MethodGet || r.Method == http.MethodHead):
	default:
		w.Header().Set("Allow", map[string]string{KindUpload: "PUT", KindDownload: "GET, HEAD"}[req.Kind])
		h.fail(w, r, http.StatusMethodNotAllowed, codeMethodNotAllowed, fmt.Sprintf("a signed %s URL does not take %s", req.Kind, r.Method))
		return
	}
	// A HEAD is checked as the GET it describes.
	method := r.Method
	if method == http.MethodHead {
		method = http.MethodGet
	}
	switch err := h.Signer.Verify(req, method, r.Header.Get("Content-MD5")); {
	case errors.Is(err, ErrExpired):
		h.fail(w, r, http.StatusForbidden, codeAccessDenied, "Request has expired")
		return
	case err != nil:
		msg := "The request signature we calculated does not match the signature you provided."
		if req.Kind == KindUpload {
			msg += " An upload must carry the Content-MD5 header the URL was made for (the job's Md5Hash)."
		}
		h.fail(w, r, http.StatusForbidden, codeSignatureDoesNotMatch, msg)
		return
	}
	if req.Kind == KindUpload {
		h.upload(w, r, req)
		return
	}
	h.download(w, r, req)
}

func (h *Handler) maxUpload() int64 {
	if h.MaxUploadSize > 0 {
		return h.MaxUploadSize
	}
	return DefaultMaxUploadSize
}

func (h *Handler) upload(w http.ResponseWriter, r *http.Request, req Request) {
	parts := strings.Split(req.Key.String(), "/")
	if len(parts) != 2 {
		h.fail(w, r, http.StatusForbidden, codeSignatureDoesNotMatch, "the URL is not a valid upload URL")
		return
	}
	account, jobID := parts[0], parts[1]
	size := r.ContentLength
	switch {
	case size < 0:
		h.fail(w, r, http.StatusLengthRequired, codeMissingContentLength, "You must provide the Content-Length HTTP header.")
		return
	case size > h.maxUpload():
		h.fail(w, r, http.StatusBadRequest, codeEntityTooLarge,
			fmt.Sprintf("Your proposed upload exceeds the maximum allowed size of %d bytes.", h.maxUpload()))
		return
	}
	if err := h.Gate.Admit(r.Context(), account, jobID); err != nil {
		h.fail(w, r, http.StatusForbidden, codeAccessDenied, err.Error())
		return
	}
	want, err := base64.StdEncoding.DecodeString(r.Header.Get("Content-MD5"))
	if err != nil || len(want) != md5.Size {
		// Signed, so the job's own Md5Hash: refused at CreateJob already.
		h.fail(w, r, http.StatusBadRequest, "InvalidDigest", "The Content-MD5 you specified was invalid.")
		return
	}
	src := &clientReader{r: r.Body, rc: http.NewResponseController(w), idle: h.idleTimeout()}
	body := &digestReader{r: src, h: md5.New(), size: size, want: want}
	_, err = h.Assets.Put(r.Context(), req.Key, body, size)
	switch {
	case errors.Is(err, errBadDigest):
		h.fail(w, r, http.StatusBadRequest, codeBadDigest, "The Content-MD5 you specified did not match what we received.")
		return
	case errors.Is(err, assetstore.ErrSizeMismatch) || errors.Is(err, io.ErrUnexpectedEOF):
		h.fail(w, r, http.StatusBadRequest, codeIncompleteBody, "You did not provide the number of bytes specified by the Content-Length HTTP header.")
		return
	case errors.Is(src.err, os.ErrDeadlineExceeded):
		h.fail(w, r, http.StatusBadRequest, codeRequestTimeout, fmt.Sprintf(
			"Your socket connection to the server was not read from or written to within the timeout period (%s).", h.idleTimeout()))
		return
	case src.err != nil:
		h.fail(w, r, http.StatusBadRequest, codeIncompleteBody, fmt.Sprintf("The upload could not be read: %v", src.err))
		return
	case err != nil && h.Gate.Stale(r.Context(), account, jobID):
		// The job started (and ended) while the bytes arrived, and its
		// cleanup removed the upload being written: the store's failure
		// is that, not the server's.
		h.jobEnded(w, r, req, jobID)
		return
	case err != nil:
		h.internal(w, r, fmt.Errorf("store upload %s: %w", req.Key, err))
		return
	}
	if h.Gate.Stale(r.Context(), account, jobID) {
		// The job ended while the bytes arrived: nothing would remove them.
		h.jobEnded(w, r, req, jobID)
		return
	}
	w.Header().Set("ETag", `"`+hex.EncodeToString(want)+`"`)
	w.Header().Set("Content-Length", "0")
	w.WriteHeader(http.StatusOK)
}

// jobEnded answers an upload whose job ended while it arrived, and
// removes whatever of it was stored.
func (h *Handler) jobEnded(w http.ResponseWriter, r *http.Request, req Request, jobID string) {
	if err := h.Assets.Delete(context.WithoutCancel(r.Context()), req.Key); err != nil {
		h.logger().Warn("signed URL: can't remove an upload that arrived after its job ended", "key", req.Key.String(), "error", err)
	}
	h.fail(w, r, http.StatusForbidden, codeAccessDenied, fmt.Sprintf("job %s ended while the upload arrived", jobID))
}

func (h *Handler) idleTimeout() time.Duration {
	if h.UploadIdleTimeout > 0 {
		return h.UploadIdleTimeout
	}
	return DefaultUploadIdleTimeout
}

// clientReader reads an upload's body with a read deadline of idle from
// each read, and keeps the first read error (the client's: a cut
// connection, a pause over idle), which tells it apart from the store's.
type clientReader struct {
	r    io.Reader
	rc   *http.ResponseController
	idle time.Duration
	err  error
}

func (c *clientReader) Read(p []byte) (int, error) {
	// A writer without deadlines (a test's recorder) has none.
	_ = c.rc.SetReadDeadline(time.Now().Add(c.idle))
	n, err := c.r.Read(p)
	if err != nil && err != io.EOF && c.err == nil {
		c.err = err
	}
	return n, err
}

func (h *Handler) download(w http.ResponseWriter, r *http.Request, req Request) {
	info, err := h.Assets.Stat(r.Context(), req.Key)
	if errors.Is(err, assetstore.ErrNotFound) {
		h.fail(w, r, http.StatusNotFound, codeNoSuchKey, "The specified key does not exist.")
		return
	}
	if err != nil {
		h.internal(w, r, fmt.Errorf("stat %s: %w", req.Key, err))
		return
	}
	rs := &storeReadSeeker{ctx: r.Context(), st: h.Assets, key: req.Key, size: info.Size}
	defer rs.Close()
	w.Header().Set("Content-Type", "application/octet-stream")
	http.ServeContent(w, r, "", info.ModTime, rs)
}

func (h *Handler) logger() *slog.Logger {
	if h.Logger != nil {
		return h.Logger
	}
	return slog.Default()
}

func (h *Handler) internal(w http.ResponseWriter, r *http.Request, err error) {
	h.logger().Error("signed URL: internal error", "path", r.URL.Path, "error", err)
	h.fail(w, r, http.StatusInternalServerError, codeInternalError, "We encountered an internal error. Please try again.")
}

// s3Error is S3's error body.
type s3Error struct {
	XMLName   xml.Name `xml:"Error"`
	Code      string   `xml:"Code"`
	Message   string   `xml:"Message"`
	RequestID string   `xml:"RequestId,omitempty"`
}

func (h *Handler) fail(w http.ResponseWriter, r *http.Request, status int, code, message string) {
	b, _ := xml.Marshal(s3Error{Code: code, Message: message, RequestID: w.Header().Get("X-Amzn-RequestId")})
	w.Header().Set("Content-Type", "application/xml")
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		_, _ = io.WriteString(w, xml.Header)
		_, _ = w.Write(b)
	}
}

// errBadDigest: the body's MD5 is not the one the upload promised.
var errBadDigest = errors.New("signedurl: the body's MD5 does not match Content-MD5")

// digestReader hashes what it reads and fails the read that completes size
// bytes if their MD5 is not want, so that the store's Put fails and keeps
// nothing.
type digestReader struct {
	r    io.Reader
	h    hash.Hash
	n    int64
	size int64
	want []byte
}

func (d *digestReader) Read(p []byte) (int, error) {
	n, err := d.r.Read(p)
	if n > 0 {
		d.h.Write(p[:n])
		before := d.n
		d.n += int64(n)
		if before < d.size && d.n >= d.size {
			if !bytes.Equal(d.h.Sum(nil), d.want) {
				return n, errBadDigest
			}
		}
	}
	if d.size == 0 && d.n == 0 && (err == io.EOF || n == 0) {
		if !bytes.Equal(d.h.Sum(nil), d.want) {
			return 0, errBadDigest
		}
	}
	return n, err
}

// storeReadSeeker reads an object of a Store as an io.ReadSeeker for
// http.ServeContent, opening the object lazily at each position it is read
// from, so that a Range request reads only its range.
type storeReadSeeker struct {
	ctx  context.Context
	st   assetstore.Store
	key  assetstore.Key
	size int64
	pos  int64
	rc   io.ReadCloser
}

func (s *storeReadSeeker) Read(p []byte) (int, error) {
	if s.pos >= s.size {
		return 0, io.EOF
	}
	if s.rc == nil {
		rc, _, err := s.st.Open(s.ctx, s.key, &assetstore.Range{Offset: s.pos, Length: -1})
		if err != nil {
			return 0, err
		}
		s.rc = rc
	}
	n, err := s.rc.Read(p)
	s.pos += int64(n)
	return n, err
}

func (s *storeReadSeeker) Seek(offset int64, whence int) (int64, error) {
	var abs int64
	switch whence {
	case io.SeekStart:
		abs = offset
	case io.SeekCurrent:
		abs = s.pos + offset
	case io.SeekEnd:
		abs = s.size + offset
	default:
		return 0, errors.New("signedurl: invalid whence")
	}
	if abs < 0 {
		return 0, errors.New("signedurl: negative position")
	}
	if abs != s.pos && s.rc != nil {
		s.rc.Close()
		s.rc = nil
	}
	s.pos = abs
	return abs, nil
}

func (s *storeReadSeeker) Close() error {
	if s.rc != nil {
		return s.rc.Close()
	}
	return nil
}

// ExpiresAt formats an expiry as the API's timestamps (for SignedUrlExpiresAt).
func ExpiresAt(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }
