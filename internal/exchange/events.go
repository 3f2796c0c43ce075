package exchange

import (
	"context"
	"encoding/json"

	"github.com/wharf-dev/wharf/internal/resource"
	"github.com/wharf-dev/wharf/internal/store"
)

// Revision events. Publishing (finalizing) a revision, revoking one and
// deleting an accepted data grant record an event, in the transaction
// that makes the change, for every account that sees the data set through
// an accepted grant that has not ended (for a deleted grant, its
// receiver); package notify delivers them like notifications, shaped as
// AWS's EventBridge events (see docs/notifications.md). AWS sends no event
// when a data set is deleted, and Wharf refuses to delete a data set that
// is shared, so the event for losing a data set is AWS's "Data Grant
// Revoked", when its grant is deleted.

type eventDataSet struct {
	Id   string
	Name string
}

type eventRevision struct {
	Id      string
	Comment string
}

// revisionEventDetail is the detail of the revision events; DataSets[0].Id
// is the source data set's, replaced by each receiver's entitled one.
type revisionEventDetail struct {
	RevisionIds       []string
	RevocationComment string `json:",omitempty"`
	Revisions         []eventRevision
	DataSets          []eventDataSet
}

// revisionEvent records detailType about revision r of ds.
func revisionEvent(ctx context.Context, q store.Queries, detailType string, ds resource.DataSet, r resource.Revision) error {
	grants, err := AcceptedGrants(ctx, q, ds.AccountID, ds.ID, resource.Now())
	if err != nil || len(grants) == 0 {
		return err
	}
	d := revisionEventDetail{RevisionIds: []string{r.ID}, Revisions: []eventRevision{{r.ID, r.Comment}},
		DataSets: []eventDataSet{{ds.ID, ds.Name}}}
	if detailType == resource.EventRevisionRevoked {
		d.RevocationComment = r.RevocationComment
	}
	return recordEvent(ctx, q, detailType, ds.AccountID, ds.ID, grants, d)
}

// dataGrantRevokedEvent records the deletion of accepted grant g, whose
// entitled data set is ds.
func dataGrantRevokedEvent(ctx context.Context, q store.Queries, region string, ds resource.DataSet, g resource.DataGrant) error {
	d := struct {
		DataSets  []eventDataSet
		DataGrant struct{ Arn, Name string }
	}{DataSets: []eventDataSet{{ds.ID, ds.Name}}}
	d.DataGrant.Arn, d.DataGrant.Name = resource.DataGrantARN(region, g.AccountID, g.ID), g.Name
	return recordEvent(ctx, q, resource.EventDataGrantRevoked, g.AccountID, g.SourceDataSetID, []resource.DataGrant{g}, d)
}

// recordEvent records an event about sender's data set dataSetID for each
// grant's receiver (once per account).
func recordEvent(ctx context.Context, q store.Queries, detailType, sender, dataSetID string, grants []resource.DataGrant, detail any) error {
	body, err := json.Marshal(detail)
	if err != nil {
		return err
	}
	now := resource.Now()
	n := resource.Notification{AccountID: sender, ID: resource.NewID(), DataSetID: dataSetID,
		Type: detailType, Request: body, CreatedAt: now}
	n.ClientToken = "event/" + n.ID // events have no caller's token; this one is unique
	var deliveries []resource.NotificationDelivery
	seen := map[string]bool{}
	for _, g := range grants {
		if seen[g.ReceiverAccountID] { // one event per account
			continue
		}
		seen[g.ReceiverAccountID] = true
		deliveries = append(deliveries, resource.NotificationDelivery{
			NotificationID: n.ID, ReceiverAccountID: g.ReceiverAccountID, DataGrantID: g.ID,
			DataSetID: g.DataSetID, State: resource.DeliveryPending, NextAttemptAt: now, UpdatedAt: now,
		})
	}
	return q.InsertNotification(ctx, n, deliveries)
}
