package exchange

import (
	"context"
	"errors"

	"github.com/wharf-dev/wharf/internal/fault"
	"github.com/wharf-dev/wharf/internal/resource"
	"github.com/wharf-dev/wharf/internal/store"
)

// CreateDataSetInput is CreateDataSet's request. Pointers are nil when the
// member was absent.
type CreateDataSetInput struct {
	Name        *string
	Description *string
	AssetType   *string
	Tags        map[string]string
}

// CreateDataSet creates an owned data set.
func (s *Service) CreateDataSet(ctx context.Context, account string, in CreateDataSetInput) (DataSetView, error) {
	if err := requireString("Name", in.Name, 1, maxDataSetNameLen); err != nil {
		return DataSetView{}, err
	}
	if err := requireString("Description", in.Description, 0, maxDataSetDescriptionLen); err != nil {
		return DataSetView{}, err
	}
	if err := checkAssetType(in.AssetType); err != nil {
		return DataSetView{}, err
	}
	if err := checkTags(in.Tags, len(in.Tags)); err != nil {
		return DataSetView{}, err
	}
	now := resource.Now()
	d := resource.DataSet{
		AccountID:   account,
		ID:          resource.NewID(),
		Name:        *in.Name,
		Description: *in.Description,
		AssetType:   *in.AssetType,
		Origin:      resource.OriginOwned,
		CreatedAt:   now,
		UpdatedAt:   now,
	}
	tags := copyTags(in.Tags)
	err := s.inTx(ctx, "create data set", func(q store.Queries) error {
		// Locking the account row serializes an account's creations, so
		// that concurrent requests can't overshoot the quota together.
		if _, err := q.GetAccount(ctx, account); err != nil && !errors.Is(err, store.ErrNotFound) {
			return unexpected("lock account", err)
		}
		n, err := countOwnedDataSets(ctx, q, account, s.DataSetsPerAccount)
		if err != nil {
			return err
		}
		if n >= s.DataSetsPerAccount {
			return fault.LimitExceeded(LimitDataSetsPerAccount, float64(s.DataSetsPerAccount))
		}
		if err := q.InsertDataSet(ctx, d); err != nil {
			return unexpected("insert data set", err)
		}
		if len(tags) > 0 {
			return unexpected("set tags", q.SetTags(ctx, d.ID, tags))
		}
		return nil
	})
	if err != nil {
		return DataSetView{}, err
	}
	return s.dataSetView(d, tags), nil
}

// dataSetCounter is an optional store capability: a driver that can count
// an account's data sets in one query saves CreateDataSet a scan.
type dataSetCounter interface {
	CountDataSets(ctx context.Context, accountID string, f store.DataSetFilter) (int, error)
}

// countOwnedDataSets counts the account's owned data sets, stopping once it
// reaches limit (only whether the quota is reached matters).
func countOwnedDataSets(ctx context.Context, q store.Queries, account string, limit int) (int, error) {
	filter := store.DataSetFilter{Origin: resource.OriginOwned}
	if c, ok := q.(dataSetCounter); ok {
		n, err := c.CountDataSets(ctx, account, filter)
		return n, unexpected("count data sets", err)
	}
	n := 0
	req := store.PageRequest{Limit: 500}
	for n < limit {
		page, err := q.ListDataSets(ctx, account, filter, req)
		if err != nil {
			return 0, unexpected("count data sets", err)
		}
		n += len(page.Items)
		if page.Next == nil {
			break
		}
		req.After = page.Next
	}
	return n, nil
}

// GetDataSetInput is GetDataSet's request.
type GetDataSetInput struct {
	DataSetID string
}

// GetDataSet returns the caller's data set with its tags.
func (s *Service) GetDataSet(ctx context.Context, account string, in GetDataSetInput) (DataSetView, error) {
	if err := requireID("DataSetId", in.DataSetID); err != nil {
		return DataSetView{}, err
	}
	d, err := loadDataSet(ctx, s.store, account, in.DataSetID)
	if err != nil {
		return DataSetView{}, err
	}
	tags, err := s.store.GetTags(ctx, d.ID)
	if err != nil {
		return DataSetView{}, unexpected("get tags", err)
	}
	return s.dataSetView(d, tags), nil
}

