package main

import (
	"bytes"
	"testing"

	"github.com/wharf-dev/wharf/internal/publish"
)

// TestPrintPublishFailure: a failure names its job when it had one, and
// says nothing of a job when it had none.
func TestPrintPublishFailure(t *testing.T) {
	for _, tc := range []struct {
		f    publish.Failure
		want string
	}{
		{publish.Failure{Assets: []string{"a", "b"}, JobID: "j1", Error: "job j1 ended ERROR"}, "failed: [a b] (job j1): job j1 ended ERROR\n"},
		{publish.Failure{Assets: []string{"a"}, Error: "revision r holds another a"}, "failed: [a]: revision r holds another a\n"},
	} {
		var b bytes.Buffer
		printPublishFailure(&b, tc.f)
		if b.String() != tc.want {
			t.Errorf("printed %q, want %q", b.String(), tc.want)
		}
	}
}
