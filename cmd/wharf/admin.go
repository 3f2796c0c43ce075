package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/wharf-dev/wharf/internal/auth"
	"github.com/wharf-dev/wharf/internal/jobs"
	"github.com/wharf-dev/wharf/internal/resource"
	"github.com/wharf-dev/wharf/internal/store"
)

// withKeyring opens the store and runs fn with a keyring inside one
// transaction, so that an account and its first key are created together or
// not at all.
func withKeyring(cmd *cobra.Command, sf *storeFlags, fn func(*auth.Keyring) error) error {
	return sf.withSealedTx(cmd, func(q store.Queries, sealer *auth.Sealer) error {
		return fn(auth.NewKeyring(q, sealer))
	})
}

func newAccountsCommand() *cobra.Command {
	accounts := &cobra.Command{Use: "accounts", Short: "Manage accounts"}
	var sf storeFlags
	var id string
	create := &cobra.Command{
		Use:   "create",
		Short: "Create an account with its first access key, printed as JSON",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if id != "" && !resource.ValidAccountID(id) {
				return fmt.Errorf("--id must be 12 digits, got %q", id)
			}
			return withKeyring(cmd, &sf, func(k *auth.Keyring) error {
				account, creds, err := k.CreateAccount(cmd.Context(), id)
				if err != nil {
					return err
				}
				return printJSON(struct {
					AccountId string
					AccessKey json.RawMessage
				}{account.ID, accessKeyJSON(creds)})
			})
		},
	}
	sf.register(create)
	create.Flags().StringVar(&id, "id", "", "the new account's 12-digit id (random if empty)")
	accounts.AddCommand(create, newWebhookCommand())
	accounts.AddCommand(newAccountsS3Command())
	return accounts
}

func newKeysCommand() *cobra.Command {
	keys := &cobra.Command{Use: "keys", Short: "Manage access keys"}
	var sf storeFlags
	var account string
	create := &cobra.Command{
		Use:   "create",
		Short: "Create an access key for an account, printed as JSON like `aws iam create-access-key`",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if !resource.ValidAccountID(account) {
				return fmt.Errorf("--account must be a 12-digit account id, got %q", account)
			}
			return withKeyring(cmd, &sf, func(k *auth.Keyring) error {
				creds, err := k.CreateKey(cmd.Context(), account)
				if err != nil {
					return err
				}
				return printJSON(struct{ AccessKey json.RawMessage }{accessKeyJSON(creds)})
			})
		},
	}
	sf.register(create)
	create.Flags().StringVar(&account, "account", "", "the account the key belongs to")
	keys.AddCommand(create)
	return keys
}

func newMigrateCommand() *cobra.Command {
	var sf storeFlags
	cmd := &cobra.Command{
		Use:   "migrate",
		Short: "Create or migrate the store (data dir, database schema, master key) and exit; serve does it on start too",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			st, err := sf.create(cmd.Context())
			if err != nil {
				return err
			}
			if err := jobs.Migrate(cmd.Context(), st, nil); err != nil {
				st.Close()
				return err
			}
			fmt.Fprintln(os.Stderr, "migrated", sf.describe())
			return st.Close()
		},
	}
	sf.register(cmd)
	return cmd
}

// accessKeyJSON is the "AccessKey" member the admin commands print.
func accessKeyJSON(c auth.Credentials) json.RawMessage {
	var wrapped struct{ AccessKey json.RawMessage }
	if err := json.Unmarshal(c.JSON(), &wrapped); err != nil {
		panic(err)
	}
	return wrapped.AccessKey
}

func printJSON(v any) error { return writeJSON(os.Stdout, v) }

// writeJSON writes v to w as indented JSON, as the commands print objects.
func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "    ")
	return enc.Encode(v)
}
