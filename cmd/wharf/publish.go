package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/wharf-dev/wharf/internal/client"
	"github.com/wharf-dev/wharf/internal/publish"
)

func newPublishCommand() *cobra.Command {
	var (
		cf        clientFlags
		o         publish.Options
		s3Profile string
		output    string
	)
	cmd := &cobra.Command{
		Use:   "publish SOURCE...",
		Short: "Publish files, directories or s3://bucket[/prefix] as the assets of a revision, in as many jobs as it takes",
		Long: `Publish local files and directories (each file an asset named after its path relative
to the directory given) or every object under s3://bucket[/prefix] (each an asset named
after its key) into a revision: IMPORT_ASSET_FROM_SIGNED_URL jobs for files,
IMPORT_ASSETS_FROM_S3 jobs of up to 100 objects for S3, --jobs at once.

Running it again completes what an interrupted run left: assets already in the revision
with the same name and size are skipped. With --new-revision, more assets than a revision
takes spill into further revisions. See docs/client.md.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, sources []string) error {
			if (o.RevisionID == "") == !o.NewRevision {
				return errors.New("give one of --revision ID and --new-revision")
			}
			if o.Comment != "" && !o.NewRevision {
				return errors.New("--comment goes with --new-revision")
			}
			if output != "text" && output != "json" {
				return fmt.Errorf("--output must be text or json, got %q", output)
			}
			c, err := cf.client(cmd)
			if err != nil {
				return err
			}
			o.Sources = sources
			for _, s := range sources {
				if _, _, ok := client.ParseS3URL(s); ok {
					if o.S3, err = c.S3(cmd.Context(), s3Profile); err != nil {
						return err
					}
					break
				}
			}
			o.Report = newPublishReporter(cmd.ErrOrStderr())
			sum, runErr := publish.Run(cmd.Context(), c, o)
			if r, ok := o.Report.(*publishReporter); ok {
				r.finish()
			}
			if output == "json" {
				if err := writeJSON(cmd.OutOrStdout(), sum); err != nil {
					return err
				}
			} else {
				printPublishSummary(cmd.OutOrStdout(), sum)
			}
			for _, f := range sum.Failures {
				printPublishFailure(cmd.ErrOrStderr(), f)
			}
			return runErr
		},
	}
	cf.register(cmd)
	cmd.Flags().StringVar(&o.DataSetID, "data-set", "", "the data set's id (required)")
	cmd.Flags().StringVar(&o.RevisionID, "revision", "", "the revision to publish into")
	cmd.Flags().BoolVar(&o.NewRevision, "new-revision", false, "publish into a new revision (and further ones past the assets-per-revision limit)")
	cmd.Flags().StringVar(&o.Comment, "comment", "", "the new revisions' comment")
	cmd.Flags().BoolVar(&o.Finalize, "finalize", false, "finalize each revision once its assets are in, in order")
	cmd.Flags().IntVar(&o.Jobs, "jobs", publish.DefaultJobs, "the most jobs in flight at once (default: AWS's and Wharf's default limit of concurrent import jobs; no API tells a client the server's)")
	cmd.Flags().IntVar(&o.AssetsPerRevision, "assets-per-revision", publish.DefaultAssetsPerRevision, "the assets-per-revision quota to plan with (AWS's: 10,000)")
	cmd.Flags().StringVar(&s3Profile, "s3-profile", "", "the AWS profile whose credentials and endpoint list s3:// sources (default: the same configuration as Data Exchange)")
	cmd.Flags().StringVarP(&output, "output", "o", "text", "the summary's format: text or json")
	cmd.MarkFlagsMutuallyExclusive("revision", "new-revision")
	_ = cmd.MarkFlagRequired("data-set")
	return cmd
}

func printPublishSummary(w io.Writer, s *publish.Summary) {
	for _, r := range s.Revisions {
		state := "open"
		if r.Finalized {
			state = "finalized"
		}
		created := ""
		if r.Created {
			created = ", created"
		}
		fmt.Fprintf(w, "revision %s (%s%s): %d assets imported, %d skipped\n", r.ID, state, created, r.Imported, r.Skipped)
	}
	fmt.Fprintf(w, "%d assets imported (%d bytes) in %d jobs, %d skipped, %d failed, %.1fs\n",
		s.Imported, s.Bytes, s.Jobs, s.Skipped, failedCount(s.Failures), s.Seconds)
	if len(s.CancelledJobs) > 0 {
		fmt.Fprintf(w, "cancelled %d job(s) an earlier run left WAITING\n", len(s.CancelledJobs))
	}
}

// printPublishFailure writes "failed: [names] (job ID): error", without
// the job when the failure had none (an asset in place with another size,
// a job that could not be created).
func printPublishFailure(w io.Writer, f publish.Failure) {
	job := ""
	if f.JobID != "" {
		job = " (job " + f.JobID + ")"
	}
	fmt.Fprintf(w, "failed: %v%s: %s\n", f.Assets, job, f.Error)
}

func failedCount(fs []publish.Failure) int {
	n := 0
	for _, f := range fs {
		n += len(f.Assets)
	}
	return n
}

// publishReporter draws one progress bar on a terminal (assets, bytes,
// jobs running), or else writes one line per finished job.
type publishReporter struct {
	w       io.Writer
	mu      sync.Mutex
	bar     *progressbar.ProgressBar
	plan    publish.Plan
	assets  int
	bytes   int64
	running int
}

func newPublishReporter(w io.Writer) publish.Reporter {
	r := &publishReporter{w: w}
	if f, ok := w.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		r.bar = progressbar.NewOptions64(1,
			progressbar.OptionSetWriter(w),
			progressbar.OptionShowBytes(true),
			progressbar.OptionSetWidth(30),
			progressbar.OptionThrottle(100*time.Millisecond),
			progressbar.OptionOnCompletion(func() { fmt.Fprintln(w) }),
		)
	}
	return r
}

func (r *publishReporter) Planned(p publish.Plan) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.plan = p
	if r.bar != nil {
		r.bar.ChangeMax64(max(p.Bytes, 1))
		r.describe()
	} else {
		fmt.Fprintf(r.w, "publishing %d assets (%d bytes) in %d jobs; %d already in place\n", p.Assets, p.Bytes, p.Jobs, p.Skipped)
	}
}

func (r *publishReporter) describe() {
	r.bar.Describe(fmt.Sprintf("assets %d/%d, jobs running %d", r.assets, r.plan.Assets, r.running))
}

func (r *publishReporter) JobStarted() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.running++
	if r.bar != nil {
		r.describe()
	}
}

func (r *publishReporter) JobDone(j publish.JobResult) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if j.State != "NOT_STARTED" {
		r.running--
	}
	if j.Err == nil {
		r.assets += j.AssetCount
		r.bytes += j.Bytes
	}
	if r.bar != nil {
		r.describe()
		_ = r.bar.Set64(r.bytes)
		return
	}
	if j.State == "NOT_STARTED" {
		return
	}
	line := fmt.Sprintf("job %s %s %s: %d assets, %d bytes, revision %s", j.JobID, j.Type, j.State, j.AssetCount, j.Bytes, j.RevisionID)
	if j.Err != nil {
		line += ": " + j.Err.Error()
	}
	fmt.Fprintln(r.w, line)
}

func (r *publishReporter) finish() {
	if r.bar != nil {
		_ = r.bar.Finish()
	}
}
