package jobs

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/wharf-dev/wharf/internal/awsjson"
	"github.com/wharf-dev/wharf/internal/exchange"
	"github.com/wharf-dev/wharf/internal/fault"
	"github.com/wharf-dev/wharf/internal/resource"
)

// FuzzCreateJobDetails decodes a CreateJob request body as the API does
// (awsjson into the request's members), then its Details for every job
// type and its AssetConfiguration as CreateJob does. A refusal is a
// ValidationException; the Details taken are stored as a JSON object of
// exactly the type's member, which reads back to the same Details and
// references, naming valid ids; the tags taken are valid tags.
func FuzzCreateJobDetails(f *testing.F) {
	const ds, rev = "0123456789abcdef0123456789abcdef", "fedcba9876543210fedcba9876543210"
	for _, s := range []string{
		`{"Type":"IMPORT_ASSETS_FROM_S3","Details":{"ImportAssetsFromS3":{"DataSetId":"` + ds + `","RevisionId":"` + rev + `","AssetSources":[{"Bucket":"b","Key":"k"}]}}}`,
		`{"Type":"EXPORT_REVISIONS_TO_S3","Details":{"ExportRevisionsToS3":{"DataSetId":"` + ds + `","RevisionDestinations":[{"Bucket":"b","RevisionId":"` + rev + `","KeyPattern":"${Asset.Name}"}]}}}`,
		`{"Type":"IMPORT_ASSET_FROM_SIGNED_URL","Details":{"ImportAssetFromSignedUrl":{"AssetName":"a","DataSetId":"` + ds + `","Md5Hash":"1B2M2Y8AsgTpgAmY7PhCfg==","RevisionId":"` + rev + `"}},"AssetConfiguration":{"Tags":[{"Key":"k","Value":"v"}]}}`,
		`{"Type":"EXPORT_ASSETS_TO_S3","Details":{"ExportAssetsToS3":{"dataSetId":"` + ds + `"},"ImportAssetsFromS3":null}}`,
		`{"Details":{"ImportAssetsFromS3":{"DataSetId":"` + ds + `"},"ExportAssetsToS3":{"DataSetId":"` + ds + `"}}}`,
		`{"Details":{"ImportAssetsFromS3":[]}}`, `{"Details":{"ImportAssetsFromS3":{"DataSetId":5}}}`, `{"Details":[]}`, `{"Details":null}`,
		`{"AssetConfiguration":{"Tags":[{"Key":"k"},{"Key":"k","Value":"v"}]}}`, `{"AssetConfiguration":{"Tags":[{"Key":"aws:x","Value":"v"}]}}`,
		`{"AssetConfiguration":{"Tags":[{"Key":"k","Value":"v"},{"Key":"k","Value":"w"}]}}`, `{"AssetConfiguration":"x"}`,
		`{"Details":{"ImportAssetsFromS3":{"DataSetId":"` + ds + `","RevisionId":"not an id"}}}`, "{\"Details\":{\"ImportAssetsFromS3\":{\"DataSetId\":\"\xff\"}}}",
		`null`, `[]`, ``,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		var req struct {
			AssetConfiguration json.RawMessage `json:"AssetConfiguration"`
			Details            json.RawMessage `json:"Details"`
			Type               *string         `json:"Type"`
		}
		if err := awsjson.Unmarshal(body, &req); err != nil {
			return // the API's SerializationException
		}
		types := resource.JobTypes
		if req.Type != nil && DetailsMember(*req.Type) != "" {
			types = []string{*req.Type}
		}
		for _, jobType := range types {
			if DetailsMember(jobType) == "" {
				continue
			}
			stored, refs, err := parseDetails(jobType, req.Details)
			if err != nil {
				if !fault.Is(err, fault.Validation) {
					t.Fatalf("parseDetails(%s, %s): %T %v, want a ValidationException", jobType, req.Details, err, err)
				}
				continue
			}
			var members map[string]json.RawMessage
			if err := json.Unmarshal(stored, &members); err != nil || len(members) != 1 || members[DetailsMember(jobType)] == nil {
				t.Fatalf("parseDetails(%s, %s) stored %s", jobType, req.Details, stored)
			}
			if !resource.ValidID(refs.dataSetID) || (refs.revisionID != "" && !resource.ValidID(refs.revisionID)) {
				t.Fatalf("parseDetails(%s, %s) took the references %+v", jobType, req.Details, refs)
			}
			again, refs2, err := parseDetails(jobType, stored)
			if err != nil || !bytes.Equal(again, stored) || refs2 != refs {
				t.Fatalf("the stored details %s read back as %s %+v, %v (first %+v)", stored, again, refs2, err, refs)
			}
			inner, err := MemberDetails(resource.Job{Type: jobType, Details: stored})
			if err != nil || !bytes.Equal(inner, members[DetailsMember(jobType)]) {
				t.Fatalf("MemberDetails of %s: %s, %v", stored, inner, err)
			}
		}
		raw, tags, err := parseAssetConfiguration(req.AssetConfiguration)
		switch {
		case err != nil && !fault.Is(err, fault.Validation):
			t.Fatalf("parseAssetConfiguration(%s): %T %v, want a ValidationException", req.AssetConfiguration, err, err)
		case err == nil && raw != nil:
			if err := exchange.ValidateTags(tags); err != nil {
				t.Fatalf("parseAssetConfiguration(%s) took the tags %v: %v", req.AssetConfiguration, tags, err)
			}
			got, err := AssetTags(resource.Job{AssetConfiguration: raw})
			if err != nil || len(got) != len(tags) {
				t.Fatalf("AssetTags of %s: %v, %v; want %v", raw, got, err, tags)
			}
		}
	})
}
