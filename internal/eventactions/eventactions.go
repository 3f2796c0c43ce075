// Package eventactions serves AWS Data Exchange event actions
// (CreateEventAction, GetEventAction, UpdateEventAction, DeleteEventAction,
// ListEventActions) and fires them: when a revision of a watched data set
// is published (finalized), each event action watching it starts an
// EXPORT_REVISIONS_TO_S3 job, created and queued in the transaction that
// finalizes the revision (exchange.Service.OnRevisionPublished), so that
// the finalize and its jobs commit together or not at all.
//
// Tags of event actions go through package exchange's tag operations.
package eventactions

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"

	"github.com/wharf-dev/wharf/internal/exchange"
	"github.com/wharf-dev/wharf/internal/fault"
	"github.com/wharf-dev/wharf/internal/jobs"
	"github.com/wharf-dev/wharf/internal/jobtypes"
	"github.com/wharf-dev/wharf/internal/resource"
	"github.com/wharf-dev/wharf/internal/store"
)

// Quotas, with AWS's names and defaults.
const (
	LimitEventActionsPerAccount    = "Event actions per account"
	LimitAutoExportEventActionsPer = "Auto export event actions per data set"
	DefaultEventActionsPerAccount  = 50
	DefaultEventActionsPerDataSet  = 5
)

// listing names ListEventActions' page tokens.
const listing = "event-actions"

// Service serves the event action operations.
type Service struct {
	store  store.Store
	region string
	jobs   *jobs.Service

	// EventActionsPerAccount and EventActionsPerDataSet are the quotas.
	EventActionsPerAccount int
	EventActionsPerDataSet int
}

// New returns a Service whose event actions start their jobs through js,
// and hooks it into ex, so that publishing a revision fires them.
func New(st store.Store, ex *exchange.Service, js *jobs.Service) *Service {
	s := &Service{store: st, region: ex.Region(), jobs: js,
		EventActionsPerAccount: DefaultEventActionsPerAccount, EventActionsPerDataSet: DefaultEventActionsPerDataSet}
	ex.OnRevisionPublished = s.revisionPublished
	return s
}

// Action is an event action's Action, as on the wire.
type Action struct {
	ExportRevisionToS3 *AutoExport `json:"ExportRevisionToS3,omitempty"`
}

// AutoExport is AutoExportRevisionToS3RequestDetails.
type AutoExport struct {
	Encryption          *Encryption          `json:"Encryption,omitempty"`
	RevisionDestination *RevisionDestination `json:"RevisionDestination,omitempty"`
}

// Encryption is ExportServerSideEncryption.
type Encryption struct {
	KmsKeyArn *string `json:"KmsKeyArn,omitempty"`
	Type      *string `json:"Type,omitempty"`
}

// RevisionDestination is AutoExportRevisionDestinationEntry.
type RevisionDestination struct {
	Bucket     *string `json:"Bucket,omitempty"`
	KeyPattern *string `json:"KeyPattern,omitempty"`
}

// Event is an event action's Event, as on the wire.
type Event struct {
	RevisionPublished *RevisionPublished `json:"RevisionPublished,omitempty"`
}

// RevisionPublished is the event of a revision of DataSetId being published.
type RevisionPublished struct {
	DataSetId *string `json:"DataSetId,omitempty"`
}

// View is an event action as the operations return it.
type View struct {
	resource.EventAction
	ARN    string
	Action Action
	// Tags is nil where the operation returns none.
	Tags map[string]string
}

func (s *Service) view(ea resource.EventAction, tags map[string]string) (View, error) {
	v := View{EventAction: ea, ARN: resource.EventActionARN(s.region, ea.AccountID, ea.ID), Tags: tags}
	if err := json.Unmarshal(ea.Action, &v.Action); err != nil {
		return v, fmt.Errorf("eventactions: stored action of %s: %w", ea.ID, err)
	}
	return v, nil
}

// checkAction validates an Action a client sent.
func checkAction(a *Action) error {
	if a == nil {
		return fault.Validationf("Action is required")
	}
	if a.ExportRevisionToS3 == nil {
		return fault.Validationf("Action.ExportRevisionToS3 is required")
	}
	x := a.ExportRevisionToS3
	if x.RevisionDestination == nil {
		return fault.Validationf("Action.ExportRevisionToS3.RevisionDestination is required")
	}
	var encType, kms *string
	if x.Encryption != nil {
		encType, kms = x.Encryption.Type, x.Encryption.KmsKeyArn
		if encType == nil {
			return fault.Validationf("Action.ExportRevisionToS3.Encryption.Type is required")
		}
	}
	return jobtypes.CheckAutoExportAction(x.RevisionDestination.Bucket, x.RevisionDestination.KeyPattern, encType, kms)
}

