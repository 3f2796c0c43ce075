// Package s3access reaches the S3 buckets that jobs read and write, on any
// S3-compatible endpoint (AWS, MinIO, versitygw, ...).
//
// # Endpoints and accounts
//
// An *Endpoint is an S3 client bound to one endpoint URL and one set of
// credentials. A Resolver hands out the Endpoint an account's jobs must use:
//
//   - The ambient configuration, the standard AWS chain read by
//     config.LoadDefaultConfig (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY,
//     AWS_PROFILE and the shared config files, AWS_REGION,
//     AWS_ENDPOINT_URL_S3 or AWS_ENDPOINT_URL), belongs to the deployment:
//     the asset store uses it, and of the accounts only the configured root
//     account does.
//   - Every other account uses the Profile its ProfileSource returns for it
//     (a profile registered for the root account takes precedence over the
//     ambient configuration too). Those clients are built from the profile
//     alone: nothing of the ambient configuration, credentials included,
//     leaks into them.
//   - An account with neither gets an AccessDeniedException.
//
// Path-style addressing (http://host/bucket/key), which MinIO and most
// self-hosted servers need, is on by default whenever a custom endpoint is
// set; WHARF_S3_FORCE_PATH_STYLE=true|false overrides that for the ambient
// configuration, and Profile.PathStyle decides it for a profile.
//
// Each Endpoint has an Identity, its endpoint URL and access key id. Two
// locations with the same identity can be copied server-side (CopyObject,
// UploadPartCopy): one set of credentials can read the one and write the
// other. Otherwise Copy streams the bytes through Wharf.
package s3access

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/wharf-dev/wharf/internal/fault"
	"github.com/wharf-dev/wharf/internal/resource"
)

// EnvForcePathStyle names the variable that turns path-style addressing on
// or off for the ambient configuration (strconv.ParseBool syntax).
const EnvForcePathStyle = "WHARF_S3_FORCE_PATH_STYLE"

// DefaultRegion is the region used when none is configured. MinIO and most
// S3-compatible servers accept it whatever their own region setting.
const DefaultRegion = "us-east-1"

// Profile is the S3 configuration registered for one account.
type Profile struct {
	// Endpoint is the endpoint URL (http:// or https://); empty means AWS's
	// own S3 endpoints for Region.
	Endpoint        string
	Region          string // DefaultRegion when empty
	AccessKeyID     string
	SecretAccessKey string
	SessionToken    string // optional, for temporary credentials
	// PathStyle addresses buckets as http://host/bucket rather than
	// http://bucket.host; most self-hosted servers need it.
	PathStyle bool
}

// ProfileSource looks up the S3 profile registered for an account. ok is
// false when the account has none.
type ProfileSource interface {
	Profile(ctx context.Context, accountID string) (p Profile, ok bool, err error)
}

// MemoryProfiles is a ProfileSource held in memory, for tests and for
// deployments that configure profiles at start-up. Safe for concurrent use.
type MemoryProfiles struct {
	mu sync.RWMutex
	m  map[string]Profile
}

// NewMemoryProfiles returns an empty MemoryProfiles.
func NewMemoryProfiles() *MemoryProfiles { return &MemoryProfiles{m: map[string]Profile{}} }

// Set registers p for accountID, replacing any previous profile.
func (m *MemoryProfiles) Set(accountID string, p Profile) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.m[accountID] = p
}

// Delete removes accountID's profile.
func (m *MemoryProfiles) Delete(accountID string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.m, accountID)
}

// Profile implements ProfileSource.
func (m *MemoryProfiles) Profile(_ context.Context, accountID string) (Profile, bool, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	p, ok := m.m[accountID]
	return p, ok, nil
}

// Identity names what an Endpoint talks to and as whom. Comparable.
type Identity struct {
	// URL is the endpoint URL without a trailing slash; empty for AWS's own
	// endpoints.
	URL         string
	AccessKeyID string
}

func (id Identity) String() string {
	u := id.URL
	if u == "" {
		u = "aws"
	}
	return u + " as " + id.AccessKeyID
}

// Endpoint is an S3 client for one endpoint and one set of credentials.
type Endpoint struct {
	client   *s3.Client
	identity Identity
	region   string
}

// Client is the underlying SDK client, for operations this package does not
// wrap.
func (e *Endpoint) Client() *s3.Client { return e.client }

