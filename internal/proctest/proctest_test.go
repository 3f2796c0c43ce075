package proctest_test

import (
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"

	"github.com/wharf-dev/wharf/internal/proctest"
)

func TestFreePortCanBeListenedOn(t *testing.T) {
	t.Parallel()
	port, err := proctest.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		t.Fatalf("listen on the free port %d: %v", port, err)
	}
	l.Close()
}

func TestBufferKeepsEveryConcurrentWrite(t *testing.T) {
	t.Parallel()
	var b proctest.Buffer
	var wg sync.WaitGroup
	for i := range 50 {
		wg.Go(func() { fmt.Fprintf(&b, "line %d\n", i) })
	}
	wg.Wait()
	got := b.String()
	for i := range 50 {
		if !strings.Contains(got, fmt.Sprintf("line %d\n", i)) {
			t.Fatalf("line %d is missing from %q", i, got)
		}
	}
}
