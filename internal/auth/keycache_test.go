package auth_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/wharf-dev/wharf/internal/auth"
	"github.com/wharf-dev/wharf/internal/fault"
)

// countingLookup knows the keys it holds and counts the lookups it answers.
type countingLookup struct {
	mu    sync.Mutex
	keys  map[string]string // access key id -> account
	calls map[string]int
}

func (c *countingLookup) Lookup(_ context.Context, id string) (string, []byte, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.calls[id]++
	account, ok := c.keys[id]
	if !ok {
		return "", nil, fault.New(fault.UnrecognizedClient, "The security token included in the request is invalid.")
	}
	return account, []byte("secret-of-" + id), nil
}

func (c *countingLookup) count(id string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.calls[id]
}

func TestKeyCache(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	next := &countingLookup{keys: map[string]string{"AKIAONE": "111111111111", "ASIASESSION": "222222222222"}, calls: map[string]int{}}
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	c := auth.NewKeyCache(next, auth.KeyCacheConfig{TTL: time.Minute, Now: func() time.Time { return now }})

	lookup := func(id string) (string, string, error) {
		account, secret, err := c.Lookup(ctx, id)
		return account, string(secret), err
	}
	for range 3 {
		account, secret, err := lookup("AKIAONE")
		if err != nil || account != "111111111111" || secret != "secret-of-AKIAONE" {
			t.Fatalf("Lookup = %q, %q, %v", account, secret, err)
		}
	}
	if n := next.count("AKIAONE"); n != 1 {
		t.Errorf("a long-term key was looked up %d times within its TTL, want 1", n)
	}
	now = now.Add(time.Minute)
	if _, _, err := lookup("AKIAONE"); err != nil {
		t.Fatal(err)
	}
	if n := next.count("AKIAONE"); n != 2 {
		t.Errorf("after the TTL: %d lookups, want 2", n)
	}

	// Failures are not kept: a key created meanwhile works at once.
	for range 2 {
		if _, _, err := lookup("AKIALATER"); fault.As(err) == nil || fault.As(err).Name != fault.UnrecognizedClient {
			t.Fatalf("an unknown key: %v", err)
		}
	}
	next.mu.Lock()
	next.keys["AKIALATER"] = "333333333333"
	next.mu.Unlock()
	if account, _, err := lookup("AKIALATER"); err != nil || account != "333333333333" {
		t.Fatalf("a key created after a failed lookup: %q, %v", account, err)
	}
	if n := next.count("AKIALATER"); n != 3 {
		t.Errorf("an unknown key: %d lookups for 3 calls, want 3", n)
	}

	// Session keys always go to the store: ending a session takes effect
	// at once.
	for range 3 {
		if _, _, err := lookup("ASIASESSION"); err != nil {
			t.Fatal(err)
		}
	}
	if n := next.count("ASIASESSION"); n != 3 {
		t.Errorf("a session key: %d lookups for 3 calls, want 3", n)
	}
	next.mu.Lock()
	delete(next.keys, "ASIASESSION")
	next.mu.Unlock()
	if _, _, err := lookup("ASIASESSION"); err == nil {
		t.Error("a session key removed from the store still works")
	}

	// Forget drops a key at once.
	c.Forget("AKIAONE")
	if _, _, err := lookup("AKIAONE"); err != nil {
		t.Fatal(err)
	}
	if n := next.count("AKIAONE"); n != 3 {
		t.Errorf("after Forget: %d lookups, want 3", n)
	}
}

func TestKeyCacheIsBounded(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	next := &countingLookup{keys: map[string]string{}, calls: map[string]int{}}
	for i := range 100 {
		next.keys[fmt.Sprintf("AKIA%04d", i)] = "111111111111"
	}
	c := auth.NewKeyCache(next, auth.KeyCacheConfig{Size: 10})
	for i := range 100 {
		if _, _, err := c.Lookup(ctx, fmt.Sprintf("AKIA%04d", i)); err != nil {
			t.Fatal(err)
		}
	}
	// The last key looked up is held; of the 100, at most 10 are.
	if _, _, err := c.Lookup(ctx, "AKIA0099"); err != nil {
		t.Fatal(err)
	}
	if n := next.count("AKIA0099"); n != 1 {
		t.Errorf("the newest key was looked up %d times, want 1", n)
	}
	held := 0
	for i := range 100 {
		id := fmt.Sprintf("AKIA%04d", i)
		before := next.count(id)
		if _, _, err := c.Lookup(ctx, id); err != nil {
			t.Fatal(err)
		}
		if next.count(id) == before {
			held++
		}
	}
	if held > 10 {
		t.Errorf("%d keys were held, over the bound of 10", held)
	}
}
