package resource

import "time"

// Data grant acceptance states (AcceptanceState on the wire).
const (
	GrantPendingAcceptance = "PENDING_RECEIVER_ACCEPTANCE"
	GrantAccepted          = "ACCEPTED"
)

// Grant distribution scopes (GrantDistributionScope on the wire).
const (
	GrantScopeOrganization = "AWS_ORGANIZATION"
	GrantScopeNone         = "NONE"
)

// DataGrant shares an owned data set (SourceDataSetID, in AccountID, the
// sender's account) with another account (ReceiverAccountID). Accepting it
// creates, in the receiver's account, the entitled data set DataSetID
// (chosen when the grant is created), which reads through to the source.
type DataGrant struct {
	AccountID              string // the sender
	ID                     string
	Name                   string
	Description            string
	ReceiverAccountID      string
	SourceDataSetID        string
	DataSetID              string
	GrantDistributionScope string
	AcceptanceState        string
	AcceptedAt             *time.Time
	EndsAt                 *time.Time
	CreatedAt              time.Time
	UpdatedAt              time.Time
}

// Ended reports whether the grant's access has ended at now (EndsAt passed).
func (g DataGrant) Ended(now time.Time) bool {
	return g.EndsAt != nil && !now.Before(*g.EndsAt)
}
