package exchange

import (
	"context"
	"errors"
	"slices"
	"time"

	"github.com/wharf-dev/wharf/internal/fault"
	"github.com/wharf-dev/wharf/internal/resource"
	"github.com/wharf-dev/wharf/internal/store"
)

// Data grant quota names, as ServiceLimitExceededException's LimitName
// spells them, and Wharf's defaults for them (the reference gives no
// values; see docs/behaviour.md).
const (
	LimitActiveAndPendingDataGrants   = "Active and pending data grants"
	LimitPendingDataGrantsPerConsumer = "Pending data grants per consumer"

	DefaultActiveAndPendingDataGrants   = 2000
	DefaultPendingDataGrantsPerConsumer = 50
)

const (
	maxGrantNameLen        = 256
	maxGrantDescriptionLen = 16384
	listingDataGrants      = "data-grants"
	listingReceivedGrants  = "received-data-grants"
)

// DataGrantView is a data grant as the operations return it.
type DataGrantView struct {
	resource.DataGrant
	ARN string
	// Tags is nil where the operation returns none.
	Tags map[string]string
}

func (s *Service) dataGrantView(g resource.DataGrant, tags map[string]string) DataGrantView {
	return DataGrantView{DataGrant: g, ARN: resource.DataGrantARN(s.region, g.AccountID, g.ID), Tags: tags}
}

// CreateDataGrantInput is CreateDataGrant's request. Pointers are nil when
// the member was absent.
type CreateDataGrantInput struct {
	Name                   *string
	Description            *string
	GrantDistributionScope *string
	ReceiverPrincipal      *string
	SourceDataSetID        *string
	EndsAt                 *time.Time
	Tags                   map[string]string
}

