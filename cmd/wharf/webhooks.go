package main

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"

	"github.com/spf13/cobra"

	"github.com/wharf-dev/wharf/internal/auth"
	"github.com/wharf-dev/wharf/internal/notify"
	"github.com/wharf-dev/wharf/internal/resource"
	"github.com/wharf-dev/wharf/internal/store"
)

// newWebhookCommand is `wharf accounts webhook set`: where an account
// receives the notifications of the data sets shared with it, and the
// secret their signatures are made with (see docs/notifications.md).
func newWebhookCommand() *cobra.Command {
	webhook := &cobra.Command{Use: "webhook", Short: "Manage the webhook an account receives data set notifications on"}
	var sf storeFlags
	var account, target, secret string
	set := &cobra.Command{
		Use:   "set",
		Short: "Register (or replace) an account's webhook; prints the signing secret as JSON",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if !resource.ValidAccountID(account) {
				return fmt.Errorf("--account must be 12 digits, got %q", account)
			}
			u, err := url.Parse(target)
			if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
				return fmt.Errorf("--url must be an http:// or https:// URL, got %q", target)
			}
			if secret == "" {
				b := make([]byte, 32)
				if _, err := rand.Read(b); err != nil {
					return err
				}
				secret = hex.EncodeToString(b)
			}
			return sf.withSealedTx(cmd, func(q store.Queries, sealer *auth.Sealer) error {
				if _, err := q.GetAccount(cmd.Context(), account); err != nil {
					return fmt.Errorf("account %s: %w", account, err)
				}
				// Sealed with the master key: the database never holds the secret.
				if err := q.SetWebhook(cmd.Context(), notify.SealWebhook(sealer, account, target, secret, resource.Now())); err != nil {
					return err
				}
				return printJSON(struct{ AccountId, Url, Secret string }{account, target, secret})
			})
		},
	}
	sf.register(set)
	set.Flags().StringVar(&account, "account", "", "the receiving account's 12-digit id")
	set.Flags().StringVar(&target, "url", "", "the URL notifications are POSTed to")
	set.Flags().StringVar(&secret, "secret", "", "the HMAC signing secret (random if empty)")
	webhook.AddCommand(set)
	return webhook
}
