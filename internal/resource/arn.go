package resource

import (
	"fmt"
	"strings"
)

// ARNs follow the Service Authorization Reference for AWS Data Exchange.
// Entitled resources carry an empty account field.

// DataSetARN returns the ARN of a data set.
func DataSetARN(region, account, dataSetID string) string {
	return fmt.Sprintf("arn:aws:dataexchange:%s:%s:data-sets/%s", region, account, dataSetID)
}

// RevisionARN returns the ARN of a revision.
func RevisionARN(region, account, dataSetID, revisionID string) string {
	return DataSetARN(region, account, dataSetID) + "/revisions/" + revisionID
}

// AssetARN returns the ARN of an asset.
func AssetARN(region, account, dataSetID, revisionID, assetID string) string {
	return RevisionARN(region, account, dataSetID, revisionID) + "/assets/" + assetID
}

// JobARN returns the ARN of a job.
func JobARN(region, account, jobID string) string {
	return fmt.Sprintf("arn:aws:dataexchange:%s:%s:jobs/%s", region, account, jobID)
}

// EventActionARN returns the ARN of an event action.
func EventActionARN(region, account, id string) string {
	return fmt.Sprintf("arn:aws:dataexchange:%s:%s:event-actions/%s", region, account, id)
}

// DataGrantARN returns the ARN of a data grant.
func DataGrantARN(region, account, id string) string {
	return fmt.Sprintf("arn:aws:dataexchange:%s:%s:data-grants/%s", region, account, id)
}

// ParsedARN is an AWS Data Exchange ARN broken into its parts. For a
// revision, DataSetID and RevisionID are set; for an asset all three ids.
type ParsedARN struct {
	Region     string
	Account    string
	Kind       Kind
	DataSetID  string
	RevisionID string
	AssetID    string
	// ID is the id of the resource the ARN names, whatever its kind.
	ID string
	// Entitled is set by callers that read an empty account field as an
	// entitled resource of the caller's (ParseARN leaves it false).
	Entitled bool
}

// ParseARN parses an AWS Data Exchange ARN. It accepts exactly the forms the
// *ARN functions produce.
func ParseARN(arn string) (ParsedARN, error) {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" || parts[1] != "aws" || parts[2] != "dataexchange" {
		return ParsedARN{}, fmt.Errorf("%q is not an AWS Data Exchange ARN", arn)
	}
	p := ParsedARN{Region: parts[3], Account: parts[4]}
	segs := strings.Split(parts[5], "/")
	bad := fmt.Errorf("%q does not name an AWS Data Exchange resource", arn)
	for _, s := range segs[1:] {
		if !ValidID(s) && s != "revisions" && s != "assets" {
			return ParsedARN{}, bad
		}
	}
	switch {
	case len(segs) == 2 && segs[0] == "data-sets":
		p.Kind, p.DataSetID, p.ID = KindDataSet, segs[1], segs[1]
	case len(segs) == 4 && segs[0] == "data-sets" && segs[2] == "revisions":
		p.Kind, p.DataSetID, p.RevisionID, p.ID = KindRevision, segs[1], segs[3], segs[3]
	case len(segs) == 6 && segs[0] == "data-sets" && segs[2] == "revisions" && segs[4] == "assets":
		p.Kind, p.DataSetID, p.RevisionID, p.AssetID, p.ID = KindAsset, segs[1], segs[3], segs[5], segs[5]
	case len(segs) == 2 && segs[0] == "jobs":
		p.Kind, p.ID = KindJob, segs[1]
	case len(segs) == 2 && segs[0] == "event-actions":
		p.Kind, p.ID = KindEventAction, segs[1]
	case len(segs) == 2 && segs[0] == "data-grants":
		p.Kind, p.ID = KindDataGrant, segs[1]
	default:
		return ParsedARN{}, bad
	}
	if !ValidID(p.ID) {
		return ParsedARN{}, bad
	}
	return p, nil
}
