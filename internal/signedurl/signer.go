// Package signedurl makes, checks and serves the signed URLs of Wharf's
// signed-URL jobs when asset bytes live in the local asset store (with an S3
// asset store the URLs are S3 presigned URLs and Wharf is not involved).
//
// # URL format
//
//	PUT {public-url}/_wharf/signed/upload/{accountId}/{jobId}?X-Wharf-Expires={unix}&X-Wharf-Signature={sig}
//	GET {public-url}/_wharf/signed/download/{accountId}/{dataSetId}/{assetId}?X-Wharf-Expires={unix}&X-Wharf-Signature={sig}
//
// The signature is an HMAC-SHA256 (unpadded base64url) over the method, the
// kind (upload or download), the asset-store key the URL names, the expiry
// and, for uploads, the Content-MD5 the upload must carry. So a URL can't be
// used with another method, for another key, after its expiry, or (for an
// upload) with another body digest; changing any part of it breaks the
// signature. The HMAC key is derived from Wharf's master key (HKDF-SHA256),
// so every replica sharing the master key accepts every replica's URLs.
package signedurl

import (
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/wharf-dev/wharf/internal/assetstore"
)

// PathPrefix starts the path of every signed URL Wharf serves. It is
// outside the AWS Data Exchange API's paths.
const PathPrefix = "/_wharf/signed/"

// Query parameters of a signed URL.
const (
	ParamExpires   = "X-Wharf-Expires"
	ParamSignature = "X-Wharf-Signature"
)

// Kinds of signed URL.
const (
	KindUpload   = "upload"
	KindDownload = "download"
)

// Errors of Verify.
var (
	// ErrExpired: the URL's expiry has passed (its signature is valid).
	ErrExpired = errors.New("signedurl: the URL has expired")
	// ErrSignature: the URL was altered, made for another key, method or
	// digest, or not made by a holder of the master key.
	ErrSignature = errors.New("signedurl: the signature does not match")
)

// hkdfInfo separates the signing key from every other use of the master key.
const hkdfInfo = "wharf/signed-url/v1"

// Signer makes and checks signed URLs. It is safe for concurrent use.
type Signer struct {
	key  []byte
	base string // public URL without a trailing slash
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// NewSigner returns a Signer whose key is derived from masterKey and whose
// URLs start with publicURL (http:// or https://, with an optional path).
func NewSigner(masterKey []byte, publicURL string) (*Signer, error) {
	if len(masterKey) < 16 {
		return nil, errors.New("signedurl: the master key is too short")
	}
	if err := CheckPublicURL(publicURL); err != nil {
		return nil, err
	}
	u, _ := url.Parse(publicURL)
	key, err := hkdf.Key(sha256.New, masterKey, nil, hkdfInfo, 32)
	if err != nil {
		return nil, fmt.Errorf("signedurl: %w", err)
	}
	return &Signer{key: key, base: strings.TrimSuffix(u.String(), "/")}, nil
}

func (s *Signer) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// UploadURL is the URL that accepts a PUT of the bytes whose base64 MD5 is
// contentMD5 into key until expires (truncated to the second).
func (s *Signer) UploadURL(key assetstore.Key, contentMD5 string, expires time.Time) string {
	return s.make("PUT", KindUpload, key, contentMD5, expires)
}

// DownloadURL is the URL that serves key's bytes to GET until expires
// (truncated to the second).
func (s *Signer) DownloadURL(key assetstore.Key, expires time.Time) string {
	return s.make("GET", KindDownload, key, "", expires)
}

func (s *Signer) make(method, kind string, key assetstore.Key, contentMD5 string, expires time.Time) string {
	exp := strconv.FormatInt(expires.Unix(), 10)
	q := url.Values{}
	q.Set(ParamExpires, exp)
	q.Set(ParamSignature, s.sign(method, kind, key.String(), exp, contentMD5))
	return s.base + PathPrefix + kind + "/" + key.String() + "?" + q.Encode()
}

func (s *Signer) sign(method, kind, key, expires, contentMD5 string) string {
	m := hmac.New(sha256.New, s.key)
	for _, part := range []string{"wharf-signed-url-v1", method, kind, key, expires, contentMD5} {
		m.Write([]byte(part))
		m.Write([]byte{'\n'})
	}
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// Request is what a signed URL names, as Parse finds it in a request.
type Request struct {
	Kind    string
	Key     assetstore.Key
	Expires time.Time
	expRaw  string
	sig     string
}

// Parse reads a signed URL's path (the part after PathPrefix) and query.
// It checks their shape only; Verify checks the signature.
func Parse(rest string, query url.Values) (Request, error) {
	kind, keyStr, ok := strings.Cut(rest, "/")
	if !ok || (kind != KindUpload && kind != KindDownload) {
		return Request{}, fmt.Errorf("%w: unknown signed URL path", ErrSignature)
	}
	key, err := assetstore.ParseKey(keyStr)
	if err != nil {
		return Request{}, fmt.Errorf("%w: %v", ErrSignature, err)
	}
	exp, sig := query.Get(ParamExpires), query.Get(ParamSignature)
	secs, err := strconv.ParseInt(exp, 10, 64)
	if err != nil || sig == "" || len(query[ParamExpires]) != 1 || len(query[ParamSignature]) != 1 {
		return Request{}, fmt.Errorf("%w: missing or malformed %s or %s", ErrSignature, ParamExpires, ParamSignature)
	}
	return Request{Kind: kind, Key: key, Expires: time.Unix(secs, 0), expRaw: exp, sig: sig}, nil
}

// Verify checks that r was signed for method and, for an upload, for
// contentMD5 (the request's Content-MD5 header), and that it has not
// expired. The signature is checked first, so that ErrExpired is only
// ever said of a genuine URL.
func (s *Signer) Verify(r Request, method, contentMD5 string) error {
	if r.Kind == KindDownload {
		contentMD5 = ""
	}
	want := s.sign(method, r.Kind, r.Key.String(), r.expRaw, contentMD5)
	if subtle.ConstantTimeCompare([]byte(want), []byte(r.sig)) != 1 {
		return ErrSignature
	}
	if !s.now().Before(r.Expires) {
		return ErrExpired
	}
	return nil
}

// UploadKey is the asset-store key an IMPORT_ASSET_FROM_SIGNED_URL job's
// upload is staged under, <accountId>/<jobId>, until the job's run moves it
// to the asset's key. Staging keys have two segments and asset keys three,
// so the two never meet.
func UploadKey(accountID, jobID string) (assetstore.Key, error) {
	return assetstore.NewKey(accountID, jobID)
}

// CheckPublicURL checks the base URL NewSigner takes: http(s)://host[:port][/path].
func CheckPublicURL(publicURL string) error {
	u, err := url.Parse(publicURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return fmt.Errorf("signedurl: the public URL %q is not http(s)://host[:port][/path]", publicURL)
	}
	return nil
}
