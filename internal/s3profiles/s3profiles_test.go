package s3profiles_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"path/filepath"
	"testing"

	"github.com/wharf-dev/wharf/internal/auth"
	"github.com/wharf-dev/wharf/internal/fault"
	"github.com/wharf-dev/wharf/internal/resource"
	"github.com/wharf-dev/wharf/internal/s3access"
	"github.com/wharf-dev/wharf/internal/s3profiles"
	"github.com/wharf-dev/wharf/internal/store"
	"github.com/wharf-dev/wharf/internal/store/sqlite"
)

const (
	alice = "111111111111"
	bob   = "222222222222"
)

func setup(t *testing.T) (store.Store, *s3profiles.Profiles) {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "wharf.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	for _, id := range []string{alice, bob} {
		if err := st.InsertAccount(ctx, resource.Account{ID: id, CreatedAt: resource.Now()}); err != nil {
			t.Fatal(err)
		}
	}
	key := make([]byte, auth.MasterKeySize)
	_, _ = rand.Read(key)
	sealer, err := auth.NewSealer(key)
	if err != nil {
		t.Fatal(err)
	}
	return st, s3profiles.New(st, sealer)
}

func TestPutGetDelete(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st, p := setup(t)
	in := s3access.Profile{Endpoint: "http://127.0.0.1:9000/", AccessKeyID: "AKALICE",
		SecretAccessKey: "alice-secret-value", PathStyle: true}
	pub, err := p.Put(ctx, alice, in)
	if err != nil {
		t.Fatal(err)
	}
	want := s3profiles.Public{AccountId: alice, Endpoint: "http://127.0.0.1:9000", Region: "us-east-1",
		PathStyle: true, AccessKeyId: "AKALICE", UpdatedAt: pub.UpdatedAt}
	if pub != want || pub.UpdatedAt == "" {
		t.Errorf("Put = %+v, want %+v", pub, want)
	}
	if got, err := p.Get(ctx, alice); err != nil || got != pub {
		t.Errorf("Get = %+v, %v; want %+v", got, err, pub)
	}

	// The row holds no plaintext secret.
	row, err := st.GetS3Profile(ctx, alice)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(row.SealedSecret, []byte(in.SecretAccessKey)) {
		t.Error("the stored secret is not sealed")
	}

	got, ok, err := p.Profile(ctx, alice)
	wantProfile := s3access.Profile{Endpoint: "http://127.0.0.1:9000", Region: "us-east-1",
		AccessKeyID: "AKALICE", SecretAccessKey: "alice-secret-value", PathStyle: true}
	if err != nil || !ok || got != wantProfile {
		t.Errorf("Profile = %+v, %v, %v; want %+v", got, ok, err, wantProfile)
	}
	if _, ok, err := p.Profile(ctx, bob); ok || err != nil {
		t.Errorf("Profile of an account without one = %v, %v; want none", ok, err)
	}
	if _, err := p.Get(ctx, bob); !errors.Is(err, s3profiles.ErrNoProfile) {
		t.Errorf("Get of an account without one: %v, want ErrNoProfile", err)
	}

	if err := p.Delete(ctx, alice); err != nil {
		t.Fatal(err)
	}
	if _, ok, err := p.Profile(ctx, alice); ok || err != nil {
		t.Errorf("Profile after Delete = %v, %v; want none", ok, err)
	}
	if err := p.Delete(ctx, alice); !errors.Is(err, s3profiles.ErrNoProfile) {
		t.Errorf("Delete twice: %v, want ErrNoProfile", err)
	}
}

// A sealed secret is bound to its account: copied onto another account's
// row, it does not open.
func TestSecretIsBoundToItsAccount(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st, p := setup(t)
	if _, err := p.Put(ctx, alice, s3access.Profile{AccessKeyID: "AKALICE", SecretAccessKey: "alice-secret"}); err != nil {
		t.Fatal(err)
	}
	row, err := st.GetS3Profile(ctx, alice)
	if err != nil {
		t.Fatal(err)
	}
	row.AccountID = bob
	if err := st.PutS3Profile(ctx, row); err != nil {
		t.Fatal(err)
	}
	if _, _, err := p.Profile(ctx, bob); err == nil {
		t.Error("a secret copied from another account's row opened")
	}
}

func TestPutRefuses(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	_, p := setup(t)
	cases := []struct {
		name    string
		account string
		p       s3access.Profile
		want    error
	}{
		{"missing account", "333333333333", s3access.Profile{AccessKeyID: "AK", SecretAccessKey: "s"}, s3profiles.ErrNoAccount},
		{"bad account id", "12", s3access.Profile{AccessKeyID: "AK", SecretAccessKey: "s"}, nil},
		{"no access key id", alice, s3access.Profile{SecretAccessKey: "s"}, nil},
		{"no secret", alice, s3access.Profile{AccessKeyID: "AK"}, nil},
		{"not an http URL", alice, s3access.Profile{Endpoint: "ftp://x", AccessKeyID: "AK", SecretAccessKey: "s"}, nil},
		{"session token", alice, s3access.Profile{AccessKeyID: "AK", SecretAccessKey: "s", SessionToken: "t"}, nil},
	}
	for _, c := range cases {
		_, err := p.Put(ctx, c.account, c.p)
		if err == nil || (c.want != nil && !errors.Is(err, c.want)) {
			t.Errorf("%s: Put = %v, want an error (%v)", c.name, err, c.want)
		}
	}
	if _, ok, _ := p.Profile(ctx, alice); ok {
		t.Error("a refused Put stored a profile")
	}
}

// A Resolver over the profiles sees changes on its next Resolve, and an
// account without a profile (not the root) is refused.
func TestResolverFollowsChanges(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	_, p := setup(t)
	r, err := s3access.NewResolver(ctx, s3access.ResolverConfig{
		RootAccountID: "999999999999",
		Profiles:      p,
		Ambient:       &s3access.Profile{Endpoint: "http://127.0.0.1:1", AccessKeyID: "AMBIENT", SecretAccessKey: "x"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Resolve(ctx, alice); fault.As(err) == nil || fault.As(err).Name != fault.AccessDenied {
		t.Errorf("Resolve without a profile: %v, want AccessDeniedException", err)
	}
	for _, ak := range []string{"AKFIRST", "AKSECOND"} {
		if _, err := p.Put(ctx, alice, s3access.Profile{Endpoint: "http://127.0.0.1:9000", AccessKeyID: ak, SecretAccessKey: "s"}); err != nil {
			t.Fatal(err)
		}
		ep, err := r.Resolve(ctx, alice)
		if err != nil {
			t.Fatal(err)
		}
		if got := ep.Identity(); got.AccessKeyID != ak || got.URL != "http://127.0.0.1:9000" {
			t.Errorf("Resolve after setting %s: identity %v", ak, got)
		}
	}
	if err := p.Delete(ctx, alice); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Resolve(ctx, alice); fault.As(err) == nil {
		t.Errorf("Resolve after Delete: %v, want AccessDeniedException", err)
	}
}
