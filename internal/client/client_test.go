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

// TestWaitJob follows a job through a fake GetJob (the real server is
// exercised in e2e/signedurl_test.go): Wharf's Progress member reaches the
// meter, and the end state decides the error.
func TestWaitJob(t *testing.T) {
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "secret")
	t.Setenv("AWS_CONFIG_FILE", t.TempDir()+"/none")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", t.TempDir()+"/none")
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
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
