package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/wharf-dev/wharf/internal/api"
	"github.com/wharf-dev/wharf/internal/auth"
	"github.com/wharf-dev/wharf/internal/exchange"
	"github.com/wharf-dev/wharf/internal/store"
)

type serveFlags struct {
	store           storeFlags
	listen          string
	region          string
	logFormat       string
	logLevel        string
	shutdownTimeout time.Duration
}

func newServeCommand() *cobra.Command {
	var f serveFlags
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the AWS Data Exchange API",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := bindEnv(cmd); err != nil {
				return err
			}
			return serve(cmd.Context(), f)
		},
	}
	f.store.register(cmd)
	cmd.Flags().StringVar(&f.listen, "listen", "127.0.0.1:8686", "address to serve the API on")
	cmd.Flags().StringVar(&f.region, "region", "us-east-1", "the AWS region Wharf answers as (in ARNs and SigV4 scopes)")
	cmd.Flags().StringVar(&f.logFormat, "log-format", "text", "log format: text or json")
	cmd.Flags().StringVar(&f.logLevel, "log-level", "info", "log level: debug, info, warn or error")
	cmd.Flags().DurationVar(&f.shutdownTimeout, "shutdown-timeout", 30*time.Second, "how long SIGTERM waits for in-flight requests")
	return cmd
}

func newLogger(format, level string) (*slog.Logger, error) {
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("--log-level: %w", err)
	}
	opts := &slog.HandlerOptions{Level: lvl}
	switch format {
	case "text":
		return slog.New(slog.NewTextHandler(os.Stderr, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(os.Stderr, opts)), nil
	}
	return nil, fmt.Errorf("--log-format must be text or json, got %q", format)
}

func serve(ctx context.Context, f serveFlags) error {
	logger, err := newLogger(f.logFormat, f.logLevel)
	if err != nil {
		return err
	}
	st, err := f.store.open(ctx)
	if err != nil {
		return fmt.Errorf("open store %s: %w", f.store.describe(), err)
	}
	defer st.Close()
	logger.Info("store ready", "store", f.store.describe())

	sealer, err := newSealer(&f.store)
	if err != nil {
		return err
	}
	keyring := auth.NewKeyring(st, sealer)
	root := auth.RootConfig{
		AccountID:       os.Getenv("WHARF_ROOT_ACCOUNT_ID"),
		AccessKeyID:     os.Getenv(auth.EnvRootAccessKeyID),
		SecretAccessKey: os.Getenv(auth.EnvRootSecretAccessKey),
	}
	var created *auth.Credentials
	err = st.InTx(ctx, func(q store.Queries) error {
		var err error
		created, err = auth.NewKeyring(q, sealer).EnsureRoot(ctx, root)
		return err
	})
	if err != nil {
		return fmt.Errorf("root credentials: %w", err)
	}
	if created != nil {
		// Printed once, to stdout and not through the logger, so the secret
		// doesn't end up in structured logs: the MinIO way.
		fmt.Printf("Wharf created the root account's access key. It is shown only this once:\n"+
			"  AWS_ACCESS_KEY_ID=%s\n  AWS_SECRET_ACCESS_KEY=%s\n  account id: %s\n",
			created.AccessKeyID, created.SecretAccessKey, created.AccountID)
	}

	handler := api.New(api.Config{
		Service:       exchange.New(st, f.region),
		Authenticator: auth.NewVerifier(keyring, f.region),
		Logger:        logger,
		Region:        f.region,
		Ready:         st.Ping,
	})
	srv := &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: 30 * time.Second,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	ln, err := net.Listen("tcp", f.listen)
	if err != nil {
		return err
	}
	logger.Info("wharf serving", "listen", ln.Addr().String(), "region", f.region)

	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()
	select {
	case err := <-serveErr:
		return err
	case <-ctx.Done():
	}
	logger.Info("shutting down", "timeout", f.shutdownTimeout)
	shutdownCtx, cancel := context.WithTimeout(context.Background(), f.shutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("shutdown: %w", err)
	}
	logger.Info("stopped")
	return nil
}
