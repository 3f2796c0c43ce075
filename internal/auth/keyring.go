// Package auth authenticates requests to Wharf: accounts and their access
// keys (secrets sealed at rest), the root account an empty installation
// starts with, and AWS Signature Version 4 verification of every request.
package auth

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base32"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"regexp"
	"time"

	"github.com/wharf-dev/wharf/internal/fault"
	"github.com/wharf-dev/wharf/internal/resource"
	"github.com/wharf-dev/wharf/internal/store"
)

// Environment variables the server reads the root credentials from. Package
// auth does not read them itself: callers fill RootConfig.
const (
	EnvRootAccessKeyID     = "WHARF_ROOT_ACCESS_KEY_ID"
	EnvRootSecretAccessKey = "WHARF_ROOT_SECRET_ACCESS_KEY"
)

// DefaultRootAccountID is the root account's id unless configured otherwise.
const DefaultRootAccountID = "123456789012"

// KeyStore is the part of store.Queries the keyring uses.
type KeyStore interface {
	InsertAccount(ctx context.Context, a resource.Account) error
	GetAccount(ctx context.Context, id string) (resource.Account, error)
	ListAccounts(ctx context.Context) ([]resource.Account, error)
	InsertAccessKey(ctx context.Context, k resource.AccessKey) error
	GetAccessKey(ctx context.Context, accessKeyID string) (resource.AccessKey, error)
}

var _ KeyStore = store.Queries(nil)

// Keyring creates accounts and access keys and looks secrets up. Secrets are
// stored sealed, never in the clear.
//
// Creating an account and its first key takes two inserts. A Keyring is cheap:
// to make them one commit, build one over the Queries that store.InTx hands
// out.
type Keyring struct {
	store  KeyStore
	sealer *Sealer
}

// NewKeyring returns a keyring over s, sealing secrets with sealer.
func NewKeyring(s KeyStore, sealer *Sealer) *Keyring {
	return &Keyring{store: s, sealer: sealer}
}

// Credentials are an access key with its secret in the clear, as handed to
// the user once, when created. String, GoString and LogValue redact the
// secret, so that logging a Credentials value doesn't leak it.
type Credentials struct {
	AccountID       string
	AccessKeyID     string
	SecretAccessKey string
	CreatedAt       time.Time
}

// JSON is what admin commands print, shaped like the output of
// `aws iam create-access-key` (plus the account id).
func (c Credentials) JSON() []byte {
	var out struct {
		AccessKey struct {
			AccountId       string
			AccessKeyId     string
			SecretAccessKey string
			Status          string
			CreateDate      string
		}
	}
	out.AccessKey.AccountId = c.AccountID
	out.AccessKey.AccessKeyId = c.AccessKeyID
	out.AccessKey.SecretAccessKey = c.SecretAccessKey
	out.AccessKey.Status = "Active"
	out.AccessKey.CreateDate = c.CreatedAt.UTC().Format("2006-01-02T15:04:05Z")
	b, err := json.MarshalIndent(out, "", "    ")
	if err != nil {
		panic(err) // strings only: cannot fail
	}
	return append(b, '\n')
}

func (c Credentials) String() string {
	return fmt.Sprintf("{AccountID:%s AccessKeyID:%s SecretAccessKey:REDACTED}", c.AccountID, c.AccessKeyID)
}

// GoString redacts the secret from %#v too.
func (c Credentials) GoString() string { return "auth.Credentials" + c.String() }

// LogValue redacts the secret from slog output.
func (c Credentials) LogValue() slog.Value {
	return slog.GroupValue(slog.String("account_id", c.AccountID), slog.String("access_key_id", c.AccessKeyID))
}

// CreateAccount creates an account and its first access key. An empty id
// picks a random 12-digit one. Creating an account that exists fails with an
// error wrapping store.ErrDuplicate.
func (k *Keyring) CreateAccount(ctx context.Context, id string) (resource.Account, Credentials, error) {
	if id != "" && !resource.ValidAccountID(id) {
		return resource.Account{}, Credentials{}, fault.Validationf("account id must be 12 digits, got %q", id)
	}
	account, err := k.insertAccount(ctx, id)
	if err != nil {
		return resource.Account{}, Credentials{}, err
	}
	creds, err := k.insertKey(ctx, account.ID)
	if err != nil {
		return account, Credentials{}, fmt.Errorf("auth: account %s created, but its access key was not: %w", account.ID, err)
	}
	return account, creds, nil
}

func (k *Keyring) insertAccount(ctx context.Context, id string) (resource.Account, error) {
	generated := id == ""
	for attempt := 0; ; attempt++ {
		if generated {
			id = randomAccountID()
		}
		account := resource.Account{ID: id, CreatedAt: resource.Now()}
		err := k.store.InsertAccount(ctx, account)
		switch {
		case err == nil:
			return account, nil
		case errors.Is(err, store.ErrDuplicate) && generated && attempt < 5:
			continue // a random id collided: draw again
		case errors.Is(err, store.ErrDuplicate):
			return resource.Account{}, fmt.Errorf("auth: account %s already exists: %w", id, err)
		default:
			return resource.Account{}, fmt.Errorf("auth: create account %s: %w", id, err)
		}
	}
}

