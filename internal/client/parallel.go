package client

import (
	"context"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dataexchange"
	"github.com/aws/aws-sdk-go-v2/service/dataexchange/types"
)

// Parallel calls fn for each item, at most n at once, until ctx ends (the
// items not yet begun then are left out), and returns once every call has
// returned.
func Parallel[T any](ctx context.Context, n int, items []T, fn func(T)) {
	work := make(chan T)
	var wg sync.WaitGroup
	for range min(max(n, 1), max(len(items), 1)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for it := range work {
				fn(it)
			}
		}()
	}
feed:
	for _, it := range items {
		select {
		case work <- it:
		case <-ctx.Done():
			break feed
		}
	}
	close(work)
	wg.Wait()
}

// RevisionAssets lists every asset of a revision, page by page.
func (c *Client) RevisionAssets(ctx context.Context, dataSetID, revisionID string) ([]types.AssetEntry, error) {
	var out []types.AssetEntry
	p := dataexchange.NewListRevisionAssetsPaginator(c.DX, &dataexchange.ListRevisionAssetsInput{
		DataSetId: aws.String(dataSetID), RevisionId: aws.String(revisionID), MaxResults: 200,
	})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		out = append(out, page.Assets...)
	}
	return out, nil
}

// RunJob creates a job, starts it (cancelling it if it can't be started,
// so that nothing is left WAITING) and polls it to its end (PollJob).
func (c *Client) RunJob(ctx context.Context, in *dataexchange.CreateJobInput) (*dataexchange.GetJobOutput, error) {
	created, err := c.DX.CreateJob(ctx, in)
	if err != nil {
		return nil, err
	}
	if _, err := c.DX.StartJob(ctx, &dataexchange.StartJobInput{JobId: created.Id}); err != nil {
		c.CancelQuietly(ctx, aws.ToString(created.Id))
		return nil, err
	}
	return c.PollJob(ctx, aws.ToString(created.Id))
}

// CancelQuietly cancels a WAITING job, even once ctx has ended, ignoring
// failures: for jobs a command created and will not start.
func (c *Client) CancelQuietly(ctx context.Context, jobID string) {
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	_, _ = c.DX.CancelJob(cctx, &dataexchange.CancelJobInput{JobId: aws.String(jobID)})
}
