package storetest

import (
	"testing"
	"time"

	"github.com/wharf-dev/wharf/internal/resource"
	"github.com/wharf-dev/wharf/internal/store"
)

func (e *env) newSession(accountID string, expiresIn time.Duration) resource.Session {
	now := e.now()
	return resource.Session{
		ID:           "ASIA" + resource.NewID()[:16],
		AccountID:    accountID,
		ParentKeyID:  "AKIAPARENT",
		SealedSecret: []byte{1, 0, 2, 255},
		TokenHash:    []byte{9, 8, 7, 0},
		CreatedAt:    now,
		ExpiresAt:    now.Add(expiresIn),
	}
}

var sessionTests = []test{
	{"InsertGetRevoke", func(t *testing.T, e *env) {
		a := e.account()
		s := e.newSession(a.ID, time.Hour)
		_, err := e.s.GetSession(e.ctx, s.ID)
		wantErr(t, "GetSession before the insert", err, store.ErrNotFound)
		e.must(e.s.InsertSession(e.ctx, s))
		got, err := e.s.GetSession(e.ctx, s.ID)
		wantEqual(t, "GetSession", got, s, err)
		wantErr(t, "InsertSession twice", e.s.InsertSession(e.ctx, s), store.ErrDuplicate)

		at := e.now()
		e.must(e.s.RevokeSession(e.ctx, s.ID, at))
		s.RevokedAt = &at
		got, err = e.s.GetSession(e.ctx, s.ID)
		wantEqual(t, "GetSession after the revocation", got, s, err)
		// A second revocation changes nothing (the first time stays).
		wantErr(t, "RevokeSession twice", e.s.RevokeSession(e.ctx, s.ID, e.now()), store.ErrNotFound)
		got, err = e.s.GetSession(e.ctx, s.ID)
		wantEqual(t, "GetSession after a second revocation", got, s, err)
		wantErr(t, "RevokeSession of a missing session", e.s.RevokeSession(e.ctx, "ASIAMISSING", e.now()), store.ErrNotFound)
	}},
	{"RevokeAccountSessions", func(t *testing.T, e *env) {
		a, b := e.account(), e.account()
		var live []resource.Session
		for range 3 {
			s := e.newSession(a.ID, time.Hour)
			e.must(e.s.InsertSession(e.ctx, s))
			live = append(live, s)
		}
		first := e.now()
		e.must(e.s.RevokeSession(e.ctx, live[0].ID, first))
		other := e.newSession(b.ID, time.Hour)
		e.must(e.s.InsertSession(e.ctx, other))

		at := e.now()
		n, err := e.s.RevokeAccountSessions(e.ctx, a.ID, at)
		if err != nil || n != 2 {
			t.Fatalf("RevokeAccountSessions = %d, %v; want 2", n, err)
		}
		for i, s := range live {
			got, err := e.s.GetSession(e.ctx, s.ID)
			want := at
			if i == 0 {
				want = first // revoked before: its time stays
			}
			if err != nil || got.RevokedAt == nil || !got.RevokedAt.Equal(want) {
				t.Errorf("session %d: RevokedAt %v, %v; want %s", i, got.RevokedAt, err, want)
			}
		}
		got, err := e.s.GetSession(e.ctx, other.ID)
		if err != nil || got.RevokedAt != nil {
			t.Errorf("another account's session: RevokedAt %v, %v", got.RevokedAt, err)
		}
		if n, err := e.s.RevokeAccountSessions(e.ctx, a.ID, e.now()); err != nil || n != 0 {
			t.Errorf("RevokeAccountSessions again = %d, %v; want 0", n, err)
		}
	}},
	{"MissingAccount", func(t *testing.T, e *env) {
		err := e.s.InsertSession(e.ctx, e.newSession(newAccountID(), time.Hour))
		wantErr(t, "InsertSession for a missing account", err, store.ErrNotFound)
	}},
	{"DeleteExpired", func(t *testing.T, e *env) {
		a := e.account()
		var expired []resource.Session
		for range 3 {
			s := e.newSession(a.ID, time.Minute)
			e.must(e.s.InsertSession(e.ctx, s))
			expired = append(expired, s)
		}
		live := e.newSession(a.ID, 24*time.Hour)
		e.must(e.s.InsertSession(e.ctx, live))
		revokedLive := e.newSession(a.ID, 24*time.Hour)
		e.must(e.s.InsertSession(e.ctx, revokedLive))
		e.must(e.s.RevokeSession(e.ctx, revokedLive.ID, e.now()))

		cutoff := expired[2].ExpiresAt.Add(time.Millisecond)
		_, err := e.s.DeleteSessionsExpiredBefore(e.ctx, cutoff, 0)
		if err == nil {
			t.Error("DeleteSessionsExpiredBefore with limit 0: no error")
		}
		n, err := e.s.DeleteSessionsExpiredBefore(e.ctx, cutoff, 2)
		if err != nil || n != 2 {
			t.Fatalf("DeleteSessionsExpiredBefore(limit 2) = %d, %v; want 2", n, err)
		}
		// The earliest expiries go first.
		for i, s := range expired {
			_, err := e.s.GetSession(e.ctx, s.ID)
			if i < 2 {
				wantErr(t, "GetSession of a pruned session", err, store.ErrNotFound)
			} else if err != nil {
				t.Errorf("GetSession of the third expired session before the next batch: %v", err)
			}
		}
		n, err = e.s.DeleteSessionsExpiredBefore(e.ctx, cutoff, 10)
		if err != nil || n != 1 {
			t.Fatalf("DeleteSessionsExpiredBefore again = %d, %v; want 1", n, err)
		}
		for _, s := range []resource.Session{live, revokedLive} {
			if _, err := e.s.GetSession(e.ctx, s.ID); err != nil {
				t.Errorf("GetSession of a session not expired yet: %v", err)
			}
		}
	}},
	{"InTx", func(t *testing.T, e *env) {
		a := e.account()
		s := e.newSession(a.ID, time.Hour)
		e.must(e.s.InTx(e.ctx, func(q store.Queries) error {
			if err := q.InsertSession(e.ctx, s); err != nil {
				return err
			}
			got, err := q.GetSession(e.ctx, s.ID) // locks the row in the transaction
			wantEqual(t, "GetSession in the transaction", got, s, err)
			return nil
		}))
		got, err := e.s.GetSession(e.ctx, s.ID)
		wantEqual(t, "GetSession after the commit", got, s, err)
	}},
}