// CreateKey creates a new access key for an existing account. A missing
// account fails with an error wrapping store.ErrNotFound.
func (k *Keyring) CreateKey(ctx context.Context, accountID string) (Credentials, error) {
	if _, err := k.store.GetAccount(ctx, accountID); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return Credentials{}, fmt.Errorf("auth: account %s does not exist: %w", accountID, err)
		}
		return Credentials{}, fmt.Errorf("auth: get account %s: %w", accountID, err)
	}
	return k.insertKey(ctx, accountID)
}

func (k *Keyring) insertKey(ctx context.Context, accountID string) (Credentials, error) {
	for attempt := 0; ; attempt++ {
		creds := Credentials{
			AccountID:       accountID,
			AccessKeyID:     randomAccessKeyID(),
			SecretAccessKey: randomSecret(),
			CreatedAt:       resource.Now(),
		}
		err := k.put(ctx, creds)
		if errors.Is(err, store.ErrDuplicate) && attempt < 5 {
			continue
		}
		if err != nil {
			return Credentials{}, fmt.Errorf("auth: create access key: %w", err)
		}
		return creds, nil
	}
}

func (k *Keyring) put(ctx context.Context, c Credentials) error {
	return k.store.InsertAccessKey(ctx, resource.AccessKey{
		ID:           c.AccessKeyID,
		AccountID:    c.AccountID,
		SealedSecret: k.sealer.Seal(c.AccessKeyID, []byte(c.SecretAccessKey)),
		CreatedAt:    c.CreatedAt,
	})
}

// Lookup returns the account and the secret of an access key. An unknown key
// fails with UnrecognizedClientException, as AWS reports it.
func (k *Keyring) Lookup(ctx context.Context, accessKeyID string) (accountID string, secret []byte, err error) {
	key, err := k.store.GetAccessKey(ctx, accessKeyID)
	if errors.Is(err, store.ErrNotFound) {
		return "", nil, unrecognizedClient()
	}
	if err != nil {
		return "", nil, fmt.Errorf("auth: get access key %s: %w", accessKeyID, err)
	}
	secret, err = k.sealer.Open(key.ID, key.SealedSecret)
	if err != nil {
		return "", nil, err
	}
	return key.AccountID, secret, nil
}

func unrecognizedClient() *fault.Error {
	return fault.New(fault.UnrecognizedClient, "The security token included in the request is invalid.")
}

// RootConfig configures the root account, the one an installation starts
// with (as MinIO's root user). Empty fields take defaults: AccountID is
// DefaultRootAccountID; without AccessKeyID and SecretAccessKey a key is
// generated.
type RootConfig struct {
	AccountID       string
	AccessKeyID     string // from WHARF_ROOT_ACCESS_KEY_ID
	SecretAccessKey string // from WHARF_ROOT_SECRET_ACCESS_KEY
}

var (
	rootKeyIDPattern  = regexp.MustCompile(`^[A-Za-z0-9_.\-]{3,128}$`)
	rootSecretPattern = regexp.MustCompile(`^[\x21-\x7E]{8,128}$`)
)

// EnsureRoot makes sure the root account exists and can sign in, and is safe
// to run on every start, from several replicas at once.
//
// With a configured access key, that key must exist for the root account: it
// is inserted if missing, and EnsureRoot fails if the id is already taken with
// another secret or by another account. Without one, a key is generated
// only when EnsureRoot creates the root account (the store cannot list an
// account's keys, so an existing root account is taken to have one).
//
// created is non-nil only when Wharf generated a secret nobody has seen yet,
// for the caller to show once; it is nil when nothing was created or when
// the operator supplied the secret.
//
// Removing the configured key from the environment does not revoke it.
func (k *Keyring) EnsureRoot(ctx context.Context, cfg RootConfig) (created *Credentials, err error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.AccountID == "" {
		cfg.AccountID = DefaultRootAccountID
	}
	configured := cfg.AccessKeyID != "" || cfg.SecretAccessKey != ""

	accountCreated, err := k.ensureAccount(ctx, cfg.AccountID)
	if err != nil {
		return nil, err
	}
	if configured {
		return nil, k.ensureConfiguredKey(ctx, cfg)
	}
	if !accountCreated {
		return nil, nil
	}
	creds, err := k.insertKey(ctx, cfg.AccountID)
	if err != nil {
		return nil, fmt.Errorf("auth: root account %s created, but its access key was not: %w", cfg.AccountID, err)
	}
	return &creds, nil
}

