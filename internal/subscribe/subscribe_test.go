package subscribe

import (
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
