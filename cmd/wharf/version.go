package main

import (
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/spf13/cobra"
)

// versionText is what `wharf version` and `wharf --version` print: the
// module version and the VCS revision the binary was built from (from its
// build info), and the Go toolchain.
func versionText() string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		info = nil
	}
	return versionOf(info)
}

// versionOf is versionText for the build info info (nil: none).
func versionOf(info *debug.BuildInfo) string {
	version, revision, at, modified := "(unknown)", "unknown", "", false
	if info != nil {
		if info.Main.Version != "" {
			version = info.Main.Version
		}
		for _, s := range info.Settings {
			switch s.Key {
			case "vcs.revision":
				revision = s.Value
			case "vcs.time":
				at = s.Value
			case "vcs.modified":
				modified = s.Value == "true"
			}
		}
	}
	rev := "revision " + revision
	if at != "" {
		rev += ", " + at
	}
	if modified {
		rev += ", modified"
	}
	return fmt.Sprintf("wharf %s (%s) %s %s/%s", version, rev, runtime.Version(), runtime.GOOS, runtime.GOARCH)
}

func newVersionCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version and VCS revision wharf was built from",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			_, err := fmt.Fprintln(cmd.OutOrStdout(), versionText())
			return err
		},
	}
}
