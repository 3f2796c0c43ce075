package exchange

import (
	"context"
	"errors"

	"github.com/wharf-dev/wharf/internal/fault"
	"github.com/wharf-dev/wharf/internal/resource"
	"github.com/wharf-dev/wharf/internal/store"
)

// GetAssetInput is GetAsset's request.
type GetAssetInput struct {
	DataSetID  string
	RevisionID string
	AssetID    string
}

func (in GetAssetInput) check() error {
	return requireIDs("DataSetId", in.DataSetID, "RevisionId", in.RevisionID, "AssetId", in.AssetID)
}

// GetAsset returns an asset with its tags.
func (s *Service) GetAsset(ctx context.Context, account string, in GetAssetInput) (AssetView, error) {
	if err := in.check(); err != nil {
		return AssetView{}, err
	}
	sc, err := s.scopeOf(ctx, s.store, account, in.DataSetID)
	if err != nil {
		return AssetView{}, err
	}
	a, err := sc.asset(ctx, s.store, in.RevisionID, in.AssetID)
	if err != nil {
		return AssetView{}, err
	}
	tags := map[string]string{} // the source's tags don't reach entitled copies
	if !sc.entitled {
		if tags, err = s.store.GetTags(ctx, a.ID); err != nil {
			return AssetView{}, unexpected("get tags", err)
		}
	}
	return s.scopedAssetView(sc, a, tags), nil
}

// UpdateAssetInput is UpdateAsset's request.
type UpdateAssetInput struct {
	DataSetID  string
	RevisionID string
	AssetID    string
	Name       *string
}

// UpdateAsset renames an asset of an unfinalized revision.
func (s *Service) UpdateAsset(ctx context.Context, account string, in UpdateAssetInput) (AssetView, error) {
	if err := (GetAssetInput{in.DataSetID, in.RevisionID, in.AssetID}).check(); err != nil {
		return AssetView{}, err
	}
	if err := requireString("Name", in.Name, 1, maxAssetNameLen); err != nil {
		return AssetView{}, err
	}
	var a resource.Asset
	err := s.inTx(ctx, "update asset", func(q store.Queries) error {
		// Lock the revision first (data set, revision, asset is the lock
		// order everywhere) so that it can't be finalized meanwhile.
		if _, err := requireOwned(ctx, q, account, in.DataSetID); err != nil {
			return err
		}
		r, err := loadRevision(ctx, q, account, in.DataSetID, in.RevisionID)
		if err != nil {
			return err
		}
		if r.Finalized {
			return fault.Conflictf(resource.KindRevision, r.ID, "revision %s is finalized: its assets can't be changed", r.ID)
		}
		if a, err = loadAsset(ctx, q, account, in.DataSetID, in.RevisionID, in.AssetID); err != nil {
			return err
		}
		a.Name = *in.Name
		a.UpdatedAt = updateTime(a.UpdatedAt)
		return unexpected("update asset", q.UpdateAsset(ctx, a))
	})
	if err != nil {
		return AssetView{}, err
	}
	return s.assetView(a, nil), nil
}

// DeleteAssetInput is DeleteAsset's request.
type DeleteAssetInput struct {
	DataSetID  string
	RevisionID string
	AssetID    string
}

// DeleteAsset deletes an asset of an unfinalized revision, or of a revoked
// one (revoking withdraws a revision's data, and its assets may then go).
func (s *Service) DeleteAsset(ctx context.Context, account string, in DeleteAssetInput) error {
	if err := (GetAssetInput{in.DataSetID, in.RevisionID, in.AssetID}).check(); err != nil {
		return err
	}
	return s.inTx(ctx, "delete asset", func(q store.Queries) error {
		if _, err := requireOwned(ctx, q, account, in.DataSetID); err != nil {
			return err
		}
		r, err := loadRevision(ctx, q, account, in.DataSetID, in.RevisionID)
		if err != nil {
			return err
		}
		if r.Finalized && !r.Revoked {
			return fault.Conflictf(resource.KindRevision, r.ID, "revision %s is finalized: its assets can't be deleted", r.ID)
		}
		if _, err := loadAsset(ctx, q, account, in.DataSetID, in.RevisionID, in.AssetID); err != nil {
			return err
		}
		err = q.DeleteAsset(ctx, account, in.DataSetID, in.RevisionID, in.AssetID)
		if errors.Is(err, store.ErrNotFound) {
			return fault.NotFound(resource.KindAsset, in.AssetID)
		}
		return unexpected("delete asset", err)
	})
}

// ListRevisionAssetsInput is ListRevisionAssets' request.
type ListRevisionAssetsInput struct {
	DataSetID  string
	RevisionID string
	PageInput
}

// ListRevisionAssets lists a revision's assets by name, descending.
func (s *Service) ListRevisionAssets(ctx context.Context, account string, in ListRevisionAssetsInput) (Page[AssetView], error) {
	if err := requireIDs("DataSetId", in.DataSetID, "RevisionId", in.RevisionID); err != nil {
		return Page[AssetView]{}, err
	}
	req, err := pageRequest(listingAssets, in.PageInput)
	if err != nil {
		return Page[AssetView]{}, err
	}
	sc, err := s.scopeOf(ctx, s.store, account, in.DataSetID)
	if err != nil {
		return Page[AssetView]{}, err
	}
	if _, err := sc.revision(ctx, s.store, in.RevisionID); err != nil {
		return Page[AssetView]{}, err
	}
	page, err := s.store.ListAssets(ctx, sc.account, sc.dataSetID, in.RevisionID, req)
	if err != nil {
		return Page[AssetView]{}, unexpected("list assets", err)
	}
	return mapPage(listingAssets, page, func(a resource.Asset) AssetView { return s.scopedAssetView(sc, a, nil) }), nil
}
