// Package awsjson decodes JSON request bodies as AWS restJson1 services
// read them, which encoding/json alone does not:
//
//   - member names match exactly: {"finalized":true} does not set a field
//     tagged "Finalized" (encoding/json matches names case-insensitively);
//     like any member the shape does not have, it is ignored, as AWS ignores
//     unknown members;
//   - the body must be valid UTF-8, with no lone surrogate escape
//     ("\ud800"): encoding/json would turn either into U+FFFD;
//   - a struct or map is decoded only from a JSON object: a top-level null,
//     array, string or number is refused;
//   - a null value in a map ({"Tags":{"k":null}}) is refused (encoding/json
//     would store the zero value, ""); a null structure member is absent,
//     as AWS treats it. (A map of raw messages takes nulls: its reader
//     decides.)
//
// Fields of type json.RawMessage, and types with their own UnmarshalJSON,
// are passed through as they came; their decoders apply these rules
// themselves (by calling Unmarshal) where they need them.
package awsjson

import (
	"bytes"
	"encoding"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"unicode/utf8"
)

// SyntaxError reports a body that is not JSON, not UTF-8, or not of the
// shape's types (SerializationException at the API).
type SyntaxError struct {
	Msg string
}

func (e *SyntaxError) Error() string { return e.Msg }

// NullError reports a null where the shape takes none: a map's value
// (ValidationException at the API).
type NullError struct {
	// Path names the value: the members' names from the top, joined by
	// dots ("Tags.team").
	Path string
}

func (e *NullError) Error() string { return fmt.Sprintf("%s can't be null", e.Path) }

// Unmarshal decodes the JSON document data into v (a non-nil pointer) by
// the rules of the package comment. Its errors are *SyntaxError or
// *NullError.
func Unmarshal(data []byte, v any) error {
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Pointer || rv.IsNil() {
		return fmt.Errorf("awsjson: Unmarshal needs a non-nil pointer, not %T", v)
	}
	if !utf8.Valid(data) {
		return &SyntaxError{Msg: "the JSON is not valid UTF-8"}
	}
	if !json.Valid(data) {
		var x any
		err := json.Unmarshal(data, &x)
		msg := "the JSON is not valid"
		if err != nil {
			msg += ": " + err.Error()
		}
		return &SyntaxError{Msg: msg}
	}
	if err := checkSurrogates(data); err != nil {
		return err
	}
	t := rv.Type().Elem()
	if k := indirect(t).Kind(); k == reflect.Struct || k == reflect.Map {
		if first := firstByte(data); first != '{' {
			return &SyntaxError{Msg: fmt.Sprintf("the JSON must be an object, not %s", describe(first))}
		}
	}
	filtered, err := filter(data, t, "")
	if err != nil {
		return err
	}
	if err := json.Unmarshal(filtered, v); err != nil {
		var typeErr *json.UnmarshalTypeError
		if errors.As(err, &typeErr) {
			if typeErr.Field != "" {
				return &SyntaxError{Msg: fmt.Sprintf("member %s can't be a JSON %s", typeErr.Field, typeErr.Value)}
			}
			return &SyntaxError{Msg: fmt.Sprintf("the JSON can't be a %s here", typeErr.Value)}
		}
		return &SyntaxError{Msg: "the JSON is not valid: " + err.Error()}
	}
	return nil
}

var (
	rawMessageType      = reflect.TypeFor[json.RawMessage]()
	unmarshalerType     = reflect.TypeFor[json.Unmarshaler]()
	textUnmarshalerType = reflect.TypeFor[encoding.TextUnmarshaler]()
)

func indirect(t reflect.Type) reflect.Type {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return t
}

// opaque reports whether values of t are decoded as they came: raw
// messages and types with their own decoding.
func opaque(t reflect.Type) bool {
	if t == rawMessageType || t.Kind() == reflect.Interface {
		return true
	}
	pt := reflect.PointerTo(t)
	return t.Implements(unmarshalerType) || pt.Implements(unmarshalerType) ||
		t.Implements(textUnmarshalerType) || pt.Implements(textUnmarshalerType)
}

// filter returns the valid JSON value data with the object members that t
// does not name exactly left out, at every depth t describes, and fails on
// a null map value.
func filter(data []byte, t reflect.Type, path string) ([]byte, error) {
	if opaque(t) {
		return data, nil
	}
	switch t.Kind() {
	case reflect.Pointer:
		return filter(data, t.Elem(), path)
	case reflect.Struct:
		if firstByte(data) != '{' {
			return data, nil // null, or a type error for json.Unmarshal
		}
		fields := fieldsOf(t)
		return rewriteObject(data, func(name string, value []byte) ([]byte, bool, error) {
			ft, ok := fields[name]
			if !ok {
				return nil, false, nil
			}
			out, err := filter(value, ft, join(path, name))
			return out, true, err
		})
	case reflect.Map:
		if firstByte(data) != '{' {
			return data, nil
		}
		elem := t.Elem()
		return rewriteObject(data, func(name string, value []byte) ([]byte, bool, error) {
			p := join(path, name)
			if firstByte(value) == 'n' && !opaque(elem) {
				return nil, false, &NullError{Path: p}
			}
			out, err := filter(value, elem, p)
			return out, true, err
		})
	case reflect.Slice, reflect.Array:
		if t.Elem().Kind() == reflect.Uint8 || firstByte(data) != '[' {
			return data, nil // []byte is a base64 string
		}
		return rewriteArray(data, func(i int, value []byte) ([]byte, error) {
			return filter(value, t.Elem(), fmt.Sprintf("%s[%d]", path, i))
		})
	}
	return data, nil
}

