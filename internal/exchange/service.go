// Package exchange holds Wharf's business rules for data sets, revisions,
// assets and tags: validation, account scoping, quotas and the state rules of
// revisions. It speaks plain Go (no HTTP): package api turns requests into
// calls here and the results back into wire shapes.
//
// Every client-visible failure is a *fault.Error. Any other error returned
// here is unexpected (a database failure, ...): callers log it and report an
// InternalServerException.
package exchange

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/wharf-dev/wharf/internal/fault"
	"github.com/wharf-dev/wharf/internal/resource"
	"github.com/wharf-dev/wharf/internal/store"
)

// Quota names, exactly as ServiceLimitExceededException's LimitName spells them.
const (
	LimitDataSetsPerAccount  = "Data sets per account"
	LimitRevisionsPerDataSet = "Revisions per data set"
)

// The "Revisions per ... data set" quotas of reference-asset data sets, as
// AWS spells them, and their defaults.
const (
	LimitRevisionsPerRedshiftDataSet      = "Revisions per Amazon Redshift datashare data set"
	LimitRevisionsPerAPIGatewayDataSet    = "Revisions per Amazon API Gateway API data set"
	LimitRevisionsPerLakeFormationDataSet = "Revisions per AWS Lake Formation data permission data set"
	LimitRevisionsPerS3DataAccessDataSet  = "Revisions per Amazon S3 data access data set"

	DefaultRevisionsPerReferenceDataSet    = 20
	DefaultRevisionsPerS3DataAccessDataSet = 5
)

// AWS's default quotas.
const (
	DefaultDataSetsPerAccount  = 3000
	DefaultRevisionsPerDataSet = 10000
)

// referenceRevisionQuotas are the revision quotas of the data sets of
// reference assets, by AssetType (S3_SNAPSHOT data sets have
// RevisionsPerDataSet).
var referenceRevisionQuotas = map[string]struct {
	name  string
	limit int
}{
	resource.AssetTypeRedshiftDataShare:           {LimitRevisionsPerRedshiftDataSet, DefaultRevisionsPerReferenceDataSet},
	resource.AssetTypeAPIGatewayAPI:               {LimitRevisionsPerAPIGatewayDataSet, DefaultRevisionsPerReferenceDataSet},
	resource.AssetTypeLakeFormationDataPermission: {LimitRevisionsPerLakeFormationDataSet, DefaultRevisionsPerReferenceDataSet},
	resource.AssetTypeS3DataAccess:                {LimitRevisionsPerS3DataAccessDataSet, DefaultRevisionsPerS3DataAccessDataSet},
}

// revisionQuota is the quota on the revisions of a data set of assetType:
// its name and value. RevisionsPerDataSet, when set lower, also bounds the
// reference types'.
func (s *Service) revisionQuota(assetType string) (string, int) {
	if q, ok := referenceRevisionQuotas[assetType]; ok && q.limit <= s.RevisionsPerDataSet {
		return q.name, q.limit
	}
	return LimitRevisionsPerDataSet, s.RevisionsPerDataSet
}

// Service runs the AWS Data Exchange operations on top of a store.
type Service struct {
	store  store.Store
	region string

	// DataSetsPerAccount caps the data sets an account owns.
	DataSetsPerAccount int
	// RevisionsPerDataSet caps the revisions of one data set.
	RevisionsPerDataSet int
	// ActiveAndPendingDataGrants caps the grants an account has sent that
	// have not ended.
	ActiveAndPendingDataGrants int
	// PendingDataGrantsPerConsumer caps the grants waiting for one
	// receiver's acceptance.
	PendingDataGrantsPerConsumer int

	// OnRevisionPublished, when set, runs inside the transaction that
	// finalizes a revision (UpdateRevision with Finalized true on a
	// revision that was not), after the write: event actions start their
	// jobs there, so that the jobs commit with the finalize or not at
	// all. An error fails the finalize. The data set and revision rows are
	// locked, in that order.
	OnRevisionPublished func(ctx context.Context, q store.Queries, rev resource.Revision) error

	// OnNotificationsRecorded, when set, runs after a transaction that may
	// have recorded notifications or events for receivers has committed,
	// so that they are delivered at once (notify.Deliverer.Wake).
	OnNotificationsRecorded func()
}

// New returns a Service for the given region, with AWS's default quotas.
func New(st store.Store, region string) *Service {
	return &Service{
		store:               st,
		region:              region,
		DataSetsPerAccount:  DefaultDataSetsPerAccount,
		RevisionsPerDataSet: DefaultRevisionsPerDataSet,

		ActiveAndPendingDataGrants:   DefaultActiveAndPendingDataGrants,
		PendingDataGrantsPerConsumer: DefaultPendingDataGrantsPerConsumer,
	}
}