// Validate checks the configuration as EnsureRoot does, touching nothing,
// so that a server refuses a bad one before it creates anything.
func (cfg RootConfig) Validate() error {
	if cfg.AccountID != "" && !resource.ValidAccountID(cfg.AccountID) {
		return fmt.Errorf("auth: root account id must be 12 digits, got %q", cfg.AccountID)
	}
	if cfg.AccessKeyID == "" && cfg.SecretAccessKey == "" {
		return nil
	}
	return validateRootKey(cfg)
}

func validateRootKey(cfg RootConfig) error {
	switch {
	case cfg.AccessKeyID == "" || cfg.SecretAccessKey == "":
		return fmt.Errorf("auth: set both %s and %s, or neither", EnvRootAccessKeyID, EnvRootSecretAccessKey)
	case !rootKeyIDPattern.MatchString(cfg.AccessKeyID):
		return fmt.Errorf("auth: %s must be 3 to 128 letters, digits, '_', '.' or '-'", EnvRootAccessKeyID)
	case IsSessionKey(cfg.AccessKeyID):
		return fmt.Errorf("auth: %s must not start with %s, which names console sessions' keys", EnvRootAccessKeyID, SessionKeyPrefix)
	case !rootSecretPattern.MatchString(cfg.SecretAccessKey):
		return fmt.Errorf("auth: %s must be 8 to 128 printable ASCII characters without spaces", EnvRootSecretAccessKey)
	}
	return nil
}

// ensureAccount creates the account if it is missing and reports whether it
// did. A concurrent creator (another replica) counts as "already there".
func (k *Keyring) ensureAccount(ctx context.Context, id string) (bool, error) {
	_, err := k.store.GetAccount(ctx, id)
	if err == nil {
		return false, nil
	}
	if !errors.Is(err, store.ErrNotFound) {
		return false, fmt.Errorf("auth: get root account %s: %w", id, err)
	}
	err = k.store.InsertAccount(ctx, resource.Account{ID: id, CreatedAt: resource.Now()})
	if errors.Is(err, store.ErrDuplicate) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("auth: create root account %s: %w", id, err)
	}
	return true, nil
}

func (k *Keyring) ensureConfiguredKey(ctx context.Context, cfg RootConfig) error {
	for attempt := 0; attempt < 2; attempt++ {
		existing, err := k.store.GetAccessKey(ctx, cfg.AccessKeyID)
		if err == nil {
			return k.checkConfiguredKey(existing, cfg)
		}
		if !errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("auth: get access key %s: %w", cfg.AccessKeyID, err)
		}
		err = k.put(ctx, Credentials{
			AccountID:       cfg.AccountID,
			AccessKeyID:     cfg.AccessKeyID,
			SecretAccessKey: cfg.SecretAccessKey,
			CreatedAt:       resource.Now(),
		})
		if err == nil {
			return nil
		}
		if !errors.Is(err, store.ErrDuplicate) {
			return fmt.Errorf("auth: create root access key %s: %w", cfg.AccessKeyID, err)
		}
		// Another replica inserted it meanwhile: check what it wrote.
	}
	return fmt.Errorf("auth: root access key %s: concurrent updates did not settle", cfg.AccessKeyID)
}

func (k *Keyring) checkConfiguredKey(existing resource.AccessKey, cfg RootConfig) error {
	if existing.AccountID != cfg.AccountID {
		return fmt.Errorf("auth: %s=%s already belongs to account %s, not to the root account %s",
			EnvRootAccessKeyID, cfg.AccessKeyID, existing.AccountID, cfg.AccountID)
	}
	secret, err := k.sealer.Open(existing.ID, existing.SealedSecret)
	if err != nil {
		return err
	}
	if subtle.ConstantTimeCompare(secret, []byte(cfg.SecretAccessKey)) != 1 {
		return fmt.Errorf("auth: access key %s already exists with a different secret than %s; "+
			"Wharf does not rotate secrets in place: choose a new %s",
			cfg.AccessKeyID, EnvRootSecretAccessKey, EnvRootAccessKeyID)
	}
	return nil
}

var accountIDLimit = big.NewInt(1_000_000_000_000)

func randomAccountID() string {
	n, err := rand.Int(rand.Reader, accountIDLimit)
	if err != nil {
		panic("auth: crypto/rand failed: " + err.Error())
	}
	return fmt.Sprintf("%012d", n)
}

// randomAccessKeyID returns "AKIA" and 16 base32 characters (80 random
// bits), the shape of an AWS long-term access key id.
func randomAccessKeyID() string {
	var b [10]byte
	mustRandom(b[:])
	return "AKIA" + base32.StdEncoding.EncodeToString(b[:])
}

// randomSecret returns 40 base64 characters (240 random bits), the shape of
// an AWS secret access key.
func randomSecret() string {
	var b [30]byte
	mustRandom(b[:])
	return base64.StdEncoding.EncodeToString(b[:])
}
