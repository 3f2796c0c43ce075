// Package store is Wharf's metadata persistence: one interface, with a
// SQLite driver (store/sqlite, the embedded default) and a PostgreSQL driver
// (store/postgres) that both pass the conformance suite in store/storetest.
//
// The store is deliberately rule-free: it reads and writes rows. Business
// rules (a finalized revision is read-only, ...) live in package exchange,
// which runs each check-then-write inside InTx so that concurrent writers
// can't interleave between the check and the write.
package store

import (
	"context"
	"errors"
	"time"

	"github.com/wharf-dev/wharf/internal/resource"
)

// ErrNotFound is returned when a row does not exist, or belongs to another
// account.
var ErrNotFound = errors.New("store: not found")

// ErrDuplicate is returned when inserting a row whose key already exists.
var ErrDuplicate = errors.New("store: duplicate key")

// Cursor is a position in a listing, for keyset pagination. Listings ordered
// by creation time use Time and ID; asset listings (ordered by name) use Name
// and ID. Callers treat it as opaque and hand back what Page returned.
type Cursor struct {
	Time time.Time `json:"t,omitempty"`
	Name string    `json:"n,omitempty"`
	ID   string    `json:"i"`
}

// PageRequest asks for at most Limit items (Limit >= 1) after After (nil for
// the first page).
type PageRequest struct {
	Limit int
	After *Cursor
}

// Page is one page of a listing. Next is nil when there are no more items.
type Page[T any] struct {
	Items []T
	Next  *Cursor
}

// DataSetFilter narrows ListDataSets. An empty Origin lists every origin.
type DataSetFilter struct {
	Origin string
}

// JobFilter narrows ListJobs. Empty members don't filter; CreatedAfter
// (when set) leaves out jobs created at or before it.
type JobFilter struct {
	DataSetID    string
	RevisionID   string
	State        string // a resource.JobState*
	Type         string // a resource.JobType*
	CreatedAfter time.Time
}

