package jobtypes

import (
	"strings"
	"testing"
	"time"

	"github.com/wharf-dev/wharf/internal/fault"
	"github.com/wharf-dev/wharf/internal/resource"
)

// FuzzKeyPattern: parseKeyPattern takes a pattern or refuses it with a
// ValidationException; a pattern it takes is its parts written back to
// back, holds an asset reference, and resolves each asset to a key that
// names it (two assets differing in id and name never share a key).
func FuzzKeyPattern(f *testing.F) {
	for _, s := range []string{
		DefaultKeyPattern, DefaultAutoExportKeyPattern, "${Asset.Id}",
		"year=${Revision.CreatedAt.Year}/month=${Revision.CreatedAt.Month}/day=${Revision.CreatedAt.Day}/${Asset.Name}",
		"${DataSet.Name}/${DataSet.Id}/${Revision.Id}/${Asset.Name}", "$${Asset.Name}$", "${Asset.Name", "${Asset.Nam}",
		"${}", "${", "$", "", "no reference", "${Revision.CreatedAt.Dayy}${Asset.Id}", "${Asset.Id}${", "${${Asset.Id}}",
	} {
		f.Add(s, "daily/obs.csv")
	}
	ds := resource.DataSet{ID: "ds0123456789abcdef0123456789abcd", Name: "weather"}
	rev := resource.Revision{ID: "rv0123456789abcdef0123456789abcd", CreatedAt: time.Date(2021, 3, 8, 16, 33, 19, 787e6, time.UTC)}
	f.Fuzz(func(t *testing.T, pattern, assetName string) {
		k, err := parseKeyPattern("KeyPattern", pattern)
		if err != nil {
			if !fault.Is(err, fault.Validation) {
				t.Fatalf("parseKeyPattern(%q): %T %v, want a ValidationException", pattern, err, err)
			}
			return
		}
		var b strings.Builder
		hasAsset := false
		for _, p := range k.parts {
			if p.ref == "" {
				if p.literal == "" || strings.Contains(p.literal, "${") {
					t.Fatalf("parseKeyPattern(%q): literal part %q", pattern, p.literal)
				}
				b.WriteString(p.literal)
				continue
			}
			hasAsset = hasAsset || p.ref == refAssetID || p.ref == refAssetName
			b.WriteString(p.ref)
		}
		if b.String() != pattern {
			t.Fatalf("parseKeyPattern(%q): parts make %q", pattern, b.String())
		}
		if !hasAsset {
			t.Fatalf("parseKeyPattern(%q) took a pattern without an asset reference", pattern)
		}
		a1 := resource.Asset{ID: "as0123456789abcdef0123456789abcd", Name: assetName}
		a2 := resource.Asset{ID: "bs0123456789abcdef0123456789abcd", Name: assetName + "2"}
		if k1, k2 := k.resolve(ds, rev, a1), k.resolve(ds, rev, a2); k1 == k2 {
			t.Fatalf("pattern %q gives two assets the key %q", pattern, k1)
		}
	})
}
