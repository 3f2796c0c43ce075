package subscribe

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dataexchange"
	"github.com/aws/aws-sdk-go-v2/service/dataexchange/types"
)

// TestResolve fills in every reference, as EXPORT_REVISIONS_TO_S3 does
// (e2e/subscribe_test.go runs the exports themselves).
func TestResolve(t *testing.T) {
	ds := &dataexchange.GetDataSetOutput{Id: aws.String("d1"), Name: aws.String("prices")}
	rev := types.RevisionEntry{Id: aws.String("r1"), CreatedAt: aws.Time(time.Date(2026, 3, 4, 5, 6, 7, 89e6, time.UTC))}
	a := types.AssetEntry{Id: aws.String("a1"), Name: aws.String("x/y.csv")}
	got := resolve("${DataSet.Id}/${DataSet.Name}/${Revision.Id}/${Revision.CreatedAt.Year}-${Revision.CreatedAt.Month}-${Revision.CreatedAt.Day}/${Revision.CreatedAt}/${Asset.Id}/${Asset.Name}", ds, rev, a)
	want := "d1/prices/r1/2026-03-04/2026-03-04T05:06:07.089Z/a1/x/y.csv"
	if got != want {
		t.Errorf("resolve = %q, want %q", got, want)
	}
}

func TestDirPath(t *testing.T) {
	d := &dirDest{dir: "/dst"}
	if p, err := d.path("2026/a/b.csv"); err != nil || p != "/dst/2026/a/b.csv" {
		t.Errorf("path = %q, %v", p, err)
	}
	for _, key := range []string{"../x", "a/../../x", "/etc/passwd", "", "."} {
		if p, err := d.path(key); err == nil {
			t.Errorf("path(%q) = %q, want an error", key, p)
		}
	}
}

