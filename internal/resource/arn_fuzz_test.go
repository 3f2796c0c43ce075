package resource_test

import (
	"strings"
	"testing"

	"github.com/wharf-dev/wharf/internal/resource"
)

// arnOf rebuilds the ARN p describes with the function for its kind.
func arnOf(p resource.ParsedARN) string {
	switch p.Kind {
	case resource.KindDataSet:
		return resource.DataSetARN(p.Region, p.Account, p.DataSetID)
	case resource.KindRevision:
		return resource.RevisionARN(p.Region, p.Account, p.DataSetID, p.RevisionID)
	case resource.KindAsset:
		return resource.AssetARN(p.Region, p.Account, p.DataSetID, p.RevisionID, p.AssetID)
	case resource.KindJob:
		return resource.JobARN(p.Region, p.Account, p.ID)
	case resource.KindEventAction:
		return resource.EventActionARN(p.Region, p.Account, p.ID)
	case resource.KindDataGrant:
		return resource.DataGrantARN(p.Region, p.Account, p.ID)
	}
	return ""
}

// FuzzParseARN: whatever ParseARN accepts is exactly the ARN its parts
// make again (it accepts only the forms the *ARN functions write), its ids
// are valid, and ParseARN reads the *ARN functions' ARNs back to the
// parts they were made of.
func FuzzParseARN(f *testing.F) {
	const id, id2, id3 = "0123456789abcdef0123456789abcdef", "fedcba9876543210fedcba9876543210", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	for _, s := range []string{
		resource.DataSetARN("us-east-1", "111111111111", id),
		resource.RevisionARN("us-east-1", "111111111111", id, id2),
		resource.AssetARN("eu-west-1", "111111111111", id, id2, id3),
		resource.JobARN("us-east-1", "111111111111", id),
		resource.EventActionARN("us-east-1", "111111111111", id),
		resource.DataGrantARN("us-east-1", "111111111111", id),
		resource.DataSetARN("us-east-1", "", id), // entitled: no account
		"arn:aws:dataexchange:us-east-1:111111111111:data-sets/" + id + "/revisions",
		"arn:aws:dataexchange:us-east-1:111111111111:data-sets/" + id + "/assets/" + id2,
		"arn:aws:dataexchange:us-east-1:1:2:data-sets/" + id,
		"arn:aws:s3:::bucket/key", "arn:aws:dataexchange:::", "", ":::::", "arn:aws:dataexchange:r:a:jobs/" + id + "/",
	} {
		f.Add(s, "us-east-1", "111111111111", id)
	}
	f.Fuzz(func(t *testing.T, arn, region, account, id string) {
		p, err := resource.ParseARN(arn)
		if err == nil {
			if again := arnOf(p); again != arn {
				t.Fatalf("ParseARN(%q) = %+v, which makes %q", arn, p, again)
			}
			for _, x := range []string{p.ID, p.DataSetID, p.RevisionID, p.AssetID} {
				if x != "" && !resource.ValidID(x) {
					t.Fatalf("ParseARN(%q) took the id %q", arn, x)
				}
			}
			if p.Entitled {
				t.Fatalf("ParseARN(%q) set Entitled", arn)
			}
		}

		// Made by the *ARN functions from any parts: read back to them
		// when ParseARN takes the ARN, and it takes every ARN of valid
		// ids whose region and account hold no ':'.
		for _, want := range []resource.ParsedARN{
			{Region: region, Account: account, Kind: resource.KindDataSet, DataSetID: id, ID: id},
			{Region: region, Account: account, Kind: resource.KindRevision, DataSetID: id, RevisionID: id, ID: id},
			{Region: region, Account: account, Kind: resource.KindAsset, DataSetID: id, RevisionID: id, AssetID: id, ID: id},
			{Region: region, Account: account, Kind: resource.KindJob, ID: id},
			{Region: region, Account: account, Kind: resource.KindEventAction, ID: id},
			{Region: region, Account: account, Kind: resource.KindDataGrant, ID: id},
		} {
			made := arnOf(want)
			got, err := resource.ParseARN(made)
			switch {
			case err == nil && got != want:
				t.Fatalf("ParseARN(%q) = %+v, want %+v", made, got, want)
			case err != nil && resource.ValidID(id) && !strings.Contains(region, ":") && !strings.Contains(account, ":"):
				t.Fatalf("ParseARN(%q): %v", made, err)
			}
		}
	})
}