func requireID(field, id string) error {
	if !resource.ValidID(id) {
		return fault.Validationf("%s %q is not a valid id: ids are 30 to 40 letters and digits", field, id)
	}
	return nil
}

// CreateInput is CreateEventAction's request.
type CreateInput struct {
	Action *Action
	Event  *Event
	Tags   map[string]string
}

// Create creates an event action watching a data set of the caller's.
func (s *Service) Create(ctx context.Context, account string, in CreateInput) (View, error) {
	if err := checkAction(in.Action); err != nil {
		return View{}, err
	}
	if in.Event == nil || in.Event.RevisionPublished == nil || in.Event.RevisionPublished.DataSetId == nil {
		return View{}, fault.Validationf("Event.RevisionPublished.DataSetId is required")
	}
	dataSetID := *in.Event.RevisionPublished.DataSetId
	if err := requireID("Event.RevisionPublished.DataSetId", dataSetID); err != nil {
		return View{}, err
	}
	if err := exchange.ValidateTags(in.Tags); err != nil {
		return View{}, err
	}
	action, err := json.Marshal(in.Action)
	if err != nil {
		return View{}, err
	}
	now := resource.Now()
	ea := resource.EventAction{AccountID: account, ID: resource.NewID(), DataSetID: dataSetID, Action: action,
		CreatedAt: now, UpdatedAt: now}
	err = s.inTx(ctx, func(q store.Queries) error {
		// The account's row, then the data set's, serialize creations, so
		// that the quotas hold under concurrency.
		// (An account without a row, as in tests, has nothing to lock.)
		if _, err := q.GetAccount(ctx, account); err != nil && !errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("eventactions: get account: %w", err)
		}
		if _, err := q.GetDataSet(ctx, account, dataSetID); errors.Is(err, store.ErrNotFound) {
			return fault.NotFound(resource.KindDataSet, dataSetID)
		} else if err != nil {
			return err
		}
		if n, err := q.CountEventActions(ctx, account, ""); err != nil {
			return err
		} else if n >= s.EventActionsPerAccount {
			return fault.LimitExceeded(LimitEventActionsPerAccount, float64(s.EventActionsPerAccount))
		}
		if n, err := q.CountEventActions(ctx, account, dataSetID); err != nil {
			return err
		} else if n >= s.EventActionsPerDataSet {
			return fault.LimitExceeded(LimitAutoExportEventActionsPer, float64(s.EventActionsPerDataSet))
		}
		if err := q.InsertEventAction(ctx, ea); err != nil {
			return err
		}
		if len(in.Tags) > 0 {
			return q.SetTags(ctx, ea.ID, in.Tags)
		}
		return nil
	})
	if err != nil {
		return View{}, err
	}
	tags := in.Tags
	if tags == nil {
		tags = map[string]string{}
	}
	return s.view(ea, tags)
}

// Get returns one of the caller's event actions, with its tags.
func (s *Service) Get(ctx context.Context, account, id string) (View, error) {
	if err := requireID("EventActionId", id); err != nil {
		return View{}, err
	}
	ea, err := load(ctx, s.store, account, id)
	if err != nil {
		return View{}, err
	}
	tags, err := s.store.GetTags(ctx, ea.ID)
	if err != nil {
		return View{}, err
	}
	return s.view(ea, tags)
}

// Update replaces an event action's Action; a nil Action changes nothing.
func (s *Service) Update(ctx context.Context, account, id string, action *Action) (View, error) {
	if err := requireID("EventActionId", id); err != nil {
		return View{}, err
	}
	if action != nil {
		if err := checkAction(action); err != nil {
			return View{}, err
		}
	}
	var ea resource.EventAction
	err := s.inTx(ctx, func(q store.Queries) error {
		var err error
		if ea, err = load(ctx, q, account, id); err != nil || action == nil {
			return err
		}
		if ea.Action, err = json.Marshal(action); err != nil {
			return err
		}
		now := resource.Now()
		if !now.After(ea.UpdatedAt) {
			now = ea.UpdatedAt.Add(1e6)
		}
		ea.UpdatedAt = now
		return q.UpdateEventAction(ctx, ea)
	})
	if err != nil {
		return View{}, err
	}
	return s.view(ea, nil)
}

// Delete deletes an event action with its tags. Jobs it started stay.
func (s *Service) Delete(ctx context.Context, account, id string) error {
	if err := requireID("EventActionId", id); err != nil {
		return err
	}
	err := s.store.DeleteEventAction(ctx, account, id)
	if errors.Is(err, store.ErrNotFound) {
		return fault.NotFound(resource.KindEventAction, id)
	}
	return err
}

// ListInput is ListEventActions' request; an empty EventSourceID lists all.
type ListInput struct {
	EventSourceID string
	exchange.PageInput
}

