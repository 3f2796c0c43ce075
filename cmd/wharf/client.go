package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/wharf-dev/wharf/internal/client"
)

// clientFlags are the AWS settings of the client commands; empty ones take
// the SDK's usual sources (AWS_ENDPOINT_URL_DATAEXCHANGE, AWS_PROFILE,
// AWS_REGION, the shared config files, the credential chain).
type clientFlags struct {
	endpointURL string
	profile     string
	region      string
}

func (f *clientFlags) register(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.endpointURL, "endpoint-url", "", "the Data Exchange endpoint (default: AWS_ENDPOINT_URL_DATAEXCHANGE, else AWS's)")
	cmd.Flags().StringVar(&f.profile, "profile", "", "the AWS profile to use (default: AWS_PROFILE, else the default profile)")
	cmd.Flags().StringVar(&f.region, "region", "", "the AWS region (default: AWS_REGION, else the profile's)")
}

func (f *clientFlags) client(cmd *cobra.Command) (*client.Client, error) {
	c, err := client.New(cmd.Context(), client.Options{EndpointURL: f.endpointURL, Profile: f.profile, Region: f.region})
	if err != nil {
		return nil, err
	}
	c.Log = cmd.ErrOrStderr()
	if f, ok := cmd.ErrOrStderr().(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		c.NewMeter = func(description string) client.Meter { return newBar(f, description) }
	}
	return c, nil
}

// bar is a client.Meter drawn on a terminal.
type bar struct{ pb *progressbar.ProgressBar }

func newBar(w io.Writer, description string) *bar {
	return &bar{pb: progressbar.NewOptions64(-1,
		progressbar.OptionSetWriter(w),
		progressbar.OptionSetDescription(description),
		progressbar.OptionShowBytes(true),
		progressbar.OptionSetWidth(30),
		progressbar.OptionThrottle(100_000_000), // 100ms
		progressbar.OptionShowCount(),
		progressbar.OptionOnCompletion(func() { fmt.Fprintln(w) }),
	)}
}

func (b *bar) Set(done, total int64) {
	if total > 0 && b.pb.GetMax64() != total {
		b.pb.ChangeMax64(total)
	}
	_ = b.pb.Set64(done)
}

func (b *bar) Finish() { _ = b.pb.Finish() }

func newUploadCommand() *cobra.Command {
	var (
		cf                   clientFlags
		dataSet, revision, n string
	)
	cmd := &cobra.Command{
		Use:   "upload FILE...",
		Short: "Upload files as assets of a revision (IMPORT_ASSET_FROM_SIGNED_URL jobs), printing each asset as JSON",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, files []string) error {
			if n != "" && len(files) > 1 {
				return errors.New("--name names one file's asset: give one file")
			}
			c, err := cf.client(cmd)
			if err != nil {
				return err
			}
			enc := json.NewEncoder(cmd.OutOrStdout())
			for _, f := range files {
				a, err := c.Upload(cmd.Context(), client.UploadInput{DataSetID: dataSet, RevisionID: revision, Path: f, AssetName: n})
				if err != nil {
					return err
				}
				out := map[string]any{
					"Arn": aws.ToString(a.Arn), "Id": aws.ToString(a.Id), "Name": aws.ToString(a.Name),
					"DataSetId": aws.ToString(a.DataSetId), "RevisionId": aws.ToString(a.RevisionId),
				}
				if a.AssetDetails != nil && a.AssetDetails.S3SnapshotAsset != nil {
					out["Size"] = int64(a.AssetDetails.S3SnapshotAsset.Size)
				}
				if err := enc.Encode(out); err != nil {
					return err
				}
			}
			return nil
		},
	}
	cf.register(cmd)
	cmd.Flags().StringVar(&dataSet, "data-set", "", "the data set's id (required)")
	cmd.Flags().StringVar(&revision, "revision", "", "the revision's id (required)")
	cmd.Flags().StringVar(&n, "name", "", "the asset's name (default: the file's base name; one file only)")
	_ = cmd.MarkFlagRequired("data-set")
	_ = cmd.MarkFlagRequired("revision")
	return cmd
}