// Queries is every read and write the store offers. Outside a transaction
// each call is atomic on its own. Inside InTx, single-row Get* calls lock the
// row they read (SELECT ... FOR UPDATE where the database supports it) until
// the transaction ends.
type Queries interface {
	// Accounts and access keys.
	InsertAccount(ctx context.Context, a resource.Account) error
	GetAccount(ctx context.Context, id string) (resource.Account, error)
	ListAccounts(ctx context.Context) ([]resource.Account, error)
	InsertAccessKey(ctx context.Context, k resource.AccessKey) error
	GetAccessKey(ctx context.Context, accessKeyID string) (resource.AccessKey, error)

	// Console sessions (package auth), by their access key id.
	// InsertSession is ErrNotFound if the account does not exist and
	// ErrDuplicate if the id is taken. RevokeSession sets RevokedAt of a
	// session not revoked yet, ErrNotFound if there is none;
	// RevokeAccountSessions does so for every session of the account and
	// returns how many it revoked.
	// DeleteSessionsExpiredBefore deletes up to limit sessions that expired
	// before before and returns how many it deleted.
	InsertSession(ctx context.Context, s resource.Session) error
	GetSession(ctx context.Context, id string) (resource.Session, error)
	RevokeSession(ctx context.Context, id string, at time.Time) error
	RevokeAccountSessions(ctx context.Context, accountID string, at time.Time) (int, error)
	DeleteSessionsExpiredBefore(ctx context.Context, before time.Time, limit int) (int, error)

	// S3 profiles, one per account (package s3profiles). PutS3Profile
	// inserts or replaces the account's profile (ErrNotFound if the
	// account does not exist); DeleteS3Profile is ErrNotFound when the
	// account has none.
	PutS3Profile(ctx context.Context, p S3Profile) error
	GetS3Profile(ctx context.Context, accountID string) (S3Profile, error)
	DeleteS3Profile(ctx context.Context, accountID string) error

	// Data sets, scoped to their owning account. Listings are newest first
	// (CreatedAt descending, then ID descending).
	InsertDataSet(ctx context.Context, d resource.DataSet) error
	GetDataSet(ctx context.Context, accountID, id string) (resource.DataSet, error)
	// UpdateDataSet writes Name, Description and UpdatedAt of the data set
	// with d's AccountID and ID.
	UpdateDataSet(ctx context.Context, d resource.DataSet) error
	// DeleteDataSet removes the data set with its revisions, their assets,
	// and the tags of all of them.
	DeleteDataSet(ctx context.Context, accountID, id string) error
	ListDataSets(ctx context.Context, accountID string, f DataSetFilter, p PageRequest) (Page[resource.DataSet], error)
	CountDataSets(ctx context.Context, accountID string, f DataSetFilter) (int, error)

	// Revisions. Listings are newest first.
	InsertRevision(ctx context.Context, r resource.Revision) error
	GetRevision(ctx context.Context, accountID, dataSetID, id string) (resource.Revision, error)
	// UpdateRevision writes Comment, Finalized, Revoked, RevocationComment,
	// RevokedAt and UpdatedAt.
	UpdateRevision(ctx context.Context, r resource.Revision) error
	// DeleteRevision removes the revision, its assets, and their tags.
	DeleteRevision(ctx context.Context, accountID, dataSetID, id string) error
	ListRevisions(ctx context.Context, accountID, dataSetID string, p PageRequest) (Page[resource.Revision], error)
	CountRevisions(ctx context.Context, accountID, dataSetID string) (int, error)

	// Assets. Listings are ordered by Name descending, then ID descending
	// (the API reference: "sorted alphabetically in descending order").
	InsertAsset(ctx context.Context, a resource.Asset) error
	GetAsset(ctx context.Context, accountID, dataSetID, revisionID, id string) (resource.Asset, error)
	// UpdateAsset writes Name and UpdatedAt.
	UpdateAsset(ctx context.Context, a resource.Asset) error
	// DeleteAsset removes the asset and its tags.
	DeleteAsset(ctx context.Context, accountID, dataSetID, revisionID, id string) error
	ListAssets(ctx context.Context, accountID, dataSetID, revisionID string, p PageRequest) (Page[resource.Asset], error)
	CountAssets(ctx context.Context, accountID, dataSetID, revisionID string) (int, error)

	// Tags, keyed by the tagged resource's id (ids are unique across kinds).
	// SetTags adds or overwrites the given keys and leaves the others.
	SetTags(ctx context.Context, resourceID string, tags map[string]string) error
	RemoveTags(ctx context.Context, resourceID string, keys []string) error
	// GetTags returns the resource's tags; an empty, non-nil map if none.
	GetTags(ctx context.Context, resourceID string) (map[string]string, error)

	// Jobs, scoped to their account. Listings are newest first. Job ids are
	// unique across accounts.
	InsertJob(ctx context.Context, j resource.Job) error
	GetJob(ctx context.Context, accountID, id string) (resource.Job, error)
	// UpdateJob writes every member of the job with j's AccountID and ID
	// except Type, AssetConfiguration and CreatedAt (DataSetID and
	// RevisionID included, as Details may change).
	UpdateJob(ctx context.Context, j resource.Job) error
	ListJobs(ctx context.Context, accountID string, f JobFilter, p PageRequest) (Page[resource.Job], error)

	// Event actions, scoped to their account. Listings are newest first;
	// a non-empty dataSetID keeps the event actions watching that data
	// set (Event.RevisionPublished.DataSetId).
	InsertEventAction(ctx context.Context, ea resource.EventAction) error
	GetEventAction(ctx context.Context, accountID, id string) (resource.EventAction, error)
	// UpdateEventAction writes Action and UpdatedAt.
	UpdateEventAction(ctx context.Context, ea resource.EventAction) error
	// DeleteEventAction removes the event action and its tags.
	DeleteEventAction(ctx context.Context, accountID, id string) error
	ListEventActions(ctx context.Context, accountID, dataSetID string, p PageRequest) (Page[resource.EventAction], error)
	CountEventActions(ctx context.Context, accountID, dataSetID string) (int, error)

	// What the job engine needs, across accounts.
	//
	// CountLeasedJobs counts the jobs of a type that hold a lease (expired
	// or not). Inside InTx it also locks the type until the transaction
	// ends, so that transactions that count and then take a lease run one
	// at a time per type and a concurrency limit holds across replicas.
	CountLeasedJobs(ctx context.Context, jobType string) (int, error)
	// ListExpiredJobLeases returns up to limit IN_PROGRESS jobs whose lease
	// expired at or before now, the oldest expiry first.
	ListExpiredJobLeases(ctx context.Context, now time.Time, limit int) ([]resource.Job, error)
	// DeleteJobsCreatedBefore deletes up to limit jobs created before
	// before that are not IN_PROGRESS, oldest first, and returns them.
	DeleteJobsCreatedBefore(ctx context.Context, before time.Time, limit int) ([]resource.Job, error)
	// CountJobsByTypeAndState counts every account's jobs, grouped.
	CountJobsByTypeAndState(ctx context.Context) ([]JobCount, error)

	// Data grants. A grant belongs to its sender (AccountID) and is seen
	// by its receiver (ReceiverAccountID). Listings are newest first.
	InsertDataGrant(ctx context.Context, g resource.DataGrant) error
	// GetDataGrant reads a grant its sender accountID sent.
	GetDataGrant(ctx context.Context, accountID, id string) (resource.DataGrant, error)
	// GetReceivedDataGrant reads a grant sent to receiverAccountID.
	GetReceivedDataGrant(ctx context.Context, receiverAccountID, id string) (resource.DataGrant, error)
	// UpdateDataGrant writes AcceptanceState, AcceptedAt and UpdatedAt of
	// the grant with g's AccountID and ID.
	UpdateDataGrant(ctx context.Context, g resource.DataGrant) error
	// DeleteDataGrant removes the sender's grant and its tags.
	DeleteDataGrant(ctx context.Context, accountID, id string) error
	ListDataGrants(ctx context.Context, accountID string, p PageRequest) (Page[resource.DataGrant], error)
	ListReceivedDataGrants(ctx context.Context, receiverAccountID string, f DataGrantFilter, p PageRequest) (Page[resource.DataGrant], error)
	// LockDataGrantReceiver serializes, until their transactions end, the
	// transactions that call it with the same receiver account id (which
	// need not be an account of this server).
	LockDataGrantReceiver(ctx context.Context, receiverAccountID string) error
	// CountDataGrants counts the grants that match every non-empty member of f.
	CountDataGrants(ctx context.Context, f DataGrantFilter) (int, error)

	// Notifications. InsertNotification inserts n with one PENDING
	// delivery per entry of deliveries; ErrDuplicate if n's (AccountID,
	// ClientToken) exists.
	InsertNotification(ctx context.Context, n resource.Notification, deliveries []resource.NotificationDelivery) error
	GetNotificationByToken(ctx context.Context, accountID, clientToken string) (resource.Notification, error)
	// GetNotification reads a notification by id, across accounts (for
	// delivery).
	GetNotification(ctx context.Context, id string) (resource.Notification, error)
	// ListDueDeliveries returns up to limit PENDING deliveries whose
	// NextAttemptAt is at or before now, the earliest first.
	ListDueDeliveries(ctx context.Context, now time.Time, limit int) ([]resource.NotificationDelivery, error)
	// ListDeliveries lists a notification's deliveries by receiver.
	ListDeliveries(ctx context.Context, notificationID string) ([]resource.NotificationDelivery, error)
	// ClaimDelivery moves d's NextAttemptAt to until if d is still PENDING
	// with the NextAttemptAt d holds, and reports whether it did: of
	// deliverers racing for d, one wins.
	ClaimDelivery(ctx context.Context, d resource.NotificationDelivery, until time.Time) (bool, error)
	// UpdateDelivery writes State, Attempts, NextAttemptAt, LastError and
	// UpdatedAt.
	UpdateDelivery(ctx context.Context, d resource.NotificationDelivery) error
	// SetWebhook creates or replaces the account's webhook.
	SetWebhook(ctx context.Context, w resource.Webhook) error
	GetWebhook(ctx context.Context, accountID string) (resource.Webhook, error)

	// The audit log. ListAuditRecords is newest first. InsertAuditRecords
	// inserts records in one transaction: all of them or none.
	InsertAuditRecord(ctx context.Context, r resource.AuditRecord) error
	InsertAuditRecords(ctx context.Context, rs []resource.AuditRecord) error
	ListAuditRecords(ctx context.Context, f AuditFilter) ([]resource.AuditRecord, error)
	// DeleteAuditRecordsBefore deletes up to limit records from before
	// cutoff and returns how many it deleted.
	DeleteAuditRecordsBefore(ctx context.Context, cutoff time.Time, limit int) (int, error)

	// Deleted asset bytes. DeleteAsset, DeleteRevision and DeleteDataSet
	// record the asset-store key of every asset they delete, in their own
	// transaction; the sweeper removes the objects, then the records.
	// ListDueDeletedBytes returns up to limit records whose NextAttemptAt
	// is at or before now, the earliest first.
	ListDueDeletedBytes(ctx context.Context, now time.Time, limit int) ([]DeletedBytes, error)
	// ForgetDeletedBytes removes the record of key (done: the object is
	// gone); a missing record is not an error.
	ForgetDeletedBytes(ctx context.Context, key string) error
	// RetryDeletedBytes records a failed removal of key: Attempts + 1,
	// LastError, and the next attempt at next.
	RetryDeletedBytes(ctx context.Context, key string, next time.Time, lastError string) error

	// ListFinalizedRevisions is ListRevisions limited to finalized
	// revisions (what an entitled data set shows of its source).
	ListFinalizedRevisions(ctx context.Context, accountID, dataSetID string, p PageRequest) (Page[resource.Revision], error)
}

