package resource

import "time"

// AuditRecord is one API call: who made it, what it did to which
// resource, and how it ended.
type AuditRecord struct {
	ID          string
	At          time.Time
	AccountID   string // empty when the call was not authenticated
	AccessKeyID string // as the request named it
	Operation   string // empty for a request no operation matches
	ResourceARN string // empty when the call names no single resource
	Status      int
	Exception   string // the error's name; empty on success
	RequestID   string
}
