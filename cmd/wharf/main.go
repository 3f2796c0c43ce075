// Command wharf is the whole of Wharf in one binary: `wharf serve` runs the
// AWS Data Exchange API, and the admin commands manage accounts and keys in
// the same data directory or database, even while a server runs.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
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
	root := &cobra.Command{
		Use:           "wharf",
		Short:         "A self-hosted AWS Data Exchange job system",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.AddCommand(newServeCommand(), newAccountsCommand(), newKeysCommand(), newMigrateCommand(),
		newUploadCommand(), newDownloadCommand(), newJobsCommand(), newAuditCommand(), newSessionsCommand(),
		newPublishCommand(), newSubscribeCommand())
	return root
}

// bindEnv makes every flag of cmd default to the environment variable
// WHARF_<FLAG_NAME> (dashes as underscores) when the flag is not given, the
// way container deployments configure servers.
func bindEnv(cmd *cobra.Command) error {
	var firstErr error
	cmd.Flags().VisitAll(func(f *pflag.Flag) {
		if f.Changed || firstErr != nil {
			return
		}
		name := "WHARF_" + strings.ToUpper(strings.ReplaceAll(f.Name, "-", "_"))
		if v, ok := os.LookupEnv(name); ok {
			if err := f.Value.Set(v); err != nil {
				firstErr = fmt.Errorf("%s=%q: %w", name, v, err)
			}
		}
	})
	return firstErr
}
