package assetstore_test

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wharf-dev/wharf/internal/assetstore"
)

func newLocal(t *testing.T) *assetstore.Local {
	t.Helper()
	st, err := assetstore.NewLocal(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func TestLocalStore(t *testing.T) {
	t.Parallel()
	testStore(t, newLocal(t), 3*mib)
}

// files lists the regular files under dir, relative to it.
func files(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			rel, _ := filepath.Rel(dir, p)
			out = append(out, filepath.ToSlash(rel))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// The object lives at <dir>/<key>, and a failed Put leaves no file at all,
// not even a temporary one.
func TestLocalPutIsAtomic(t *testing.T) {
	t.Parallel()
	st := newLocal(t)
	key := newKey(t)
	put(t, st, key, []byte("hello"))
	if got := files(t, st.Dir()); len(got) != 1 || got[0] != key.String() {
		t.Fatalf("files %q, want just %s", got, key)
	}
	other := newKey(t)
	_, err := st.Put(ctxT(t), other, failAfter(bytes.Repeat([]byte("x"), 1<<20), errors.New("disk gone")), 2<<20)
	if err == nil {
		t.Fatal("Put from a failing reader succeeded")
	}
	if got := files(t, st.Dir()); len(got) != 1 || got[0] != key.String() {
		t.Errorf("after a failed Put: files %q, want just %s", got, key)
	}
}

// What a crash mid-Put leaves (a temporary file) is invisible, and Sweep
// removes it once it is old enough.
func TestLocalCrashLeftoversAreInvisibleAndSwept(t *testing.T) {
	t.Parallel()
	st := newLocal(t)
	key := newKey(t)
	put(t, st, key, []byte("committed"))
	dir := filepath.Join(st.Dir(), filepath.Dir(filepath.FromSlash(key.String())))
	base := filepath.Base(key.String())

	// A process that died while replacing the object, and one that died
	// while writing a new one: their temporary files, one stale, one fresh.
	stale := filepath.Join(dir, ".tmp-"+base+"-deadbeef")
	fresh := filepath.Join(dir, ".tmp-"+base+"-cafebabe")
	for _, p := range []string{stale, fresh} {
		if err := os.WriteFile(p, []byte("partial"), 0o640); err != nil {
			t.Fatal(err)
		}
	}
	old := time.Now().Add(-2 * time.Hour)
	if err := os.Chtimes(stale, old, old); err != nil {
		t.Fatal(err)
	}
	if got, _ := readAll(t, st, key, nil); string(got) != "committed" {
		t.Errorf("object = %q", got)
	}
	n, err := st.Sweep(ctxT(t), time.Hour)
	if err != nil || n != 1 {
		t.Fatalf("Sweep = %d, %v; want 1", n, err)
	}
	if _, err := os.Stat(stale); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the stale temporary file is still there")
	}
	if _, err := os.Stat(fresh); err != nil {
		t.Errorf("the fresh temporary file (a Put in progress) was removed")
	}
	if got, _ := readAll(t, st, key, nil); string(got) != "committed" {
		t.Errorf("object after Sweep = %q", got)
	}
}

func TestLocalObjectsStayInsideTheDirectory(t *testing.T) {
	t.Parallel()
	parent := t.TempDir()
	st, err := assetstore.NewLocal(filepath.Join(parent, "assets"))
	if err != nil {
		t.Fatal(err)
	}
	for range 5 {
		put(t, st, newKey(t), []byte("x"))
	}
	entries, _ := os.ReadDir(parent)
	if len(entries) != 1 || entries[0].Name() != "assets" {
		t.Errorf("the store wrote outside its directory: %v", entries)
	}
	for _, f := range files(t, st.Dir()) {
		if strings.Contains(f, "..") || !strings.HasPrefix(f, account+"/") {
			t.Errorf("unexpected file %q", f)
		}
	}
}

func TestOpenSpecs(t *testing.T) {
	t.Parallel()
	dataDir := t.TempDir()
	abs := filepath.Join(t.TempDir(), "elsewhere")
	for _, tc := range []struct {
		spec, wantDir string
	}{
		{"", filepath.Join(dataDir, "assets")},
		{"file://", filepath.Join(dataDir, "assets")},
		{"file://" + abs, abs},
	} {
		st, err := assetstore.Open(context.Background(), tc.spec, dataDir, nil)
		if err != nil {
			t.Fatalf("Open(%q): %v", tc.spec, err)
		}
		l, ok := st.(*assetstore.Local)
		if !ok || l.Dir() != tc.wantDir {
			t.Errorf("Open(%q) = %v, want a local store in %s", tc.spec, st, tc.wantDir)
		}
	}
	for _, spec := range []string{"s3://", "s3:/bucket", "s3://bucket?x=1", "http://bucket", "/var/lib/wharf", "s3://bucket/prefix"} {
		if st, err := assetstore.Open(context.Background(), spec, dataDir, nil); err == nil {
			t.Errorf("Open(%q) = %v, want an error", spec, st)
		}
	}
	if _, err := assetstore.Open(context.Background(), "", "", nil); err == nil {
		t.Errorf("the default store without a data directory was accepted")
	}
}
