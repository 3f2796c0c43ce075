package main

import (
	"encoding/json"
	"fmt"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/wharf-dev/wharf/internal/resource"
	"github.com/wharf-dev/wharf/internal/store"
)

// newAuditCommand is `wharf audit`: the API calls the server recorded,
// newest first, one JSON object a line.
func newAuditCommand() *cobra.Command {
	var sf storeFlags
	var account, operation, since, before string
	var limit int
	cmd := &cobra.Command{
		Use:   "audit",
		Short: "Print the audit log of API calls, newest first, one JSON object per line",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			f := store.AuditFilter{AccountID: account, Operation: operation, Limit: limit}
			if account != "" && !resource.ValidAccountID(account) {
				return fmt.Errorf("--account must be 12 digits, got %q", account)
			}
			if limit < 1 {
				return fmt.Errorf("--limit must be at least 1, got %d", limit)
			}
			for _, t := range []struct {
				flag, value string
				into        *time.Time
			}{{"--since", since, &f.Since}, {"--before", before, &f.Before}} {
				if t.value == "" {
					continue
				}
				v, err := time.Parse(time.RFC3339, t.value)
				if err != nil {
					return fmt.Errorf("%s must be an RFC 3339 time (2006-01-02T15:04:05Z), got %q", t.flag, t.value)
				}
				*t.into = v
			}
			return sf.withStore(cmd, func(st store.Store) error {
				records, err := st.ListAuditRecords(cmd.Context(), f)
				if err != nil {
					return err
				}
				enc := json.NewEncoder(os.Stdout)
				for _, r := range records {
					if err := enc.Encode(auditJSON{
						Time: r.At.UTC().Format("2006-01-02T15:04:05.000Z"), AccountId: r.AccountID, AccessKeyId: r.AccessKeyID,
						Operation: r.Operation, ResourceArn: r.ResourceARN, Status: r.Status, Exception: r.Exception,
						RequestId: r.RequestID,
					}); err != nil {
						return err
					}
				}
				return nil
			})
		},
	}
	sf.register(cmd)
	cmd.Flags().StringVar(&account, "account", "", "only this account's calls")
	cmd.Flags().StringVar(&operation, "operation", "", "only calls of this operation (CreateDataGrant, ...)")
	cmd.Flags().StringVar(&since, "since", "", "only calls at or after this RFC 3339 time")
	cmd.Flags().StringVar(&before, "before", "", "only calls before this RFC 3339 time")
	cmd.Flags().IntVar(&limit, "limit", 100, "at most this many calls")
	return cmd
}

// auditJSON is one line of `wharf audit`.
type auditJSON struct {
	Time        string
	AccountId   string
	AccessKeyId string
	Operation   string
	ResourceArn string
	Status      int
	Exception   string `json:",omitempty"`
	RequestId   string
}