// Identity is the endpoint URL and the access key id this client uses.
func (e *Endpoint) Identity() Identity { return e.identity }

// URL is the endpoint URL, empty for AWS's own endpoints.
func (e *Endpoint) URL() string { return e.identity.URL }

// Region is the signing region.
func (e *Endpoint) Region() string { return e.region }

// SameEndpoint reports whether a and b reach the same endpoint with the same
// credentials, so that a server-side copy between them can work.
func SameEndpoint(a, b *Endpoint) bool {
	return a != nil && b != nil && (a == b || a.identity == b.identity)
}

// NewEndpoint builds an Endpoint from a profile and nothing else: the
// ambient configuration (environment, shared files) is not consulted.
func NewEndpoint(p Profile) (*Endpoint, error) {
	if p.AccessKeyID == "" || p.SecretAccessKey == "" {
		return nil, errors.New("s3access: a profile needs an access key id and a secret access key")
	}
	base, err := normalizeURL(p.Endpoint)
	if err != nil {
		return nil, err
	}
	region := p.Region
	if region == "" {
		region = DefaultRegion
	}
	opts := s3.Options{
		Region: region,
		Credentials: aws.NewCredentialsCache(credentials.NewStaticCredentialsProvider(
			p.AccessKeyID, p.SecretAccessKey, p.SessionToken)),
		UsePathStyle: p.PathStyle,
		DisableLogOutputChecksumValidationSkipped: true,
	}
	if base != "" {
		opts.BaseEndpoint = aws.String(base)
	}
	return &Endpoint{
		client:   s3.New(opts),
		identity: Identity{URL: base, AccessKeyID: p.AccessKeyID},
		region:   region,
	}, nil
}

// NewEndpointFromClient wraps a client built elsewhere (a custom HTTP
// client, instrumentation). The caller vouches for id: it must name the
// client's endpoint URL and access key id, or SameEndpoint will be wrong.
func NewEndpointFromClient(client *s3.Client, id Identity) (*Endpoint, error) {
	u, err := normalizeURL(id.URL)
	if err != nil {
		return nil, err
	}
	id.URL = u
	return &Endpoint{client: client, identity: id, region: client.Options().Region}, nil
}

func normalizeURL(raw string) (string, error) {
	if raw == "" {
		return "", nil
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", fmt.Errorf("s3access: endpoint %q is not an http:// or https:// URL", raw)
	}
	u.Host = strings.ToLower(u.Host)
	return strings.TrimSuffix(u.String(), "/"), nil
}

// ambient is the deployment's own configuration. Its credentials are
// retrieved on first use (not at start-up: a deployment without S3 must not
// wait on, or reach out to, credential providers it never needs).
type ambient struct {
	mu       sync.Mutex
	endpoint *Endpoint // identity filled in once credentials were retrieved
	creds    aws.CredentialsProvider
	ready    bool
}

func loadAmbient(ctx context.Context) (*ambient, error) {
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return nil, fmt.Errorf("s3access: load the AWS configuration: %w", err)
	}
	if cfg.Region == "" {
		cfg.Region = DefaultRegion
	}
	forced, hasForced, err := forcePathStyle()
	if err != nil {
		return nil, err
	}
	client := s3.NewFromConfig(cfg)
	base, err := normalizeURL(aws.ToString(client.Options().BaseEndpoint))
	if err != nil {
		return nil, err
	}
	pathStyle := base != ""
	if hasForced {
		pathStyle = forced
	}
	client = s3.NewFromConfig(cfg, func(o *s3.Options) {
		o.UsePathStyle = pathStyle
		// MinIO and other servers often send no checksum to validate; the
		// SDK would log that on every GetObject.
		o.DisableLogOutputChecksumValidationSkipped = true
	})
	return &ambient{
		endpoint: &Endpoint{client: client, identity: Identity{URL: base}, region: cfg.Region},
		creds:    cfg.Credentials,
	}, nil
}

func forcePathStyle() (value, set bool, err error) {
	v, ok := os.LookupEnv(EnvForcePathStyle)
	if !ok || v == "" {
		return false, false, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return false, false, fmt.Errorf("s3access: %s=%q: want true or false", EnvForcePathStyle, v)
	}
	return b, true, nil
}

