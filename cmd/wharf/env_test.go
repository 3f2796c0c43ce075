package main

import (
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// envValues are values of each flag type that every flag of that type takes.
var envValues = map[string]string{
	"string":      "from-env",
	"bool":        "true",
	"int":         "7",
	"int64":       "7",
	"duration":    "3s",
	"stringToInt": "A=1",
	"stringArray": "a=b",
	"stringSlice": "a",
}

// leafCommands are the runnable commands under c, with their command line.
func leafCommands(c *cobra.Command, path []string) map[string]*cobra.Command {
	out := map[string]*cobra.Command{}
	for _, sub := range c.Commands() {
		p := append(append([]string{}, path...), sub.Name())
		if sub.Runnable() {
			out[strings.Join(p, " ")] = sub
		}
		for k, v := range leafCommands(sub, p) {
			out[k] = v
		}
	}
	return out
}

// TestEveryFlagTakesItsVariable runs every command of the tree with each of
// its flags set only through its environment variable, and checks that the
// command sees the value (required flags included).
func TestEveryFlagTakesItsVariable(t *testing.T) {
	commands := leafCommands(newRootCommand(), nil)
	if len(commands) < 10 {
		t.Fatalf("found only %d commands: %v", len(commands), commands)
	}
	flags := 0
	for line, probe := range commands {
		probe.Flags().VisitAll(func(f *pflag.Flag) {
			if notFromEnv[f.Name] {
				return
			}
			flags++
			t.Run(strings.ReplaceAll(line, " ", "_")+"/"+f.Name, func(t *testing.T) {
				value, ok := envValues[f.Value.Type()]
				if !ok {
					t.Fatalf("no test value for a flag of type %s", f.Value.Type())
				}
				// A fresh tree, with this command's run replaced by a probe.
				root := newRootCommand()
				cmd, _, err := root.Find(strings.Fields(line))
				if err != nil {
					t.Fatal(err)
				}
				var seen *pflag.Flag
				cmd.Args = cobra.ArbitraryArgs
				cmd.RunE = func(c *cobra.Command, _ []string) error {
					seen = c.Flags().Lookup(f.Name)
					return nil
				}
				cmd.Run = nil
				// The other required flags get their values on the command line.
				args := strings.Fields(line)
				cmd.Flags().VisitAll(func(o *pflag.Flag) {
					if o.Name != f.Name && len(o.Annotations[cobra.BashCompOneRequiredFlag]) > 0 {
						args = append(args, "--"+o.Name, envValues[o.Value.Type()])
					}
				})
				t.Setenv(envName(f), value)
				root.SetArgs(args)
				if err := root.Execute(); err != nil {
					t.Fatalf("wharf %s with %s=%s: %v", line, envName(f), value, err)
				}
				if seen == nil || !seen.Changed || !strings.Contains(seen.Value.String(), strings.Split(value, "=")[0]) {
					t.Fatalf("wharf %s: --%s is %v after %s=%s", line, f.Name, seen, envName(f), value)
				}
			})
		})
	}
	t.Logf("%d flags of %d commands", flags, len(commands))
}

// TestS3ProfileFlagsTakeTheirOwnVariables: `wharf accounts s3 set --region`
// is the profile's region, set by WHARF_S3_REGION and not by a server's
// WHARF_REGION.
func TestS3ProfileFlagsTakeTheirOwnVariables(t *testing.T) {
	root := newRootCommand()
	set, _, err := root.Find([]string{"accounts", "s3", "set"})
	if err != nil {
		t.Fatal(err)
	}
	for flag, env := range map[string]string{
		"region": "WHARF_S3_REGION", "endpoint": "WHARF_S3_ENDPOINT",
		"path-style": "WHARF_S3_PATH_STYLE", "access-key-id": "WHARF_S3_ACCESS_KEY_ID",
		"account": "WHARF_ACCOUNT", "data-dir": "WHARF_DATA_DIR",
	} {
		if got := envName(set.Flags().Lookup(flag)); got != env {
			t.Errorf("--%s takes %s, want %s", flag, got, env)
		}
	}
	t.Setenv("WHARF_REGION", "eu-west-1")
	if err := bindEnv(set); err != nil {
		t.Fatal(err)
	}
	if f := set.Flags().Lookup("region"); f.Changed {
		t.Errorf("WHARF_REGION set the S3 profile's --region to %s", f.Value)
	}
}
