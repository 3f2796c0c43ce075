package resource

import (
	"encoding/json"
	"time"
)

// Notification types (Type of SendDataSetNotification).
var NotificationTypes = []string{"DATA_DELAY", "DATA_UPDATE", "DEPRECATION", "SCHEMA_CHANGE"}

// Notification is one SendDataSetNotification call, kept once per
// (AccountID, ClientToken).
type Notification struct {
	AccountID   string // the sender, owner of the data set
	ID          string
	DataSetID   string
	ClientToken string
	Type        string
	// Request is the request's members (DataSetId, Type, Comment, Details,
	// Scope) as canonical JSON, to tell a retry from a different request.
	Request   json.RawMessage
	CreatedAt time.Time
}

// Delivery states.
const (
	DeliveryPending   = "PENDING"
	DeliveryDelivered = "DELIVERED"
	// DeliveryFailed: retries ran out.
	DeliveryFailed = "FAILED"
	// DeliveryNoWebhook: the receiver had registered no webhook.
	DeliveryNoWebhook = "NO_WEBHOOK"
)

// NotificationDelivery is a notification on its way to one receiver.
type NotificationDelivery struct {
	NotificationID    string
	ReceiverAccountID string
	DataGrantID       string
	DataSetID         string // the receiver's entitled data set
	State             string
	Attempts          int
	NextAttemptAt     time.Time
	LastError         string
	UpdatedAt         time.Time
}

// Webhook is where an account receives notifications, and the secret their
// signatures are made with, sealed with the master key (package notify
// seals and opens it; the store keeps it as given). A row written before
// secrets were sealed has none and must be set again.
type Webhook struct {
	AccountID    string
	URL          string
	SealedSecret []byte
	UpdatedAt    time.Time
}

// Events: what Wharf sends receivers on its own, through the same
// deliveries as notifications, in the shape AWS sends them through
// EventBridge (source aws.dataexchange). A Notification whose Type is one
// of these is an event; its Request is the event's detail.
const (
	EventRevisionPublished = "Revision Published To Data Set"
	EventRevisionRevoked   = "Revision Revoked"
	EventDataGrantRevoked  = "Data Grant Revoked"
)

// EventTypes are the events' detail-types.
var EventTypes = []string{EventRevisionPublished, EventRevisionRevoked, EventDataGrantRevoked}
