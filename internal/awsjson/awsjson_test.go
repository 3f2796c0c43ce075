package awsjson_test

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/wharf-dev/wharf/internal/awsjson"
)

type inner struct {
	Key   *string
	Value *string `json:"Value"`
}

type shape struct {
	Name      *string           `json:"Name"`
	Finalized *bool             `json:"Finalized"`
	Tags      map[string]string `json:"Tags"`
	Items     []inner           `json:"Items"`
	Nested    *inner            `json:"Nested"`
	Raw       json.RawMessage   `json:"Raw"`
	Lower     string            `json:"tags"`
	Skipped   string            `json:"-"`
	Untagged  int
}

func ptr[T any](v T) *T { return &v }

func TestUnmarshal(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, in string
		want     shape
	}{
		{"exact names", `{"Name":"a","Finalized":true,"Untagged":3,"tags":"x"}`,
			shape{Name: ptr("a"), Finalized: ptr(true), Untagged: 3, Lower: "x"}},
		{"other case ignored", `{"name":"a","finalized":true,"FINALIZED":true,"untagged":3,"Tags2":1,"TAGS":"y"}`, shape{}},
		{"unknown members ignored at every depth", `{"Nested":{"key":"k","Key":"K","value":"v"},"Items":[{"KEY":"x","Key":"y"}],"Other":{"deep":[1,2]}}`,
			shape{Nested: &inner{Key: ptr("K")}, Items: []inner{{Key: ptr("y")}}}},
		{"an escaped name is its unescaped self", `{"Fin\u0061lized":true}`, shape{Finalized: ptr(true)}},
		{"the last of a repeated member wins", `{"Name":"a","Name":"b","name":"c"}`, shape{Name: ptr("b")}},
		{"null members are absent", `{"Name":null,"Tags":null,"Nested":null,"Items":null}`, shape{}},
		{"raw members as they came", `{"Raw":{"any":"Thing","n":null}}`, shape{Raw: json.RawMessage(`{"any":"Thing","n":null}`)}},
		{"dash-tagged field is not a member", `{"Skipped":"x","-":"y"}`, shape{}},
		{"tags map", `{"Tags":{"k":"v","K":"w"}}`, shape{Tags: map[string]string{"k": "v", "K": "w"}}},
		{"a pair of surrogate escapes", `{"Name":"\ud83d\ude00"}`, shape{Name: ptr("😀")}},
		{"an escaped backslash before u", `{"Name":"\\ud800"}`, shape{Name: ptr(`\ud800`)}},
		{"white space around", " \n{\"Name\" : \"a\"}\t", shape{Name: ptr("a")}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var got shape
			if err := awsjson.Unmarshal([]byte(tc.in), &got); err != nil {
				t.Fatalf("Unmarshal(%s): %v", tc.in, err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("Unmarshal(%s) = %+v, want %+v", tc.in, got, tc.want)
			}
		})
	}
}

func TestUnmarshalRefuses(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, in string
		null     bool   // a *NullError, else a *SyntaxError
		msg      string // in the message
	}{
		{"invalid UTF-8", "{\"Name\":\"caf\xe9\"}", false, "UTF-8"},
		{"invalid UTF-8 in an unknown member", "{\"x\":\"\xff\"}", false, "UTF-8"},
		{"lone high surrogate", `{"Name":"\ud800"}`, false, "surrogate"},
		{"high surrogate then a character", `{"Name":"\ud800abcdef"}`, false, "surrogate"},
		{"high surrogate then another high", `{"Name":"\ud800\ud800"}`, false, "surrogate"},
		{"lone low surrogate", `{"Name":"\uDC00"}`, false, "surrogate"},
		{"top-level null", `null`, false, "not null"},
		{"top-level array", `[{"Name":"a"}]`, false, "not an array"},
		{"top-level string", `"x"`, false, "not a string"},
		{"top-level number", `12`, false, "not a number"},
		{"top-level boolean", `true`, false, "not a boolean"},
		{"empty", ``, false, "not valid"},
		{"not JSON", `{"Name":`, false, "not valid"},
		{"two documents", `{} {}`, false, "not valid"},
		{"wrong member type", `{"Name":1}`, false, "member Name can't be a JSON number"},
		{"wrong nested type", `{"Items":[{"Key":true}]}`, false, "Items.Key"},
		{"null tag value", `{"Tags":{"a":"b","team":null}}`, true, "Tags.team can't be null"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var got shape
			err := awsjson.Unmarshal([]byte(tc.in), &got)
			var se *awsjson.SyntaxError
			var ne *awsjson.NullError
			switch {
			case err == nil:
				t.Fatalf("Unmarshal(%q) = %+v, want an error", tc.in, got)
			case tc.null && !errors.As(err, &ne), !tc.null && !errors.As(err, &se):
				t.Fatalf("Unmarshal(%q): %T %v", tc.in, err, err)
			case !strings.Contains(err.Error(), tc.msg):
				t.Errorf("Unmarshal(%q): %q, want it to say %q", tc.in, err, tc.msg)
			}
		})
	}
}

