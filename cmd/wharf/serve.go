package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/spf13/cobra"

	"github.com/wharf-dev/wharf/internal/api"
	"github.com/wharf-dev/wharf/internal/apiasset"
	"github.com/wharf-dev/wharf/internal/assetstore"
	"github.com/wharf-dev/wharf/internal/auditlog"
	"github.com/wharf-dev/wharf/internal/auth"
	"github.com/wharf-dev/wharf/internal/eventactions"
	"github.com/wharf-dev/wharf/internal/exchange"
	"github.com/wharf-dev/wharf/internal/housekeeping"
	"github.com/wharf-dev/wharf/internal/jobs"
	"github.com/wharf-dev/wharf/internal/jobtypes"
	"github.com/wharf-dev/wharf/internal/notify"
	"github.com/wharf-dev/wharf/internal/s3access"
	"github.com/wharf-dev/wharf/internal/s3profiles"
	"github.com/wharf-dev/wharf/internal/signedurl"
	"github.com/wharf-dev/wharf/internal/store"
)

type serveFlags struct {
	store           storeFlags
	listen          string
	region          string
	logFormat       string
	logLevel        string
	shutdownTimeout time.Duration
	jobTimeout      time.Duration
	jobRetention    dayDuration
	auditRetention  dayDuration
	jobConcurrency  map[string]int
	assetStore      string
	maxAssetSize    int64
	jobParallelism  int
	// testJobLease shortens the engine's job lease (and with it the
	// heartbeat and the reaper's period) so that crash tests don't wait
	// 30 s for a dead run's lease. Hidden: not for production.
	testJobLease time.Duration
	// testSweepInterval shortens how often deleted assets' bytes are
	// removed, so that tests see them go without waiting. Hidden.
	testSweepInterval time.Duration
	publicURL         string
	uploadExpiry      time.Duration
	downloadExpiry    time.Duration
	maxUploadSize     int64
	apiEndpoints      []string
	console           consoleFlags
	pprof             string

	// testAssetsPerRevision lowers the "Assets per revision" quota so that
	// tests can fill revisions without 10,000 assets. Hidden.
	testAssetsPerRevision int
}

