package client_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wharf-dev/wharf/internal/client"
)

// meter records what it is shown.
type meter struct {
	mu   sync.Mutex
	sets [][2]int64
}

func (m *meter) Set(done, total int64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.sets = append(m.sets, [2]int64{done, total})
}
func (m *meter) Finish() {}

// fakeCredentials gives the SDK a key and no configuration of the
// developer's.
func fakeCredentials(t *testing.T) {
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "secret")
	t.Setenv("AWS_CONFIG_FILE", t.TempDir()+"/none")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", t.TempDir()+"/none")
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
}

// TestWaitJob follows a job through a fake GetJob (the real server is
// exercised in e2e/signedurl_test.go): Wharf's Progress member reaches the
// meter, and the end state decides the error.
func TestWaitJob(t *testing.T) {
	fakeCredentials(t)
	const jobID = "0123456789abcdef0123456789abcdef"
	for _, tc := range []struct {
		end     string
		wantErr string
	}{
		{"COMPLETED", ""},
		{"ERROR", "job " + jobID + " ended ERROR\n  VALIDATION_EXCEPTION: nothing was uploaded (asset a.csv)"},
	} {
		var calls int
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path != "/v1/jobs/"+jobID {
				http.NotFound(w, r)
				return
			}
			calls++
			state, progress := "IN_PROGRESS", `{"BytesDone":50,"BytesTotal":200}`
			errs := "[]"
			if calls > 1 {
				state, progress = tc.end, `{"BytesDone":200,"BytesTotal":200}`
				if tc.end == "ERROR" {
					errs = `[{"Code":"VALIDATION_EXCEPTION","Message":"nothing was uploaded","Details":{"ImportAssetFromSignedUrlJobErrorDetails":{"AssetName":"a.csv"}}}]`
				}
			}
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprintf(w, `{"Id":%q,"State":%q,"Type":"IMPORT_ASSET_FROM_SIGNED_URL","Errors":%s,"Progress":%s,"CreatedAt":"2030-01-01T00:00:00.000Z","UpdatedAt":"2030-01-01T00:00:00.000Z"}`,
				jobID, state, errs, progress)
		}))
		c, err := client.New(context.Background(), client.Options{EndpointURL: srv.URL, Region: "us-east-1"})
		if err != nil {
			t.Fatal(err)
		}
		m := &meter{}
		c.NewMeter = func(string) client.Meter { return m }
		c.PollInterval = time.Millisecond
		var log strings.Builder
		c.Log = &log
		out, err := c.WaitJob(context.Background(), jobID)
		srv.Close()
		if string(out.State) != tc.end {
			t.Errorf("%s: state %s", tc.end, out.State)
		}
		var failed *client.JobFailedError
		if tc.wantErr == "" && err != nil || tc.wantErr != "" && (!errors.As(err, &failed) || err.Error() != tc.wantErr) {
			t.Errorf("%s: error %v, want %q", tc.end, err, tc.wantErr)
		}
		if len(m.sets) == 0 || m.sets[0] != [2]int64{50, 200} {
			t.Errorf("%s: the meter was shown %v, want 50/200 first", tc.end, m.sets)
		}
		if !strings.Contains(log.String(), "IN_PROGRESS") || !strings.Contains(log.String(), tc.end) {
			t.Errorf("%s: log %q", tc.end, log.String())
		}
	}
}

// TestJobWatcher follows three jobs of a data set through a fake ListJobs:
// each Wait ends when the listing shows its job ended (COMPLETED, or ERROR
// with the job's errors), every listing serves all the waiting jobs at
// once, and the loop stops when nobody waits.
func TestJobWatcher(t *testing.T) {
	fakeCredentials(t)
	const ds = "0123456789abcdef0123456789abcdef"
	ids := []string{"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb", "cccccccccccccccccccccccccccccccc"}
	// The listing in which each job is first seen ended.
	endsAt := map[string]int{ids[0]: 2, ids[1]: 3, ids[2]: 5}
	var (
		mu    sync.Mutex
		lists int
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/v1/jobs" || r.URL.Query().Get("dataSetId") != ds {
			http.NotFound(w, r)
			return
		}
		mu.Lock()
		lists++
		n := lists
		mu.Unlock()
		var entries []string
		for i := len(ids) - 1; i >= 0; i-- { // newest first
			id := ids[i]
			state, errs := "IN_PROGRESS", "[]"
			if n >= endsAt[id] {
				state = "COMPLETED"
				if id == ids[1] {
					state, errs = "ERROR", `[{"Code":"RESOURCE_NOT_FOUND_EXCEPTION","Message":"no such key"}]`
				}
			}
			entries = append(entries, fmt.Sprintf(`{"Id":%q,"Arn":"arn:aws:dataexchange:us-east-1:123456789012:jobs/%s","State":%q,"Type":"IMPORT_ASSETS_FROM_S3","Errors":%s,"Details":{},"CreatedAt":"2030-01-01T00:00:00.000Z","UpdatedAt":"2030-01-01T00:00:00.000Z"}`, id, id, state, errs))
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"Jobs":[%s]}`, strings.Join(entries, ","))
	}))
	defer srv.Close()
	c, err := client.New(context.Background(), client.Options{EndpointURL: srv.URL, Region: "us-east-1"})
	if err != nil {
		t.Fatal(err)
	}
	watcher := c.WatchJobs(ds, 20*time.Millisecond)
	type result struct {
		state string
		err   error
	}
	results := make([]result, len(ids))
	var wg sync.WaitGroup
	for i, id := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			state, err := watcher.Wait(context.Background(), id)
			results[i] = result{string(state), err}
		}()
	}
	wg.Wait()
	if results[0].state != "COMPLETED" || results[0].err != nil {
		t.Errorf("job a: %+v, want COMPLETED", results[0])
	}
	var failed *client.JobFailedError
	if results[1].state != "ERROR" || !errors.As(results[1].err, &failed) || !strings.Contains(failed.Error(), "RESOURCE_NOT_FOUND_EXCEPTION: no such key") {
		t.Errorf("job b: %+v, want ERROR with its error", results[1])
	}
	if results[2].state != "COMPLETED" || results[2].err != nil {
		t.Errorf("job c: %+v, want COMPLETED", results[2])
	}
	mu.Lock()
	got := lists
	mu.Unlock()
	if got != 5 {
		t.Errorf("%d listings for three jobs, want 5 (one per interval, whatever the jobs' number)", got)
	}
	time.Sleep(100 * time.Millisecond)
	mu.Lock()
	after := lists
	mu.Unlock()
	if after != got {
		t.Errorf("%d more listings with nobody waiting", after-got)
	}

	// A Wait whose context ends returns at once.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := watcher.Wait(ctx, "dddddddddddddddddddddddddddddddd"); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled Wait: %v", err)
	}
}
