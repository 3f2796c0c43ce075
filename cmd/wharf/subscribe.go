package main

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/wharf-dev/wharf/internal/subscribe"
)

func newSubscribeCommand() *cobra.Command {
	var (
		cf        clientFlags
		o         subscribe.Options
		s3Profile string
		output    string
	)
	cmd := &cobra.Command{
		Use:   "subscribe",
		Short: "Export every finalized, non-revoked revision of a data set not yet at a directory or s3://bucket[/prefix]",
		Long: `Export every finalized, non-revoked revision of an owned or entitled data set that is
not yet at the destination: to s3://bucket[/prefix] with one EXPORT_REVISIONS_TO_S3 job per
revision and the key pattern, or to a directory with EXPORT_ASSET_TO_SIGNED_URL downloads
(each asset's file appears complete, checked against the asset's size). A manifest at the
destination records what was exported, so running it again exports only what is new.
--watch keeps polling for newly published revisions until interrupted: a pass that fails
(the server unreachable, say) is logged and tried again at the next poll, and the exit status
on Ctrl-C is then 1. See docs/client.md.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if output != "text" && output != "json" {
				return fmt.Errorf("--output must be text or json, got %q", output)
			}
			c, err := cf.client(cmd)
			if err != nil {
				return err
			}
			if strings.HasPrefix(o.To, "s3://") {
				if o.S3, err = c.S3(cmd.Context(), s3Profile); err != nil {
					return err
				}
			}
			o.Log = cmd.ErrOrStderr()
			sum, runErr := subscribe.Run(cmd.Context(), c, o)
			if output == "json" {
				if err := writeJSON(cmd.OutOrStdout(), sum); err != nil {
					return err
				}
			} else {
				var assets int
				for _, r := range sum.Exported {
					assets += r.Assets
				}
				passes := ""
				if sum.FailedPasses > 0 {
					passes = fmt.Sprintf(", %d failed passes of the watch", sum.FailedPasses)
				}
				fmt.Fprintf(cmd.OutOrStdout(), "%d revisions exported (%d assets) to %s, %d already there, %d failed%s\n",
					len(sum.Exported), assets, sum.Destination, sum.AlreadyThere, len(sum.Failures), passes)
			}
			return runErr
		},
	}
	cf.register(cmd)
	cmd.Flags().StringVar(&o.DataSetID, "data-set", "", "the data set's id, owned or entitled (required)")
	cmd.Flags().StringVar(&o.To, "to", "", "the destination: a directory or s3://bucket[/prefix] (required)")
	cmd.Flags().StringVar(&o.KeyPattern, "key-pattern", subscribe.DefaultKeyPattern, "each asset's key (or path under the directory), with AWS's references")
	cmd.Flags().BoolVar(&o.Watch, "watch", false, "keep running, exporting each newly published revision, until interrupted (failures are logged and retried; any makes the exit status 1)")
	cmd.Flags().DurationVar(&o.PollInterval, "poll-interval", subscribe.DefaultPollInterval, "with --watch, how often to look for new revisions")
	cmd.Flags().IntVar(&o.Jobs, "jobs", subscribe.DefaultJobs, "assets downloaded at once to a directory")
	cmd.Flags().StringVar(&s3Profile, "s3-profile", "", "the AWS profile whose credentials and endpoint write the manifest of an s3:// destination (default: the same configuration as Data Exchange)")
	cmd.Flags().StringVarP(&output, "output", "o", "text", "the summary's format: text or json")
	_ = cmd.MarkFlagRequired("data-set")
	_ = cmd.MarkFlagRequired("to")
	return cmd
}