func newServeCommand() *cobra.Command {
	var f serveFlags
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the AWS Data Exchange API",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return serve(cmd.Context(), f)
		},
	}
	f.store.register(cmd)
	cmd.Flags().StringVar(&f.listen, "listen", "127.0.0.1:8686", "address to serve the API on")
	cmd.Flags().StringVar(&f.region, "region", "us-east-1", "the AWS region Wharf answers as (in ARNs and SigV4 scopes)")
	cmd.Flags().StringVar(&f.logFormat, "log-format", "text", "log format: text or json")
	cmd.Flags().StringVar(&f.logLevel, "log-level", "info", "log level: debug, info, warn or error")
	cmd.Flags().DurationVar(&f.shutdownTimeout, "shutdown-timeout", 30*time.Second,
		"how long SIGTERM waits for in-flight requests and job runs (runs get half of it, then hand their jobs over)")
	cmd.Flags().DurationVar(&f.jobTimeout, "job-timeout", jobs.DefaultJobTimeout,
		"how long a job may run, from the start of its first run, before it ends TIMED_OUT")
	f.jobRetention = dayDuration(jobs.DefaultRetention)
	cmd.Flags().Var(&f.jobRetention, "job-retention",
		"how long jobs are kept after their creation (a Go duration, or whole days like 90d)")
	f.auditRetention = dayDuration(housekeeping.DefaultAuditRetention)
	cmd.Flags().Var(&f.auditRetention, "audit-retention",
		"how long audit records are kept (a Go duration, or whole days like 90d; 0 keeps them forever)")
	cmd.Flags().StringToIntVar(&f.jobConcurrency, "job-concurrency", nil,
		"jobs of a type in progress at once, across replicas: TYPE=N[,TYPE=N...] (default AWS's: 10 per type; 5 for EXPORT_REVISIONS_TO_S3, IMPORT_ASSETS_FROM_LAKE_FORMATION_TAG_POLICY and CREATE_S3_DATA_ACCESS_FROM_S3_BUCKET)")
	cmd.Flags().StringVar(&f.assetStore, "asset-store", "",
		"where asset bytes live: file:///dir, or s3://bucket/prefix on the ambient S3 configuration (default <data-dir>/assets)")
	cmd.Flags().Int64Var(&f.maxAssetSize, "max-asset-size", jobtypes.DefaultMaxAssetSize,
		"the largest object an import takes, in bytes (AWS's quota: 100 GB)")
	cmd.Flags().IntVar(&f.jobParallelism, "job-parallelism", jobtypes.DefaultParallelism,
		"how many objects one job copies at once")
	cmd.Flags().DurationVar(&f.testJobLease, "test-job-lease", 0,
		"for tests only: the job lease (default 30s); heartbeats and the reaper run every third of it")
	_ = cmd.Flags().MarkHidden("test-job-lease")
	cmd.Flags().DurationVar(&f.testSweepInterval, "test-sweep-interval", 0,
		"for tests only: how often deleted assets' bytes are removed (default 10s)")
	_ = cmd.Flags().MarkHidden("test-sweep-interval")
	cmd.Flags().IntVar(&f.testAssetsPerRevision, "test-assets-per-revision", 0,
		"for tests only: the Assets per revision quota (default 10,000)")
	_ = cmd.Flags().MarkHidden("test-assets-per-revision")
	cmd.Flags().StringVar(&f.publicURL, "public-url", "",
		"the base URL clients reach this server at, for the signed URLs it serves with the local asset store (default http://<listen address>)")
	cmd.Flags().DurationVar(&f.uploadExpiry, "upload-url-expiry", jobtypes.DefaultUploadURLExpiry,
		"how long an IMPORT_ASSET_FROM_SIGNED_URL job's URL takes its upload (AWS: 1h)")
	cmd.Flags().DurationVar(&f.downloadExpiry, "download-url-expiry", jobtypes.DefaultDownloadURLExpiry,
		"how long an EXPORT_ASSET_TO_SIGNED_URL job's URL serves the asset (AWS: 1m)")
	cmd.Flags().Int64Var(&f.maxUploadSize, "max-upload-size", signedurl.DefaultMaxUploadSize,
		"the largest upload a signed URL takes, in bytes (S3's limit for one PUT: 5 GiB)")
	cmd.Flags().StringArrayVar(&f.apiEndpoints, "api-endpoint", nil,
		"where SendApiAsset forwards the requests of an API Gateway API asset: API_ID=URL, repeatable (default https://API_ID.execute-api.REGION.amazonaws.com/STAGE)")
	f.console.register(cmd)
	cmd.Flags().StringVar(&f.pprof, "pprof", "",
		"serve Go's profiler (net/http/pprof, /debug/pprof/) on this separate address, e.g. 127.0.0.1:6060 (default off)")
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
	// Every flag and variable is checked before the first side effect.
	endpoints, err := f.validate()
	if err != nil {
		return err
	}
	logger, err := newLogger(f.logFormat, f.logLevel)
	if err != nil {
		return err
	}
	// One server per SQLite data dir, refused before anything else, and
	// the address taken before the store is touched: a port in use costs
	// nothing either.
	dirLock, err := f.store.lock()
	if err != nil {
		return err
	}
	defer dirLock.Release()
	ln, err := net.Listen("tcp", f.listen)
	if err != nil {
		return fmt.Errorf("--listen: %w", err)
	}
	defer ln.Close() // after an early return; Shutdown closes it otherwise

	st, err := f.store.create(ctx)
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
	root := rootConfig()
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

	registry := prometheus.NewRegistry()
	registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	// The job types Wharf supports register their runners; CreateJob
	// refuses the others.
	runners, signedURLs, assetURLs, assets, err := newRunners(ctx, f, st, root.AccountID, s3profiles.New(st, sealer), logger, endpoints)
	if err != nil {
		return err
	}
	jobService, err := jobs.New(ctx, st, jobs.Config{
		Region:      f.region,
		Runners:     runners,
		JobTimeout:  f.jobTimeout,
		Retention:   time.Duration(f.jobRetention),
		Concurrency: f.jobConcurrency,
		Logger:      logger,
		Metrics:     registry,
		// Zero (the default) leaves the engine's defaults.
		LeaseDuration:     f.testJobLease,
		HeartbeatInterval: f.testJobLease / 3,
		ReapInterval:      f.testJobLease / 3,

		AssetsPerRevision: f.testAssetsPerRevision, // 0: AWS's 10,000
	})
	if err != nil {
		return err
	}
	if err := jobService.Start(ctx); err != nil {
		return err
	}
	defer func() {
		// After an early return; a no-op after the shutdown below.
		stopCtx, cancel := context.WithTimeout(context.Background(), f.shutdownTimeout)
		defer cancel()
		_ = jobService.Stop(stopCtx)
	}()
	logger.Info("job engine running", "job_timeout", f.jobTimeout, "job_retention", f.jobRetention.String())

	// Data set notifications go out to receivers' webhooks from every replica.
	deliverer, err := notify.New(notify.Config{Store: st, Region: f.region, Sealer: sealer, Logger: logger})
	if err != nil {
		return err
	}
	delivering := make(chan struct{})
	deliverCtx, stopDelivering := context.WithCancel(context.WithoutCancel(ctx))
	go func() { defer close(delivering); deliverer.Run(deliverCtx) }()
	defer func() { stopDelivering(); <-delivering }()

	// Deleted assets' bytes and old audit records go, from every replica.
	sweeper, err := housekeeping.New(housekeeping.Config{
		Store: st, Assets: assets, AuditRetention: time.Duration(f.auditRetention),
		BytesInterval: f.testSweepInterval, Logger: logger,
	})
	if err != nil {
		return err
	}
	sweeping := make(chan struct{})
	sweepCtx, stopSweeping := context.WithCancel(context.WithoutCancel(ctx))
	go func() { defer close(sweeping); sweeper.Run(sweepCtx) }()
	defer func() { stopSweeping(); <-sweeping }()
	logger.Info("housekeeping running", "audit_retention", f.auditRetention.String())

	publicURL := f.publicURL
	if publicURL == "" {
		publicURL = defaultPublicURL(f.listen)
	}
	origin, err := signedURLOrigin(ctx, assets, publicURL)
	if err != nil {
		return err
	}
	sessions, consolePages, err := f.console.newConsole(ctx, st, sealer, f.region, origin)
	if err != nil {
		return err
	}
	verifierOpts := []auth.VerifierOption{}
	var apiSessions api.Sessions
	if sessions != nil {
		verifierOpts = append(verifierOpts, auth.WithSessions(sessions))
		apiSessions = sessions
		logger.Info("console served", "path", "/console/", "session_duration", sessions.MaxDuration())
	}

	// Every call's audit record, committed in batches before its answer.
	auditWriter, err := auditlog.New(auditlog.Config{Store: st, Metrics: registry})
	if err != nil {
		return err
	}
	defer auditWriter.Close()
	exchangeService := exchange.New(st, f.region)
	exchangeService.OnNotificationsRecorded = deliverer.Wake
	handler := api.New(api.Config{
		Service:       exchangeService,
		Jobs:          jobService,
		EventActions:  eventactions.New(st, exchangeService, jobService),
		Metrics:       promhttp.HandlerFor(registry, promhttp.HandlerOpts{}),
		Authenticator: auth.NewVerifier(auth.NewKeyCache(keyring, auth.KeyCacheConfig{}), f.region, verifierOpts...),
		Logger:        logger,
		Region:        f.region,
		Ready:         st.Ping,
		Audit:         auditWriter,
		SignedURLs:    signedURLs,
		APIAssets:     &apiasset.Forwarder{Endpoints: endpoints},
		AssetDetails:  assetURLs.Details,
		Sessions:      apiSessions,
		Console:       consolePages,
	})
	srv := &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: 30 * time.Second,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	if f.pprof != "" {
		stopPprof, err := startPprof(f.pprof, logger)
		if err != nil {
			return err
		}
		defer stopPprof()
	}
	logger.Info("wharf serving", "listen", ln.Addr().String(), "region", f.region)

	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()
	var stopErr error
	select {
	case stopErr = <-serveErr:
	case <-ctx.Done():
	}
	logger.Info("shutting down", "timeout", f.shutdownTimeout, "runs_in_progress", jobService.Running())
	shutdownCtx, cancel := context.WithTimeout(context.Background(), f.shutdownTimeout)
	defer cancel()
	// Requests and job runs wind down together. Runs still going at half
	// the timeout are cancelled and their jobs handed over: another
	// replica, or this one restarted, resumes them.
	jobsStopped := make(chan error, 1)
	go func() { jobsStopped <- jobService.Stop(shutdownCtx) }()
	if err := srv.Shutdown(shutdownCtx); err != nil && !errors.Is(err, http.ErrServerClosed) && stopErr == nil {
		stopErr = fmt.Errorf("shutdown: %w", err)
	}
	if err := <-jobsStopped; err != nil {
		logger.Warn("job runs did not all stop in time; their leases expire instead", "error", err)
	}
	if stopErr != nil && !errors.Is(stopErr, http.ErrServerClosed) {
		return stopErr
	}
	logger.Info("stopped")
	return nil
}

