package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/wharf-dev/wharf/internal/auth"
	"github.com/wharf-dev/wharf/internal/resource"
	"github.com/wharf-dev/wharf/internal/s3access"
	"github.com/wharf-dev/wharf/internal/s3profiles"
	"github.com/wharf-dev/wharf/internal/store"
)

// envS3Secret carries the secret of `wharf accounts s3 set`: a flag's value
// would show in ps and in shell history.
const envS3Secret = "WHARF_S3_SECRET_ACCESS_KEY"

// withS3Profiles opens the store and runs fn with its S3 profiles, in one
// transaction.
func withS3Profiles(cmd *cobra.Command, sf *storeFlags, fn func(*s3profiles.Profiles) error) error {
	return sf.withSealedTx(cmd, func(q store.Queries, sealer *auth.Sealer) error {
		return fn(s3profiles.New(q, sealer))
	})
}

func checkAccountFlag(account string) error {
	if !resource.ValidAccountID(account) {
		return fmt.Errorf("--account must be a 12-digit account id, got %q", account)
	}
	return nil
}

// newAccountsS3Command is `wharf accounts s3`: the S3 profile an account's
// S3 jobs use (the root account falls back on the server's ambient AWS
// configuration; every other account needs one).
func newAccountsS3Command() *cobra.Command {
	s3cmd := &cobra.Command{Use: "s3", Short: "Manage the S3 endpoint and credentials an account's S3 jobs use"}

	var setSF storeFlags
	var account string
	var p s3access.Profile
	set := &cobra.Command{
		Use:   "set",
		Short: "Set an account's S3 profile (the secret access key from " + envS3Secret + " or stdin), printed as JSON without the secret",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := checkAccountFlag(account); err != nil {
				return err
			}
			if p.AccessKeyID == "" {
				return errors.New("--access-key-id is required")
			}
			secret, err := readS3Secret(cmd.InOrStdin())
			if err != nil {
				return err
			}
			p.SecretAccessKey = secret
			return withS3Profiles(cmd, &setSF, func(profiles *s3profiles.Profiles) error {
				pub, err := profiles.Put(cmd.Context(), account, p)
				if err != nil {
					return err
				}
				return printJSON(pub)
			})
		},
	}
	setSF.register(set)
	set.Flags().StringVar(&account, "account", "", "the account the profile is for")
	set.Flags().StringVar(&p.Endpoint, "endpoint", "", "the S3 endpoint URL (http:// or https://); empty means AWS's own")
	set.Flags().StringVar(&p.Region, "region", s3access.DefaultRegion, "the region requests are signed for")
	set.Flags().BoolVar(&p.PathStyle, "path-style", false, "address buckets as <endpoint>/<bucket> (MinIO and most self-hosted servers need it)")
	set.Flags().StringVar(&p.AccessKeyID, "access-key-id", "", "the access key id")
	// The profile's own flags take WHARF_S3_<FLAG>, like its secret
	// (WHARF_S3_SECRET_ACCESS_KEY): a server's WHARF_REGION must not
	// become the profile's region.
	for _, name := range []string{"endpoint", "region", "path-style", "access-key-id"} {
		setEnvName(set, name, "WHARF_S3_"+strings.ToUpper(strings.ReplaceAll(name, "-", "_")))
	}

	var showSF storeFlags
	var showAccount string
	show := &cobra.Command{
		Use:   "show",
		Short: "Print an account's S3 profile as JSON, without the secret",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := checkAccountFlag(showAccount); err != nil {
				return err
			}
			return withS3Profiles(cmd, &showSF, func(profiles *s3profiles.Profiles) error {
				pub, err := profiles.Get(cmd.Context(), showAccount)
				if err != nil {
					return err
				}
				return printJSON(pub)
			})
		},
	}
	showSF.register(show)
	show.Flags().StringVar(&showAccount, "account", "", "the account")

	var delSF storeFlags
	var delAccount string
	del := &cobra.Command{
		Use:   "delete",
		Short: "Delete an account's S3 profile; its S3 jobs are then refused (the root account's fall back on the ambient configuration)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := checkAccountFlag(delAccount); err != nil {
				return err
			}
			return withS3Profiles(cmd, &delSF, func(profiles *s3profiles.Profiles) error {
				if err := profiles.Delete(cmd.Context(), delAccount); err != nil {
					return err
				}
				fmt.Fprintln(os.Stderr, "deleted the S3 profile of account", delAccount)
				return nil
			})
		},
	}
	delSF.register(del)
	del.Flags().StringVar(&delAccount, "account", "", "the account")

	s3cmd.AddCommand(set, show, del)
	return s3cmd
}

// readS3Secret takes the secret from the environment, else from the first
// line of stdin.
func readS3Secret(stdin io.Reader) (string, error) {
	if v, ok := os.LookupEnv(envS3Secret); ok {
		if v == "" {
			return "", fmt.Errorf("%s is empty", envS3Secret)
		}
		return v, nil
	}
	if f, ok := stdin.(*os.File); ok {
		if fi, err := f.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
			fmt.Fprint(os.Stderr, "secret access key: ")
		}
	}
	line, err := bufio.NewReader(io.LimitReader(stdin, 64<<10)).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("read the secret access key from stdin: %w", err)
	}
	secret := strings.TrimRight(line, "\r\n")
	if secret == "" {
		return "", fmt.Errorf("no secret access key: set %s or write it to stdin", envS3Secret)
	}
	return secret, nil
}
