package storetest

import (
	"testing"

	"github.com/wharf-dev/wharf/internal/store"
)

var s3ProfileTests = []test{
	{"PutGetReplaceDelete", func(t *testing.T, e *env) {
		a, b := e.account(), e.account()
		_, err := e.s.GetS3Profile(e.ctx, a.ID)
		wantErr(t, "GetS3Profile before any", err, store.ErrNotFound)

		p := store.S3Profile{
			AccountID: a.ID, Endpoint: "http://127.0.0.1:9000", Region: "eu-west-1", PathStyle: true,
			AccessKeyID: "AKIAPROFILE", SealedSecret: []byte{1, 0, 2, 255}, UpdatedAt: e.now(),
		}
		e.must(e.s.PutS3Profile(e.ctx, p))
		got, err := e.s.GetS3Profile(e.ctx, a.ID)
		wantEqual(t, "GetS3Profile", got, p, err)
		_, err = e.s.GetS3Profile(e.ctx, b.ID)
		wantErr(t, "GetS3Profile of another account", err, store.ErrNotFound)

		// Put again replaces every member.
		p2 := store.S3Profile{AccountID: a.ID, Region: "us-east-1", AccessKeyID: "AKIAOTHER",
			SealedSecret: []byte("sealed"), UpdatedAt: e.now()}
		e.must(e.s.PutS3Profile(e.ctx, p2))
		got, err = e.s.GetS3Profile(e.ctx, a.ID)
		wantEqual(t, "GetS3Profile after the replacement", got, p2, err)

		wantErr(t, "DeleteS3Profile of an account without one", e.s.DeleteS3Profile(e.ctx, b.ID), store.ErrNotFound)
		e.must(e.s.DeleteS3Profile(e.ctx, a.ID))
		_, err = e.s.GetS3Profile(e.ctx, a.ID)
		wantErr(t, "GetS3Profile after the delete", err, store.ErrNotFound)
		wantErr(t, "DeleteS3Profile twice", e.s.DeleteS3Profile(e.ctx, a.ID), store.ErrNotFound)
	}},
	{"MissingAccount", func(t *testing.T, e *env) {
		err := e.s.PutS3Profile(e.ctx, store.S3Profile{AccountID: newAccountID(), AccessKeyID: "AK",
			SealedSecret: []byte("s"), UpdatedAt: e.now()})
		wantErr(t, "PutS3Profile for a missing account", err, store.ErrNotFound)
	}},
	{"InTx", func(t *testing.T, e *env) {
		a := e.account()
		p := store.S3Profile{AccountID: a.ID, AccessKeyID: "AK", SealedSecret: []byte("s"), UpdatedAt: e.now()}
		e.must(e.s.InTx(e.ctx, func(q store.Queries) error {
			if err := q.PutS3Profile(e.ctx, p); err != nil {
				return err
			}
			got, err := q.GetS3Profile(e.ctx, a.ID) // locks the row in the transaction
			wantEqual(t, "GetS3Profile in the transaction", got, p, err)
			return nil
		}))
		got, err := e.s.GetS3Profile(e.ctx, a.ID)
		wantEqual(t, "GetS3Profile after the commit", got, p, err)
	}},
}