// newRunners opens the asset store and the S3 access that jobs use, and
// returns the runners of every job type Wharf supports, the asset store, and the handler of
// the signed URLs Wharf serves itself (nil with an S3 asset store, whose
// URLs S3 serves), and the signer of the URLs in asset details.
func newRunners(ctx context.Context, f serveFlags, st store.Store, rootAccountID string, profiles s3access.ProfileSource, logger *slog.Logger, endpoints apiasset.Endpoints) (map[string]jobs.Runner, http.Handler, *jobtypes.AssetURLs, assetstore.Store, error) {
	if rootAccountID == "" {
		rootAccountID = auth.DefaultRootAccountID
	}
	resolver, err := s3access.NewResolver(ctx, s3access.ResolverConfig{
		RootAccountID: rootAccountID,
		// Per-account profiles (`wharf accounts s3 set`), read from the
		// store at each job run: every replica sees a change at once.
		Profiles: profiles,
	})
	if err != nil {
		return nil, nil, nil, nil, fmt.Errorf("S3 configuration: %w", err)
	}
	s3URL, s3Region := resolver.AmbientEndpoint()
	if s3URL == "" {
		s3URL = "AWS (https://s3." + s3Region + ".amazonaws.com)"
	}
	logger.Info("ambient S3 configuration", "s3_endpoint", s3URL, "s3_region", s3Region)
	assets, err := assetstore.Open(ctx, f.assetStore, f.store.dataDir, resolver)
	if err != nil {
		return nil, nil, nil, nil, fmt.Errorf("--asset-store: %w", err)
	}
	signed := &jobtypes.SignedURLConfig{
		UploadExpiry:   f.uploadExpiry,
		DownloadExpiry: f.downloadExpiry,
		MaxUploadSize:  f.maxUploadSize,
	}
	var signedHandler http.Handler
	if _, s3Store := assets.(*assetstore.S3); !s3Store {
		publicURL := f.publicURL
		if publicURL == "" {
			publicURL = defaultPublicURL(f.listen)
			if host, _, _ := net.SplitHostPort(f.listen); host == "" || net.ParseIP(host).IsUnspecified() {
				logger.Warn("--listen names no host: signed URLs name 127.0.0.1, which only this machine reaches; set --public-url", "public_url", publicURL)
			}
		}
		// The signing key comes from the master key, which every replica
		// shares, so any replica serves any replica's URLs.
		masterKey, err := auth.LoadMasterKey(f.store.dataDir)
		if err != nil {
			return nil, nil, nil, nil, err
		}
		if signed.Signer, err = signedurl.NewSigner(masterKey, publicURL); err != nil {
			return nil, nil, nil, nil, fmt.Errorf("--public-url: %w", err)
		}
		signedHandler = &signedurl.Handler{
			Signer: signed.Signer, Assets: assets, Gate: jobtypes.UploadGate{Store: st},
			MaxUploadSize: f.maxUploadSize, Logger: logger,
		}
		logger.Info("signed URLs served here", "public_url", publicURL)
	}
	logger.Info("asset store ready", "asset_store", fmt.Sprint(assets))
	runners := map[string]jobs.Runner{}
	err = jobtypes.Register(runners, jobtypes.Deps{
		Store:        st,
		Assets:       assets,
		S3:           resolver,
		MaxAssetSize: f.maxAssetSize,
		Parallelism:  f.jobParallelism,
		Logger:       logger,
		SignedURLs:   signed,
		Region:       f.region,
		APIEndpoints: endpoints,
	})
	if err != nil {
		return nil, nil, nil, nil, err
	}
	assetURLs, err := jobtypes.NewAssetURLs(assets, signed)
	return runners, signedHandler, assetURLs, assets, err
}

// defaultPublicURL is http://<listen address>, with 127.0.0.1 for a
// listen address that names no host or every interface.
func defaultPublicURL(listen string) string {
	host, port, err := net.SplitHostPort(listen)
	if err != nil {
		return "http://" + listen
	}
	if host == "" || net.ParseIP(host).IsUnspecified() {
		host = "127.0.0.1"
	}
	return "http://" + net.JoinHostPort(host, port)
}

// dayDuration is a duration flag that also takes whole days ("90d"), the
// unit retention periods are spoken in.
type dayDuration time.Duration

func (d *dayDuration) Set(s string) error {
	if days, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.Atoi(days)
		if err != nil || n < 0 {
			return fmt.Errorf("%q is not a whole number of days", s)
		}
		*d = dayDuration(time.Duration(n) * 24 * time.Hour)
		return nil
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return err
	}
	*d = dayDuration(v)
	return nil
}

func (d *dayDuration) String() string {
	v := time.Duration(*d)
	if v > 0 && v%(24*time.Hour) == 0 {
		return strconv.Itoa(int(v/(24*time.Hour))) + "d"
	}
	return v.String()
}

func (d *dayDuration) Type() string { return "duration" }
