// Package crashpoint kills the process at named points of Wharf's code, so
// that crash tests can stop a replica at an exact moment (between two
// writes that aren't one transaction) rather than at whatever moment a
// SIGKILL from outside happens to land.
//
// Reached is a no-op that the compiler inlines away in a normal build. In a
// binary built with the wharf_crashpoints build tag
//
//	go build -tags wharf_crashpoints ./cmd/wharf
//
// Reached(name) sends SIGKILL to its own process when the environment
// variable WHARF_CRASHPOINT is name, or name@N to die at the N-th time the
// point is reached (counted from 1). The process writes one line to stderr
// first ("crashpoint: <name> reached ..."), so that a test can tell where
// it died.
//
// The points Wharf marks are listed in docs/jobs.md (Failover).
package crashpoint

import (
	"strconv"
	"strings"
)

// Env names the environment variable that arms a crash point.
const Env = "WHARF_CRASHPOINT"

// parse reads Env's value: the point's name and at which hit it fires (1
// unless @N says otherwise). An empty or malformed value arms nothing.
func parse(v string) (name string, at int64) {
	name, n, found := strings.Cut(strings.TrimSpace(v), "@")
	if name == "" {
		return "", 0
	}
	if !found {
		return name, 1
	}
	at, err := strconv.ParseInt(n, 10, 64)
	if err != nil || at < 1 {
		return "", 0
	}
	return name, at
}
