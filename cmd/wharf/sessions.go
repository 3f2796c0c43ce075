package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/wharf-dev/wharf/internal/auth"
	"github.com/wharf-dev/wharf/internal/resource"
	"github.com/wharf-dev/wharf/internal/store"
)

func newSessionsCommand() *cobra.Command {
	sessions := &cobra.Command{Use: "sessions", Short: "Manage console sessions"}
	var sf storeFlags
	var account string
	revoke := &cobra.Command{
		Use:   "revoke",
		Short: "Sign every console session of an account out, on every replica at once",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if !resource.ValidAccountID(account) {
				return fmt.Errorf("--account must be a 12-digit account id, got %q", account)
			}
			return sf.withSealedTx(cmd, func(q store.Queries, sealer *auth.Sealer) error {
				if _, err := q.GetAccount(cmd.Context(), account); err != nil {
					return fmt.Errorf("account %s: %w", account, err)
				}
				s, err := auth.NewSessions(q, sealer, auth.SessionConfig{})
				if err != nil {
					return err
				}
				n, err := s.RevokeAccount(cmd.Context(), account)
				if err != nil {
					return err
				}
				return printJSON(struct {
					AccountId string
					Revoked   int
				}{account, n})
			})
		},
	}
	sf.register(revoke)
	revoke.Flags().StringVar(&account, "account", "", "the account whose sessions end")
	sessions.AddCommand(revoke)
	return sessions
}