func newDownloadCommand() *cobra.Command {
	var (
		cf                       clientFlags
		dataSet, revision, asset string
		output                   string
		force                    bool
	)
	cmd := &cobra.Command{
		Use:   "download",
		Short: "Download an asset (through an EXPORT_ASSET_TO_SIGNED_URL job)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := cf.client(cmd)
			if err != nil {
				return err
			}
			path, err := c.Download(cmd.Context(), client.DownloadInput{
				DataSetID: dataSet, RevisionID: revision, AssetID: asset, Output: output, Force: force,
			})
			if err != nil {
				return err
			}
			if path != "-" {
				fmt.Fprintln(cmd.OutOrStdout(), path)
			}
			return nil
		},
	}
	cf.register(cmd)
	cmd.Flags().StringVar(&dataSet, "data-set", "", "the data set's id (required)")
	cmd.Flags().StringVar(&revision, "revision", "", "the revision's id (required)")
	cmd.Flags().StringVar(&asset, "asset", "", "the asset's id (required)")
	cmd.Flags().StringVarP(&output, "output", "o", "", "the file to write, - for stdout (default: the asset name's base name); checked before the export starts")
	cmd.Flags().BoolVar(&force, "force", false, "replace the output file if it exists")
	for _, f := range []string{"data-set", "revision", "asset"} {
		_ = cmd.MarkFlagRequired(f)
	}
	return cmd
}

func newJobsCommand() *cobra.Command {
	jobsCmd := &cobra.Command{Use: "jobs", Short: "Follow and inspect jobs"}

	var waitCF clientFlags
	var timeout time.Duration
	wait := &cobra.Command{
		Use:   "wait JOB_ID",
		Short: "Follow a job to its end; exit non-zero, printing its errors, unless it COMPLETED (or when --timeout passes first)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if timeout < 0 {
				return fmt.Errorf("--timeout can't be negative, got %s", timeout)
			}
			c, err := waitCF.client(cmd)
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			if timeout > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, timeout)
				defer cancel()
			}
			out, err := c.WaitJob(ctx, args[0])
			if out != nil {
				fmt.Fprintln(cmd.OutOrStdout(), out.State)
			}
			if errors.Is(err, context.DeadlineExceeded) && cmd.Context().Err() == nil {
				state := "in an unknown state"
				if out != nil {
					state = "still " + string(out.State)
				}
				return fmt.Errorf("job %s is %s after --timeout %s", args[0], state, timeout)
			}
			return err
		},
	}
	waitCF.register(wait)
	wait.Flags().DurationVar(&timeout, "timeout", 0, "give up after this long (a Go duration: 90s, 10m); 0 waits for ever")

	var getCF clientFlags
	get := &cobra.Command{
		Use:   "get JOB_ID",
		Short: "Print a job as JSON, as GetJob answers it",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := getCF.client(cmd)
			if err != nil {
				return err
			}
			raw, err := c.GetJobJSON(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			return printIndented(cmd.OutOrStdout(), raw)
		},
	}
	getCF.register(get)

	var listCF clientFlags
	var in client.ListJobsInput
	list := &cobra.Command{
		Use:   "list",
		Short: "Print jobs, newest first, one JSON object per line, as ListJobs answers them",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if in.Limit < 0 {
				return fmt.Errorf("--limit can't be negative, got %d", in.Limit)
			}
			c, err := listCF.client(cmd)
			if err != nil {
				return err
			}
			w := cmd.OutOrStdout()
			return c.ListJobs(cmd.Context(), in, func(j json.RawMessage) error {
				var b bytes.Buffer
				if err := json.Compact(&b, j); err != nil {
					return err
				}
				b.WriteByte('\n')
				_, err := w.Write(b.Bytes())
				return err
			})
		},
	}
	listCF.register(list)
	list.Flags().StringVar(&in.DataSetID, "data-set", "", "only this data set's jobs")
	list.Flags().StringVar(&in.RevisionID, "revision", "", "only this revision's jobs (with --data-set)")
	list.Flags().IntVar(&in.Limit, "limit", 0, "at most this many jobs (0: all)")

	jobsCmd.AddCommand(wait, get, list)
	return jobsCmd
}

// printIndented writes a JSON document indented, as the admin commands do.
func printIndented(w io.Writer, raw json.RawMessage) error {
	var b bytes.Buffer
	if err := json.Indent(&b, raw, "", "    "); err != nil {
		return err
	}
	b.WriteByte('\n')
	_, err := w.Write(b.Bytes())
	return err
}
