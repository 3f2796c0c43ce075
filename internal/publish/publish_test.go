package publish

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dataexchange/types"
	"github.com/aws/smithy-go"
)

func write(t *testing.T, path, body string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestEnumerateLocal: a directory's files are named after their paths
// relative to it, a file alone after its base name, and two sources giving
// one name are refused. (The S3 listing and the jobs run against the real
// server and MinIO in e2e/publish_test.go.)
func TestEnumerateLocal(t *testing.T) {
	dir := t.TempDir()
	write(t, filepath.Join(dir, "d", "a.csv"), "a")
	write(t, filepath.Join(dir, "d", "sub", "b.csv"), "bb")
	write(t, filepath.Join(dir, "c.csv"), "ccc")
	items, err := enumerate(t.Context(), nil, []string{filepath.Join(dir, "d"), filepath.Join(dir, "c.csv")})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, it := range items {
		got = append(got, it.Name)
	}
	want := []string{"a.csv", "c.csv", "sub/b.csv"}
	if len(got) != len(want) {
		t.Fatalf("names %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("names %v, want %v", got, want)
		}
	}
	if items[2].Size != 2 {
		t.Errorf("sub/b.csv size %d, want 2", items[2].Size)
	}
	write(t, filepath.Join(dir, "e", "c.csv"), "x")
	if _, err := enumerate(t.Context(), nil, []string{filepath.Join(dir, "e"), filepath.Join(dir, "c.csv")}); err == nil {
		t.Error("two sources naming c.csv were accepted")
	}
	if _, err := enumerate(t.Context(), nil, []string{"s3://bucket/prefix"}); err == nil {
		t.Error("an s3:// source without an S3 client was accepted")
	}
	if _, err := enumerate(t.Context(), nil, []string{t.TempDir()}); err == nil {
		t.Error("an empty directory was accepted")
	}
}

func TestFingerprint(t *testing.T) {
	a := []item{{Name: "x", Size: 1, version: "e1"}}
	if fingerprint("ds", a) != fingerprint("ds", []item{{Name: "x", Size: 1, version: "e1"}}) {
		t.Error("the same items give different fingerprints")
	}
	for _, b := range [][]item{{{Name: "x", Size: 2, version: "e1"}}, {{Name: "x", Size: 1, version: "e2"}}, {{Name: "y", Size: 1, version: "e1"}}} {
		if fingerprint("ds", a) == fingerprint("ds", b) {
			t.Errorf("%v and %v give one fingerprint", a, b)
		}
	}
	if fingerprint("ds", a) == fingerprint("other", a) {
		t.Error("two data sets give one fingerprint")
	}
}

func TestRetryable(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want bool
	}{
		{&smithy.GenericAPIError{Code: "ThrottlingException"}, true},
		{&types.ThrottlingException{}, true},
		{&types.ServiceLimitExceededException{LimitName: "Concurrent in progress jobs to import assets from Amazon S3"}, true},
		{&types.ServiceLimitExceededException{}, true},
		{&types.ServiceLimitExceededException{LimitName: "Assets per revision"}, false},
		{&types.ValidationException{}, false},
		{errors.New("connection refused"), false},
	} {
		if got := retryable(tc.err); got != tc.want {
			t.Errorf("retryable(%T %v) = %v, want %v", tc.err, tc.err, got, tc.want)
		}
	}
}

// TestFinalizerOrder: targets are finalized in order as their jobs end,
// and the first with a failure stops it: neither it nor any later target
// is finalized, even when the later ones' jobs all completed.
func TestFinalizerOrder(t *testing.T) {
	for _, tc := range []struct {
		name     string
		failed   []bool
		finalize error
		want     []string
	}{
		{"all fine", []bool{false, false, false}, nil, []string{"r1", "r2", "r3"}},
		{"the first failed", []bool{true, false, false}, nil, nil},
		{"the second failed", []bool{false, true, false}, nil, []string{"r1"}},
		{"the last failed", []bool{false, false, true}, nil, []string{"r1", "r2"}},
		{"a finalization failed", []bool{false, false, false}, errors.New("boom"), []string{"r1"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var targets []*target
			for i, failed := range tc.failed {
				targets = append(targets, &target{id: "r" + string(rune('1'+i)), remaining: 1, failed: failed})
			}
			var got []string
			f := &finalizer{targets: targets, enabled: true, finalize: func(t *target) error {
				got = append(got, t.id)
				if tc.finalize != nil {
					return tc.finalize
				}
				t.finalized = true
				return nil
			}}
			f.advance()
			if len(got) != 0 {
				t.Fatalf("finalized %v before any job ended", got)
			}
			// The jobs end last to first: nothing is finalized before the
			// first target's jobs have ended.
			for i := len(targets) - 1; i >= 0; i-- {
				targets[i].remaining--
				f.advance()
				if i > 0 && len(got) != 0 {
					t.Fatalf("finalized %v while r1 still had a job running", got)
				}
			}
			if fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Errorf("finalized %v, want %v", got, tc.want)
			}
			if (f.err != nil) != (tc.finalize != nil) {
				t.Errorf("err = %v", f.err)
			}
		})
	}
	// Not enabled (no --finalize): nothing is finalized.
	targets := []*target{{id: "r1"}, {id: "r2"}}
	f := &finalizer{targets: targets, finalize: func(t *target) error {
		panic("finalized without --finalize")
	}}
	f.advance()
}

// TestImportsOf: the jobs a publish settles are the imports it could have
// made itself, not another client's in the same revision.
func TestImportsOf(t *testing.T) {
	t.Parallel()
	in := importsOf([]item{
		{Name: "data/a.csv", Bucket: "b", Key: "data/a.csv"},
		{Name: "data/b.csv", Bucket: "b", Key: "data/b.csv"},
		{Name: "local.txt", Path: "/tmp/local.txt"},
	})
	s3Job := func(keys ...string) types.JobEntry {
		var srcs []types.AssetSourceEntry
		for _, k := range keys {
			srcs = append(srcs, types.AssetSourceEntry{Bucket: aws.String("b"), Key: aws.String(k)})
		}
		return types.JobEntry{Type: types.TypeImportAssetsFromS3, Details: &types.ResponseDetails{
			ImportAssetsFromS3: &types.ImportAssetsFromS3ResponseDetails{AssetSources: srcs}}}
	}
	upload := func(name string) types.JobEntry {
		return types.JobEntry{Type: types.TypeImportAssetFromSignedUrl, Details: &types.ResponseDetails{
			ImportAssetFromSignedUrl: &types.ImportAssetFromSignedUrlResponseDetails{AssetName: aws.String(name)}}}
	}
	for _, tc := range []struct {
		name string
		job  types.JobEntry
		want bool
	}{
		{"its objects", s3Job("data/a.csv", "data/b.csv"), true},
		{"one of its objects", s3Job("data/b.csv"), true},
		{"an object of another's among its own", s3Job("data/a.csv", "other.csv"), false},
		{"no source", s3Job(), false},
		{"its file", upload("local.txt"), true},
		{"another's upload", upload("someone-else.txt"), false},
		{"an export", types.JobEntry{Type: types.TypeExportAssetsToS3, Details: &types.ResponseDetails{}}, false},
		{"no details", types.JobEntry{Type: types.TypeImportAssetsFromS3}, false},
	} {
		if got := in.has(tc.job); got != tc.want {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
}
