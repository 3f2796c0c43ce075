package s3access_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/wharf-dev/wharf/internal/fault"
	"github.com/wharf-dev/wharf/internal/s3access"
	"github.com/wharf-dev/wharf/internal/s3test"
)

const (
	rootAccount  = "111111111111"
	otherAccount = "222222222222"
	thirdAccount = "333333333333"
)

// isolateEnv clears the AWS configuration the test process may have, and
// keeps the SDK off the instance metadata service.
func isolateEnv(t *testing.T) {
	dir := t.TempDir()
	for _, v := range []string{"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE",
		"AWS_DEFAULT_PROFILE", "AWS_REGION", "AWS_DEFAULT_REGION", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3",
		"AWS_ROLE_ARN", "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
		"AWS_CONTAINER_CREDENTIALS_FULL_URI", s3access.EnvForcePathStyle} {
		t.Setenv(v, "")
		os.Unsetenv(v)
	}
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(dir, "config"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(dir, "credentials"))
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
}

func retrieveKey(t *testing.T, ep *s3access.Endpoint) string {
	t.Helper()
	c, err := ep.Client().Options().Credentials.Retrieve(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return c.AccessKeyID
}

// The ambient configuration (here, the environment) is the root account's
// only; other accounts get their own profile's client, or AccessDenied.
func TestResolverIsolatesAccounts(t *testing.T) {
	isolateEnv(t)
	t.Setenv("AWS_ACCESS_KEY_ID", "AMBIENTKEY")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "ambient-secret")
	t.Setenv("AWS_ENDPOINT_URL_S3", "http://127.0.0.1:9000")

	profiles := s3access.NewMemoryProfiles()
	profiles.Set(otherAccount, s3access.Profile{
		Endpoint: "http://127.0.0.1:9001", AccessKeyID: "OTHERKEY", SecretAccessKey: "other-secret", PathStyle: true,
	})
	r, err := s3access.NewResolver(context.Background(), s3access.ResolverConfig{RootAccountID: rootAccount, Profiles: profiles})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()

	root, err := r.Resolve(ctx, rootAccount)
	if err != nil {
		t.Fatal(err)
	}
	if want := (s3access.Identity{URL: "http://127.0.0.1:9000", AccessKeyID: "AMBIENTKEY"}); root.Identity() != want {
		t.Errorf("root identity %v, want %v", root.Identity(), want)
	}
	if !root.Client().Options().UsePathStyle {
		t.Errorf("a custom ambient endpoint should default to path-style")
	}
	if root.Region() != s3access.DefaultRegion {
		t.Errorf("region %q, want %q", root.Region(), s3access.DefaultRegion)
	}
	if amb, err := r.Ambient(ctx); err != nil || amb != root {
		t.Errorf("Ambient = %v, %v; want the root account's endpoint", amb, err)
	}

	other, err := r.Resolve(ctx, otherAccount)
	if err != nil {
		t.Fatal(err)
	}
	if want := (s3access.Identity{URL: "http://127.0.0.1:9001", AccessKeyID: "OTHERKEY"}); other.Identity() != want {
		t.Errorf("other identity %v, want %v", other.Identity(), want)
	}
	if k := retrieveKey(t, other); k != "OTHERKEY" {
		t.Errorf("other account's client signs with %q", k)
	}
	if s3access.SameEndpoint(root, other) {
		t.Errorf("root and other share an endpoint identity")
	}
	if again, _ := r.Resolve(ctx, otherAccount); again != other {
		t.Errorf("the client is not cached")
	}

	for _, acct := range []string{thirdAccount, "", "not-an-account", "../111111111111"} {
		ep, err := r.Resolve(ctx, acct)
		if ep != nil || !fault.Is(err, fault.AccessDenied) {
			t.Errorf("Resolve(%q) = %v, %v; want AccessDeniedException", acct, ep, err)
		} else if acct == thirdAccount && !strings.Contains(err.Error(), "no S3 credentials are configured for account "+thirdAccount) {
			t.Errorf("Resolve(%q): message %q", acct, err)
		}
	}

	// A changed profile takes effect at once; a removed one denies access.
	profiles.Set(otherAccount, s3access.Profile{Endpoint: "http://127.0.0.1:9001", AccessKeyID: "ROTATED", SecretAccessKey: "s"})
	if ep, err := r.Resolve(ctx, otherAccount); err != nil || ep.Identity().AccessKeyID != "ROTATED" {
		t.Errorf("after rotation: %v, %v", ep, err)
	}
	profiles.Delete(otherAccount)
	if _, err := r.Resolve(ctx, otherAccount); !fault.Is(err, fault.AccessDenied) {
		t.Errorf("after removal: %v, want AccessDeniedException", err)
	}
	// A profile that can't be used is denied, not replaced by the ambient one.
	profiles.Set(otherAccount, s3access.Profile{Endpoint: "http://127.0.0.1:9001"})
	if _, err := r.Resolve(ctx, otherAccount); !fault.Is(err, fault.AccessDenied) {
		t.Errorf("with an empty profile: %v, want AccessDeniedException", err)
	}
}

