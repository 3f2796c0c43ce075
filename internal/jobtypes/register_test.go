package jobtypes_test

import (
	"maps"
	"path/filepath"
	"slices"
	"testing"

	"github.com/wharf-dev/wharf/internal/assetstore"
	"github.com/wharf-dev/wharf/internal/jobs"
	"github.com/wharf-dev/wharf/internal/jobtypes"
	"github.com/wharf-dev/wharf/internal/resource"
)

func TestRegister(t *testing.T) {
	t.Parallel()
	st := openStore(t, sqliteDB)
	assets, err := assetstore.NewLocal(filepath.Join(t.TempDir(), "assets"))
	if err != nil {
		t.Fatal(err)
	}
	deps := jobtypes.Deps{Store: st, Assets: assets, S3: nopResolver{}}

	runners := map[string]jobs.Runner{}
	if err := jobtypes.Register(runners, deps); err != nil {
		t.Fatal(err)
	}
	got := slices.Sorted(maps.Keys(runners))
	want := []string{resource.JobTypeExportAssetsToS3, resource.JobTypeExportRevisionsToS3, resource.JobTypeImportAssetsFromS3,
		resource.JobTypeImportAssetsFromRedshiftDataShares, resource.JobTypeImportAssetsFromLakeFormationTagPolicy,
		resource.JobTypeCreateS3DataAccessFromS3Bucket, resource.JobTypeImportAssetFromAPIGatewayAPI}
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("registered %v, want %v", got, want)
	}
	if err := jobtypes.Register(runners, deps); err == nil {
		t.Error("registering twice succeeded")
	}
	if err := jobtypes.Register(nil, deps); err == nil {
		t.Error("registering into a nil map succeeded")
	}
	for name, d := range map[string]jobtypes.Deps{
		"no store":          {Assets: assets, S3: nopResolver{}},
		"no assets":         {Store: st, S3: nopResolver{}},
		"no S3":             {Store: st, Assets: assets},
		"negative size":     {Store: st, Assets: assets, S3: nopResolver{}, MaxAssetSize: -1},
		"negative parallel": {Store: st, Assets: assets, S3: nopResolver{}, Parallelism: -1},
	} {
		if err := jobtypes.Register(map[string]jobs.Runner{}, d); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
