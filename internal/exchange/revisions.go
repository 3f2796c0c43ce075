package exchange

import (
	"context"
	"errors"

	"github.com/wharf-dev/wharf/internal/fault"
	"github.com/wharf-dev/wharf/internal/resource"
	"github.com/wharf-dev/wharf/internal/store"
)

// CreateRevisionInput is CreateRevision's request.
type CreateRevisionInput struct {
	DataSetID string
	Comment   *string
	Tags      map[string]string
}

// CreateRevision adds an unfinalized revision to a data set.
func (s *Service) CreateRevision(ctx context.Context, account string, in CreateRevisionInput) (RevisionView, error) {
	if err := requireID("DataSetId", in.DataSetID); err != nil {
		return RevisionView{}, err
	}
	if err := optionalString("Comment", in.Comment, 0, maxRevisionCommentLen); err != nil {
		return RevisionView{}, err
	}
	if err := checkTags(in.Tags, len(in.Tags)); err != nil {
		return RevisionView{}, err
	}
	now := resource.Now()
	r := resource.Revision{
		AccountID: account,
		DataSetID: in.DataSetID,
		ID:        resource.NewID(),
		CreatedAt: now,
		UpdatedAt: now,
	}
	if in.Comment != nil {
		r.Comment = *in.Comment
	}
	tags := copyTags(in.Tags)
	err := s.inTx(ctx, "create revision", func(q store.Queries) error {
		// The data set's row lock serializes revision creations in it, so
		// the quota holds under concurrency.
		ds, err := requireOwned(ctx, q, account, in.DataSetID)
		if err != nil {
			return err
		}
		n, err := q.CountRevisions(ctx, account, in.DataSetID)
		if err != nil {
			return unexpected("count revisions", err)
		}
		if name, limit := s.revisionQuota(ds.AssetType); n >= limit {
			return fault.LimitExceeded(name, float64(limit))
		}
		if err := q.InsertRevision(ctx, r); err != nil {
			return unexpected("insert revision", err)
		}
		if len(tags) > 0 {
			return unexpected("set tags", q.SetTags(ctx, r.ID, tags))
		}
		return nil
	})
	if err != nil {
		return RevisionView{}, err
	}
	return s.revisionView(r, tags), nil
}

// GetRevisionInput is GetRevision's request.
type GetRevisionInput struct {
	DataSetID  string
	RevisionID string
}

// GetRevision returns a revision with its tags.
func (s *Service) GetRevision(ctx context.Context, account string, in GetRevisionInput) (RevisionView, error) {
	if err := requireIDs("DataSetId", in.DataSetID, "RevisionId", in.RevisionID); err != nil {
		return RevisionView{}, err
	}
	sc, err := s.scopeOf(ctx, s.store, account, in.DataSetID)
	if err != nil {
		return RevisionView{}, err
	}
	r, err := sc.revision(ctx, s.store, in.RevisionID)
	if err != nil {
		return RevisionView{}, err
	}
	tags := map[string]string{} // the source's tags don't reach entitled copies
	if !sc.entitled {
		if tags, err = s.store.GetTags(ctx, r.ID); err != nil {
			return RevisionView{}, unexpected("get tags", err)
		}
	}
	return s.scopedRevisionView(sc, r, tags), nil
}

// UpdateRevisionInput is UpdateRevision's request; nil members are left as
// they are.
type UpdateRevisionInput struct {
	DataSetID  string
	RevisionID string
	Comment    *string
	Finalized  *bool
}

// UpdateRevision changes a revision's comment or finalizes / un-finalizes it.
//
// Rules: a revoked revision can't change at all; finalizing needs at least
// one asset; a finalized revision's comment can change only in the request
// that un-finalizes it.
func (s *Service) UpdateRevision(ctx context.Context, account string, in UpdateRevisionInput) (RevisionView, error) {
	if err := requireIDs("DataSetId", in.DataSetID, "RevisionId", in.RevisionID); err != nil {
		return RevisionView{}, err
	}
	if err := optionalString("Comment", in.Comment, 0, maxRevisionCommentLen); err != nil {
		return RevisionView{}, err
	}
	var (
		r resource.Revision
		// publishingFinal: the last try of the transaction finalized the
		// revision, recording its event.
		publishingFinal bool
	)
	err := s.inTx(ctx, "update revision", func(q store.Queries) error {
		ds, err := requireOwned(ctx, q, account, in.DataSetID)
		if err != nil {
			return err
		}
		if in.Finalized != nil && *in.Finalized {
			// Publishing starts the event actions' jobs, whose checks lock
			// the data set: lock it before the revision, the order
			// everything else takes them in.
			if ds, err = loadDataSet(ctx, q, account, in.DataSetID); err != nil {
				return err
			}
		}
		if r, err = loadRevision(ctx, q, account, in.DataSetID, in.RevisionID); err != nil {
			return err
		}
		publishing := in.Finalized != nil && *in.Finalized && !r.Finalized
		publishingFinal = publishing
		if r.Revoked {
			return fault.Conflictf(resource.KindRevision, r.ID, "revision %s is revoked: a revoked revision can't be changed", r.ID)
		}
		unfinalizing := in.Finalized != nil && !*in.Finalized
		if r.Finalized && !unfinalizing && in.Comment != nil && *in.Comment != r.Comment {
			return fault.Conflictf(resource.KindRevision, r.ID,
				"revision %s is finalized: its Comment can change only in a request that also sets Finalized to false", r.ID)
		}
		if in.Finalized != nil && *in.Finalized {
			// The revision row is locked, and whatever adds or deletes
			// assets locks it too, so the count can't go stale before commit.
			n, err := q.CountAssets(ctx, account, r.DataSetID, r.ID)
			if err != nil {
				return unexpected("count assets", err)
			}
			if n == 0 {
				return fault.Validationf("Finalized: revision %s has no assets; a revision needs at least one asset to be finalized", r.ID)
			}
		}
		if in.Comment != nil {
			r.Comment = *in.Comment
		}
		if in.Finalized != nil {
			r.Finalized = *in.Finalized
		}
		r.UpdatedAt = updateTime(r.UpdatedAt)
		if err := q.UpdateRevision(ctx, r); err != nil {
			return unexpected("update revision", err)
		}
		if publishing {
			if err := revisionEvent(ctx, q, resource.EventRevisionPublished, ds, r); err != nil {
				return unexpected("record revision event", err)
			}
		}
		if publishing && s.OnRevisionPublished != nil {
			return unexpected("revision published", s.OnRevisionPublished(ctx, q, r))
		}
		return nil
	})
	if publishingFinal {
		err = s.notificationsRecorded(err)
	}
	if err != nil {
		return RevisionView{}, err
	}
	return s.revisionView(r, nil), nil
}

