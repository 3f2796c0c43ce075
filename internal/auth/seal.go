package auth

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// EnvMasterKey names the environment variable that carries the master key,
// base64-encoded.
const EnvMasterKey = "WHARF_MASTER_KEY"

// MasterKeyFile is the name of the master key file inside the data directory.
const MasterKeyFile = "master.key"

// MasterKeySize is the length of the master key in bytes (AES-256).
const MasterKeySize = 32

// sealVersion prefixes every sealed secret, so that the format (or the master
// key) can change later without guessing what old rows contain.
const sealVersion byte = 1

// Sealer encrypts access key secrets at rest with AES-256-GCM. The access key
// id is bound as additional data: a sealed secret copied onto another key's
// row does not open.
type Sealer struct {
	aead cipher.AEAD
}

// NewSealer returns a Sealer for a 32-byte master key.
func NewSealer(masterKey []byte) (*Sealer, error) {
	if len(masterKey) != MasterKeySize {
		return nil, fmt.Errorf("auth: master key must be %d bytes, got %d", MasterKeySize, len(masterKey))
	}
	block, err := aes.NewCipher(masterKey)
	if err != nil {
		return nil, fmt.Errorf("auth: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("auth: %w", err)
	}
	return &Sealer{aead: aead}, nil
}

// Seal encrypts the secret of access key accessKeyID. The result is
// version || nonce || ciphertext-and-tag.
func (s *Sealer) Seal(accessKeyID string, plaintext []byte) []byte {
	return s.SealBound(sealAD(accessKeyID), plaintext)
}

// SealBound encrypts a secret that is not an access key's, bound to ad:
// the secret opens only with the same ad. ad names the kind of secret and
// its owner (e.g. "wharf/s3-profile-secret/v1/<account id>"), so that a
// sealed value copied onto another row, or into another kind of row, does
// not open.
func (s *Sealer) SealBound(ad []byte, plaintext []byte) []byte {
	nonceSize := s.aead.NonceSize()
	out := make([]byte, 1+nonceSize, 1+nonceSize+len(plaintext)+s.aead.Overhead())
	out[0] = sealVersion
	mustRandom(out[1:])
	return s.aead.Seal(out, out[1:], plaintext, ad)
}

// OpenBound decrypts what SealBound returned for the same ad.
func (s *Sealer) OpenBound(ad []byte, sealed []byte) ([]byte, error) {
	nonceSize := s.aead.NonceSize()
	if len(sealed) < 1+nonceSize+s.aead.Overhead() || sealed[0] != sealVersion {
		return nil, errors.New("auth: the sealed secret is malformed")
	}
	plaintext, err := s.aead.Open(nil, sealed[1:1+nonceSize], sealed[1+nonceSize:], ad)
	if err != nil {
		return nil, fmt.Errorf("auth: cannot open the sealed secret: wrong master key (%s or %s) or a tampered row",
			EnvMasterKey, MasterKeyFile)
	}
	return plaintext, nil
}

// Open decrypts what Seal returned for the same access key id.
func (s *Sealer) Open(accessKeyID string, sealed []byte) ([]byte, error) {
	nonceSize := s.aead.NonceSize()
	if len(sealed) < 1+nonceSize+s.aead.Overhead() || sealed[0] != sealVersion {
		return nil, fmt.Errorf("auth: sealed secret of access key %s is malformed", accessKeyID)
	}
	plaintext, err := s.aead.Open(nil, sealed[1:1+nonceSize], sealed[1+nonceSize:], sealAD(accessKeyID))
	if err != nil {
		// The usual cause: this process runs with another master key than
		// the one that sealed the row.
		return nil, fmt.Errorf("auth: cannot open the secret of access key %s: wrong master key (%s or %s) or a tampered row",
			accessKeyID, EnvMasterKey, MasterKeyFile)
	}
	return plaintext, nil
}

func sealAD(accessKeyID string) []byte {
	return []byte("wharf/access-key-secret/v1/" + accessKeyID)
}

// LoadMasterKey returns the master key that seals access key secrets: from
// the environment variable WHARF_MASTER_KEY (the base64 encoding of 32 bytes,
// e.g. the output of `openssl rand -base64 32`) if it is set, else from
// <dataDir>/master.key, which is created with a random key (mode 0600) on
// first use.
//
// Every replica that shares a PostgreSQL database must run with the same key,
// so set WHARF_MASTER_KEY on all of them: a replica that generated its own
// master.key cannot open the secrets the others sealed, and rejects their
// access keys. Losing the key makes every stored secret unusable.
func LoadMasterKey(dataDir string) ([]byte, error) {
	if v := os.Getenv(EnvMasterKey); v != "" {
		return decodeMasterKey(v, EnvMasterKey)
	}
	path := filepath.Join(dataDir, MasterKeyFile)
	b, err := os.ReadFile(path)
	if err == nil {
		return decodeMasterKey(string(b), path)
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("auth: read master key: %w", err)
	}
	return createMasterKey(dataDir, path)
}

// createMasterKey writes a fresh key to a temporary file and hard-links it
// into place, so that two processes starting on an empty data directory
// (a server and an admin command) never see a half-written file and agree on
// one key.
func createMasterKey(dataDir, path string) ([]byte, error) {
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return nil, fmt.Errorf("auth: create data directory: %w", err)
	}
	key := make([]byte, MasterKeySize)
	mustRandom(key)
	tmp, err := os.CreateTemp(dataDir, ".master.key-*") // mode 0600
	if err != nil {
		return nil, fmt.Errorf("auth: create master key: %w", err)
	}
	defer os.Remove(tmp.Name())
	_, err = tmp.WriteString(base64.StdEncoding.EncodeToString(key) + "\n")
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, fmt.Errorf("auth: write master key: %w", err)
	}
	if err := os.Link(tmp.Name(), path); err != nil {
		if errors.Is(err, fs.ErrExist) {
			// Another process won the race: use its key.
			b, err := os.ReadFile(path)
			if err != nil {
				return nil, fmt.Errorf("auth: read master key: %w", err)
			}
			return decodeMasterKey(string(b), path)
		}
		return nil, fmt.Errorf("auth: install master key: %w", err)
	}
	return key, nil
}

func decodeMasterKey(s, source string) ([]byte, error) {
	s = strings.TrimSpace(s)
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if key, err := enc.DecodeString(s); err == nil && len(key) == MasterKeySize {
			return key, nil
		}
	}
	// The value itself is never echoed: it is a secret.
	return nil, fmt.Errorf("auth: master key in %s must be the base64 encoding of %d bytes (e.g. `openssl rand -base64 32`)",
		source, MasterKeySize)
}

func mustRandom(b []byte) {
	if _, err := rand.Read(b); err != nil {
		panic("auth: crypto/rand failed: " + err.Error())
	}
}