// CreateDataGrant shares one of the caller's owned data sets with another
// account; the grant waits for the receiver to accept it.
//
// The receiver need not be an account of this server (AWS does not check
// either, and checking would let accounts probe for each other): a grant to
// an account that does not exist stays pending.
func (s *Service) CreateDataGrant(ctx context.Context, account string, in CreateDataGrantInput) (DataGrantView, error) {
	if err := requireString("Name", in.Name, 1, maxGrantNameLen); err != nil {
		return DataGrantView{}, err
	}
	if err := optionalString("Description", in.Description, 1, maxGrantDescriptionLen); err != nil {
		return DataGrantView{}, err
	}
	if in.GrantDistributionScope == nil {
		return DataGrantView{}, fault.Validationf("GrantDistributionScope is required")
	}
	if sc := *in.GrantDistributionScope; sc != resource.GrantScopeNone && sc != resource.GrantScopeOrganization {
		return DataGrantView{}, fault.Validationf("GrantDistributionScope %q is not one of %s, %s",
			sc, resource.GrantScopeOrganization, resource.GrantScopeNone)
	}
	if in.ReceiverPrincipal == nil {
		return DataGrantView{}, fault.Validationf("ReceiverPrincipal is required")
	}
	if !resource.ValidAccountID(*in.ReceiverPrincipal) {
		return DataGrantView{}, fault.Validationf("ReceiverPrincipal %q is not a 12-digit account id", *in.ReceiverPrincipal)
	}
	if *in.ReceiverPrincipal == account {
		return DataGrantView{}, fault.Validationf("ReceiverPrincipal is the sender's own account: a data grant shares a data set with another account")
	}
	if in.SourceDataSetID == nil {
		return DataGrantView{}, fault.Validationf("SourceDataSetId is required")
	}
	if err := requireID("SourceDataSetId", *in.SourceDataSetID); err != nil {
		return DataGrantView{}, err
	}
	now := resource.Now()
	if in.EndsAt != nil && !in.EndsAt.After(now) {
		return DataGrantView{}, fault.Validationf("EndsAt %s is not in the future", in.EndsAt.UTC().Format(time.RFC3339))
	}
	if err := checkTags(in.Tags, len(in.Tags)); err != nil {
		return DataGrantView{}, err
	}
	g := resource.DataGrant{
		AccountID:              account,
		ID:                     resource.NewID(),
		Name:                   *in.Name,
		ReceiverAccountID:      *in.ReceiverPrincipal,
		SourceDataSetID:        *in.SourceDataSetID,
		DataSetID:              resource.NewID(),
		GrantDistributionScope: *in.GrantDistributionScope,
		AcceptanceState:        resource.GrantPendingAcceptance,
		CreatedAt:              now,
		UpdatedAt:              now,
	}
	if in.Description != nil {
		g.Description = *in.Description
	}
	if in.EndsAt != nil {
		ends := in.EndsAt.UTC().Truncate(time.Millisecond)
		g.EndsAt = &ends
	}
	tags := copyTags(in.Tags)
	err := s.inTx(ctx, "create data grant", func(q store.Queries) error {
		// The source data set's row lock serializes this account's grants
		// of it; the account row's, all of its grants (for the quota).
		if _, err := q.GetAccount(ctx, account); err != nil && !errors.Is(err, store.ErrNotFound) {
			return unexpected("lock account", err)
		}
		ds, err := loadDataSet(ctx, q, account, g.SourceDataSetID)
		if err != nil {
			return err
		}
		if ds.Origin != resource.OriginOwned {
			return fault.AccessDeniedf("data set %s is entitled: only data sets you own can be shared in a data grant", ds.ID)
		}
		n, err := q.CountDataGrants(ctx, store.DataGrantFilter{SenderAccountID: account, ActiveAt: now})
		if err != nil {
			return unexpected("count data grants", err)
		}
		if n >= s.ActiveAndPendingDataGrants {
			return fault.LimitExceeded(LimitActiveAndPendingDataGrants, float64(s.ActiveAndPendingDataGrants))
		}
		// Concurrent senders to one receiver would each count the same
		// pending grants and each insert one past the quota: the
		// receiver's lock row makes the count and the insert one step.
		if err := q.LockDataGrantReceiver(ctx, g.ReceiverAccountID); err != nil {
			return unexpected("lock data grant receiver", err)
		}
		n, err = q.CountDataGrants(ctx, store.DataGrantFilter{ReceiverAccountID: g.ReceiverAccountID,
			AcceptanceStates: []string{resource.GrantPendingAcceptance}, ActiveAt: now})
		if err != nil {
			return unexpected("count data grants", err)
		}
		if n >= s.PendingDataGrantsPerConsumer {
			return fault.LimitExceeded(LimitPendingDataGrantsPerConsumer, float64(s.PendingDataGrantsPerConsumer))
		}
		if err := q.InsertDataGrant(ctx, g); err != nil {
			return unexpected("insert data grant", err)
		}
		if len(tags) > 0 {
			return unexpected("set tags", q.SetTags(ctx, g.ID, tags))
		}
		return nil
	})
	if err != nil {
		return DataGrantView{}, err
	}
	return s.dataGrantView(g, tags), nil
}

// grantID reads a DataGrantId path label: an id, or the ARN of a grant the
// caller sent (another account's ARN names nothing the caller has).
func (s *Service) grantID(account, label string) (string, error) {
	if label == "" {
		return "", fault.Validationf("DataGrantId is required")
	}
	if resource.ValidID(label) {
		return label, nil
	}
	p, err := s.parseGrantARN("DataGrantId", label)
	if err != nil {
		return "", err
	}
	if p.Account != account {
		return "", fault.NotFound(resource.KindDataGrant, p.ID)
	}
	return p.ID, nil
}