// AuditFilter narrows ListAuditRecords. Empty members don't filter; Since
// keeps records at or after it, Before those before it; Limit (>= 1) caps
// how many come back.
type AuditFilter struct {
	AccountID string
	Operation string
	Since     time.Time
	Before    time.Time
	Limit     int
}

// DeletedBytes is the asset-store key of a deleted asset whose object is
// still to be removed.
type DeletedBytes struct {
	Key           string // <accountID>/<dataSetID>/<assetID>, see assetstore.AssetKey
	DeletedAt     time.Time
	Attempts      int
	NextAttemptAt time.Time
	LastError     string
}

// DataGrantFilter narrows grant listings and counts. Empty members don't
// filter; AcceptanceStates keeps grants in any of the listed states;
// ActiveAt (when set) leaves out grants whose EndsAt is at or before it.
type DataGrantFilter struct {
	SenderAccountID   string
	ReceiverAccountID string
	SourceDataSetID   string
	AcceptanceStates  []string
	ActiveAt          time.Time
}

// S3Profile is the S3 endpoint and credentials an account's jobs use. The
// store keeps SealedSecret as it is given: sealing is the caller's.
type S3Profile struct {
	AccountID    string
	Endpoint     string // empty for AWS's own endpoints
	Region       string
	PathStyle    bool
	AccessKeyID  string
	SealedSecret []byte
	UpdatedAt    time.Time
}

// JobCount is how many jobs have a type and state.
type JobCount struct {
	Type  string
	State string
	Count int
}

// Store is a metadata store.
type Store interface {
	Queries
	// InTx runs fn in one transaction: committed if fn returns nil, rolled
	// back otherwise. fn must use only the Queries it is given.
	InTx(ctx context.Context, fn func(q Queries) error) error
	// Ping checks that the database answers (for /readyz).
	Ping(ctx context.Context) error
	Close() error
}