// List lists the caller's event actions, newest first.
func (s *Service) List(ctx context.Context, account string, in ListInput) (exchange.Page[View], error) {
	if in.EventSourceID != "" {
		if err := requireID("eventSourceId", in.EventSourceID); err != nil {
			return exchange.Page[View]{}, err
		}
	}
	req, err := exchange.NewPageRequest(listing, in.PageInput)
	if err != nil {
		return exchange.Page[View]{}, err
	}
	page, err := s.store.ListEventActions(ctx, account, in.EventSourceID, req)
	if err != nil {
		return exchange.Page[View]{}, err
	}
	var viewErr error
	out := exchange.NewPage(listing, page, func(ea resource.EventAction) View {
		v, err := s.view(ea, nil)
		viewErr = errors.Join(viewErr, err)
		return v
	})
	return out, viewErr
}

// revisionPublished starts the jobs of the event actions watching rev's
// data set, in the finalize's transaction q, and those of the receivers of
// the data set's data grants watching their entitled copies.
func (s *Service) revisionPublished(ctx context.Context, q store.Queries, rev resource.Revision) error {
	if err := s.startJobs(ctx, q, rev); err != nil {
		return err
	}
	grants, err := exchange.AcceptedGrants(ctx, q, rev.AccountID, rev.DataSetID, resource.Now())
	if err != nil {
		return err
	}
	for _, g := range grants {
		// The revision as the receiver sees it, through its entitled data set.
		seen := rev
		seen.AccountID, seen.DataSetID = g.ReceiverAccountID, g.DataSetID
		err := s.startJobs(ctx, q, seen)
		if fault.As(err) != nil {
			// A receiver's action the job refuses (no S3 credentials, a
			// quota) must not stop the owner from publishing.
			slog.Warn("eventactions: a receiver's event action could not start its job",
				"account", g.ReceiverAccountID, "data_set", g.DataSetID, "revision", rev.ID, "error", err)
			continue
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// startJobs starts the jobs of the event actions watching rev's data set
// (in rev's account).
func (s *Service) startJobs(ctx context.Context, q store.Queries, rev resource.Revision) error {
	req := store.PageRequest{Limit: 100}
	for {
		page, err := q.ListEventActions(ctx, rev.AccountID, rev.DataSetID, req)
		if err != nil {
			return err
		}
		for _, ea := range page.Items {
			v, err := s.view(ea, nil)
			if err != nil {
				return err
			}
			if v.Action.ExportRevisionToS3 == nil {
				continue
			}
			details, err := autoExportDetails(v, rev)
			if err != nil {
				return err
			}
			jobType := resource.JobTypeExportRevisionsToS3
			if _, err := s.jobs.CreateStartedJob(ctx, q, rev.AccountID, jobs.CreateJobInput{Type: &jobType, Details: details}); err != nil {
				return fmt.Errorf("eventactions: start the job of event action %s: %w", ea.ID, err)
			}
		}
		if page.Next == nil {
			return nil
		}
		req.After = page.Next
	}
}

// autoExportDetails is the RequestDetails of the job event action v starts
// for revision rev: its destination, with the auto-export default
// KeyPattern written out, its encryption, and its ARN.
func autoExportDetails(v View, rev resource.Revision) (json.RawMessage, error) {
	x := v.Action.ExportRevisionToS3
	pattern := jobtypes.DefaultAutoExportKeyPattern
	if x.RevisionDestination.KeyPattern != nil {
		pattern = *x.RevisionDestination.KeyPattern
	}
	type destination struct {
		Bucket     string
		KeyPattern string
		RevisionId string
	}
	body := struct {
		DataSetId            string
		Encryption           *Encryption `json:",omitempty"`
		EventActionArn       string
		RevisionDestinations []destination
	}{
		DataSetId:      rev.DataSetID,
		Encryption:     x.Encryption,
		EventActionArn: v.ARN,
		RevisionDestinations: []destination{{
			Bucket: *x.RevisionDestination.Bucket, KeyPattern: pattern, RevisionId: rev.ID,
		}},
	}
	return json.Marshal(map[string]any{"ExportRevisionsToS3": body})
}

func load(ctx context.Context, q store.Queries, account, id string) (resource.EventAction, error) {
	ea, err := q.GetEventAction(ctx, account, id)
	if errors.Is(err, store.ErrNotFound) {
		return ea, fault.NotFound(resource.KindEventAction, id)
	}
	return ea, err
}

// inTx runs fn in a store transaction and keeps its error as fn returned it.
func (s *Service) inTx(ctx context.Context, fn func(q store.Queries) error) error {
	var fnErr error
	err := s.store.InTx(ctx, func(q store.Queries) error {
		fnErr = fn(q)
		return fnErr
	})
	if fnErr != nil {
		return fnErr
	}
	return err
}