// UpdateDataSetInput is UpdateDataSet's request; nil members are left as they are.
type UpdateDataSetInput struct {
	DataSetID   string
	Name        *string
	Description *string
}

// UpdateDataSet changes a data set's name or description.
func (s *Service) UpdateDataSet(ctx context.Context, account string, in UpdateDataSetInput) (DataSetView, error) {
	if err := requireID("DataSetId", in.DataSetID); err != nil {
		return DataSetView{}, err
	}
	if err := optionalString("Name", in.Name, 1, maxDataSetNameLen); err != nil {
		return DataSetView{}, err
	}
	if err := optionalString("Description", in.Description, 0, maxDataSetDescriptionLen); err != nil {
		return DataSetView{}, err
	}
	var d resource.DataSet
	err := s.inTx(ctx, "update data set", func(q store.Queries) error {
		var err error
		if d, err = requireOwned(ctx, q, account, in.DataSetID); err != nil {
			return err
		}
		if in.Name != nil {
			d.Name = *in.Name
		}
		if in.Description != nil {
			d.Description = *in.Description
		}
		d.UpdatedAt = updateTime(d.UpdatedAt)
		return unexpected("update data set", q.UpdateDataSet(ctx, d))
	})
	if err != nil {
		return DataSetView{}, err
	}
	return s.dataSetView(d, nil), nil
}

// DeleteDataSetInput is DeleteDataSet's request.
type DeleteDataSetInput struct {
	DataSetID string
}

// DeleteDataSet deletes a data set with all its revisions and assets,
// finalized or not, and their tags.
func (s *Service) DeleteDataSet(ctx context.Context, account string, in DeleteDataSetInput) error {
	if err := requireID("DataSetId", in.DataSetID); err != nil {
		return err
	}
	return s.inTx(ctx, "delete data set", func(q store.Queries) error {
		if _, err := requireOwned(ctx, q, account, in.DataSetID); err != nil {
			return err
		}
		grants, err := q.CountDataGrants(ctx, store.DataGrantFilter{SenderAccountID: account, SourceDataSetID: in.DataSetID})
		if err != nil {
			return unexpected("count data grants", err)
		}
		if grants > 0 {
			return fault.Conflictf(resource.KindDataSet, in.DataSetID,
				"data set %s is shared through %d data grant(s): delete them before deleting the data set", in.DataSetID, grants)
		}
		err = q.DeleteDataSet(ctx, account, in.DataSetID)
		if errors.Is(err, store.ErrNotFound) {
			return fault.NotFound(resource.KindDataSet, in.DataSetID)
		}
		return unexpected("delete data set", err)
	})
}

// ListDataSetsInput is ListDataSets' request.
type ListDataSetsInput struct {
	// Origin is "" (every data set), OWNED or ENTITLED.
	Origin string
	PageInput
}

// ListDataSets lists the caller's data sets, newest first.
func (s *Service) ListDataSets(ctx context.Context, account string, in ListDataSetsInput) (Page[DataSetView], error) {
	if in.Origin != "" && in.Origin != resource.OriginOwned && in.Origin != resource.OriginEntitled {
		return Page[DataSetView]{}, fault.Validationf("origin %q is not one of %s, %s", in.Origin, resource.OriginOwned, resource.OriginEntitled)
	}
	req, err := pageRequest(listingDataSets, in.PageInput)
	if err != nil {
		return Page[DataSetView]{}, err
	}
	page, err := s.store.ListDataSets(ctx, account, store.DataSetFilter{Origin: in.Origin}, req)
	if err != nil {
		return Page[DataSetView]{}, unexpected("list data sets", err)
	}
	return mapPage(listingDataSets, page, func(d resource.DataSet) DataSetView { return s.dataSetView(d, nil) }), nil
}

func copyTags(tags map[string]string) map[string]string {
	out := make(map[string]string, len(tags))
	for k, v := range tags {
		out[k] = v
	}
	return out
}
