package signedurl_test

import (
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/wharf-dev/wharf/internal/assetstore"
	"github.com/wharf-dev/wharf/internal/signedurl"
)

// FuzzParse: Parse takes a signed URL's path and query or refuses them
// with ErrSignature; what it takes names a kind and a valid key, and
// verifies only with the signature the signer makes for it (a fuzzed
// signature is refused). A URL the signer makes, for any key, parses back
// to that key and verifies, and no longer does with another digest or
// method.
func FuzzParse(f *testing.F) {
	now := time.Unix(1_800_000_000, 0)
	s := newSigner(f, &now)
	good := s.UploadURL(mustKey(f, jobID), md5b64([]byte("x")), now.Add(time.Hour))
	u, _ := url.Parse(good)
	f.Add(strings.TrimPrefix(u.Path, signedurl.PathPrefix), u.RawQuery, "0123456789abcdef0123456789abcdef")
	dl, _ := url.Parse(s.DownloadURL(mustKey(f, dsID, asset), now.Add(time.Minute)))
	f.Add(strings.TrimPrefix(dl.Path, signedurl.PathPrefix), dl.RawQuery, "x")
	for _, c := range [][2]string{
		{"upload/" + acct + "/" + jobID, "X-Wharf-Expires=1&X-Wharf-Signature=abc"},
		{"upload/" + acct + "/../" + jobID, u.RawQuery},
		{"download/", u.RawQuery},
		{"other/" + acct, u.RawQuery},
		{"upload/" + acct + "/" + jobID, "X-Wharf-Expires=1&X-Wharf-Expires=2&X-Wharf-Signature=abc"},
		{"upload/" + acct + "//" + jobID, "X-Wharf-Expires=-9223372036854775808&X-Wharf-Signature=%00"},
		{"", ""},
	} {
		f.Add(c[0], c[1], jobID)
	}
	f.Fuzz(func(t *testing.T, rest, rawQuery, id string) {
		q, err := url.ParseQuery(rawQuery)
		if err == nil {
			req, err := signedurl.Parse(rest, q)
			switch {
			case err != nil && !errors.Is(err, signedurl.ErrSignature):
				t.Fatalf("Parse(%q, %q): %v, not an ErrSignature", rest, rawQuery, err)
			case err == nil:
				if req.Kind != signedurl.KindUpload && req.Kind != signedurl.KindDownload {
					t.Fatalf("Parse(%q): kind %q", rest, req.Kind)
				}
				if again, err := assetstore.ParseKey(req.Key.String()); err != nil || again != req.Key {
					t.Fatalf("Parse(%q): key %q does not parse back (%v)", rest, req.Key, err)
				}
				if rest != req.Kind+"/"+req.Key.String() {
					t.Fatalf("Parse(%q) read the key %q", rest, req.Key)
				}
				if err := s.Verify(req, "PUT", md5b64([]byte("x"))); err == nil && rawQuery != u.RawQuery {
					// Only the signer's own signature verifies.
					want, _ := url.ParseQuery(u.RawQuery)
					if q.Get(signedurl.ParamSignature) != want.Get(signedurl.ParamSignature) {
						t.Fatalf("Parse(%q, %q) verifies with a signature the signer did not make", rest, rawQuery)
					}
				}
			}
		}

		key, err := assetstore.NewKey(acct, id)
		if err != nil {
			return
		}
		digest := md5b64([]byte(id))
		made, err := url.Parse(s.UploadURL(key, digest, now.Add(time.Hour)))
		if err != nil {
			t.Fatalf("UploadURL for %q is not a URL: %v", key, err)
		}
		req, err := signedurl.Parse(strings.TrimPrefix(made.Path, signedurl.PathPrefix), made.Query())
		if err != nil || req.Key != key || req.Kind != signedurl.KindUpload {
			t.Fatalf("the upload URL %s parses to %+v, %v", made, req, err)
		}
		if err := s.Verify(req, "PUT", digest); err != nil {
			t.Fatalf("the upload URL %s does not verify: %v", made, err)
		}
		if err := s.Verify(req, "PUT", md5b64([]byte(id+"!"))); !errors.Is(err, signedurl.ErrSignature) {
			t.Fatalf("the upload URL %s verifies with another digest: %v", made, err)
		}
		if err := s.Verify(req, "GET", digest); !errors.Is(err, signedurl.ErrSignature) {
			t.Fatalf("the upload URL %s verifies for GET: %v", made, err)
		}
	})
}
