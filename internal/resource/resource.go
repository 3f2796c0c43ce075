// Package resource holds the AWS Data Exchange resources Wharf manages (data
// sets, revisions, assets, jobs), their identifiers, ARNs and wire enums. It has no
// behaviour beyond naming things: business rules live in package exchange and
// persistence in package store.
package resource

import (
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"regexp"
	"sync/atomic"
	"time"
)

// Asset types (AssetType on the wire).
const (
	AssetTypeS3Snapshot                  = "S3_SNAPSHOT"
	AssetTypeRedshiftDataShare           = "REDSHIFT_DATA_SHARE"
	AssetTypeAPIGatewayAPI               = "API_GATEWAY_API"
	AssetTypeS3DataAccess                = "S3_DATA_ACCESS"
	AssetTypeLakeFormationDataPermission = "LAKE_FORMATION_DATA_PERMISSION"
)

// AssetTypes lists every valid AssetType.
var AssetTypes = []string{
	AssetTypeS3Snapshot, AssetTypeRedshiftDataShare, AssetTypeAPIGatewayAPI,
	AssetTypeS3DataAccess, AssetTypeLakeFormationDataPermission,
}

// Data set origins.
const (
	OriginOwned    = "OWNED"
	OriginEntitled = "ENTITLED"
)

// Kind names the type of a resource, as the ResourceType member of
// ResourceNotFoundException and ConflictException spells it.
type Kind string

const (
	KindDataSet     Kind = "DATA_SET"
	KindRevision    Kind = "REVISION"
	KindAsset       Kind = "ASSET"
	KindJob         Kind = "JOB"
	KindEventAction Kind = "EVENT_ACTION"
	KindDataGrant   Kind = "DATA_GRANT"
)

// Account is a tenant: every resource belongs to exactly one account.
type Account struct {
	ID        string // 12 digits
	CreatedAt time.Time
}

// AccessKey authenticates requests on behalf of an account. The secret is
// kept sealed (encrypted); only package auth can open it.
type AccessKey struct {
	ID           string // the access key id, e.g. AKIA...
	AccountID    string
	SealedSecret []byte
	CreatedAt    time.Time
}

// OriginDetails says where an entitled data set comes from.
type OriginDetails struct {
	ProductID   string `json:"ProductId,omitempty"`
	DataGrantID string `json:"DataGrantId,omitempty"`
}

// DataSet is a container of revisions.
type DataSet struct {
	AccountID     string
	ID            string
	Name          string
	Description   string
	AssetType     string
	Origin        string
	OriginDetails *OriginDetails
	SourceID      string
	CreatedAt     time.Time
	UpdatedAt     time.Time
}

// Revision is a container of assets within a data set.
type Revision struct {
	AccountID         string
	DataSetID         string
	ID                string
	Comment           string
	Finalized         bool
	Revoked           bool
	RevocationComment string
	RevokedAt         *time.Time
	SourceID          string
	CreatedAt         time.Time
	UpdatedAt         time.Time
}

// Asset is a unit of data inside a revision. Details is the AssetDetails
// structure exactly as it appears on the wire (a JSON object with one member
// matching AssetType), so new asset types need no schema change.
type Asset struct {
	AccountID  string
	DataSetID  string
	RevisionID string
	ID         string
	Name       string
	AssetType  string
	Details    json.RawMessage
	SourceID   string
	CreatedAt  time.Time
	UpdatedAt  time.Time
}

// NewID returns a fresh resource id: 32 lowercase hexadecimal characters from
// crypto/rand, the shape AWS's ids have.
func NewID() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic("resource: crypto/rand failed: " + err.Error())
	}
	return hex.EncodeToString(b[:])
}

// lastOrderedID is the time part of the last NewOrderedID, in nanoseconds.
var lastOrderedID atomic.Int64

// NewOrderedID returns a fresh id, like NewID, whose order is the order in
// which this process made it: 16 hexadecimal characters of a strictly
// increasing nanosecond clock, then 16 from crypto/rand. Records that share a
// millisecond timestamp (the audit log's) sort by it in the order they were
// made.
func NewOrderedID() string {
	now := time.Now().UnixNano()
	for {
		last := lastOrderedID.Load()
		next := max(now, last+1)
		if lastOrderedID.CompareAndSwap(last, next) {
			now = next
			break
		}
	}
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], uint64(now))
	if _, err := rand.Read(b[8:]); err != nil {
		panic("resource: crypto/rand failed: " + err.Error())
	}
	return hex.EncodeToString(b[:])
}

var idPattern = regexp.MustCompile(`^[a-zA-Z0-9]{30,40}$`)

// ValidID reports whether s has the shape of a resource id.
func ValidID(s string) bool { return idPattern.MatchString(s) }

var accountPattern = regexp.MustCompile(`^\d{12}$`)

