package resource_test

import (
	"sync"
	"testing"

	"github.com/wharf-dev/wharf/internal/resource"
)

// TestNewOrderedID: ids made one after another, from many goroutines at
// once, are distinct, valid, and sort in the order each goroutine made them.
func TestNewOrderedID(t *testing.T) {
	t.Parallel()
	const goroutines, each = 8, 2000
	var mu sync.Mutex
	seen := make(map[string]bool, goroutines*each)
	var wg sync.WaitGroup
	for range goroutines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ids := make([]string, each)
			for i := range ids {
				ids[i] = resource.NewOrderedID()
			}
			mu.Lock()
			defer mu.Unlock()
			for i, id := range ids {
				if !resource.ValidID(id) {
					t.Errorf("%q is not a valid id", id)
				}
				if i > 0 && id <= ids[i-1] {
					t.Errorf("id %d %q sorts before id %d %q", i, id, i-1, ids[i-1])
				}
				if seen[id] {
					t.Errorf("%q made twice", id)
				}
				seen[id] = true
			}
		}()
	}
	wg.Wait()
}
