package assetstore_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wharf-dev/wharf/internal/assetstore"
	"github.com/wharf-dev/wharf/internal/resource"
	"github.com/wharf-dev/wharf/internal/s3test"
)

func TestMain(m *testing.M) { s3test.Main(m) }

const mib = 1 << 20

func newKey(t testing.TB) assetstore.Key {
	t.Helper()
	k, err := assetstore.NewKey(account, resource.NewID(), resource.NewID())
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return b
}

func ctxT(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

func put(t testing.TB, st assetstore.Store, key assetstore.Key, data []byte) {
	t.Helper()
	info, err := st.Put(ctxT(t), key, bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatalf("Put %s: %v", key, err)
	}
	if info.Size != int64(len(data)) {
		t.Fatalf("Put %s: size %d, want %d", key, info.Size, len(data))
	}
}

func readAll(t testing.TB, st assetstore.Store, key assetstore.Key, rng *assetstore.Range) ([]byte, assetstore.Info) {
	t.Helper()
	rc, info, err := st.Open(ctxT(t), key, rng)
	if err != nil {
		t.Fatalf("Open %s %+v: %v", key, rng, err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatal(err)
	}
	return b, info
}

func assertNotFound(t testing.TB, st assetstore.Store, key assetstore.Key) {
	t.Helper()
	if _, err := st.Stat(ctxT(t), key); !errors.Is(err, assetstore.ErrNotFound) {
		t.Fatalf("Stat %s: %v, want ErrNotFound", key, err)
	}
	if _, _, err := st.Open(ctxT(t), key, nil); !errors.Is(err, assetstore.ErrNotFound) {
		t.Fatalf("Open %s: %v, want ErrNotFound", key, err)
	}
}

// failingReader yields n bytes, then fails.
type failingReader struct {
	r   io.Reader
	err error
}

func (f *failingReader) Read(p []byte) (int, error) {
	n, err := f.r.Read(p)
	if err == io.EOF {
		return n, f.err
	}
	return n, err
}

func failAfter(data []byte, err error) io.Reader {
	return &failingReader{r: bytes.NewReader(data), err: err}
}

// testStore is the behaviour every Store has. big is a size that makes the
// store's Put take its multipart path, if it has one.
func testStore(t *testing.T, st assetstore.Store, big int) {
	t.Run("put-stat-open-delete", func(t *testing.T) {
		t.Parallel()
		key := newKey(t)
		assertNotFound(t, st, key)
		data := randomBytes(1000)
		put(t, st, key, data)
		info, err := st.Stat(ctxT(t), key)
		if err != nil || info.Size != 1000 || info.ModTime.IsZero() {
			t.Fatalf("Stat = %+v, %v", info, err)
		}
		got, info := readAll(t, st, key, nil)
		if !bytes.Equal(got, data) || info.Size != 1000 {
			t.Fatalf("Open: %d bytes, info %+v", len(got), info)
		}
		if err := st.Delete(ctxT(t), key); err != nil {
			t.Fatal(err)
		}
		assertNotFound(t, st, key)
		if err := st.Delete(ctxT(t), key); err != nil {
			t.Errorf("deleting a missing object: %v", err)
		}
	})

	t.Run("ranges", func(t *testing.T) {
		t.Parallel()
		key := newKey(t)
		put(t, st, key, []byte("0123456789"))
		for _, tc := range []struct {
			rng  assetstore.Range
			want string
		}{
			{assetstore.Range{Offset: 0, Length: -1}, "0123456789"},
			{assetstore.Range{Offset: 2, Length: 3}, "234"},
			{assetstore.Range{Offset: 7, Length: -1}, "789"},
			{assetstore.Range{Offset: 7, Length: 100}, "789"},
			{assetstore.Range{Offset: 9, Length: 1}, "9"},
			{assetstore.Range{Offset: 4, Length: 0}, ""},
		} {
			got, info := readAll(t, st, key, &tc.rng)
			if string(got) != tc.want || info.Size != 10 {
				t.Errorf("range %+v: %q (size %d), want %q", tc.rng, got, info.Size, tc.want)
			}
		}
		for _, rng := range []assetstore.Range{{Offset: 10, Length: -1}, {Offset: 11, Length: 1}, {Offset: -1, Length: 1}} {
			if _, _, err := st.Open(ctxT(t), key, &rng); !errors.Is(err, assetstore.ErrInvalidRange) {
				t.Errorf("range %+v: %v, want ErrInvalidRange", rng, err)
			}
		}
		empty := newKey(t)
		put(t, st, empty, nil)
		if got, info := readAll(t, st, empty, &assetstore.Range{Offset: 0, Length: -1}); len(got) != 0 || info.Size != 0 {
			t.Errorf("empty object: %q, %+v", got, info)
		}
	})

	t.Run("overwrite", func(t *testing.T) {
		t.Parallel()
		key := newKey(t)
		put(t, st, key, []byte("first version, longer"))
		put(t, st, key, []byte("second"))
		if got, _ := readAll(t, st, key, nil); string(got) != "second" {
			t.Errorf("after overwrite: %q", got)
		}
	})

	t.Run("big", func(t *testing.T) {
		t.Parallel()
		key := newKey(t)
		data := randomBytes(big)
		put(t, st, key, data)
		if got, _ := readAll(t, st, key, nil); !bytes.Equal(got, data) {
			t.Errorf("big object differs")
		}
		got, _ := readAll(t, st, key, &assetstore.Range{Offset: int64(big) - 5, Length: 3})
		if !bytes.Equal(got, data[big-5:big-2]) {
			t.Errorf("big object's range differs")
		}
	})

	// A Put that fails leaves the key as it was: absent, or the old object.
	t.Run("failed-put-leaves-nothing", func(t *testing.T) {
		t.Parallel()
		boom := errors.New("boom")
		for _, size := range []int{100, big} {
			data := randomBytes(size)
			cancelled, cancel := context.WithCancel(ctxT(t))
			cancel()
			for _, tc := range []struct {
				name string
				ctx  context.Context
				r    io.Reader
				size int64
				want error
			}{
				{"reader fails", ctxT(t), failAfter(data[:size/2], boom), int64(size), boom},
				{"too short", ctxT(t), bytes.NewReader(data[:size-1]), int64(size), assetstore.ErrSizeMismatch},
				{"too long", ctxT(t), bytes.NewReader(append(data, 'x')), int64(size), assetstore.ErrSizeMismatch},
				{"cancelled", cancelled, bytes.NewReader(data), int64(size), context.Canceled},
			} {
				fresh, existing := newKey(t), newKey(t)
				put(t, st, existing, []byte("old"))
				for _, key := range []assetstore.Key{fresh, existing} {
					r := tc.r
					if key == existing {
						// Same failure again, from the start.
						switch tc.name {
						case "reader fails":
							r = failAfter(data[:size/2], boom)
						case "too short":
							r = bytes.NewReader(data[:size-1])
						case "too long":
							r = bytes.NewReader(append(data, 'x'))
						default:
							r = bytes.NewReader(data)
						}
					}
					_, err := st.Put(tc.ctx, key, r, tc.size)
					if !errors.Is(err, tc.want) {
						t.Errorf("%d bytes, %s: Put = %v, want %v", size, tc.name, err, tc.want)
					}
				}
				assertNotFound(t, st, fresh)
				if got, _ := readAll(t, st, existing, nil); string(got) != "old" {
					t.Errorf("%d bytes, %s: the previous object became %d bytes", size, tc.name, len(got))
				}
			}
		}
	})

	// Concurrent Puts to one key: the winner's bytes, never a mix. A key
	// has one writer at a time in Wharf (the run holding its job's lease),
	// so a store may fence an older writer when a newer one completes: it
	// fails with ErrSuperseded, and at least one Put succeeds.
	t.Run("concurrent-puts", func(t *testing.T) {
		t.Parallel()
		key := newKey(t)
		const writers = 4
		versions := make([][]byte, writers)
		var wg sync.WaitGroup
		var succeeded atomic.Int32
		for i := range writers {
			versions[i] = bytes.Repeat([]byte{byte('a' + i)}, 256*1024)
			wg.Go(func() {
				_, err := st.Put(ctxT(t), key, bytes.NewReader(versions[i]), int64(len(versions[i])))
				switch {
				case err == nil:
					succeeded.Add(1)
				case !errors.Is(err, assetstore.ErrSuperseded):
					t.Errorf("Put: %v", err)
				}
			})
		}
		wg.Wait()
		if succeeded.Load() == 0 {
			t.Fatal("no Put succeeded")
		}
		got, _ := readAll(t, st, key, nil)
		for _, v := range versions {
			if bytes.Equal(got, v) {
				return
			}
		}
		t.Errorf("the object is a mix of the writers' bytes")
	})

	t.Run("zero-key", func(t *testing.T) {
		t.Parallel()
		var zero assetstore.Key
		ctx := ctxT(t)
		_, err1 := st.Put(ctx, zero, strings.NewReader("x"), 1)
		_, _, err2 := st.Open(ctx, zero, nil)
		_, err3 := st.Stat(ctx, zero)
		err4 := st.Delete(ctx, zero)
		for i, err := range []error{err1, err2, err3, err4} {
			if !errors.Is(err, assetstore.ErrInvalidKey) {
				t.Errorf("operation %d with the zero key: %v, want ErrInvalidKey", i, err)
			}
		}
	})

	t.Run("sweep", func(t *testing.T) {
		t.Parallel()
		if _, err := st.Sweep(ctxT(t), time.Hour); err != nil {
			t.Errorf("Sweep: %v", err)
		}
	})

	t.Run("string", func(t *testing.T) {
		t.Parallel()
		if s := fmt.Sprint(st); !strings.HasPrefix(s, "file://") && !strings.HasPrefix(s, "s3://") {
			t.Errorf("String() = %q", s)
		}
	})
}