func TestUnmarshalMapTarget(t *testing.T) {
	t.Parallel()
	var m map[string]json.RawMessage
	if err := awsjson.Unmarshal([]byte(`{"A":null,"B":{"x":1}}`), &m); err != nil {
		t.Fatal(err) // raw values may be null: their reader decides
	}
	if string(m["A"]) != "null" || string(m["B"]) != `{"x":1}` {
		t.Errorf("got %s", m)
	}
	var tags map[string]string
	if err := awsjson.Unmarshal([]byte(`{"A":null}`), &tags); err == nil {
		t.Error("a null in a map of strings was taken")
	}
	if err := awsjson.Unmarshal([]byte(`[]`), &tags); err == nil {
		t.Error("an array was taken as a map")
	}
}

func TestUnmarshalNeedsPointer(t *testing.T) {
	t.Parallel()
	var s shape
	if err := awsjson.Unmarshal([]byte(`{}`), s); err == nil {
		t.Error("a non-pointer was taken")
	}
}

// FuzzUnmarshal checks that Unmarshal never panics, that what it takes
// is valid UTF-8 JSON, and that a value it decoded decodes back to
// itself once encoded.
func FuzzUnmarshal(f *testing.F) {
	for _, s := range []string{
		`{"Name":"a","Finalized":true,"Tags":{"k":"v"},"Items":[{"Key":"k","Value":"v"}],"Nested":{"Key":"x"},"Raw":[1]}`,
		`{"name":"a","finalized":true}`, `{"Tags":{"k":null}}`, `{"Name":"\ud83d\ude00"}`, `{"Name":"\ud800"}`,
		`null`, `[]`, `{"Items":[null,{}]}`, "{\"Name\":\"\xff\"}", `{"Fin\u0061lized":false}`, `{"Untagged":1e3}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var got shape
		err := awsjson.Unmarshal(data, &got)
		if err != nil {
			var se *awsjson.SyntaxError
			var ne *awsjson.NullError
			if !errors.As(err, &se) && !errors.As(err, &ne) {
				t.Fatalf("Unmarshal(%q): an error of type %T: %v", data, err, err)
			}
			return
		}
		// (encoding/json may refuse what Unmarshal takes: it matches
		// {"nAme":true} to Name, which Unmarshal ignores.)
		if !json.Valid(data) || !utf8.Valid(data) {
			t.Fatalf("Unmarshal took %q, which is not valid UTF-8 JSON", data)
		}
		out, err := json.Marshal(got)
		if err != nil {
			t.Fatal(err)
		}
		var again shape
		if err := awsjson.Unmarshal(out, &again); err != nil {
			t.Fatalf("Unmarshal refuses its own result %s: %v", out, err)
		}
		if !reflect.DeepEqual(normalize(got), normalize(again)) {
			t.Fatalf("round trip of %q: %+v then %+v", data, got, again)
		}
	})
}

// normalize makes a shape comparable after a round trip through
// encoding/json, which writes nil and empty values alike.
func normalize(s shape) shape {
	if len(s.Tags) == 0 {
		s.Tags = nil
	}
	if len(s.Items) == 0 {
		s.Items = nil
	}
	if string(s.Raw) == "null" {
		s.Raw = nil
	}
	if len(s.Raw) > 0 {
		var v any
		_ = json.Unmarshal(s.Raw, &v)
		s.Raw, _ = json.Marshal(v)
	}
	return s
}
