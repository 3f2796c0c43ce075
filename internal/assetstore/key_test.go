package assetstore_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/wharf-dev/wharf/internal/assetstore"
)

const (
	account = "123456789012"
	dataSet = "0123456789abcdef0123456789abcdef"
	asset   = "fedcba9876543210fedcba9876543210"
	job     = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
)

func TestNewKey(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		account string
		ids     []string
		want    string // "" for invalid
	}{
		{"asset", account, []string{dataSet, asset}, account + "/" + dataSet + "/" + asset},
		{"one id", account, []string{dataSet}, account + "/" + dataSet},
		{"three ids", account, []string{dataSet, asset, job}, account + "/" + dataSet + "/" + asset + "/" + job},
		{"four ids", account, []string{dataSet, asset, job, job}, ""},
		{"no ids", account, nil, ""},
		{"short account", "12345", []string{dataSet}, ""},
		{"letters in account", "12345678901a", []string{dataSet}, ""},
		{"dot-dot account", "..", []string{dataSet}, ""},
		{"dot-dot id", account, []string{"..", asset}, ""},
		{"slash in id", account, []string{dataSet + "/" + asset}, ""},
		{"traversal", account, []string{"../../../../etc/passwd"}, ""},
		{"empty id", account, []string{""}, ""},
		{"user text", account, []string{"my report.csv"}, ""},
		{"asset name", account, []string{dataSet, "data/2024/file.csv"}, ""},
		{"short id", account, []string{"abc"}, ""},
		{"unicode", account, []string{strings.Repeat("é", 16)}, ""},
		{"backslash", account, []string{`..\..\` + dataSet}, ""},
		{"NUL", account, []string{dataSet + "\x00"}, ""},
		{"dot prefix (temp-file names)", account, []string{".tmp-" + dataSet}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			k, err := assetstore.NewKey(tc.account, tc.ids...)
			if tc.want == "" {
				if err == nil || !errors.Is(err, assetstore.ErrInvalidKey) || !k.IsZero() {
					t.Fatalf("NewKey(%q, %q) = %q, %v; want ErrInvalidKey", tc.account, tc.ids, k, err)
				}
				return
			}
			if err != nil || k.String() != tc.want {
				t.Fatalf("NewKey(%q, %q) = %q, %v; want %q", tc.account, tc.ids, k, err, tc.want)
			}
			back, err := assetstore.ParseKey(k.String())
			if err != nil || back != k {
				t.Errorf("ParseKey(%q) = %q, %v", k, back, err)
			}
		})
	}
}

func TestParseKey(t *testing.T) {
	t.Parallel()
	for _, s := range []string{
		"", account, account + "/", "/" + account + "/" + dataSet, account + "/" + dataSet + "/",
		account + "//" + dataSet, account + "/../" + dataSet, "../" + account + "/" + dataSet,
		account + "/" + dataSet + "/..", account + "/./" + dataSet, "s3://bucket/" + account + "/" + dataSet,
	} {
		t.Run(s, func(t *testing.T) {
			t.Parallel()
			if k, err := assetstore.ParseKey(s); !errors.Is(err, assetstore.ErrInvalidKey) {
				t.Errorf("ParseKey(%q) = %q, %v; want ErrInvalidKey", s, k, err)
			}
		})
	}
}
