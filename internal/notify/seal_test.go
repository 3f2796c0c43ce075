package notify_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/wharf-dev/wharf/internal/auth"
	"github.com/wharf-dev/wharf/internal/notify"
	"github.com/wharf-dev/wharf/internal/pgtest"
	"github.com/wharf-dev/wharf/internal/resource"
	"github.com/wharf-dev/wharf/internal/store"
	"github.com/wharf-dev/wharf/internal/store/postgres"
	"github.com/wharf-dev/wharf/internal/store/sqlite"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

func testSealer(t *testing.T) *auth.Sealer {
	t.Helper()
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	s, err := auth.NewSealer(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestWebhookSecretIsSealed stores a webhook on each database and reads
// the raw rows back: the secret is nowhere in them, and it opens only for
// its own account, with the master key it was sealed with.
func TestWebhookSecretIsSealed(t *testing.T) {
	t.Parallel()
	const secret = "a-very-recognisable-webhook-secret"
	cases := []struct {
		name string
		// open returns a store and a function that returns every byte of
		// the account_webhooks rows as the database holds them.
		open func(t *testing.T) (store.Store, func() []byte)
	}{
		{"sqlite", func(t *testing.T) (store.Store, func() []byte) {
			dir := t.TempDir()
			st, err := sqlite.Open(context.Background(), filepath.Join(dir, "wharf.db"))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { st.Close() })
			// The whole database directory, main file and WAL alike.
			return st, func() []byte {
				var all []byte
				entries, _ := os.ReadDir(dir)
				for _, e := range entries {
					b, err := os.ReadFile(filepath.Join(dir, e.Name()))
					if err != nil {
						t.Fatal(err)
					}
					all = append(all, b...)
				}
				return all
			}
		}},
		{"postgres", func(t *testing.T) (store.Store, func() []byte) {
			u := pgtest.URL(t)
			st, err := postgres.Open(context.Background(), u)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { st.Close() })
			return st, func() []byte {
				conn, err := pgx.Connect(context.Background(), u)
				if err != nil {
					t.Fatal(err)
				}
				defer conn.Close(context.Background())
				var rows string
				err = conn.QueryRow(context.Background(),
					`SELECT string_agg(url || encode(sealed_secret, 'escape'), ',') FROM account_webhooks`).Scan(&rows)
				if err != nil {
					t.Fatal(err)
				}
				return []byte(rows)
			}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			st, raw := tc.open(t)
			sealer := testSealer(t)
			if err := st.SetWebhook(ctx, notify.SealWebhook(sealer, receiver, "https://example.com/hook", secret, resource.Now())); err != nil {
				t.Fatal(err)
			}
			if b := raw(); !bytes.Contains(b, []byte("https://example.com/hook")) || bytes.Contains(b, []byte(secret)) {
				t.Fatalf("the raw rows lack the URL or hold the secret: %q", b)
			}
			hook, err := st.GetWebhook(ctx, receiver)
			if err != nil {
				t.Fatal(err)
			}
			got, err := notify.OpenWebhookSecret(sealer, hook)
			if err != nil || got != secret {
				t.Fatalf("OpenWebhookSecret = %q, %v", got, err)
			}
			if _, err := notify.OpenWebhookSecret(testSealer(t), hook); err == nil {
				t.Error("the secret opened with another master key")
			}
			moved := hook
			moved.AccountID = sender
			if _, err := notify.OpenWebhookSecret(sealer, moved); err == nil {
				t.Error("the secret opened on another account's row")
			}
			unsealed := hook
			unsealed.SealedSecret = nil
			if _, err := notify.OpenWebhookSecret(sealer, unsealed); err == nil || !strings.Contains(err.Error(), "set it again") {
				t.Errorf("a row with no sealed secret: %v", err)
			}
		})
	}
}
