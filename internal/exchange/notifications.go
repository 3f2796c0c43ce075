package exchange

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"regexp"
	"slices"

	"github.com/wharf-dev/wharf/internal/awsjson"
	"github.com/wharf-dev/wharf/internal/fault"
	"github.com/wharf-dev/wharf/internal/resource"
	"github.com/wharf-dev/wharf/internal/store"
)

// SendDataSetNotificationInput is SendDataSetNotification's request.
// Details and Scope are kept as the client sent them (JSON objects).
type SendDataSetNotificationInput struct {
	DataSetID   string
	ClientToken *string
	Type        *string
	Comment     *string
	Details     json.RawMessage
	Scope       json.RawMessage
}

var clientTokenPattern = regexp.MustCompile(`^[\x21-\x7E]{1,64}$`)

const maxNotificationCommentLen = 4096

// SendDataSetNotification records a notification about one of the caller's
// owned data sets for every account that has accepted a data grant of it
// (and whose grant has not ended); package notify delivers it to their
// webhooks. A ClientToken the caller used before, with the same request,
// changes nothing (the first call's notification stands); with a different
// request it is a ConflictException. A request without a token gets a
// fresh one (the AWS SDKs always send one).
func (s *Service) SendDataSetNotification(ctx context.Context, account string, in SendDataSetNotificationInput) error {
	if err := requireID("DataSetId", in.DataSetID); err != nil {
		return err
	}
	if in.Type == nil {
		return fault.Validationf("Type is required")
	}
	if !slices.Contains(resource.NotificationTypes, *in.Type) {
		return fault.Validationf("Type %q is not one of %v", *in.Type, resource.NotificationTypes)
	}
	if err := optionalString("Comment", in.Comment, 0, maxNotificationCommentLen); err != nil {
		return err
	}
	token := resource.NewID()
	if in.ClientToken != nil {
		if !clientTokenPattern.MatchString(*in.ClientToken) {
			return fault.Validationf("ClientToken must be 1 to 64 printable ASCII characters without spaces")
		}
		token = *in.ClientToken
	}
	details, err := canonicalObject("Details", in.Details)
	if err != nil {
		return err
	}
	scope, err := canonicalObject("Scope", in.Scope)
	if err != nil {
		return err
	}
	if err := checkNotificationDetails(*in.Type, details); err != nil {
		return err
	}
	request, err := json.Marshal(struct {
		DataSetId string
		Type      string
		Comment   *string         `json:",omitempty"`
		Details   json.RawMessage `json:",omitempty"`
		Scope     json.RawMessage `json:",omitempty"`
	}{in.DataSetID, *in.Type, in.Comment, details, scope})
	if err != nil {
		return err
	}
	now := resource.Now()
	n := resource.Notification{AccountID: account, ID: resource.NewID(), DataSetID: in.DataSetID,
		ClientToken: token, Type: *in.Type, Request: request, CreatedAt: now}
	return s.notificationsRecorded(s.inTx(ctx, "send data set notification", func(q store.Queries) error {
		if _, err := requireOwned(ctx, q, account, in.DataSetID); err != nil {
			return err
		}
		prev, err := q.GetNotificationByToken(ctx, account, token)
		switch {
		case err == nil && bytes.Equal(prev.Request, request):
			return nil // a retry
		case err == nil:
			return fault.Conflictf(resource.KindDataSet, in.DataSetID,
				"ClientToken %q was used before with a different request", token)
		case !errors.Is(err, store.ErrNotFound):
			return unexpected("get notification", err)
		}
		grants, err := AcceptedGrants(ctx, q, account, in.DataSetID, now)
		if err != nil {
			return err
		}
		var deliveries []resource.NotificationDelivery
		for _, g := range grants {
			deliveries = append(deliveries, resource.NotificationDelivery{
				NotificationID: n.ID, ReceiverAccountID: g.ReceiverAccountID, DataGrantID: g.ID,
				DataSetID: g.DataSetID, State: resource.DeliveryPending, NextAttemptAt: now, UpdatedAt: now,
			})
		}
		// Two grants to one receiver deliver twice: each names its own
		// entitled data set.
		return unexpected("insert notification", q.InsertNotification(ctx, n, deliveries))
	}))
}

// canonicalObject checks that raw is absent or a JSON object, and returns
// it re-encoded with sorted keys (so that retries compare equal).
func canonicalObject(field string, raw json.RawMessage) (json.RawMessage, error) {
	if len(bytes.TrimSpace(raw)) == 0 || string(bytes.TrimSpace(raw)) == "null" {
		return nil, nil
	}
	var v map[string]any
	if err := json.Unmarshal(raw, &v); err != nil {
		return nil, fault.Validationf("%s must be a JSON object", field)
	}
	return json.Marshal(v)
}

// checkNotificationDetails applies the model's required members.
func checkNotificationDetails(typ string, details json.RawMessage) error {
	var d struct {
		Deprecation *struct {
			DeprecationAt *string
		}
		SchemaChange *struct {
			SchemaChangeAt *string
			Changes        []struct {
				Name *string
				Type *string
			}
		}
	}
	if len(details) > 0 {
		// As AWS reads members: exact names, unknown ones ignored.
		if err := awsjson.Unmarshal(details, &d); err != nil {
			return fault.Validationf("Details is not valid: %v", err)
		}
	}
	if d.Deprecation != nil && d.Deprecation.DeprecationAt == nil {
		return fault.Validationf("Details.Deprecation.DeprecationAt is required")
	}
	if c := d.SchemaChange; c != nil {
		if c.SchemaChangeAt == nil {
			return fault.Validationf("Details.SchemaChange.SchemaChangeAt is required")
		}
		for i, ch := range c.Changes {
			if ch.Name == nil || ch.Type == nil {
				return fault.Validationf("Details.SchemaChange.Changes[%d] needs Name and Type", i)
			}
			if t := *ch.Type; t != "ADD" && t != "REMOVE" && t != "MODIFY" {
				return fault.Validationf("Details.SchemaChange.Changes[%d].Type %q is not one of ADD, REMOVE, MODIFY", i, t)
			}
		}
	}
	return nil
}
