package auth

import (
	"context"
	"strings"
	"sync"
	"time"
)

// Defaults of KeyCacheConfig.
const (
	DefaultKeyCacheTTL  = 30 * time.Second
	DefaultKeyCacheSize = 10000
)

// KeyCacheConfig configures a KeyCache.
type KeyCacheConfig struct {
	// TTL is how long a looked-up key is used without asking the store
	// again: the longest a key removed from the store (by hand, or by
	// another replica once keys can be removed) keeps working here.
	// 0 means DefaultKeyCacheTTL.
	TTL time.Duration
	// Size bounds the keys held; 0 means DefaultKeyCacheSize.
	Size int
	// Now replaces time.Now, for tests.
	Now func() time.Time
}

// KeyCache is a SecretLookup that remembers what another one returned for
// long-term access keys, so that a client signing call after call costs
// one store read and one unsealing per TTL rather than per request.
//
// Only successful lookups are kept: an unknown key is asked again every
// time, so a key created by `wharf keys create` (or on another replica)
// works at its first use. Temporary credentials (access key ids starting
// with ASIA, AWS's prefix for them, which come with a session token) are
// never cached: ending a session must take effect at once.
type KeyCache struct {
	next SecretLookup
	ttl  time.Duration
	size int
	now  func() time.Time

	mu      sync.Mutex
	entries map[string]keyCacheEntry
}

type keyCacheEntry struct {
	accountID string
	secret    []byte
	expires   time.Time
}

// NewKeyCache returns a KeyCache in front of next.
func NewKeyCache(next SecretLookup, cfg KeyCacheConfig) *KeyCache {
	c := &KeyCache{next: next, ttl: cfg.TTL, size: cfg.Size, now: cfg.Now, entries: map[string]keyCacheEntry{}}
	if c.ttl <= 0 {
		c.ttl = DefaultKeyCacheTTL
	}
	if c.size <= 0 {
		c.size = DefaultKeyCacheSize
	}
	if c.now == nil {
		c.now = time.Now
	}
	return c
}

// cacheable reports whether the key is a long-term one.
func cacheable(accessKeyID string) bool { return !strings.HasPrefix(accessKeyID, "ASIA") }

// Lookup returns the key's account and secret, from the cache while they
// are fresh.
func (c *KeyCache) Lookup(ctx context.Context, accessKeyID string) (string, []byte, error) {
	if !cacheable(accessKeyID) {
		return c.next.Lookup(ctx, accessKeyID)
	}
	now := c.now()
	c.mu.Lock()
	e, ok := c.entries[accessKeyID]
	c.mu.Unlock()
	if ok && now.Before(e.expires) {
		return e.accountID, e.secret, nil
	}
	accountID, secret, err := c.next.Lookup(ctx, accessKeyID)
	if err != nil {
		return "", nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.entries[accessKeyID]; !ok && len(c.entries) >= c.size {
		c.evict(now)
	}
	c.entries[accessKeyID] = keyCacheEntry{accountID: accountID, secret: secret, expires: now.Add(c.ttl)}
	return accountID, secret, nil
}

// evict makes room: the expired entries go, or, if none has expired, an
// arbitrary tenth of them. Called with c.mu held.
func (c *KeyCache) evict(now time.Time) {
	for id, e := range c.entries {
		if !now.Before(e.expires) {
			delete(c.entries, id)
		}
	}
	for id := range c.entries {
		if len(c.entries) < c.size-c.size/10 {
			break
		}
		delete(c.entries, id)
	}
}

// Forget drops a key from the cache, for whoever removes or changes one in
// this process.
func (c *KeyCache) Forget(accessKeyID string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.entries, accessKeyID)
}
