package jobtypes

import (
	"strings"
	"testing"
	"time"

	"github.com/wharf-dev/wharf/internal/fault"
	"github.com/wharf-dev/wharf/internal/resource"
)

func TestKeyPatternResolve(t *testing.T) {
	t.Parallel()
	ds := resource.DataSet{ID: "ds0123456789abcdef0123456789abcd", Name: "weather data"}
	rev := resource.Revision{ID: "rv0123456789abcdef0123456789abcd",
		CreatedAt: time.Date(2021, 3, 8, 16, 33, 19, 787e6, time.UTC)}
	asset := resource.Asset{ID: "as0123456789abcdef0123456789abcd", Name: "daily/obs.csv"}
	for _, c := range []struct{ pattern, want string }{
		{"${Asset.Id}", asset.ID},
		{"${Asset.Name}", "daily/obs.csv"},
		{"${DataSet.Id}/${Asset.Id}", ds.ID + "/" + asset.ID},
		{"${DataSet.Name}/${Asset.Name}", "weather data/daily/obs.csv"},
		{"${Revision.Id}/${Asset.Name}", rev.ID + "/daily/obs.csv"},
		{"${Revision.CreatedAt}/${Asset.Name}", "2021-03-08T16:33:19.787Z/daily/obs.csv"},
		{"${Revision.CreatedAt.Day}-${Asset.Id}", "08-" + asset.ID},
		{"${Revision.CreatedAt.Month}-${Asset.Id}", "03-" + asset.ID},
		{"${Revision.CreatedAt.Year}-${Asset.Id}", "2021-" + asset.ID},
		{"year=${Revision.CreatedAt.Year}/month=${Revision.CreatedAt.Month}/day=${Revision.CreatedAt.Day}/${Asset.Name}",
			"year=2021/month=03/day=08/daily/obs.csv"},
		{"$${Asset.Name}$", "$daily/obs.csv$"},
		{"{Asset.Name}${Asset.Name}", "{Asset.Name}daily/obs.csv"},
		{"${Asset.Name}${Asset.Name}", "daily/obs.csvdaily/obs.csv"},
	} {
		t.Run(c.pattern, func(t *testing.T) {
			t.Parallel()
			k, err := parseKeyPattern("KeyPattern", c.pattern)
			if err != nil {
				t.Fatal(err)
			}
			if got := k.resolve(ds, rev, asset); got != c.want {
				t.Errorf("resolved to %q, want %q", got, c.want)
			}
		})
	}
	// Milliseconds are always three digits, the time always UTC.
	late := rev
	late.CreatedAt = time.Date(2024, 12, 31, 23, 0, 0, 0, time.FixedZone("x", 3600))
	k, _ := parseKeyPattern("KeyPattern", DefaultAutoExportKeyPattern)
	if got := k.resolve(ds, late, asset); got != "2024-12-31T22:00:00.000Z/daily/obs.csv" {
		t.Errorf("default auto-export pattern resolved to %q", got)
	}
}

func TestKeyPatternInvalid(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ pattern, message string }{
		{"", "must include ${Asset.Name} or ${Asset.Id}"},
		{"${Revision.Id}/${DataSet.Name}", "must include ${Asset.Name} or ${Asset.Id}"},
		{"static-key", "must include"},
		{"${Asset.name}", `"${Asset.name}" is not a dynamic reference`},
		{"${Asset.Name}/${Revision.CreatedAt.Hour}", `"${Revision.CreatedAt.Hour}" is not a dynamic reference`},
		{"${Asset.Name", `"${Asset.Name" is not a dynamic reference`},
		{"${ Asset.Id }", "is not a dynamic reference"},
		{strings.Repeat("x", maxKeyPatternLen) + "${Asset.Id}", "at most"},
	} {
		t.Run(c.pattern, func(t *testing.T) {
			t.Parallel()
			_, err := parseKeyPattern("KeyPattern", c.pattern)
			fe := fault.As(err)
			if fe == nil || fe.Name != fault.Validation || !strings.Contains(fe.Message, c.message) {
				t.Fatalf("got %v, want a ValidationException saying %q", err, c.message)
			}
		})
	}
}
