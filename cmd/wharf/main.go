// Command wharf is the whole of Wharf in one binary: `wharf serve` runs the
// AWS Data Exchange API, and the admin commands manage accounts and keys in
// the same data directory or database, even while a server runs.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	if err := newRootCommand().ExecuteContext(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "wharf:", err)
		os.Exit(1)
	}
}

func newRootCommand() *cobra.Command {
	// A command's own PersistentPreRunE (a later one) must not skip the
	// root's, which binds the environment.
	cobra.EnableTraverseRunHooks = true
	root := &cobra.Command{
		Use:           "wharf",
		Short:         "A self-hosted AWS Data Exchange job system",
		SilenceUsage:  true,
		SilenceErrors: true,
		Version:       versionText(),
		// Every flag of every command takes its WHARF_<FLAG> variable.
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error { return bindEnv(cmd) },
	}
	root.AddCommand(newServeCommand(), newAccountsCommand(), newKeysCommand(), newMigrateCommand(),
		newUploadCommand(), newDownloadCommand(), newJobsCommand(), newAuditCommand(), newSessionsCommand(),
		newPublishCommand(), newSubscribeCommand(), newVersionCommand())
	root.SetVersionTemplate("{{.Version}}\n")
	return root
}
