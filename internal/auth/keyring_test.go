package auth_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/wharf-dev/wharf/internal/auth"
	"github.com/wharf-dev/wharf/internal/fault"
	"github.com/wharf-dev/wharf/internal/resource"
	"github.com/wharf-dev/wharf/internal/store"
)

var (
	accessKeyIDPattern = regexp.MustCompile(`^AKIA[A-Z2-7]{16}$`)
	secretPattern      = regexp.MustCompile(`^[A-Za-z0-9+/]{40}$`)
)

func checkCredentials(t *testing.T, c auth.Credentials, accountID string) {
	t.Helper()
	if c.AccountID != accountID {
		t.Errorf("AccountID = %q, want %q", c.AccountID, accountID)
	}
	if !accessKeyIDPattern.MatchString(c.AccessKeyID) {
		t.Errorf("AccessKeyID %q does not look like an AWS access key id", c.AccessKeyID)
	}
	if !secretPattern.MatchString(c.SecretAccessKey) {
		t.Errorf("SecretAccessKey does not look like an AWS secret (%d chars)", len(c.SecretAccessKey))
	}
	if c.CreatedAt.IsZero() {
		t.Error("CreatedAt is zero")
	}
}

func TestCreateAccount(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	k, m := newTestKeyring()

	account, creds, err := k.CreateAccount(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	if !resource.ValidAccountID(account.ID) {
		t.Fatalf("generated account id %q is not 12 digits", account.ID)
	}
	checkCredentials(t, creds, account.ID)

	gotAccount, secret, err := k.Lookup(ctx, creds.AccessKeyID)
	if err != nil {
		t.Fatal(err)
	}
	if gotAccount != account.ID || string(secret) != creds.SecretAccessKey {
		t.Fatalf("Lookup = %s, (secret matches: %v)", gotAccount, string(secret) == creds.SecretAccessKey)
	}
	stored := m.keysOf(account.ID)
	if len(stored) != 1 || bytes.Contains(stored[0].SealedSecret, []byte(creds.SecretAccessKey)) {
		t.Fatal("the stored key is missing or holds its secret in the clear")
	}

	named, namedCreds, err := k.CreateAccount(ctx, "210987654321")
	if err != nil {
		t.Fatal(err)
	}
	if named.ID != "210987654321" {
		t.Fatalf("account id = %q", named.ID)
	}
	checkCredentials(t, namedCreds, "210987654321")

	if _, _, err := k.CreateAccount(ctx, "210987654321"); !errors.Is(err, store.ErrDuplicate) {
		t.Fatalf("creating an existing account: err = %v, want ErrDuplicate", err)
	}
	if _, _, err := k.CreateAccount(ctx, "12345"); !fault.Is(err, fault.Validation) {
		t.Fatalf("creating account 12345: err = %v, want ValidationException", err)
	}
}

func TestCreateKey(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	k, _ := newTestKeyring()
	account, first, err := k.CreateAccount(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	second, err := k.CreateKey(ctx, account.ID)
	if err != nil {
		t.Fatal(err)
	}
	checkCredentials(t, second, account.ID)
	if second.AccessKeyID == first.AccessKeyID || second.SecretAccessKey == first.SecretAccessKey {
		t.Fatal("the second key repeats the first")
	}
	for _, c := range []auth.Credentials{first, second} {
		if acc, _, err := k.Lookup(ctx, c.AccessKeyID); err != nil || acc != account.ID {
			t.Fatalf("Lookup(%s) = %s, %v", c.AccessKeyID, acc, err)
		}
	}
	if _, err := k.CreateKey(ctx, "999999999999"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("key for a missing account: err = %v, want ErrNotFound", err)
	}
}

func TestLookupUnknownKey(t *testing.T) {
	t.Parallel()
	k, _ := newTestKeyring()
	_, _, err := k.Lookup(context.Background(), "AKIANOSUCHKEY")
	if !fault.Is(err, fault.UnrecognizedClient) {
		t.Fatalf("err = %v, want UnrecognizedClientException", err)
	}
}

func TestLookupWithAnotherMasterKey(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	m := newMemStore()
	_, creds, err := auth.NewKeyring(m, testSealer()).CreateAccount(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	other, _ := auth.NewSealer(make([]byte, auth.MasterKeySize))
	_, _, err = auth.NewKeyring(m, other).Lookup(ctx, creds.AccessKeyID)
	if err == nil || fault.As(err) != nil {
		t.Fatalf("err = %v, want a plain (internal) error", err)
	}
	if !strings.Contains(err.Error(), "master key") {
		t.Errorf("error does not point at the master key: %v", err)
	}
}

func TestEnsureRootGenerated(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	k, m := newTestKeyring()
	created, err := k.EnsureRoot(ctx, auth.RootConfig{})
	if err != nil {
		t.Fatal(err)
	}
	if created == nil {
		t.Fatal("no credentials returned for a fresh installation")
	}
	checkCredentials(t, *created, auth.DefaultRootAccountID)

	again, err := k.EnsureRoot(ctx, auth.RootConfig{})
	if err != nil || again != nil {
		t.Fatalf("second EnsureRoot = %v, %v; want nil, nil", again, err)
	}
	if n := len(m.keysOf(auth.DefaultRootAccountID)); n != 1 {
		t.Fatalf("root has %d keys, want 1", n)
	}
}

func TestEnsureRootCustomAccount(t *testing.T) {
	t.Parallel()
	k, _ := newTestKeyring()
	created, err := k.EnsureRoot(context.Background(), auth.RootConfig{AccountID: "000000000042"})
	if err != nil || created == nil {
		t.Fatalf("EnsureRoot = %v, %v", created, err)
	}
	checkCredentials(t, *created, "000000000042")
	if _, err := k.EnsureRoot(context.Background(), auth.RootConfig{AccountID: "42"}); err == nil {
		t.Fatal("accepted root account id 42")
	}
}

func TestEnsureRootConfigured(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	cfg := auth.RootConfig{AccessKeyID: "wharfadmin", SecretAccessKey: "wharfadmin-secret"}

	tests := []struct {
		name    string
		setup   func(t *testing.T, k *auth.Keyring)
		cfg     auth.RootConfig
		wantErr string
	}{
		{name: "fresh installation", cfg: cfg},
		{name: "already in place", cfg: cfg, setup: func(t *testing.T, k *auth.Keyring) {
			mustEnsureRoot(t, k, cfg)
		}},
		{name: "root created earlier with a generated key", cfg: cfg, setup: func(t *testing.T, k *auth.Keyring) {
			mustEnsureRoot(t, k, auth.RootConfig{})
		}},
		{name: "key exists with another secret", cfg: cfg, wantErr: "different secret", setup: func(t *testing.T, k *auth.Keyring) {
			mustEnsureRoot(t, k, auth.RootConfig{AccessKeyID: cfg.AccessKeyID, SecretAccessKey: "another-secret"})
		}},
		{name: "key belongs to another account", cfg: cfg, wantErr: "belongs to account 555555555555", setup: func(t *testing.T, k *auth.Keyring) {
			mustEnsureRoot(t, k, auth.RootConfig{AccountID: "555555555555", AccessKeyID: cfg.AccessKeyID, SecretAccessKey: cfg.SecretAccessKey})
		}},
		{name: "only the id", cfg: auth.RootConfig{AccessKeyID: "wharfadmin"}, wantErr: "both"},
		{name: "only the secret", cfg: auth.RootConfig{SecretAccessKey: "wharfadmin-secret"}, wantErr: "both"},
		{name: "short secret", cfg: auth.RootConfig{AccessKeyID: "wharfadmin", SecretAccessKey: "short"}, wantErr: auth.EnvRootSecretAccessKey},
		{name: "id with a slash", cfg: auth.RootConfig{AccessKeyID: "a/b", SecretAccessKey: "wharfadmin-secret"}, wantErr: auth.EnvRootAccessKeyID},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			k, _ := newTestKeyring()
			if tt.setup != nil {
				tt.setup(t, k)
			}
			created, err := k.EnsureRoot(ctx, tt.cfg)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want one mentioning %q", err, tt.wantErr)
				}
				if strings.Contains(err.Error(), tt.cfg.SecretAccessKey) && tt.cfg.SecretAccessKey != "" {
					t.Fatalf("error reveals the secret: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if created != nil {
				t.Fatalf("EnsureRoot returned credentials for an operator-supplied key")
			}
			account, secret, err := k.Lookup(ctx, cfg.AccessKeyID)
			if err != nil || account != auth.DefaultRootAccountID || string(secret) != cfg.SecretAccessKey {
				t.Fatalf("Lookup = %s, %v (secret matches: %v)", account, err, string(secret) == cfg.SecretAccessKey)
			}
		})
	}
}

func mustEnsureRoot(t *testing.T, k *auth.Keyring, cfg auth.RootConfig) {
	t.Helper()
	if _, err := k.EnsureRoot(context.Background(), cfg); err != nil {
		t.Fatal(err)
	}
}

func TestEnsureRootConcurrent(t *testing.T) {
	t.Parallel()
	k, m := newTestKeyring()
	const replicas = 8
	created := make(chan *auth.Credentials, replicas)
	errs := make(chan error, replicas)
	for range replicas {
		go func() {
			c, err := k.EnsureRoot(context.Background(), auth.RootConfig{})
			created <- c
			errs <- err
		}()
	}
	generated := 0
	for range replicas {
		if <-created != nil {
			generated++
		}
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	if generated != 1 || len(m.keysOf(auth.DefaultRootAccountID)) != 1 {
		t.Fatalf("%d replicas generated a key, root has %d keys; want 1 and 1", generated, len(m.keysOf(auth.DefaultRootAccountID)))
	}
}

func TestCredentialsJSON(t *testing.T) {
	t.Parallel()
	c := auth.Credentials{
		AccountID:       "123456789012",
		AccessKeyID:     "AKIAIOSFODNN7EXAMPLE",
		SecretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
		CreatedAt:       time.Date(2026, 5, 29, 10, 11, 12, 345e6, time.FixedZone("CEST", 2*3600)),
	}
	var got map[string]map[string]string
	if err := json.Unmarshal(c.JSON(), &got); err != nil {
		t.Fatal(err)
	}
	want := map[string]map[string]string{"AccessKey": {
		"AccountId":       "123456789012",
		"AccessKeyId":     "AKIAIOSFODNN7EXAMPLE",
		"SecretAccessKey": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
		"Status":          "Active",
		"CreateDate":      "2026-05-29T08:11:12Z",
	}}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("JSON = %s, want %v", c.JSON(), want)
	}
}

func TestCredentialsRedacted(t *testing.T) {
	t.Parallel()
	c := auth.Credentials{AccountID: "123456789012", AccessKeyID: "AKIAIOSFODNN7EXAMPLE", SecretAccessKey: "very-secret-value"}
	var logged bytes.Buffer
	slog.New(slog.NewTextHandler(&logged, nil)).Info("created", "credentials", c)
	slog.New(slog.NewJSONHandler(&logged, nil)).Info("created", "credentials", c)
	for _, s := range []string{fmt.Sprint(c), fmt.Sprintf("%+v", c), fmt.Sprintf("%#v", c), fmt.Sprintf("%v", &c), logged.String()} {
		if strings.Contains(s, c.SecretAccessKey) {
			t.Errorf("secret leaks into %q", s)
		}
		if !strings.Contains(s, c.AccessKeyID) {
			t.Errorf("access key id missing from %q", s)
		}
	}
}