func join(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

// rewriteObject rebuilds the object data from the members each returns
// (keep false leaves a member out). Member names are written as JSON
// re-encodes them; values as each returns them.
func rewriteObject(data []byte, each func(name string, value []byte) (out []byte, keep bool, err error)) ([]byte, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	if _, err := dec.Token(); err != nil { // {
		return nil, &SyntaxError{Msg: "the JSON is not valid: " + err.Error()}
	}
	var b bytes.Buffer
	b.Grow(len(data))
	b.WriteByte('{')
	n := 0
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, &SyntaxError{Msg: "the JSON is not valid: " + err.Error()}
		}
		name, _ := tok.(string)
		var value json.RawMessage
		if err := dec.Decode(&value); err != nil {
			return nil, &SyntaxError{Msg: "the JSON is not valid: " + err.Error()}
		}
		out, keep, err := each(name, value)
		if err != nil {
			return nil, err
		}
		if !keep {
			continue
		}
		if n > 0 {
			b.WriteByte(',')
		}
		n++
		key, _ := json.Marshal(name)
		b.Write(key)
		b.WriteByte(':')
		b.Write(out)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

func rewriteArray(data []byte, each func(i int, value []byte) ([]byte, error)) ([]byte, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	if _, err := dec.Token(); err != nil { // [
		return nil, &SyntaxError{Msg: "the JSON is not valid: " + err.Error()}
	}
	var b bytes.Buffer
	b.Grow(len(data))
	b.WriteByte('[')
	for i := 0; dec.More(); i++ {
		var value json.RawMessage
		if err := dec.Decode(&value); err != nil {
			return nil, &SyntaxError{Msg: "the JSON is not valid: " + err.Error()}
		}
		out, err := each(i, value)
		if err != nil {
			return nil, err
		}
		if i > 0 {
			b.WriteByte(',')
		}
		b.Write(out)
	}
	b.WriteByte(']')
	return b.Bytes(), nil
}

var fieldCache sync.Map // reflect.Type -> map[string]reflect.Type

// fieldsOf maps the JSON names of struct t's fields, as encoding/json
// names them, to their types.
func fieldsOf(t reflect.Type) map[string]reflect.Type {
	if m, ok := fieldCache.Load(t); ok {
		return m.(map[string]reflect.Type)
	}
	m := map[string]reflect.Type{}
	for _, f := range reflect.VisibleFields(t) {
		tag, hasTag := f.Tag.Lookup("json")
		name, _, _ := strings.Cut(tag, ",")
		if tag == "-" {
			continue
		}
		if f.Anonymous && name == "" && indirect(f.Type).Kind() == reflect.Struct {
			continue // its fields are promoted: VisibleFields lists them
		}
		if !f.IsExported() {
			continue
		}
		if !hasTag || name == "" {
			name = f.Name
		}
		if _, dup := m[name]; !dup {
			m[name] = f.Type
		}
	}
	fieldCache.Store(t, m)
	return m
}

// firstByte is the first byte of data that is not JSON white space.
func firstByte(data []byte) byte {
	for _, c := range data {
		switch c {
		case ' ', '\t', '\r', '\n':
			continue
		}
		return c
	}
	return 0
}

func describe(first byte) string {
	switch first {
	case 'n':
		return "null"
	case '[':
		return "an array"
	case '"':
		return "a string"
	case 't', 'f':
		return "a boolean"
	case 0:
		return "empty"
	}
	return "a number"
}

// checkSurrogates refuses the escapes of UTF-16 surrogates that do not
// form a pair, in the valid JSON data: they name no character, and
// encoding/json would decode them as U+FFFD.
func checkSurrogates(data []byte) error {
	if !bytes.Contains(data, []byte(`\u`)) {
		return nil
	}
	inString := false
	for i := 0; i < len(data); i++ {
		c := data[i]
		if !inString {
			if c == '"' {
				inString = true
			}
			continue
		}
		switch c {
		case '"':
			inString = false
		case '\\':
			if i+1 < len(data) && data[i+1] == 'u' {
				r := hex4(data[i+2:])
				switch {
				case r >= 0xD800 && r < 0xDC00:
					// A high surrogate must be followed by a low one.
					if i+12 > len(data) || data[i+6] != '\\' || data[i+7] != 'u' {
						return loneSurrogate(r)
					}
					if lo := hex4(data[i+8:]); lo < 0xDC00 || lo >= 0xE000 {
						return loneSurrogate(r)
					}
					i += 11
				case r >= 0xDC00 && r < 0xE000:
					return loneSurrogate(r)
				default:
					i += 5
				}
			} else {
				i++ // the escaped character
			}
		}
	}
	return nil
}

func loneSurrogate(r int) error {
	return &SyntaxError{Msg: fmt.Sprintf(`the JSON is not valid UTF-8: the escape \u%04x is half of a UTF-16 surrogate pair`, r)}
}

// hex4 decodes the 4 hex digits at the start of b (valid JSON holds them
// after \u).
func hex4(b []byte) int {
	if len(b) < 4 {
		return -1
	}
	r := 0
	for _, c := range b[:4] {
		r <<= 4
		switch {
		case '0' <= c && c <= '9':
			r |= int(c - '0')
		case 'a' <= c && c <= 'f':
			r |= int(c-'a') + 10
		case 'A' <= c && c <= 'F':
			r |= int(c-'A') + 10
		default:
			return -1
		}
	}
	return r
}
