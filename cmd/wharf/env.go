package main

import (
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// envAnnotation, set on a flag, names the environment variable it takes
// instead of WHARF_<FLAG>: `wharf accounts s3 set --region` is an S3
// profile's region, which must not pick up a server's WHARF_REGION.
const envAnnotation = "wharf-env"

// envName is the environment variable flag f takes when it is not given:
// WHARF_ + its name in upper case with dashes as underscores, unless the
// flag names another one (envAnnotation).
func envName(f *pflag.Flag) string {
	if v := f.Annotations[envAnnotation]; len(v) == 1 {
		return v[0]
	}
	return "WHARF_" + strings.ToUpper(strings.ReplaceAll(f.Name, "-", "_"))
}

// setEnvName makes the flag name of cmd take the variable env.
func setEnvName(cmd *cobra.Command, name, env string) {
	if err := cmd.Flags().SetAnnotation(name, envAnnotation, []string{env}); err != nil {
		panic(err)
	}
}

// notFromEnv are the flags no variable sets: cobra's own.
var notFromEnv = map[string]bool{"help": true, "version": true}

// bindEnv sets every flag of cmd that is not on the command line from its
// environment variable (envName), when that is set. The root command runs
// it before every command (PersistentPreRunE), so it covers every flag of
// every command, and it runs before cobra checks required flags: a
// variable satisfies one. A second call changes nothing.
func bindEnv(cmd *cobra.Command) error {
	var firstErr error
	cmd.Flags().VisitAll(func(f *pflag.Flag) {
		if f.Changed || firstErr != nil || notFromEnv[f.Name] {
			return
		}
		name := envName(f)
		if v, ok := os.LookupEnv(name); ok {
			// Through the flag set, so that the flag counts as given.
			if err := cmd.Flags().Set(f.Name, v); err != nil {
				firstErr = fmt.Errorf("%s=%q (--%s): %w", name, v, f.Name, err)
			}
		}
	})
	return firstErr
}