func (a *ambient) get(ctx context.Context) (*Endpoint, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.ready {
		return a.endpoint, nil
	}
	if a.creds == nil {
		return nil, errors.New("no credentials found in the AWS configuration")
	}
	c, err := a.creds.Retrieve(ctx)
	if err != nil {
		return nil, err
	}
	// The identity is that of the first credentials: refreshed temporary
	// credentials keep it, as they stand for the same principal.
	a.endpoint.identity.AccessKeyID = c.AccessKeyID
	a.ready = true
	return a.endpoint, nil
}

// ResolverConfig configures a Resolver.
type ResolverConfig struct {
	// RootAccountID is the account the ambient configuration belongs to;
	// empty means no account uses it (only the asset store does).
	RootAccountID string
	// Profiles holds the other accounts' profiles; nil means none.
	Profiles ProfileSource
	// Ambient, when set, replaces the standard AWS chain as the ambient
	// configuration (tests, and deployments configured explicitly).
	Ambient *Profile
}

// Resolver hands out the Endpoint each account must use. Safe for
// concurrent use; clients are cached and rebuilt when a profile changes.
type Resolver struct {
	root     string
	profiles ProfileSource
	ambient  *ambient

	mu    sync.Mutex
	cache map[string]cached
}

type cached struct {
	profile  Profile
	endpoint *Endpoint
}

// NewResolver loads the ambient configuration (without contacting anything)
// and returns a Resolver.
func NewResolver(ctx context.Context, cfg ResolverConfig) (*Resolver, error) {
	if cfg.RootAccountID != "" && !resource.ValidAccountID(cfg.RootAccountID) {
		return nil, fmt.Errorf("s3access: root account id %q is not 12 digits", cfg.RootAccountID)
	}
	r := &Resolver{root: cfg.RootAccountID, profiles: cfg.Profiles, cache: map[string]cached{}}
	if cfg.Ambient != nil {
		ep, err := NewEndpoint(*cfg.Ambient)
		if err != nil {
			return nil, err
		}
		r.ambient = &ambient{endpoint: ep, ready: true}
	} else {
		a, err := loadAmbient(ctx)
		if err != nil {
			return nil, err
		}
		r.ambient = a
	}
	return r, nil
}

// AmbientEndpoint names the ambient configuration's endpoint URL (empty:
// AWS's own) and region, without retrieving credentials, for the logs.
func (r *Resolver) AmbientEndpoint() (url, region string) {
	return r.ambient.endpoint.URL(), r.ambient.endpoint.Region()
}

// Ambient returns the deployment's own Endpoint, the one the asset store
// uses. It fails when the ambient configuration has no credentials.
func (r *Resolver) Ambient(ctx context.Context) (*Endpoint, error) {
	ep, err := r.ambient.get(ctx)
	if err != nil {
		return nil, fmt.Errorf("s3access: the ambient AWS configuration has no usable credentials: %w", err)
	}
	return ep, nil
}

// Resolve returns the Endpoint accountID's jobs use: its registered profile,
// else the ambient configuration if it is the root account, else an
// AccessDeniedException.
func (r *Resolver) Resolve(ctx context.Context, accountID string) (*Endpoint, error) {
	if !resource.ValidAccountID(accountID) {
		return nil, fault.AccessDeniedf("no S3 credentials are configured for account %q", accountID)
	}
	if r.profiles != nil {
		p, ok, err := r.profiles.Profile(ctx, accountID)
		if err != nil {
			return nil, fmt.Errorf("s3access: look up the S3 profile of account %s: %w", accountID, err)
		}
		if ok {
			return r.fromProfile(accountID, p)
		}
	}
	if accountID == r.root {
		ep, err := r.ambient.get(ctx)
		if err != nil {
			return nil, fmt.Errorf("%w (ambient configuration: %v)",
				fault.AccessDeniedf("no S3 credentials are configured for account %s", accountID), err)
		}
		return ep, nil
	}
	return nil, fault.AccessDeniedf("no S3 credentials are configured for account %s", accountID)
}

func (r *Resolver) fromProfile(accountID string, p Profile) (*Endpoint, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if c, ok := r.cache[accountID]; ok && c.profile == p {
		return c.endpoint, nil
	}
	ep, err := NewEndpoint(p)
	if err != nil {
		return nil, fmt.Errorf("%w (%v)",
			fault.AccessDeniedf("the S3 profile of account %s is not usable", accountID), err)
	}
	r.cache[accountID] = cached{profile: p, endpoint: ep}
	return ep, nil
}
