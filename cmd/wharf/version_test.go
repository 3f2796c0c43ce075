package main

import (
	"runtime"
	"runtime/debug"
	"testing"
)

func TestVersionOf(t *testing.T) {
	stamped := &debug.BuildInfo{
		Main: debug.Module{Path: "github.com/wharf-dev/wharf", Version: "v1.2.3"},
		Settings: []debug.BuildSetting{
			{Key: "vcs", Value: "git"},
			{Key: "vcs.revision", Value: "0123456789abcdef0123456789abcdef01234567"},
			{Key: "vcs.time", Value: "2026-12-03T15:24:55Z"},
			{Key: "vcs.modified", Value: "true"},
		},
	}
	goVersion := " " + runtime.Version() + " " + runtime.GOOS + "/" + runtime.GOARCH
	for _, c := range []struct {
		info *debug.BuildInfo
		want string
	}{
		{stamped, "wharf v1.2.3 (revision 0123456789abcdef0123456789abcdef01234567, 2026-12-03T15:24:55Z, modified)" + goVersion},
		{&debug.BuildInfo{Main: debug.Module{Version: "(devel)"}}, "wharf (devel) (revision unknown)" + goVersion},
		{nil, "wharf (unknown) (revision unknown)" + goVersion},
	} {
		if got := versionOf(c.info); got != c.want {
			t.Errorf("versionOf = %q, want %q", got, c.want)
		}
	}
}
