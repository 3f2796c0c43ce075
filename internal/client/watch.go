package client

import (
	"context"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dataexchange"
	"github.com/aws/aws-sdk-go-v2/service/dataexchange/types"
)

// DefaultWatchInterval is how often a JobWatcher lists its data set's jobs.
const DefaultWatchInterval = 250 * time.Millisecond

// JobWatcher follows many jobs of one data set at once with one ListJobs
// call per interval, however many jobs it follows, instead of a GetJob per
// job: a command that keeps ten jobs in flight (publish) asks the server a
// fraction as often as ten PollJobs would, and sees each job end within an
// interval. Its one loop runs only while a Wait is waiting.
type JobWatcher struct {
	c         *Client
	dataSetID string
	interval  time.Duration

	mu      sync.Mutex
	waiting map[string]chan watched
	looping bool
}

// watched is how a job ended, as the watcher's listing saw it, or the
// listing's error.
type watched struct {
	job types.JobEntry
	err error
}

// WatchJobs returns a JobWatcher of the data set's jobs, listing them every
// interval (DefaultWatchInterval if 0).
func (c *Client) WatchJobs(dataSetID string, interval time.Duration) *JobWatcher {
	if interval <= 0 {
		interval = DefaultWatchInterval
	}
	return &JobWatcher{c: c, dataSetID: dataSetID, interval: interval, waiting: map[string]chan watched{}}
}

// Wait returns when the job, one of the watcher's data set, has ended: its
// state, and a *JobFailedError unless it COMPLETED. A listing that fails
// (after the SDK's retries) ends the Waits of that moment with its error.
func (w *JobWatcher) Wait(ctx context.Context, jobID string) (types.State, error) {
	ch := make(chan watched, 1)
	w.mu.Lock()
	w.waiting[jobID] = ch
	if !w.looping {
		w.looping = true
		go w.loop()
	}
	w.mu.Unlock()
	select {
	case <-ctx.Done():
		w.mu.Lock()
		if w.waiting[jobID] == ch {
			delete(w.waiting, jobID)
		}
		w.mu.Unlock()
		return "", ctx.Err()
	case end := <-ch:
		if end.err != nil {
			return "", end.err
		}
		_, err := jobEnded(jobID, end.job.State, end.job.Errors)
		return end.job.State, err
	}
}

// loop lists the data set's jobs every interval until nobody waits.
func (w *JobWatcher) loop() {
	for {
		time.Sleep(w.interval)
		w.mu.Lock()
		if len(w.waiting) == 0 {
			w.looping = false
			w.mu.Unlock()
			return
		}
		want := make(map[string]bool, len(w.waiting))
		for id := range w.waiting {
			want[id] = true
		}
		w.mu.Unlock()

		ended, err := w.list(want)
		w.mu.Lock()
		for id, ch := range w.waiting {
			if err != nil {
				if want[id] {
					ch <- watched{err: err}
					delete(w.waiting, id)
				}
				continue
			}
			if job, ok := ended[id]; ok {
				ch <- watched{job: job}
				delete(w.waiting, id)
			}
		}
		w.mu.Unlock()
	}
}

// list reads the data set's jobs, newest first, until it has seen every
// job in want (the jobs being waited for are among the newest), and
// returns those that have ended.
func (w *JobWatcher) list(want map[string]bool) (map[string]types.JobEntry, error) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	ended := map[string]types.JobEntry{}
	seen := 0
	pager := dataexchange.NewListJobsPaginator(w.c.DX, &dataexchange.ListJobsInput{
		DataSetId: aws.String(w.dataSetID), MaxResults: 200,
	})
	for pager.HasMorePages() && seen < len(want) {
		page, err := pager.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		for _, j := range page.Jobs {
			id := aws.ToString(j.Id)
			if !want[id] {
				continue
			}
			seen++
			if done, _ := jobEnded(id, j.State, j.Errors); done {
				ended[id] = j
			}
		}
	}
	return ended, nil
}
