package main

import (
	"errors"
	"fmt"
	"net"
	"os"
	"regexp"
	"slices"
	"strconv"
	"time"

	"github.com/wharf-dev/wharf/internal/apiasset"
	"github.com/wharf-dev/wharf/internal/assetstore"
	"github.com/wharf-dev/wharf/internal/auth"
	"github.com/wharf-dev/wharf/internal/resource"
	"github.com/wharf-dev/wharf/internal/s3access"
	"github.com/wharf-dev/wharf/internal/signedurl"
)

// maxURLExpiry is the longest a signed URL lives (SigV4 presigned URLs
// can't live longer).
const maxURLExpiry = 7 * 24 * time.Hour

var regionPattern = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)

// validate checks every flag of `wharf serve` and every variable it reads,
// touching nothing: serve runs it before it creates the data dir, migrates,
// creates the root key or starts anything, so that a mistake costs nothing.
// A flag added to serve gets its check here.
func (f *serveFlags) validate() (apiasset.Endpoints, error) {
	if _, err := newLogger(f.logFormat, f.logLevel); err != nil {
		return nil, err
	}
	if err := f.store.validate(); err != nil {
		return nil, err
	}
	if err := checkListen(f.listen); err != nil {
		return nil, err
	}
	endpoints := apiasset.Endpoints{}
	for _, spec := range f.apiEndpoints {
		if err := endpoints.ParseEndpoint(spec); err != nil {
			return nil, fmt.Errorf("--api-endpoint: %w", err)
		}
	}
	for t, n := range f.jobConcurrency {
		if !slices.Contains(resource.JobTypes, t) {
			return nil, fmt.Errorf("--job-concurrency: %q is not a job type", t)
		}
		if n < 1 {
			return nil, fmt.Errorf("--job-concurrency: the limit of %s must be at least 1, got %d", t, n)
		}
	}
	if err := assetstore.CheckSpec(f.assetStore); err != nil {
		return nil, fmt.Errorf("--asset-store: %w", err)
	}
	if f.publicURL != "" {
		if err := signedurl.CheckPublicURL(f.publicURL); err != nil {
			return nil, fmt.Errorf("--public-url: %w", err)
		}
	}
	switch {
	case !regionPattern.MatchString(f.region):
		return nil, fmt.Errorf("--region must be a region name like us-east-1, got %q", f.region)
	case f.shutdownTimeout <= 0:
		return nil, fmt.Errorf("--shutdown-timeout must be positive, got %s", f.shutdownTimeout)
	case f.jobTimeout <= 0:
		return nil, fmt.Errorf("--job-timeout must be positive, got %s", f.jobTimeout)
	case f.jobRetention <= 0:
		return nil, fmt.Errorf("--job-retention must be positive, got %s", f.jobRetention.String())
	case f.auditRetention < 0:
		return nil, fmt.Errorf("--audit-retention can't be negative (0 keeps records forever), got %s", f.auditRetention.String())
	case f.maxAssetSize < 1:
		return nil, fmt.Errorf("--max-asset-size must be at least 1 byte, got %d", f.maxAssetSize)
	case f.maxUploadSize < 1:
		return nil, fmt.Errorf("--max-upload-size must be at least 1 byte, got %d", f.maxUploadSize)
	case f.jobParallelism < 1:
		return nil, fmt.Errorf("--job-parallelism must be at least 1, got %d", f.jobParallelism)
	case f.testJobLease < 0, f.testSweepInterval < 0:
		return nil, errors.New("--test-job-lease and --test-sweep-interval can't be negative")
	}
	for _, e := range []struct {
		flag string
		d    time.Duration
	}{{"--upload-url-expiry", f.uploadExpiry}, {"--download-url-expiry", f.downloadExpiry}} {
		if e.d < time.Second || e.d > maxURLExpiry {
			return nil, fmt.Errorf("%s must be from 1s to 7 days (168h), got %s", e.flag, e.d)
		}
	}
	return endpoints, checkServeEnv()
}

// checkServeEnv checks the variables serve reads that are no flag's.
func checkServeEnv() error {
	if err := rootConfig().Validate(); err != nil {
		return err
	}
	if v := os.Getenv(auth.EnvMasterKey); v != "" {
		if _, err := auth.LoadMasterKey(""); err != nil { // decodes only
			return err
		}
	}
	if v, ok := os.LookupEnv(s3access.EnvForcePathStyle); ok {
		if _, err := strconv.ParseBool(v); err != nil {
			return fmt.Errorf("%s must be true or false, got %q", s3access.EnvForcePathStyle, v)
		}
	}
	return nil
}

// rootConfig is the root account's configuration, from the environment.
func rootConfig() auth.RootConfig {
	return auth.RootConfig{
		AccountID:       os.Getenv("WHARF_ROOT_ACCOUNT_ID"),
		AccessKeyID:     os.Getenv(auth.EnvRootAccessKeyID),
		SecretAccessKey: os.Getenv(auth.EnvRootSecretAccessKey),
	}
}

// checkListen checks that addr is host:port, suggesting one for a bare port.
func checkListen(addr string) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		if n, perr := strconv.Atoi(addr); perr == nil && n >= 0 && n <= 65535 {
			return fmt.Errorf("--listen %s is not an address: did you mean 127.0.0.1:%d (this machine only) or 0.0.0.0:%d (every interface)?", addr, n, n)
		}
		return fmt.Errorf("--listen %q is not host:port (e.g. 127.0.0.1:8686): %w", addr, err)
	}
	if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		return fmt.Errorf("--listen %q: the port must be a number from 0 to 65535 (e.g. 127.0.0.1:8686)", addr)
	}
	if host != "" && net.ParseIP(host) == nil && !hostnamePattern.MatchString(host) {
		return fmt.Errorf("--listen %q: %q is neither an IP address nor a host name", addr, host)
	}
	return nil
}

var hostnamePattern = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*$`)
