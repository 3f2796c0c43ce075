package exchange

import (
	"context"
	"errors"

	"github.com/wharf-dev/wharf/internal/fault"
	"github.com/wharf-dev/wharf/internal/resource"
	"github.com/wharf-dev/wharf/internal/store"
)

// TagResourceInput is TagResource's request.
type TagResourceInput struct {
	ResourceARN string
	Tags        map[string]string
}

// TagResource adds tags to a resource, overwriting the values of keys it
// already has. It does not change the resource's UpdatedAt.
func (s *Service) TagResource(ctx context.Context, account string, in TagResourceInput) error {
	if in.Tags == nil {
		return fault.Validationf("tags is required")
	}
	if err := checkTags(in.Tags, 0); err != nil {
		return err
	}
	target, err := s.parseTaggableARN(account, in.ResourceARN)
	if err != nil {
		return err
	}
	return s.inTx(ctx, "tag resource", func(q store.Queries) error {
		id, err := resolveTaggable(ctx, q, account, target, true)
		if err != nil {
			return err
		}
		current, err := q.GetTags(ctx, id)
		if err != nil {
			return unexpected("get tags", err)
		}
		count := len(current)
		for k := range in.Tags {
			if _, ok := current[k]; !ok {
				count++
			}
		}
		if err := checkTags(nil, count); err != nil {
			return err
		}
		if len(in.Tags) == 0 {
			return nil
		}
		return unexpected("set tags", q.SetTags(ctx, id, in.Tags))
	})
}

// UntagResourceInput is UntagResource's request.
type UntagResourceInput struct {
	ResourceARN string
	TagKeys     []string
}

// UntagResource removes tags by key; keys the resource doesn't have are ignored.
func (s *Service) UntagResource(ctx context.Context, account string, in UntagResourceInput) error {
	if len(in.TagKeys) == 0 {
		return fault.Validationf("tagKeys is required: name at least one tag key to remove")
	}
	for _, k := range in.TagKeys {
		if err := checkLength("tag key", k, 1, maxTagKeyLen); err != nil {
			return err
		}
	}
	target, err := s.parseTaggableARN(account, in.ResourceARN)
	if err != nil {
		return err
	}
	return s.inTx(ctx, "untag resource", func(q store.Queries) error {
		id, err := resolveTaggable(ctx, q, account, target, true)
		if err != nil {
			return err
		}
		return unexpected("remove tags", q.RemoveTags(ctx, id, in.TagKeys))
	})
}

// ListTagsForResourceInput is ListTagsForResource's request.
type ListTagsForResourceInput struct {
	ResourceARN string
}

// ListTagsForResource returns a resource's tags (an empty map if it has none).
func (s *Service) ListTagsForResource(ctx context.Context, account string, in ListTagsForResourceInput) (map[string]string, error) {
	target, err := s.parseTaggableARN(account, in.ResourceARN)
	if err != nil {
		return nil, err
	}
	id, err := resolveTaggable(ctx, s.store, account, target, false)
	if err != nil {
		return nil, err
	}
	tags, err := s.store.GetTags(ctx, id)
	if err != nil {
		return nil, unexpected("get tags", err)
	}
	if tags == nil {
		tags = map[string]string{}
	}
	return tags, nil
}

// parseTaggableARN checks that arn names a resource this server could hold
// for the caller and that can be tagged in this version.
func (s *Service) parseTaggableARN(account, arn string) (resource.ParsedARN, error) {
	if arn == "" {
		return resource.ParsedARN{}, fault.Validationf("ResourceArn is required")
	}
	p, err := resource.ParseARN(arn)
	if err != nil {
		return p, fault.Validationf("ResourceArn: %v", err)
	}
	if p.Region != s.region {
		return p, fault.Validationf("ResourceArn %q is in region %q, but this server is region %q", arn, p.Region, s.region)
	}
	switch p.Kind {
	case resource.KindDataSet, resource.KindRevision, resource.KindAsset, resource.KindEventAction, resource.KindDataGrant:
	default:
		return p, fault.Validationf("ResourceArn %q: tagging %s resources is not supported yet; data sets, revisions, assets, event actions and data grants can be tagged", arn, p.Kind)
	}
	// An empty account field names an entitled resource, which the caller
	// sees in its own account. Another account's resource is reported
	// exactly like a missing one.
	if p.Account == "" && p.Kind != resource.KindDataGrant && p.Kind != resource.KindEventAction {
		p.Account = account
		p.Entitled = true
		return p, nil
	}
	if p.Account != account {
		return p, fault.NotFound(p.Kind, p.ID)
	}
	return p, nil
}

// resolveTaggable checks that the resource exists for the caller (locking its
// row inside a transaction) and returns the id its tags are kept under.
// Entitled data sets and what they show can't be tagged (writing), and show
// no tags: the source's don't reach them.
func resolveTaggable(ctx context.Context, q store.Queries, account string, p resource.ParsedARN, writing bool) (string, error) {
	switch p.Kind {
	case resource.KindDataGrant:
		_, err := loadSentGrant(ctx, q, account, p.ID)
		return p.ID, err
	case resource.KindEventAction:
		_, err := q.GetEventAction(ctx, account, p.ID)
		if errors.Is(err, store.ErrNotFound) {
			err = fault.NotFound(resource.KindEventAction, p.ID)
		}
		return p.ID, err
	}
	ds, err := loadDataSet(ctx, q, account, p.DataSetID)
	if err != nil {
		return "", err
	}
	if p.Entitled != (ds.Origin == resource.OriginEntitled) {
		// An owned resource named in the entitled form, or the reverse.
		return "", fault.NotFound(p.Kind, p.ID)
	}
	if ds.Origin == resource.OriginEntitled {
		if writing {
			return "", fault.AccessDeniedf("%s %s is entitled (shared with you through a data grant): it can't be tagged", p.Kind, p.ID)
		}
		g, err := ResolveEntitlement(ctx, q, ds, resource.Now())
		if err != nil {
			return "", err
		}
		sc := readScope{dataSet: ds, account: g.AccountID, dataSetID: g.SourceDataSetID, entitled: true}
		switch p.Kind {
		case resource.KindRevision:
			_, err = sc.revision(ctx, q, p.RevisionID)
		case resource.KindAsset:
			_, err = sc.asset(ctx, q, p.RevisionID, p.AssetID)
		}
		return "", err // no tags
	}
	switch p.Kind {
	case resource.KindRevision:
		_, err = loadRevision(ctx, q, account, p.DataSetID, p.RevisionID)
	case resource.KindAsset:
		_, err = loadAsset(ctx, q, account, p.DataSetID, p.RevisionID, p.AssetID)
	}
	return p.ID, err
}
