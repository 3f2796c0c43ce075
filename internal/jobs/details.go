package jobs

import (
	"bytes"
	"encoding/json"
	"errors"
	"slices"

	"github.com/wharf-dev/wharf/internal/awsjson"
	"github.com/wharf-dev/wharf/internal/exchange"
	"github.com/wharf-dev/wharf/internal/fault"
	"github.com/wharf-dev/wharf/internal/resource"
)

// detailsMembers maps each job type to its member of RequestDetails and
// ResponseDetails.
var detailsMembers = map[string]string{
	resource.JobTypeImportAssetsFromS3:                     "ImportAssetsFromS3",
	resource.JobTypeImportAssetFromSignedURL:               "ImportAssetFromSignedUrl",
	resource.JobTypeExportAssetsToS3:                       "ExportAssetsToS3",
	resource.JobTypeExportAssetToSignedURL:                 "ExportAssetToSignedUrl",
	resource.JobTypeExportRevisionsToS3:                    "ExportRevisionsToS3",
	resource.JobTypeImportAssetsFromRedshiftDataShares:     "ImportAssetsFromRedshiftDataShares",
	resource.JobTypeImportAssetFromAPIGatewayAPI:           "ImportAssetFromApiGatewayApi",
	resource.JobTypeCreateS3DataAccessFromS3Bucket:         "CreateS3DataAccessFromS3Bucket",
	resource.JobTypeImportAssetsFromLakeFormationTagPolicy: "ImportAssetsFromLakeFormationTagPolicy",
}

// knownMembers are the members of RequestDetails.
var knownMembers = func() map[string]bool {
	m := map[string]bool{}
	for _, name := range detailsMembers {
		m[name] = true
	}
	return m
}()

// DetailsMember returns the member of RequestDetails and ResponseDetails that
// belongs to a job type ("" for an unknown type).
func DetailsMember(jobType string) string { return detailsMembers[jobType] }

// MemberDetails returns the inside of a job's Details: the object of its
// type's member, for a runner to decode.
func MemberDetails(job resource.Job) (json.RawMessage, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(job.Details, &m); err != nil {
		return nil, err
	}
	body, ok := m[detailsMembers[job.Type]]
	if !ok {
		return nil, fault.Validationf("Details has no %s member", detailsMembers[job.Type])
	}
	return body, nil
}

// references are the ids a job's details name, for ListJobs' filters.
type references struct {
	dataSetID  string
	revisionID string
}

// parseDetails checks that a CreateJob request's Details holds exactly the
// member of the job's type, an object naming a data set, and returns the
// Details to store: {"<Member>":<the member as the client sent it>}.
func parseDetails(jobType string, raw json.RawMessage) (json.RawMessage, references, error) {
	member := detailsMembers[jobType]
	if isAbsent(raw) {
		return nil, references{}, fault.Validationf("Details is required")
	}
	var members map[string]json.RawMessage
	if err := awsjson.Unmarshal(raw, &members); err != nil {
		return nil, references{}, fault.Validationf("Details must be an object holding the %s member", member)
	}
	// Members of RequestDetails, as AWS names them exactly; any other
	// member is unknown, and ignored.
	var present []string
	for name, v := range members {
		if knownMembers[name] && !isAbsent(v) {
			present = append(present, name)
		}
	}
	slices.Sort(present)
	body, ok := members[member]
	if !ok || isAbsent(body) || len(present) != 1 {
		return nil, references{}, fault.Validationf(
			"Details of a %s job must hold exactly one member, %s (got %v)", jobType, member, present)
	}
	var refs struct {
		DataSetId            *string
		RevisionId           *string
		RevisionDestinations []struct{ RevisionId *string }
	}
	if bytes.TrimSpace(body)[0] != '{' {
		return nil, references{}, fault.Validationf("Details.%s must be an object", member)
	}
	if err := awsjson.Unmarshal(body, &refs); err != nil {
		return nil, references{}, fault.Validationf("Details.%s: %v", member, jsonProblem(err))
	}
	if refs.DataSetId == nil {
		return nil, references{}, fault.Validationf("Details.%s.DataSetId is required", member)
	}
	if !resource.ValidID(*refs.DataSetId) {
		return nil, references{}, fault.Validationf("Details.%s.DataSetId %q is not a valid id", member, *refs.DataSetId)
	}
	out := references{dataSetID: *refs.DataSetId}
	if refs.RevisionId != nil {
		out.revisionID = *refs.RevisionId
	} else if len(refs.RevisionDestinations) > 0 && refs.RevisionDestinations[0].RevisionId != nil {
		// A revision export takes one revision (AWS's limit), listed as
		// a destination.
		out.revisionID = *refs.RevisionDestinations[0].RevisionId
	}
	if out.revisionID != "" && !resource.ValidID(out.revisionID) {
		return nil, references{}, fault.Validationf("Details.%s: RevisionId %q is not a valid id", member, out.revisionID)
	}
	var b bytes.Buffer
	b.WriteString(`{`)
	name, _ := json.Marshal(member)
	b.Write(name)
	b.WriteString(`:`)
	b.Write(body)
	b.WriteString(`}`)
	return b.Bytes(), out, nil
}

type assetConfiguration struct {
	Tags []struct {
		Key   *string
		Value *string
	}
}

// parseAssetConfiguration checks a CreateJob request's AssetConfiguration and
// returns it as sent (nil when absent) with its tags as a map.
func parseAssetConfiguration(raw json.RawMessage) (json.RawMessage, map[string]string, error) {
	if isAbsent(raw) {
		return nil, nil, nil
	}
	var c assetConfiguration
	if bytes.TrimSpace(raw)[0] != '{' {
		return nil, nil, fault.Validationf("AssetConfiguration must be an object")
	}
	if err := awsjson.Unmarshal(raw, &c); err != nil {
		return nil, nil, fault.Validationf("AssetConfiguration: %v", jsonProblem(err))
	}
	tags := make(map[string]string, len(c.Tags))
	for i, t := range c.Tags {
		if t.Key == nil || t.Value == nil {
			return nil, nil, fault.Validationf("AssetConfiguration.Tags[%d]: Key and Value are required", i)
		}
		if _, dup := tags[*t.Key]; dup {
			return nil, nil, fault.Validationf("AssetConfiguration.Tags: the key %q appears twice", *t.Key)
		}
		tags[*t.Key] = *t.Value
	}
	if err := exchange.ValidateTags(tags); err != nil {
		return nil, nil, fault.Validationf("AssetConfiguration: %s", fault.As(err).Message)
	}
	return raw, tags, nil
}

// AssetTags returns the tags a job gives the assets it creates (from its
// AssetConfiguration); an empty map if none.
func AssetTags(job resource.Job) (map[string]string, error) {
	_, tags, err := parseAssetConfiguration(job.AssetConfiguration)
	if tags == nil {
		tags = map[string]string{}
	}
	return tags, err
}

func isAbsent(raw json.RawMessage) bool {
	t := bytes.TrimSpace(raw)
	return len(t) == 0 || bytes.Equal(t, []byte("null"))
}

// jsonProblem says what is wrong with a member's JSON (an awsjson error),
// without Go type names.
func jsonProblem(err error) string {
	var syntaxErr *awsjson.SyntaxError
	var nullErr *awsjson.NullError
	switch {
	case errors.As(err, &nullErr):
		return nullErr.Error()
	case errors.As(err, &syntaxErr):
		return syntaxErr.Msg
	}
	return "not valid JSON"
}
