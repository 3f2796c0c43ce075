package storetest

import (
	"fmt"
	"maps"
	"testing"

	"github.com/wharf-dev/wharf/internal/resource"
)

var tagTests = []test{
	{"NoneIsAnEmptyMap", func(t *testing.T, e *env) {
		tags, err := e.s.GetTags(e.ctx, resource.NewID())
		if err != nil {
			t.Fatal(err)
		}
		if tags == nil || len(tags) != 0 {
			t.Errorf("GetTags of an untagged resource = %#v, want an empty non-nil map", tags)
		}
	}},
	{"SetAddsAndOverwritesRemoveDeletes", func(t *testing.T, e *env) {
		id, other := resource.NewID(), resource.NewID()
		e.must(e.s.SetTags(e.ctx, other, map[string]string{"a": "other"}))

		e.must(e.s.SetTags(e.ctx, id, map[string]string{"a": "1", "b": "2", "empty": ""}))
		e.must(e.s.SetTags(e.ctx, id, map[string]string{"b": "two", "c": "3", "ключ ✓": "значение"}))
		want := map[string]string{"a": "1", "b": "two", "c": "3", "empty": "", "ключ ✓": "значение"}
		got, err := e.s.GetTags(e.ctx, id)
		wantEqual(t, "after two SetTags", got, want, err)

		e.must(e.s.SetTags(e.ctx, id, nil))
		e.must(e.s.SetTags(e.ctx, id, map[string]string{}))
		e.must(e.s.RemoveTags(e.ctx, id, nil))
		got, err = e.s.GetTags(e.ctx, id)
		wantEqual(t, "after empty SetTags and RemoveTags", got, want, err)

		e.must(e.s.RemoveTags(e.ctx, id, []string{"a", "empty", "never-set"}))
		delete(want, "a")
		delete(want, "empty")
		got, err = e.s.GetTags(e.ctx, id)
		wantEqual(t, "after RemoveTags", got, want, err)

		got, err = e.s.GetTags(e.ctx, other)
		wantEqual(t, "another resource's tags", got, map[string]string{"a": "other"}, err)

		e.must(e.s.RemoveTags(e.ctx, id, []string{"b", "c", "ключ ✓"}))
		got, err = e.s.GetTags(e.ctx, id)
		wantEqual(t, "after removing every tag", got, map[string]string{}, err)
	}},
	{"Many", func(t *testing.T, e *env) {
		// More keys than one statement takes.
		id := resource.NewID()
		want := map[string]string{}
		for i := range 1100 {
			want[fmt.Sprintf("key-%04d", i)] = fmt.Sprint(i)
		}
		e.must(e.s.SetTags(e.ctx, id, want))
		got, err := e.s.GetTags(e.ctx, id)
		wantEqual(t, "1100 tags", got, want, err)
		var remove []string
		for k := range maps.Keys(want) {
			if len(remove) < 1050 {
				remove = append(remove, k)
			}
		}
		e.must(e.s.RemoveTags(e.ctx, id, remove))
		for _, k := range remove {
			delete(want, k)
		}
		got, err = e.s.GetTags(e.ctx, id)
		wantEqual(t, "after removing 1050", got, want, err)
	}},
}