// TestProgress: only the files an interrupted export of the same revision
// completed are trusted, with their key and size; another revision's
// export starts the journal afresh; a torn last line is cut off.
func TestProgress(t *testing.T) {
	dir := t.TempDir()
	d := &dirDest{dir: dir}
	file := func(name, body string) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return path
	}
	a := file("a.csv", "aaa")
	b := file("b.csv", "bbb")

	p, err := d.openProgress("ds", "r1")
	if err != nil {
		t.Fatal(err)
	}
	if p.trusted("A", "a.csv", a, 3) {
		t.Error("a file no export completed is trusted")
	}
	if err := p.add("A", "a.csv"); err != nil {
		t.Fatal(err)
	}
	p.close()

	// The interrupted export of r1 resumes: A is trusted, B is not.
	p, err = d.openProgress("ds", "r1")
	if err != nil {
		t.Fatal(err)
	}
	if !p.trusted("A", "a.csv", a, 3) {
		t.Error("the file this revision's export completed is not trusted")
	}
	for _, tc := range []struct {
		asset, key, path string
		size             int64
	}{
		{"B", "b.csv", b, 3},     // not completed by the export
		{"A", "other.csv", a, 3}, // another key pattern
		{"A", "a.csv", a, 4},     // another size
		{"A", "a.csv", filepath.Join(dir, "gone.csv"), 3},
	} {
		if p.trusted(tc.asset, tc.key, tc.path, tc.size) {
			t.Errorf("trusted %+v", tc)
		}
	}
	if err := p.add("B", "b.csv"); err != nil {
		t.Fatal(err)
	}
	p.close()
	// A crash tears the last line.
	journal := filepath.Join(dir, ProgressName("ds"))
	f, err := os.OpenFile(journal, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString(`{"AssetId":"C","Ke`); err != nil {
		t.Fatal(err)
	}
	f.Close()
	p, err = d.openProgress("ds", "r1")
	if err != nil {
		t.Fatal(err)
	}
	if !p.trusted("A", "a.csv", a, 3) || !p.trusted("B", "b.csv", b, 3) {
		t.Error("the journal lost complete lines")
	}
	if err := p.add("C", "c.csv"); err != nil {
		t.Fatal(err)
	}
	p.close()
	p, err = d.openProgress("ds", "r1")
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := p.done["C"]; !ok {
		t.Errorf("the line appended after a torn one was lost: %v", p.done)
	}
	p.close()

	// Another revision (a newer one with an asset of the same name, say):
	// nothing of r1's is trusted, then or after.
	p, err = d.openProgress("ds", "r2")
	if err != nil {
		t.Fatal(err)
	}
	if p.trusted("A", "a.csv", a, 3) {
		t.Error("r1's file is trusted for r2")
	}
	p.close()
	p, err = d.openProgress("ds", "r1")
	if err != nil {
		t.Fatal(err)
	}
	if len(p.done) != 0 {
		t.Errorf("r1's journal survived r2's export: %v", p.done)
	}
	p.close()

	if err := d.removeProgress("ds"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(journal); !os.IsNotExist(err) {
		t.Errorf("the journal is still there: %v", err)
	}
	if err := d.removeProgress("ds"); err != nil {
		t.Errorf("removing no journal: %v", err)
	}
}

// TestLoopWatch: under Watch a pass that fails (the server restarting,
// say) is logged and the next poll tries again, until ctx ends; the run
// then reports the failure. Without Watch the first failure ends it.
func TestLoopWatch(t *testing.T) {
	boom := errors.New("connection refused")
	var logs []string
	logf := func(format string, args ...any) { logs = append(logs, fmt.Sprintf(format, args...)) }
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	passes := 0
	sync := func(context.Context) error {
		passes++
		switch passes {
		case 2, 3:
			return boom
		case 5:
			cancel() // Ctrl-C
			return ctx.Err()
		}
		return nil
	}
	sum := &Summary{}
	err := loop(ctx, Options{Watch: true, PollInterval: time.Millisecond}, sum, sync, logf)
	if passes != 5 {
		t.Errorf("%d passes, want 5: a failed pass ended the watch", passes)
	}
	var failed *FailedError
	if !errors.As(err, &failed) || failed.Passes != 2 || sum.FailedPasses != 2 {
		t.Errorf("err = %v, FailedPasses %d: want the 2 failed passes reported", err, sum.FailedPasses)
	}
	if len(logs) != 2 || !strings.Contains(logs[0], "connection refused") {
		t.Errorf("logged %q", logs)
	}

	// A watch with no failure ends without error on Ctrl-C.
	ctx, cancel = context.WithCancel(t.Context())
	passes = 0
	err = loop(ctx, Options{Watch: true, PollInterval: time.Millisecond}, &Summary{}, func(context.Context) error {
		if passes++; passes == 3 {
			cancel()
		}
		return nil
	}, logf)
	if err != nil || passes != 3 {
		t.Errorf("err = %v after %d passes", err, passes)
	}

	// Without Watch: one pass, its error returned as is.
	passes = 0
	err = loop(t.Context(), Options{PollInterval: time.Millisecond}, &Summary{}, func(context.Context) error {
		passes++
		return boom
	}, logf)
	if err != boom || passes != 1 {
		t.Errorf("err = %v after %d passes, want %v after 1", err, passes, boom)
	}
}

// TestRetries: a revision that failed is tried again after RetryAfter,
// then after twice as long each time, up to MaxRetryAfter; one that
// succeeds is forgotten.
func TestRetries(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	rs := retries{now: func() time.Time { return now }}
	if !rs.due("r") {
		t.Fatal("a revision that never failed is not due")
	}
	want := RetryAfter
	for range 10 {
		if got := rs.failed("r"); got != want {
			t.Fatalf("wait %s, want %s", got, want)
		}
		now = now.Add(want - time.Second)
		if rs.due("r") {
			t.Fatalf("due %s before its wait of %s ended", time.Second, want)
		}
		now = now.Add(time.Second)
		if !rs.due("r") {
			t.Fatalf("not due once its wait of %s ended", want)
		}
		want = min(want*2, MaxRetryAfter)
	}
	rs.succeeded("r")
	if got := rs.failed("r"); got != RetryAfter {
		t.Errorf("after a success, wait %s, want %s", got, RetryAfter)
	}
}

// TestSupersede: an asset is left out when a newer revision (by CreatedAt,
// then id) in the manifest holds its key and wrote it; older revisions and
// a newer revision's own superseded assets hold nothing.
func TestSupersede(t *testing.T) {
	t0 := time.Date(2026, 12, 7, 0, 0, 0, 0, time.UTC)
	asset := func(key, by string) manifestAsset { return manifestAsset{Key: key, SupersededBy: by} }
	m := manifest{Revisions: map[string]manifestRevision{
		"r0": {CreatedAt: t0, Assets: []manifestAsset{asset("a", ""), asset("old", "")}},
		"r2": {CreatedAt: t0.Add(2 * time.Hour), Assets: []manifestAsset{asset("a", ""), asset("b", "r3")}},
		"r3": {CreatedAt: t0.Add(3 * time.Hour), Assets: []manifestAsset{asset("a", ""), asset("b", "")}},
		"rz": {CreatedAt: t0.Add(time.Hour), Assets: []manifestAsset{asset("tie", "")}},
	}}
	mr := manifestRevision{CreatedAt: t0.Add(time.Hour), Assets: []manifestAsset{
		asset("a", ""), asset("b", ""), asset("old", ""), asset("new", ""), asset("tie", ""),
	}}
	m.supersede("r1", &mr)
	var got []string
	for _, a := range mr.Assets {
		got = append(got, a.Key+"="+a.SupersededBy)
	}
	want := []string{"a=r3", "b=r3", "old=", "new=", "tie=rz"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("supersede = %v, want %v", got, want)
	}
}