// parseGrantARN checks that arn is a data grant's ARN in this region.
func (s *Service) parseGrantARN(field, arn string) (resource.ParsedARN, error) {
	if arn == "" {
		return resource.ParsedARN{}, fault.Validationf("%s is required", field)
	}
	p, err := resource.ParseARN(arn)
	if err != nil || p.Kind != resource.KindDataGrant || !resource.ValidAccountID(p.Account) {
		return p, fault.Validationf("%s %q is not a data grant id or ARN", field, arn)
	}
	if p.Region != s.region {
		return p, fault.Validationf("%s %q is in region %q, but this server is region %q", field, arn, p.Region, s.region)
	}
	return p, nil
}

func loadSentGrant(ctx context.Context, q store.Queries, account, id string) (resource.DataGrant, error) {
	g, err := q.GetDataGrant(ctx, account, id)
	if errors.Is(err, store.ErrNotFound) {
		return g, fault.NotFound(resource.KindDataGrant, id)
	}
	return g, unexpected("get data grant", err)
}

// loadReceivedGrant reads a grant by the ARN the receiver names it with.
func (s *Service) loadReceivedGrant(ctx context.Context, q store.Queries, account, arn string) (resource.DataGrant, error) {
	p, err := s.parseGrantARN("DataGrantArn", arn)
	if err != nil {
		return resource.DataGrant{}, err
	}
	g, err := q.GetReceivedDataGrant(ctx, account, p.ID)
	if errors.Is(err, store.ErrNotFound) || err == nil && g.AccountID != p.Account {
		return g, fault.NotFound(resource.KindDataGrant, p.ID)
	}
	return g, unexpected("get data grant", err)
}

// GetDataGrant returns a grant the caller sent, with its tags.
func (s *Service) GetDataGrant(ctx context.Context, account, dataGrantID string) (DataGrantView, error) {
	id, err := s.grantID(account, dataGrantID)
	if err != nil {
		return DataGrantView{}, err
	}
	g, err := loadSentGrant(ctx, s.store, account, id)
	if err != nil {
		return DataGrantView{}, err
	}
	tags, err := s.store.GetTags(ctx, g.ID)
	if err != nil {
		return DataGrantView{}, unexpected("get tags", err)
	}
	return s.dataGrantView(g, tags), nil
}

// DeleteDataGrant deletes a grant the caller sent. If it was accepted, the
// receiver's entitled data set goes with it: the receiver's access ends at
// once (its running exports stop, see package jobtypes).
func (s *Service) DeleteDataGrant(ctx context.Context, account, dataGrantID string) error {
	id, err := s.grantID(account, dataGrantID)
	if err != nil {
		return err
	}
	return s.notificationsRecorded(s.inTx(ctx, "delete data grant", func(q store.Queries) error {
		g, err := loadSentGrant(ctx, q, account, id)
		if err != nil {
			return err
		}
		if g.AcceptanceState == resource.GrantAccepted {
			entitled, err := q.GetDataSet(ctx, g.ReceiverAccountID, g.DataSetID)
			if err == nil {
				err = dataGrantRevokedEvent(ctx, q, s.region, entitled, g)
				if err != nil {
					return unexpected("record data grant event", err)
				}
			}
			err = q.DeleteDataSet(ctx, g.ReceiverAccountID, g.DataSetID)
			if err != nil && !errors.Is(err, store.ErrNotFound) {
				return unexpected("delete entitled data set", err)
			}
		}
		err = q.DeleteDataGrant(ctx, account, id)
		if errors.Is(err, store.ErrNotFound) {
			return fault.NotFound(resource.KindDataGrant, id)
		}
		return unexpected("delete data grant", err)
	}))
}

// ListDataGrants lists the grants the caller sent, newest first.
func (s *Service) ListDataGrants(ctx context.Context, account string, in PageInput) (Page[DataGrantView], error) {
	req, err := pageRequest(listingDataGrants, in)
	if err != nil {
		return Page[DataGrantView]{}, err
	}
	page, err := s.store.ListDataGrants(ctx, account, req)
	if err != nil {
		return Page[DataGrantView]{}, unexpected("list data grants", err)
	}
	return mapPage(listingDataGrants, page, func(g resource.DataGrant) DataGrantView { return s.dataGrantView(g, nil) }), nil
}

