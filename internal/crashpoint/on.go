//go:build wharf_crashpoints && unix

package crashpoint

import (
	"fmt"
	"os"
	"sync/atomic"
	"syscall"
)

// Enabled reports whether this binary was built with crash points.
const Enabled = true

var (
	armed, armedAt = parse(os.Getenv(Env))
	hits           atomic.Int64
)

// Reached kills the process with SIGKILL if the armed crash point is name
// and this is its armed hit.
func Reached(name string) {
	if name != armed {
		return
	}
	n := hits.Add(1)
	if n != armedAt {
		return
	}
	fmt.Fprintf(os.Stderr, "crashpoint: %s reached (hit %d): killing this process\n", name, n)
	_ = syscall.Kill(os.Getpid(), syscall.SIGKILL)
	select {} // SIGKILL can't be caught: the process ends here
}