// Region is the region the service runs in, the one its ARNs carry.
func (s *Service) Region() string { return s.region }

// DataSetView is a data set as the operations return it.
type DataSetView struct {
	resource.DataSet
	ARN string
	// Tags is nil where the operation returns no tags (updates, listings).
	Tags map[string]string
}

// RevisionView is a revision as the operations return it.
type RevisionView struct {
	resource.Revision
	ARN  string
	Tags map[string]string
}

// AssetView is an asset as the operations return it.
type AssetView struct {
	resource.Asset
	ARN  string
	Tags map[string]string
}

func (s *Service) dataSetView(d resource.DataSet, tags map[string]string) DataSetView {
	account := d.AccountID
	if d.Origin == resource.OriginEntitled {
		account = "" // entitled resources' ARNs have an empty account field
	}
	return DataSetView{DataSet: d, ARN: resource.DataSetARN(s.region, account, d.ID), Tags: tags}
}

func (s *Service) revisionView(r resource.Revision, tags map[string]string) RevisionView {
	return RevisionView{Revision: r, ARN: resource.RevisionARN(s.region, r.AccountID, r.DataSetID, r.ID), Tags: tags}
}

func (s *Service) assetView(a resource.Asset, tags map[string]string) AssetView {
	return AssetView{Asset: a, ARN: resource.AssetARN(s.region, a.AccountID, a.DataSetID, a.RevisionID, a.ID), Tags: tags}
}

// updateTime is the UpdatedAt of a resource updated now. It is always later
// than the previous value, so that every update is visible even when two
// land in the same millisecond.
func updateTime(previous time.Time) time.Time {
	now := resource.Now()
	if !now.After(previous) {
		now = previous.Add(time.Millisecond)
	}
	return now
}

// unexpected wraps a store failure that no client can cause.
func unexpected(op string, err error) error {
	if err == nil {
		return nil
	}
	if fe := fault.As(err); fe != nil {
		return err
	}
	return fmt.Errorf("exchange: %s: %w", op, err)
}

// loadDataSet reads the caller's data set. Inside a transaction it locks the row.
func loadDataSet(ctx context.Context, q store.Queries, account, dataSetID string) (resource.DataSet, error) {
	d, err := q.GetDataSet(ctx, account, dataSetID)
	if errors.Is(err, store.ErrNotFound) {
		return d, fault.NotFound(resource.KindDataSet, dataSetID)
	}
	return d, unexpected("get data set", err)
}

// loadRevision reads the caller's revision, reporting the data set as the
// missing resource when it is the data set that does not exist. Inside a
// transaction it locks the revision row.
func loadRevision(ctx context.Context, q store.Queries, account, dataSetID, revisionID string) (resource.Revision, error) {
	r, err := q.GetRevision(ctx, account, dataSetID, revisionID)
	if errors.Is(err, store.ErrNotFound) {
		if _, err := loadDataSet(ctx, q, account, dataSetID); err != nil {
			return r, err
		}
		return r, fault.NotFound(resource.KindRevision, revisionID)
	}
	return r, unexpected("get revision", err)
}

// loadAsset reads the caller's asset, reporting the innermost missing
// resource (data set, revision or asset).
func loadAsset(ctx context.Context, q store.Queries, account, dataSetID, revisionID, assetID string) (resource.Asset, error) {
	a, err := q.GetAsset(ctx, account, dataSetID, revisionID, assetID)
	if errors.Is(err, store.ErrNotFound) {
		if _, err := loadRevision(ctx, q, account, dataSetID, revisionID); err != nil {
			return a, err
		}
		return a, fault.NotFound(resource.KindAsset, assetID)
	}
	return a, unexpected("get asset", err)
}

// inTx runs fn in a store transaction and keeps its error as fn returned it.
// notificationsRecorded calls OnNotificationsRecorded if err is nil (the
// transaction committed), and returns err.
func (s *Service) notificationsRecorded(err error) error {
	if err == nil && s.OnNotificationsRecorded != nil {
		s.OnNotificationsRecorded()
	}
	return err
}

func (s *Service) inTx(ctx context.Context, op string, fn func(q store.Queries) error) error {
	var fnErr error
	err := s.store.InTx(ctx, func(q store.Queries) error {
		fnErr = fn(q)
		return fnErr
	})
	if fnErr != nil {
		return fnErr
	}
	return unexpected(op, err)
}