// DeleteRevisionInput is DeleteRevision's request.
type DeleteRevisionInput struct {
	DataSetID  string
	RevisionID string
}

// DeleteRevision deletes an unfinalized revision with its assets.
func (s *Service) DeleteRevision(ctx context.Context, account string, in DeleteRevisionInput) error {
	if err := requireIDs("DataSetId", in.DataSetID, "RevisionId", in.RevisionID); err != nil {
		return err
	}
	return s.inTx(ctx, "delete revision", func(q store.Queries) error {
		if _, err := requireOwned(ctx, q, account, in.DataSetID); err != nil {
			return err
		}
		r, err := loadRevision(ctx, q, account, in.DataSetID, in.RevisionID)
		if err != nil {
			return err
		}
		if r.Revoked {
			return fault.Conflictf(resource.KindRevision, r.ID,
				"revision %s is revoked and so can't be deleted; delete its assets, or delete the data set", r.ID)
		}
		if r.Finalized {
			return fault.Conflictf(resource.KindRevision, r.ID,
				"revision %s is finalized: set Finalized to false before deleting it", r.ID)
		}
		err = q.DeleteRevision(ctx, account, in.DataSetID, in.RevisionID)
		if errors.Is(err, store.ErrNotFound) {
			return fault.NotFound(resource.KindRevision, in.RevisionID)
		}
		return unexpected("delete revision", err)
	})
}

// ListDataSetRevisionsInput is ListDataSetRevisions' request.
type ListDataSetRevisionsInput struct {
	DataSetID string
	PageInput
}

// ListDataSetRevisions lists a data set's revisions, newest first.
func (s *Service) ListDataSetRevisions(ctx context.Context, account string, in ListDataSetRevisionsInput) (Page[RevisionView], error) {
	if err := requireID("DataSetId", in.DataSetID); err != nil {
		return Page[RevisionView]{}, err
	}
	req, err := pageRequest(listingRevisions, in.PageInput)
	if err != nil {
		return Page[RevisionView]{}, err
	}
	// An empty listing must not hide that the data set doesn't exist.
	sc, err := s.scopeOf(ctx, s.store, account, in.DataSetID)
	if err != nil {
		return Page[RevisionView]{}, err
	}
	var page store.Page[resource.Revision]
	if sc.entitled {
		page, err = s.store.ListFinalizedRevisions(ctx, sc.account, sc.dataSetID, req)
	} else {
		page, err = s.store.ListRevisions(ctx, account, in.DataSetID, req)
	}
	if err != nil {
		return Page[RevisionView]{}, unexpected("list revisions", err)
	}
	return mapPage(listingRevisions, page, func(r resource.Revision) RevisionView { return s.scopedRevisionView(sc, r, nil) }), nil
}

// RevokeRevisionInput is RevokeRevision's request.
type RevokeRevisionInput struct {
	DataSetID         string
	RevisionID        string
	RevocationComment *string
}

// RevokeRevision revokes a finalized revision, for good.
func (s *Service) RevokeRevision(ctx context.Context, account string, in RevokeRevisionInput) (RevisionView, error) {
	if err := requireIDs("DataSetId", in.DataSetID, "RevisionId", in.RevisionID); err != nil {
		return RevisionView{}, err
	}
	if err := requireString("RevocationComment", in.RevocationComment, minRevocationCommentLen, maxRevocationCommentLen); err != nil {
		return RevisionView{}, err
	}
	var r resource.Revision
	err := s.inTx(ctx, "revoke revision", func(q store.Queries) error {
		ds, err := requireOwned(ctx, q, account, in.DataSetID)
		if err != nil {
			return err
		}
		if r, err = loadRevision(ctx, q, account, in.DataSetID, in.RevisionID); err != nil {
			return err
		}
		if r.Revoked {
			return fault.Conflictf(resource.KindRevision, r.ID, "revision %s is already revoked", r.ID)
		}
		if !r.Finalized {
			return fault.Conflictf(resource.KindRevision, r.ID, "revision %s is not finalized: only finalized revisions can be revoked", r.ID)
		}
		r.UpdatedAt = updateTime(r.UpdatedAt)
		revokedAt := r.UpdatedAt
		r.Revoked = true
		r.RevokedAt = &revokedAt
		r.RevocationComment = *in.RevocationComment
		if err := q.UpdateRevision(ctx, r); err != nil {
			return unexpected("update revision", err)
		}
		return unexpected("record revision event", revisionEvent(ctx, q, resource.EventRevisionRevoked, ds, r))
	})
	err = s.notificationsRecorded(err)
	if err != nil {
		return RevisionView{}, err
	}
	return s.revisionView(r, nil), nil
}