// ValidAccountID reports whether s is a 12-digit account id.
func ValidAccountID(s string) bool { return accountPattern.MatchString(s) }

// Now returns the current time truncated to milliseconds, the precision of
// timestamps on the wire, so that what is stored is exactly what is returned.
func Now() time.Time { return time.Now().UTC().Truncate(time.Millisecond) }

// Job types (Type on the wire).
const (
	JobTypeImportAssetsFromS3                     = "IMPORT_ASSETS_FROM_S3"
	JobTypeImportAssetFromSignedURL               = "IMPORT_ASSET_FROM_SIGNED_URL"
	JobTypeExportAssetsToS3                       = "EXPORT_ASSETS_TO_S3"
	JobTypeExportAssetToSignedURL                 = "EXPORT_ASSET_TO_SIGNED_URL"
	JobTypeExportRevisionsToS3                    = "EXPORT_REVISIONS_TO_S3"
	JobTypeImportAssetsFromRedshiftDataShares     = "IMPORT_ASSETS_FROM_REDSHIFT_DATA_SHARES"
	JobTypeImportAssetFromAPIGatewayAPI           = "IMPORT_ASSET_FROM_API_GATEWAY_API"
	JobTypeCreateS3DataAccessFromS3Bucket         = "CREATE_S3_DATA_ACCESS_FROM_S3_BUCKET"
	JobTypeImportAssetsFromLakeFormationTagPolicy = "IMPORT_ASSETS_FROM_LAKE_FORMATION_TAG_POLICY"
)

// JobTypes lists every valid job Type.
var JobTypes = []string{
	JobTypeImportAssetsFromS3, JobTypeImportAssetFromSignedURL, JobTypeExportAssetsToS3,
	JobTypeExportAssetToSignedURL, JobTypeExportRevisionsToS3, JobTypeImportAssetsFromRedshiftDataShares,
	JobTypeImportAssetFromAPIGatewayAPI, JobTypeCreateS3DataAccessFromS3Bucket,
	JobTypeImportAssetsFromLakeFormationTagPolicy,
}

// Job states (State on the wire). WAITING -> IN_PROGRESS -> COMPLETED |
// ERROR | TIMED_OUT, and WAITING -> CANCELLED.
const (
	JobStateWaiting    = "WAITING"
	JobStateInProgress = "IN_PROGRESS"
	JobStateCompleted  = "COMPLETED"
	JobStateError      = "ERROR"
	JobStateCancelled  = "CANCELLED"
	JobStateTimedOut   = "TIMED_OUT"
)

// JobStates lists every job State.
var JobStates = []string{
	JobStateWaiting, JobStateInProgress, JobStateCompleted, JobStateError, JobStateCancelled, JobStateTimedOut,
}

// JobStateTerminal reports whether a job in state s is finished for good.
func JobStateTerminal(s string) bool {
	switch s {
	case JobStateCompleted, JobStateError, JobStateCancelled, JobStateTimedOut:
		return true
	}
	return false
}

// Job is an asynchronous import or export. The JSON members are kept exactly
// as they appear on the wire, so that new job types need no schema change.
type Job struct {
	AccountID string
	ID        string
	Type      string
	State     string
	// DataSetID and RevisionID are copied out of Details, for ListJobs'
	// filters; RevisionID is empty for jobs that name no single revision.
	DataSetID  string
	RevisionID string
	// Details is the ResponseDetails object, e.g. {"ImportAssetsFromS3":{...}}.
	Details json.RawMessage
	// Errors is a JSON array of JobError objects, or empty when there are none.
	Errors json.RawMessage
	// AssetConfiguration is the object CreateJob was given, or empty.
	AssetConfiguration json.RawMessage
	CreatedAt          time.Time
	UpdatedAt          time.Time

	// Progress of the current run, in bytes; BytesTotal is 0 until known.
	BytesDone  int64
	BytesTotal int64

	// Engine bookkeeping (package jobs): the lease of the worker running the
	// job (LeaseID is empty when no worker holds it), when the first run
	// began (the base of the time limit), how many runs have begun, and the
	// generation of the job's current queue entry.
	LeaseID        string
	LeaseExpiresAt *time.Time
	StartedAt      *time.Time
	Attempts       int
	Dispatch       int64
}

// EventAction starts an action when an event happens: today, an
// EXPORT_REVISIONS_TO_S3 job when a revision of DataSetID is published
// (finalized). Action is the Action object as stored, e.g.
// {"ExportRevisionToS3":{...}}, kept as JSON so that new actions need no
// schema change.
type EventAction struct {
	AccountID string
	ID        string
	// DataSetID is Event.RevisionPublished.DataSetId, the data set watched.
	DataSetID string
	Action    json.RawMessage
	CreatedAt time.Time
	UpdatedAt time.Time
}
