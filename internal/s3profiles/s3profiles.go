// Package s3profiles keeps each account's S3 profile (the endpoint and
// credentials its S3 jobs use) in the metadata store, so that every replica
// sees the same profiles and an admin command's change reaches running
// servers on their next job. The secret access key is sealed with the
// master key (auth.Sealer), bound to the account id: a sealed secret copied
// onto another account's row does not open.
//
// *Profiles is the s3access.ProfileSource of `wharf serve`; it reads the
// store on every lookup (one indexed row), and s3access.Resolver rebuilds
// its cached client when the profile it gets differs.
package s3profiles

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/wharf-dev/wharf/internal/auth"
	"github.com/wharf-dev/wharf/internal/resource"
	"github.com/wharf-dev/wharf/internal/s3access"
	"github.com/wharf-dev/wharf/internal/store"
)

// ErrNoProfile is returned by Get and Delete for an account without a
// profile.
var ErrNoProfile = errors.New("s3profiles: the account has no S3 profile")

// ErrNoAccount is returned by Put for an account that does not exist.
var ErrNoAccount = errors.New("s3profiles: no such account")

// Profiles reads and writes S3 profiles in a store.
type Profiles struct {
	q      store.Queries
	sealer *auth.Sealer
	now    func() time.Time
}

var _ s3access.ProfileSource = (*Profiles)(nil)

// New returns the profiles of q (a store, or the Queries of a transaction),
// sealed and opened with sealer.
func New(q store.Queries, sealer *auth.Sealer) *Profiles {
	return &Profiles{q: q, sealer: sealer, now: resource.Now}
}

// Public is what may be shown of a profile: everything but the secret.
type Public struct {
	AccountId   string
	Endpoint    string
	Region      string
	PathStyle   bool
	AccessKeyId string
	UpdatedAt   string // RFC 3339
}

func sealAD(accountID string) []byte {
	return []byte("wharf/s3-profile-secret/v1/" + accountID)
}

// Put registers p as accountID's profile, replacing any previous one. The
// profile must be usable (an http(s) endpoint URL or none, an access key
// id and a secret); nothing is contacted. SessionToken is not kept:
// profiles hold long-lived credentials.
func (s *Profiles) Put(ctx context.Context, accountID string, p s3access.Profile) (Public, error) {
	if !resource.ValidAccountID(accountID) {
		return Public{}, fmt.Errorf("s3profiles: account id %q is not 12 digits", accountID)
	}
	if p.SessionToken != "" {
		return Public{}, errors.New("s3profiles: profiles keep long-lived credentials, not session tokens")
	}
	if p.Region == "" {
		p.Region = s3access.DefaultRegion
	}
	ep, err := s3access.NewEndpoint(p)
	if err != nil {
		return Public{}, err
	}
	row := store.S3Profile{
		AccountID:    accountID,
		Endpoint:     ep.URL(),
		Region:       p.Region,
		PathStyle:    p.PathStyle,
		AccessKeyID:  p.AccessKeyID,
		SealedSecret: s.sealer.SealBound(sealAD(accountID), []byte(p.SecretAccessKey)),
		UpdatedAt:    s.now(),
	}
	err = s.q.PutS3Profile(ctx, row)
	if errors.Is(err, store.ErrNotFound) {
		return Public{}, fmt.Errorf("%w: %s", ErrNoAccount, accountID)
	}
	if err != nil {
		return Public{}, err
	}
	return public(row), nil
}

// Get returns accountID's profile without its secret.
func (s *Profiles) Get(ctx context.Context, accountID string) (Public, error) {
	row, err := s.q.GetS3Profile(ctx, accountID)
	if errors.Is(err, store.ErrNotFound) {
		return Public{}, fmt.Errorf("%w: %s", ErrNoProfile, accountID)
	}
	if err != nil {
		return Public{}, err
	}
	return public(row), nil
}

// Delete removes accountID's profile.
func (s *Profiles) Delete(ctx context.Context, accountID string) error {
	err := s.q.DeleteS3Profile(ctx, accountID)
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("%w: %s", ErrNoProfile, accountID)
	}
	return err
}

// Profile implements s3access.ProfileSource.
func (s *Profiles) Profile(ctx context.Context, accountID string) (s3access.Profile, bool, error) {
	row, err := s.q.GetS3Profile(ctx, accountID)
	if errors.Is(err, store.ErrNotFound) {
		return s3access.Profile{}, false, nil
	}
	if err != nil {
		return s3access.Profile{}, false, err
	}
	secret, err := s.sealer.OpenBound(sealAD(accountID), row.SealedSecret)
	if err != nil {
		return s3access.Profile{}, false, fmt.Errorf("s3profiles: the S3 profile of account %s: %w", accountID, err)
	}
	return s3access.Profile{
		Endpoint:        row.Endpoint,
		Region:          row.Region,
		AccessKeyID:     row.AccessKeyID,
		SecretAccessKey: string(secret),
		PathStyle:       row.PathStyle,
	}, true, nil
}

func public(row store.S3Profile) Public {
	return Public{
		AccountId:   row.AccountID,
		Endpoint:    row.Endpoint,
		Region:      row.Region,
		PathStyle:   row.PathStyle,
		AccessKeyId: row.AccessKeyID,
		UpdatedAt:   row.UpdatedAt.Format(time.RFC3339),
	}
}
