package exchange

import (
	"context"
	"errors"
	"time"

	"github.com/wharf-dev/wharf/internal/fault"
	"github.com/wharf-dev/wharf/internal/resource"
	"github.com/wharf-dev/wharf/internal/store"
)

// Entitled data sets. Accepting a data grant gives the receiver a data set
// of its own (Origin ENTITLED) that holds no revisions: it reads through to
// the grant's source data set, showing its finalized revisions (revoked ones
// included, marked Revoked) and their assets under the entitled data set's
// id, with ARNs whose account field is empty, as AWS writes entitled
// resources'. Every change to it is refused with AccessDeniedException.

// ResolveEntitlement returns the grant through which ds, an entitled data
// set, reads its source (grant.AccountID, grant.SourceDataSetID). A grant
// that has ended is an AccessDeniedException; a deleted grant takes its
// entitled data set with it, so a missing one means ds is gone too.
func ResolveEntitlement(ctx context.Context, q store.Queries, ds resource.DataSet, now time.Time) (resource.DataGrant, error) {
	if ds.OriginDetails == nil || ds.OriginDetails.DataGrantID == "" {
		return resource.DataGrant{}, fault.AccessDeniedf("data set %s is entitled through no data grant", ds.ID)
	}
	g, err := q.GetReceivedDataGrant(ctx, ds.AccountID, ds.OriginDetails.DataGrantID)
	if errors.Is(err, store.ErrNotFound) || err == nil && (g.DataSetID != ds.ID || g.AcceptanceState != resource.GrantAccepted) {
		return g, fault.NotFound(resource.KindDataSet, ds.ID)
	}
	if err != nil {
		return g, unexpected("get data grant", err)
	}
	if g.Ended(now) {
		return g, fault.AccessDeniedf("data grant %s ended at %s: data set %s can no longer be read or exported",
			g.ID, g.EndsAt.Format(time.RFC3339), ds.ID)
	}
	return g, nil
}

// AcceptedGrants returns the grants of sender's data set dataSetID that
// are accepted and have not ended at now: the accounts that see it.
func AcceptedGrants(ctx context.Context, q store.Queries, sender, dataSetID string, now time.Time) ([]resource.DataGrant, error) {
	var out []resource.DataGrant
	req := store.PageRequest{Limit: 500}
	for {
		page, err := q.ListDataGrants(ctx, sender, req)
		if err != nil {
			return nil, unexpected("list data grants", err)
		}
		for _, g := range page.Items {
			if g.SourceDataSetID == dataSetID && g.AcceptanceState == resource.GrantAccepted && !g.Ended(now) {
				out = append(out, g)
			}
		}
		if page.Next == nil {
			return out, nil
		}
		req.After = page.Next
	}
}

// readScope is where a data set's revisions and assets are read: the data
// set's own, or for an entitled data set its source's.
type readScope struct {
	dataSet   resource.DataSet // as the caller sees it
	account   string           // where the revisions live
	dataSetID string
	entitled  bool
}

func (s *Service) scopeOf(ctx context.Context, q store.Queries, account, dataSetID string) (readScope, error) {
	ds, err := loadDataSet(ctx, q, account, dataSetID)
	if err != nil {
		return readScope{}, err
	}
	if ds.Origin != resource.OriginEntitled {
		return readScope{dataSet: ds, account: account, dataSetID: ds.ID}, nil
	}
	g, err := ResolveEntitlement(ctx, q, ds, resource.Now())
	if err != nil {
		return readScope{}, err
	}
	return readScope{dataSet: ds, account: g.AccountID, dataSetID: g.SourceDataSetID, entitled: true}, nil
}

// revision reads a revision in scope; an entitled data set shows only its
// source's finalized revisions.
func (sc readScope) revision(ctx context.Context, q store.Queries, revisionID string) (resource.Revision, error) {
	r, err := q.GetRevision(ctx, sc.account, sc.dataSetID, revisionID)
	if errors.Is(err, store.ErrNotFound) || err == nil && sc.entitled && !r.Finalized {
		return r, fault.NotFound(resource.KindRevision, revisionID)
	}
	return r, unexpected("get revision", err)
}

func (sc readScope) asset(ctx context.Context, q store.Queries, revisionID, assetID string) (resource.Asset, error) {
	if _, err := sc.revision(ctx, q, revisionID); err != nil {
		return resource.Asset{}, err
	}
	a, err := q.GetAsset(ctx, sc.account, sc.dataSetID, revisionID, assetID)
	if errors.Is(err, store.ErrNotFound) {
		return a, fault.NotFound(resource.KindAsset, assetID)
	}
	return a, unexpected("get asset", err)
}

// revisionView shows a revision read in scope.
func (s *Service) scopedRevisionView(sc readScope, r resource.Revision, tags map[string]string) RevisionView {
	if !sc.entitled {
		return s.revisionView(r, tags)
	}
	r.AccountID, r.DataSetID, r.SourceID = sc.dataSet.AccountID, sc.dataSet.ID, ""
	return RevisionView{Revision: r, ARN: resource.RevisionARN(s.region, "", r.DataSetID, r.ID), Tags: tags}
}

func (s *Service) scopedAssetView(sc readScope, a resource.Asset, tags map[string]string) AssetView {
	if !sc.entitled {
		return s.assetView(a, tags)
	}
	a.AccountID, a.DataSetID, a.SourceID = sc.dataSet.AccountID, sc.dataSet.ID, ""
	return AssetView{Asset: a, ARN: resource.AssetARN(s.region, "", a.DataSetID, a.RevisionID, a.ID), Tags: tags}
}

// requireOwned refuses changes to an entitled data set (and checks that
// the data set exists, locking its row inside a transaction).
func requireOwned(ctx context.Context, q store.Queries, account, dataSetID string) (resource.DataSet, error) {
	ds, err := loadDataSet(ctx, q, account, dataSetID)
	if err != nil {
		return ds, err
	}
	return ds, refuseEntitled(ds)
}

func refuseEntitled(ds resource.DataSet) error {
	if ds.Origin == resource.OriginEntitled {
		return fault.AccessDeniedf("data set %s is entitled (shared with you through a data grant): it can be read and exported, not changed", ds.ID)
	}
	return nil
}