// ListReceivedDataGrantsInput is ListReceivedDataGrants' request.
type ListReceivedDataGrantsInput struct {
	// AcceptanceStates keeps grants in any of these states; empty keeps all.
	AcceptanceStates []string
	PageInput
}

// ListReceivedDataGrants lists the grants sent to the caller, newest first.
func (s *Service) ListReceivedDataGrants(ctx context.Context, account string, in ListReceivedDataGrantsInput) (Page[DataGrantView], error) {
	for _, st := range in.AcceptanceStates {
		if st != resource.GrantPendingAcceptance && st != resource.GrantAccepted {
			return Page[DataGrantView]{}, fault.Validationf("acceptanceState %q is not one of %s, %s",
				st, resource.GrantPendingAcceptance, resource.GrantAccepted)
		}
	}
	req, err := pageRequest(listingReceivedGrants, in.PageInput)
	if err != nil {
		return Page[DataGrantView]{}, err
	}
	states := slices.Compact(slices.Sorted(slices.Values(in.AcceptanceStates)))
	page, err := s.store.ListReceivedDataGrants(ctx, account, store.DataGrantFilter{AcceptanceStates: states}, req)
	if err != nil {
		return Page[DataGrantView]{}, unexpected("list received data grants", err)
	}
	return mapPage(listingReceivedGrants, page, func(g resource.DataGrant) DataGrantView { return s.dataGrantView(g, nil) }), nil
}

// GetReceivedDataGrant returns a grant sent to the caller, by its ARN.
func (s *Service) GetReceivedDataGrant(ctx context.Context, account, arn string) (DataGrantView, error) {
	g, err := s.loadReceivedGrant(ctx, s.store, account, arn)
	if err != nil {
		return DataGrantView{}, err
	}
	return s.dataGrantView(g, nil), nil
}

// AcceptDataGrant accepts a grant sent to the caller: the caller gets the
// grant's entitled data set, named and described as the source is now
// (later changes to the source's name and description don't reach it), and
// reading through to the source's finalized revisions.
func (s *Service) AcceptDataGrant(ctx context.Context, account, arn string) (DataGrantView, error) {
	var g resource.DataGrant
	err := s.inTx(ctx, "accept data grant", func(q store.Queries) error {
		var err error
		if g, err = s.loadReceivedGrant(ctx, q, account, arn); err != nil {
			return err
		}
		now := resource.Now()
		switch {
		case g.AcceptanceState == resource.GrantAccepted:
			return fault.Conflictf(resource.KindDataGrant, g.ID, "data grant %s is already accepted", g.ID)
		case g.Ended(now):
			return fault.Conflictf(resource.KindDataGrant, g.ID, "data grant %s ended at %s and can no longer be accepted",
				g.ID, g.EndsAt.Format(time.RFC3339))
		}
		src, err := q.GetDataSet(ctx, g.AccountID, g.SourceDataSetID)
		if err != nil {
			// The source can't be deleted while the grant exists.
			return unexpected("get the grant's source data set", err)
		}
		entitled := resource.DataSet{
			AccountID:     account,
			ID:            g.DataSetID,
			Name:          src.Name,
			Description:   src.Description,
			AssetType:     src.AssetType,
			Origin:        resource.OriginEntitled,
			OriginDetails: &resource.OriginDetails{DataGrantID: g.ID},
			CreatedAt:     now,
			UpdatedAt:     now,
		}
		if err := q.InsertDataSet(ctx, entitled); err != nil {
			return unexpected("insert entitled data set", err)
		}
		g.AcceptanceState, g.AcceptedAt, g.UpdatedAt = resource.GrantAccepted, &now, updateTime(g.UpdatedAt)
		return unexpected("update data grant", q.UpdateDataGrant(ctx, g))
	})
	if err != nil {
		return DataGrantView{}, err
	}
	return s.dataGrantView(g, nil), nil
}