func TestResolverWithoutRootOrCredentials(t *testing.T) {
	isolateEnv(t)
	ctx := context.Background()

	r, err := s3access.NewResolver(ctx, s3access.ResolverConfig{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Resolve(ctx, rootAccount); !fault.Is(err, fault.AccessDenied) {
		t.Errorf("no root account: %v, want AccessDeniedException", err)
	}

	// A root account with no ambient credentials at all.
	r, err = s3access.NewResolver(ctx, s3access.ResolverConfig{RootAccountID: rootAccount})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Resolve(ctx, rootAccount); !fault.Is(err, fault.AccessDenied) {
		t.Errorf("no ambient credentials: %v, want AccessDeniedException", err)
	}
	if _, err := r.Ambient(ctx); err == nil {
		t.Errorf("Ambient without credentials succeeded")
	}

	if _, err := s3access.NewResolver(ctx, s3access.ResolverConfig{RootAccountID: "root"}); err == nil {
		t.Errorf("a malformed root account id was accepted")
	}
}

func TestPathStyleSetting(t *testing.T) {
	for _, tc := range []struct {
		endpoint, force string
		want            bool
	}{
		{"http://127.0.0.1:9000", "", true},
		{"http://127.0.0.1:9000", "false", false},
		{"", "", false},
		{"", "true", true},
	} {
		isolateEnv(t)
		t.Setenv("AWS_ACCESS_KEY_ID", "K")
		t.Setenv("AWS_SECRET_ACCESS_KEY", "S")
		if tc.endpoint != "" {
			t.Setenv("AWS_ENDPOINT_URL", tc.endpoint)
		}
		if tc.force != "" {
			t.Setenv(s3access.EnvForcePathStyle, tc.force)
		}
		r, err := s3access.NewResolver(context.Background(), s3access.ResolverConfig{})
		if err != nil {
			t.Fatal(err)
		}
		ep, err := r.Ambient(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if got := ep.Client().Options().UsePathStyle; got != tc.want {
			t.Errorf("endpoint %q, %s=%q: path style %v, want %v", tc.endpoint, s3access.EnvForcePathStyle, tc.force, got, tc.want)
		}
		if ep.URL() != tc.endpoint {
			t.Errorf("URL %q, want %q", ep.URL(), tc.endpoint)
		}
	}
	isolateEnv(t)
	t.Setenv(s3access.EnvForcePathStyle, "maybe")
	if _, err := s3access.NewResolver(context.Background(), s3access.ResolverConfig{}); err == nil {
		t.Errorf("%s=maybe was accepted", s3access.EnvForcePathStyle)
	}
}

// End to end on a real server: the root account reaches MinIO through the
// standard environment variables, another account through its profile,
// and each sees only what its credentials allow.
func TestResolvedEndpointsWorkAgainstARealServer(t *testing.T) {
	srv, other := s3test.Start(t), s3test.StartNamed(t, "second")
	isolateEnv(t)
	t.Setenv("AWS_ACCESS_KEY_ID", srv.AccessKeyID)
	t.Setenv("AWS_SECRET_ACCESS_KEY", srv.SecretAccessKey)
	t.Setenv("AWS_ENDPOINT_URL_S3", srv.URL)
	t.Setenv("AWS_REGION", srv.Region)
	profiles := s3access.NewMemoryProfiles()
	profiles.Set(otherAccount, s3access.Profile{Endpoint: other.URL, AccessKeyID: other.AccessKeyID,
		SecretAccessKey: other.SecretAccessKey, PathStyle: true})
	r, err := s3access.NewResolver(context.Background(), s3access.ResolverConfig{RootAccountID: rootAccount, Profiles: profiles})
	if err != nil {
		t.Fatal(err)
	}
	ctx := ctxT(t)
	rootEp, err := r.Resolve(ctx, rootAccount)
	if err != nil {
		t.Fatal(err)
	}
	otherEp, err := r.Resolve(ctx, otherAccount)
	if err != nil {
		t.Fatal(err)
	}
	rootBucket, otherBucket := srv.NewBucket(t), other.NewBucket(t)
	srv.PutObject(t, rootBucket, "root-object", []byte("root data"))

	// The other account can't see the root account's bucket.
	_, err = s3access.Head(ctx, s3access.Location{Endpoint: otherEp, Bucket: rootBucket, Key: "root-object"})
	if !errors.Is(err, s3access.ErrNoSuchBucket) {
		t.Errorf("other account reading the root's bucket: %v", err)
	}
	// The root account exports to the other account's server only through
	// that account's credentials: Copy streams between the two identities.
	res, err := s3access.Copy(ctx, s3access.Location{Endpoint: rootEp, Bucket: rootBucket, Key: "root-object"},
		s3access.Location{Endpoint: otherEp, Bucket: otherBucket, Key: "copied"}, s3access.CopyOptions{})
	if err != nil || res.Strategy != s3access.StrategyStream {
		t.Fatalf("Copy = %+v, %v", res, err)
	}
	if got := other.GetObject(t, otherBucket, "copied"); string(got) != "root data" {
		t.Errorf("copied %q", got)
	}
	if _, err := rootEp.Client().ListBuckets(ctx, &s3.ListBucketsInput{}); err != nil {
		t.Errorf("root endpoint from the environment: %v", err)
	}
}
