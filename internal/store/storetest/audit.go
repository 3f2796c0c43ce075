package storetest

import (
	"errors"
	"fmt"
	"net/http"
	"testing"

	"github.com/wharf-dev/wharf/internal/resource"
	"github.com/wharf-dev/wharf/internal/store"
)

var auditTests = []test{
	{"InsertAndFilter", func(t *testing.T, e *env) {
		a, b := newAccountID(), newAccountID()
		var all []resource.AuditRecord
		for i := range 6 {
			acct := a
			if i%2 == 1 {
				acct = b
			}
			r := resource.AuditRecord{ID: resource.NewID(), At: e.now(), AccountID: acct, AccessKeyID: "AKIA" + acct,
				Operation: []string{"GetDataSet", "CreateJob"}[i%3/2], ResourceARN: resource.DataSetARN("us-east-1", acct, resource.NewID()),
				Status: http.StatusOK, RequestID: resource.NewID()}
			if i == 4 {
				r.Status, r.Exception = http.StatusNotFound, "ResourceNotFoundException"
			}
			e.must(e.s.InsertAuditRecord(e.ctx, r))
			all = append([]resource.AuditRecord{r}, all...) // newest first
		}
		got, err := e.s.ListAuditRecords(e.ctx, store.AuditFilter{Limit: 100})
		wantEqual(t, "every record, newest first", got, all, err)
		got, err = e.s.ListAuditRecords(e.ctx, store.AuditFilter{Limit: 2})
		wantEqual(t, "the 2 newest", got, all[:2], err)
		got, err = e.s.ListAuditRecords(e.ctx, store.AuditFilter{AccountID: a, Limit: 100})
		wantEqual(t, "account a's", got, []resource.AuditRecord{all[1], all[3], all[5]}, err)
		got, err = e.s.ListAuditRecords(e.ctx, store.AuditFilter{Operation: "CreateJob", Limit: 100})
		wantEqual(t, "CreateJob's", got, []resource.AuditRecord{all[0], all[3]}, err)
		got, err = e.s.ListAuditRecords(e.ctx, store.AuditFilter{Since: all[3].At, Before: all[0].At, Limit: 100})
		wantEqual(t, "a time window", got, all[1:4], err)
		if _, err := e.s.ListAuditRecords(e.ctx, store.AuditFilter{}); err == nil {
			t.Error("a zero Limit was accepted")
		}
	}},
	{"DeleteBefore", func(t *testing.T, e *env) {
		var all []resource.AuditRecord
		for range 5 {
			r := resource.AuditRecord{ID: resource.NewID(), At: e.now(), AccountID: newAccountID(), Operation: "GetDataSet", Status: http.StatusOK}
			e.must(e.s.InsertAuditRecord(e.ctx, r))
			all = append([]resource.AuditRecord{r}, all...) // newest first
		}
		n, err := e.s.DeleteAuditRecordsBefore(e.ctx, all[1].At, 1)
		wantEqual(t, "deleted in a batch of 1", n, 1, err)
		n, err = e.s.DeleteAuditRecordsBefore(e.ctx, all[1].At, 100)
		wantEqual(t, "deleted in the next batch", n, 2, err)
		got, err := e.s.ListAuditRecords(e.ctx, store.AuditFilter{Limit: 100})
		wantEqual(t, "records at or after the cutoff", got, all[:2], err)
		if _, err := e.s.DeleteAuditRecordsBefore(e.ctx, all[0].At, 0); err == nil {
			t.Error("a zero limit was accepted")
		}
	}},
	{"InsertBatch", func(t *testing.T, e *env) {
		// 250 records: more than one INSERT statement carries, in one
		// transaction.
		var batch, newestFirst []resource.AuditRecord
		for i := range 250 {
			r := resource.AuditRecord{ID: resource.NewID(), At: e.now(), AccountID: newAccountID(), AccessKeyID: "AKIAB",
				Operation: "GetJob", ResourceARN: fmt.Sprintf("arn:%d", i), Status: http.StatusOK, RequestID: resource.NewID()}
			if i%7 == 0 {
				r.Status, r.Exception = http.StatusBadRequest, "ValidationException"
			}
			batch = append(batch, r)
			newestFirst = append([]resource.AuditRecord{r}, newestFirst...)
		}
		e.must(e.s.InsertAuditRecords(e.ctx, batch))
		got, err := e.s.ListAuditRecords(e.ctx, store.AuditFilter{Limit: 1000})
		wantEqual(t, "the batch", got, newestFirst, err)
		e.must(e.s.InsertAuditRecords(e.ctx, nil))

		// All or nothing: a duplicate id in the third statement leaves
		// none of the second batch's records.
		var second []resource.AuditRecord
		for range 250 {
			second = append(second, resource.AuditRecord{ID: resource.NewID(), At: e.now(), Operation: "GetJob", Status: http.StatusOK})
		}
		second[240].ID = batch[3].ID
		if err := e.s.InsertAuditRecords(e.ctx, second); !errors.Is(err, store.ErrDuplicate) {
			t.Fatalf("a batch with a duplicate id: %v, want ErrDuplicate", err)
		}
		got, err = e.s.ListAuditRecords(e.ctx, store.AuditFilter{Limit: 1000})
		wantEqual(t, "only the first batch", got, newestFirst, err)
	}},
}
