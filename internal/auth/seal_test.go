package auth_test

import (
	"bytes"
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/wharf-dev/wharf/internal/auth"
)

func TestSealerRoundTrip(t *testing.T) {
	t.Parallel()
	s := testSealer()
	secret := []byte("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")
	sealed := s.Seal("AKIAEXAMPLE", secret)
	if bytes.Contains(sealed, secret) {
		t.Fatal("sealed secret contains the plaintext")
	}
	if again := s.Seal("AKIAEXAMPLE", secret); bytes.Equal(again, sealed) {
		t.Fatal("two seals of one secret are identical: nonce reused")
	}
	got, err := s.Open("AKIAEXAMPLE", sealed)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, secret) {
		t.Fatalf("Open = %q, want %q", got, secret)
	}
}

func TestSealerRejects(t *testing.T) {
	t.Parallel()
	s := testSealer()
	sealed := s.Seal("AKIAONE", []byte("secret"))
	otherKey := make([]byte, auth.MasterKeySize)
	other, err := auth.NewSealer(otherKey)
	if err != nil {
		t.Fatal(err)
	}
	flipped := append([]byte(nil), sealed...)
	flipped[len(flipped)-1] ^= 1

	tests := []struct {
		name   string
		sealer *auth.Sealer
		id     string
		sealed []byte
	}{
		{"moved to another key row", s, "AKIATWO", sealed},
		{"another master key", other, "AKIAONE", sealed},
		{"tampered", s, "AKIAONE", flipped},
		{"truncated", s, "AKIAONE", sealed[:10]},
		{"empty", s, "AKIAONE", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if _, err := tt.sealer.Open(tt.id, tt.sealed); err == nil {
				t.Fatal("Open succeeded")
			}
		})
	}
}

func TestNewSealerKeySize(t *testing.T) {
	t.Parallel()
	for _, n := range []int{0, 16, 31, 33} {
		if _, err := auth.NewSealer(make([]byte, n)); err == nil {
			t.Errorf("NewSealer accepted a %d-byte key", n)
		}
	}
}

// The LoadMasterKey tests set WHARF_MASTER_KEY (possibly to empty), so they
// can't run in parallel.

func TestLoadMasterKeyCreatesFile(t *testing.T) {
	t.Setenv(auth.EnvMasterKey, "")
	dir := filepath.Join(t.TempDir(), "data")
	key, err := auth.LoadMasterKey(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(key) != auth.MasterKeySize {
		t.Fatalf("key has %d bytes", len(key))
	}
	info, err := os.Stat(filepath.Join(dir, auth.MasterKeyFile))
	if err != nil {
		t.Fatal(err)
	}
	if perm := info.Mode().Perm(); perm != 0o600 {
		t.Errorf("master.key mode = %o, want 600", perm)
	}
	again, err := auth.LoadMasterKey(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(key, again) {
		t.Fatal("second load returned another key")
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("data directory holds %d entries, want only master.key", len(entries))
	}
}

func TestLoadMasterKeyConcurrentFirstUse(t *testing.T) {
	t.Setenv(auth.EnvMasterKey, "")
	dir := t.TempDir()
	keys := make([][]byte, 8)
	var wg sync.WaitGroup
	for i := range keys {
		wg.Go(func() {
			k, err := auth.LoadMasterKey(dir)
			if err != nil {
				t.Error(err)
			}
			keys[i] = k
		})
	}
	wg.Wait()
	for _, k := range keys[1:] {
		if !bytes.Equal(k, keys[0]) {
			t.Fatal("concurrent first loads disagree on the key")
		}
	}
}

func TestLoadMasterKeyFromEnv(t *testing.T) {
	want := bytes.Repeat([]byte{7}, auth.MasterKeySize)
	t.Setenv(auth.EnvMasterKey, base64.StdEncoding.EncodeToString(want))
	dir := t.TempDir()
	got, err := auth.LoadMasterKey(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatal("key differs from WHARF_MASTER_KEY")
	}
	if _, err := os.Stat(filepath.Join(dir, auth.MasterKeyFile)); !os.IsNotExist(err) {
		t.Error("master.key was created although WHARF_MASTER_KEY is set")
	}
}

func TestLoadMasterKeyRejectsBadEnv(t *testing.T) {
	for _, v := range []string{"not base64!", base64.StdEncoding.EncodeToString(make([]byte, 16))} {
		t.Setenv(auth.EnvMasterKey, v)
		_, err := auth.LoadMasterKey(t.TempDir())
		if err == nil {
			t.Fatalf("accepted %q", v)
		}
		if strings.Contains(err.Error(), v) {
			t.Errorf("error echoes the key: %v", err)
		}
	}
}

func TestLoadMasterKeyRejectsBadFile(t *testing.T) {
	t.Setenv(auth.EnvMasterKey, "")
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, auth.MasterKeyFile), []byte("short\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := auth.LoadMasterKey(dir); err == nil {
		t.Fatal("accepted a malformed master.key")
	}
}
