package auth_test

import (
	"context"
	"sync"

	"github.com/wharf-dev/wharf/internal/auth"
	"github.com/wharf-dev/wharf/internal/resource"
	"github.com/wharf-dev/wharf/internal/store"
)

// memStore is an in-memory auth.KeyStore with the store's error contract.
type memStore struct {
	mu       sync.Mutex
	accounts map[string]resource.Account
	keys     map[string]resource.AccessKey
}

var _ auth.KeyStore = (*memStore)(nil)

func newMemStore() *memStore {
	return &memStore{accounts: map[string]resource.Account{}, keys: map[string]resource.AccessKey{}}
}

func (m *memStore) InsertAccount(_ context.Context, a resource.Account) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.accounts[a.ID]; ok {
		return store.ErrDuplicate
	}
	m.accounts[a.ID] = a
	return nil
}

func (m *memStore) GetAccount(_ context.Context, id string) (resource.Account, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	a, ok := m.accounts[id]
	if !ok {
		return resource.Account{}, store.ErrNotFound
	}
	return a, nil
}

func (m *memStore) ListAccounts(context.Context) ([]resource.Account, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []resource.Account
	for _, a := range m.accounts {
		out = append(out, a)
	}
	return out, nil
}

func (m *memStore) InsertAccessKey(_ context.Context, k resource.AccessKey) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.accounts[k.AccountID]; !ok {
		return store.ErrNotFound // a foreign key violation in the real drivers
	}
	if _, ok := m.keys[k.ID]; ok {
		return store.ErrDuplicate
	}
	k.SealedSecret = append([]byte(nil), k.SealedSecret...)
	m.keys[k.ID] = k
	return nil
}

func (m *memStore) GetAccessKey(_ context.Context, id string) (resource.AccessKey, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	k, ok := m.keys[id]
	if !ok {
		return resource.AccessKey{}, store.ErrNotFound
	}
	return k, nil
}

// keysOf returns the access keys of an account.
func (m *memStore) keysOf(accountID string) []resource.AccessKey {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []resource.AccessKey
	for _, k := range m.keys {
		if k.AccountID == accountID {
			out = append(out, k)
		}
	}
	return out
}

func testSealer() *auth.Sealer {
	key := make([]byte, auth.MasterKeySize)
	for i := range key {
		key[i] = byte(i)
	}
	s, err := auth.NewSealer(key)
	if err != nil {
		panic(err)
	}
	return s
}

func newTestKeyring() (*auth.Keyring, *memStore) {
	m := newMemStore()
	return auth.NewKeyring(m, testSealer()), m
}
