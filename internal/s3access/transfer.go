package s3access

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"golang.org/x/sync/errgroup"

	"github.com/wharf-dev/wharf/internal/fault"
)

// Limits of the S3 API.
const (
	// MaxSingleCopySize is the largest object one CopyObject can copy.
	MaxSingleCopySize = 5 << 30
	// MinPartSize is the smallest part S3 accepts, the last part excepted.
	MinPartSize = 5 << 20
	// MaxParts is the most parts a multipart upload can have.
	MaxParts = 10000
)

// Defaults of Tuning.
const (
	DefaultPartSize     = 16 << 20
	DefaultCopyPartSize = 512 << 20
	DefaultConcurrency  = 4
)

// abortTimeout bounds the clean-up of a failed multipart upload, which runs
// even when the operation's context was cancelled.
const abortTimeout = time.Minute

// Location is an object on an endpoint.
type Location struct {
	Endpoint *Endpoint
	Bucket   string
	Key      string
	// Exclusive says that only one writer writes the key at a time (a key
	// of Wharf's asset store, written by the run holding its job's lease):
	// when a multipart upload to it completes, the uploads to it that were
	// initiated before this one are leftovers (a dead run's, or one whose
	// CreateMultipartUpload the SDK retried), and are aborted. Their
	// writer, if it still writes, fails with ErrSuperseded. Uploads
	// initiated after this one are left alone.
	Exclusive bool
}

func (l Location) String() string { return "s3://" + l.Bucket + "/" + l.Key }

func (l Location) validate(role string) error {
	if l.Endpoint == nil {
		return fmt.Errorf("s3access: the %s location has no endpoint", role)
	}
	if l.Bucket == "" || l.Key == "" {
		return fault.Validationf("the %s location %s needs a bucket and a key", role, l)
	}
	return nil
}

// Server-side encryption algorithms.
const (
	SSES3  = "AES256"
	SSEKMS = "aws:kms"
)

// Encryption is the server-side encryption to apply to written objects.
// The zero value leaves the bucket's default.
type Encryption struct {
	Type     string // "", SSES3 or SSEKMS
	KMSKeyID string // with SSEKMS: the key id or ARN; empty means the endpoint's default key
}

func (e Encryption) validate() error {
	switch e.Type {
	case "":
		if e.KMSKeyID != "" {
			return fault.Validationf("a KMS key is given without %s encryption", SSEKMS)
		}
	case SSES3:
		if e.KMSKeyID != "" {
			return fault.Validationf("a KMS key can't be used with %s encryption", SSES3)
		}
	case SSEKMS:
	default:
		return fault.Validationf("unknown server-side encryption %q: want %s or %s", e.Type, SSES3, SSEKMS)
	}
	return nil
}

func (e Encryption) sse() (types.ServerSideEncryption, *string) {
	if e.Type == "" {
		return "", nil
	}
	var key *string
	if e.KMSKeyID != "" {
		key = aws.String(e.KMSKeyID)
	}
	return types.ServerSideEncryption(e.Type), key
}

// Tuning sizes transfers. Zero values take the defaults.
type Tuning struct {
	// PartSize is the part size of streamed multipart uploads (default 16
	// MiB); objects up to this size are sent in one PutObject. A stream
	// holds at most PartSize × Concurrency bytes in memory. It grows as
	// needed to fit an object in MaxParts parts.
	PartSize int64
	// CopyPartSize is the part size of server-side multipart copies
	// (UploadPartCopy; default 512 MiB).
	CopyPartSize int64
	// MaxSingleCopySize is the largest object copied server-side with one
	// CopyObject (default and maximum MaxSingleCopySize, 5 GiB); larger
	// ones use a multipart copy.
	MaxSingleCopySize int64
	// Concurrency is the number of parts in flight (default 4).
	Concurrency int
}

func (t Tuning) withDefaults() Tuning {
	if t.PartSize <= 0 {
		t.PartSize = DefaultPartSize
	}
	if t.CopyPartSize <= 0 {
		t.CopyPartSize = DefaultCopyPartSize
	}
	if t.MaxSingleCopySize <= 0 || t.MaxSingleCopySize > MaxSingleCopySize {
		t.MaxSingleCopySize = MaxSingleCopySize
	}
	if t.Concurrency <= 0 {
		t.Concurrency = DefaultConcurrency
	}
	return t
}

// partSizeFor grows partSize until size fits in MaxParts parts.
func partSizeFor(size, partSize int64) int64 {
	if minimum := (size + MaxParts - 1) / MaxParts; partSize < minimum {
		partSize = minimum
	}
	return partSize
}

// ObjectInfo describes an object.
type ObjectInfo struct {
	Size         int64
	ETag         string
	ContentType  string
	LastModified time.Time
	// Encryption as the endpoint reports it.
	Encryption Encryption
}

// Head describes the object at loc. A missing bucket or key is an
// *ObjectError with reason ErrNoSuchBucket or ErrNoSuchKey.
func Head(ctx context.Context, loc Location) (ObjectInfo, error) {
	if err := loc.validate("source"); err != nil {
		return ObjectInfo{}, err
	}
	out, err := loc.Endpoint.client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &loc.Bucket, Key: &loc.Key})
	if err != nil {
		return ObjectInfo{}, notFoundDetail(ctx, "head", loc, refusalDetail(ctx, loc, err))
	}
	return ObjectInfo{
		Size:         aws.ToInt64(out.ContentLength),
		ETag:         aws.ToString(out.ETag),
		ContentType:  aws.ToString(out.ContentType),
		LastModified: aws.ToTime(out.LastModified),
		Encryption:   Encryption{Type: string(out.ServerSideEncryption), KMSKeyID: aws.ToString(out.SSEKMSKeyId)},
	}, nil
}

// notFoundDetail classifies err; a bare 404 (HEAD responses have no body to
// say which) is refined into a missing bucket or a missing key.
func notFoundDetail(ctx context.Context, op string, loc Location, err error) error {
	cerr := classify(op, loc.Bucket, loc.Key, err)
	var oe *ObjectError
	if errors.As(cerr, &oe) && oe.Reason == ErrNoSuchKey && httpStatus(err) == http.StatusNotFound {
		if exists, berr := bucketExists(ctx, loc.Endpoint, loc.Bucket); berr == nil && !exists {
			oe.Reason = ErrNoSuchBucket
		}
	}
	return cerr
}

// refusalDetail returns the error of a GetObject of loc's first byte in
// place of a HEAD's refusal that says only its HTTP status (HEAD responses
// have no body): the GET's answer names the cause (SignatureDoesNotMatch,
// InvalidAccessKeyId, AccessDenied, ...). Anything else is returned as is.
func refusalDetail(ctx context.Context, loc Location, err error) error {
	a, ok := AnswerOf(err)
	if !ok || !a.generic() || a.Status == http.StatusNotFound || a.Status >= 500 {
		return err
	}
	out, gerr := loc.Endpoint.client.GetObject(ctx, &s3.GetObjectInput{Bucket: &loc.Bucket, Key: &loc.Key, Range: aws.String("bytes=0-0")})
	if gerr == nil {
		out.Body.Close()
		return err
	}
	if ga, ok := AnswerOf(gerr); ok && !ga.generic() && ga.Status == a.Status {
		return gerr
	}
	return err
}

// bucketExists reports whether bucket exists. An endpoint that refuses to
// say (HeadBucket needs s3:ListBucket) yields an error.
func bucketExists(ctx context.Context, ep *Endpoint, bucket string) (bool, error) {
	_, err := ep.client.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: &bucket})
	if err == nil {
		return true, nil
	}
	var nsb *types.NoSuchBucket
	var nf *types.NotFound
	if errors.As(err, &nsb) || errors.As(err, &nf) || httpStatus(err) == http.StatusNotFound {
		return false, nil
	}
	return false, err
}

// Get opens the object at loc for reading. The caller closes the reader.
func Get(ctx context.Context, loc Location) (io.ReadCloser, int64, error) {
	rc, info, err := get(ctx, loc, "", -1, -1)
	return rc, info.Size, err
}

// GetRange opens length bytes of the object at loc from offset (length < 0:
// to the end), and returns the object's total size.
func GetRange(ctx context.Context, loc Location, offset, length int64) (io.ReadCloser, int64, error) {
	if offset < 0 {
		return nil, 0, fault.Validationf("negative range offset %d", offset)
	}
	rc, info, err := get(ctx, loc, "", offset, length)
	return rc, info.Size, err
}

// get opens loc (a range of it when offset >= 0), requiring ETag ifMatch
// when it is not empty. info.Size is the object's total size.
func get(ctx context.Context, loc Location, ifMatch string, offset, length int64) (io.ReadCloser, ObjectInfo, error) {
	if err := loc.validate("source"); err != nil {
		return nil, ObjectInfo{}, err
	}
	in := &s3.GetObjectInput{Bucket: &loc.Bucket, Key: &loc.Key}
	if ifMatch != "" {
		in.IfMatch = aws.String(ifMatch)
	}
	if offset >= 0 {
		r := fmt.Sprintf("bytes=%d-", offset)
		if length == 0 {
			// An empty range can't be expressed; read nothing.
			info, err := Head(ctx, loc)
			return io.NopCloser(strings.NewReader("")), info, err
		}
		if length > 0 {
			r += strconv.FormatInt(offset+length-1, 10)
		}
		in.Range = aws.String(r)
	}
	out, err := loc.Endpoint.client.GetObject(ctx, in)
	if err != nil {
		return nil, ObjectInfo{}, notFoundDetail(ctx, "get", loc, err)
	}
	info := ObjectInfo{
		Size:        aws.ToInt64(out.ContentLength),
		ETag:        aws.ToString(out.ETag),
		ContentType: aws.ToString(out.ContentType),
	}
	if cr := aws.ToString(out.ContentRange); cr != "" {
		// bytes a-b/total
		if i := strings.LastIndexByte(cr, '/'); i >= 0 {
			if total, err := strconv.ParseInt(cr[i+1:], 10, 64); err == nil {
				info.Size = total
			}
		}
	}
	return objectBody{out.Body, loc}, info, nil
}

// objectBody is an object's body whose read errors (a connection that broke
// mid-way) are *ObjectError values naming the object.
type objectBody struct {
	io.ReadCloser
	loc Location
}

func (b objectBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err != nil && err != io.EOF {
		err = classify("get", b.loc.Bucket, b.loc.Key, err)
	}
	return n, err
}

// progress serializes a progress callback and keeps its count monotonic.
type progress struct {
	mu   sync.Mutex
	done int64
	fn   func(int64)
}

func (p *progress) add(n int64) {
	if p == nil || p.fn == nil || n == 0 {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.done += n
	p.fn(p.done)
}

// PutOptions configure PutStream.
type PutOptions struct {
	Encryption  Encryption
	ContentType string
	// Progress, when set, is called with the bytes written so far, from one
	// goroutine at a time.
	Progress func(done int64)
	Tuning
}

// PutResult describes a written object.
type PutResult struct {
	Size      int64
	ETag      string
	Multipart bool
}

// PutStream writes exactly size bytes from r to loc: one PutObject up to
// the part size, a multipart upload with parts in parallel above it (at most
// PartSize × Concurrency bytes in memory). The object appears only once all
// of it is written; on failure or cancellation the multipart upload is
// aborted and no object is created. r holding more or fewer than size bytes
// is an error (ErrSizeMismatch).
func PutStream(ctx context.Context, loc Location, r io.Reader, size int64, opts PutOptions) (PutResult, error) {
	if err := loc.validate("destination"); err != nil {
		return PutResult{}, err
	}
	if err := opts.Encryption.validate(); err != nil {
		return PutResult{}, err
	}
	if size < 0 {
		return PutResult{}, fault.Validationf("negative size %d", size)
	}
	t := opts.Tuning.withDefaults()
	etag, multipart, err := upload(ctx, loc, r, size, opts.Encryption, opts.ContentType, t,
		&progress{fn: opts.Progress})
	if err != nil {
		return PutResult{}, err
	}
	return PutResult{Size: size, ETag: etag, Multipart: multipart}, nil
}

// upload streams size bytes of r to dst.
func upload(ctx context.Context, dst Location, r io.Reader, size int64, enc Encryption, contentType string,
	t Tuning, prog *progress) (etag string, multipart bool, err error) {
	sse, kmsKey := enc.sse()
	var ctype *string
	if contentType != "" {
		ctype = aws.String(contentType)
	}
	if size <= t.PartSize {
		buf := make([]byte, size)
		if err := readPart(dst, r, buf); err != nil {
			return "", false, err
		}
		if err := expectEOF(dst, r); err != nil {
			return "", false, err
		}
		out, err := dst.Endpoint.client.PutObject(ctx, &s3.PutObjectInput{
			Bucket: &dst.Bucket, Key: &dst.Key, Body: bytes.NewReader(buf), ContentLength: aws.Int64(size),
			ServerSideEncryption: sse, SSEKMSKeyId: kmsKey, ContentType: ctype,
		})
		if err != nil {
			return "", false, notFoundBucket(ctx, "put", dst, err)
		}
		prog.add(size)
		return aws.ToString(out.ETag), false, nil
	}

	partSize := partSizeFor(size, t.PartSize)
	mu, err := startMultipart(ctx, dst, enc, ctype)
	if err != nil {
		return "", false, err
	}
	etag, err = mu.run(ctx, t.Concurrency, func(gctx context.Context, g *errgroup.Group) error {
		// Free buffers: at most Concurrency of them ever exist.
		free := make(chan []byte, t.Concurrency)
		for range t.Concurrency {
			free <- nil
		}
		part := int32(0)
		for off := int64(0); off < size; off += partSize {
			part++
			n := min(partSize, size-off)
			var buf []byte
			select {
			case buf = <-free:
			case <-gctx.Done():
				return context.Cause(gctx)
			}
			if buf == nil {
				buf = make([]byte, partSize)
			}
			if err := readPart(dst, r, buf[:n]); err != nil {
				return err
			}
			num := part
			g.Go(func() error {
				defer func() { free <- buf }()
				out, err := dst.Endpoint.client.UploadPart(gctx, &s3.UploadPartInput{
					Bucket: &dst.Bucket, Key: &dst.Key, UploadId: &mu.id, PartNumber: aws.Int32(num),
					Body: bytes.NewReader(buf[:n]), ContentLength: aws.Int64(n),
				})
				if err != nil {
					return classify("put", dst.Bucket, dst.Key, err)
				}
				mu.done(num, out.ETag)
				prog.add(n)
				return nil
			})
		}
		return expectEOF(dst, r)
	})
	return etag, true, err
}

// readError is a failure to read the data being written (not to write it).
type readError struct{ err error }

func (e *readError) Error() string { return "read the data: " + e.err.Error() }
func (e *readError) Unwrap() error { return e.err }

// readPart fills buf from r. A stream that ends early is ErrSizeMismatch.
func readPart(dst Location, r io.Reader, buf []byte) error {
	n, err := io.ReadFull(r, buf)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF):
		return objectError("put", dst.Bucket, dst.Key, ErrSizeMismatch,
			fmt.Errorf("the stream ended %d bytes short of this part", len(buf)-n))
	default:
		return objectError("put", dst.Bucket, dst.Key, nil, &readError{err})
	}
}

// expectEOF checks r has nothing left. More data is ErrSizeMismatch.
func expectEOF(dst Location, r io.Reader) error {
	var b [1]byte
	for {
		n, err := r.Read(b[:])
		if n > 0 {
			return objectError("put", dst.Bucket, dst.Key, ErrSizeMismatch,
				errors.New("the stream holds more bytes than declared"))
		}
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return objectError("put", dst.Bucket, dst.Key, nil, &readError{err})
		}
	}
}

// notFoundBucket classifies a write's error: a 404 there means the bucket.
func notFoundBucket(ctx context.Context, op string, dst Location, err error) error {
	cerr := classify(op, dst.Bucket, dst.Key, err)
	var oe *ObjectError
	if errors.As(cerr, &oe) && oe.Reason == ErrNoSuchKey {
		if exists, berr := bucketExists(ctx, dst.Endpoint, dst.Bucket); berr == nil && !exists {
			oe.Reason = ErrNoSuchBucket
		}
	}
	return cerr
}

// multipart is one multipart upload in progress.
type multipart struct {
	dst   Location
	id    string
	mu    sync.Mutex
	parts []types.CompletedPart
}

func startMultipart(ctx context.Context, dst Location, enc Encryption, contentType *string) (*multipart, error) {
	sse, kmsKey := enc.sse()
	out, err := dst.Endpoint.client.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{
		Bucket: &dst.Bucket, Key: &dst.Key, ServerSideEncryption: sse, SSEKMSKeyId: kmsKey,
		ContentType: contentType,
	})
	if err != nil {
		return nil, notFoundBucket(ctx, "put", dst, err)
	}
	return &multipart{dst: dst, id: aws.ToString(out.UploadId)}, nil
}

// done records a finished part. The completion names parts by number and
// ETag only: the upload is created without a checksum algorithm, which every
// S3-compatible server understands, and each part's own checksum was
// verified when it was sent.
func (m *multipart) done(num int32, etag *string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.parts = append(m.parts, types.CompletedPart{PartNumber: aws.Int32(num), ETag: etag})
}

// run runs the upload's parts through send, which schedules them on g, then
// completes the upload; if anything fails, or ctx ends, it aborts the upload
// instead, so that no object and no upload is left behind.
func (m *multipart) run(ctx context.Context, concurrency int,
	send func(gctx context.Context, g *errgroup.Group) error) (string, error) {
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(concurrency)
	sendErr := send(gctx, g)
	err := g.Wait()
	if sendErr != nil {
		err = sendErr
	}
	if err == nil {
		err = ctx.Err()
	}
	var strays []string
	if err == nil && m.dst.Exclusive {
		strays = m.olderUploads(ctx)
	}
	if err == nil {
		var etag string
		etag, err = m.complete(ctx)
		if err == nil {
			m.abortStrays(ctx, strays)
			return etag, nil
		}
	}
	if m.dst.Exclusive && (hasCode(err, "NoSuchUpload") || IsUnreachable(err) && m.gone(ctx)) {
		cause := err
		if oe := (*ObjectError)(nil); errors.As(err, &oe) {
			cause = oe.Cause
		}
		err = objectError("put", m.dst.Bucket, m.dst.Key, ErrSuperseded, cause)
	}
	if aerr := m.abort(ctx); aerr != nil {
		err = errors.Join(err, fmt.Errorf("s3access: %w: abort multipart upload %s of %s: %w", ErrUploadLeft, m.id, m.dst, aerr))
	}
	return "", err
}

func (m *multipart) complete(ctx context.Context) (string, error) {
	parts := slices.Clone(m.parts)
	slices.SortFunc(parts, func(a, b types.CompletedPart) int {
		return int(aws.ToInt32(a.PartNumber) - aws.ToInt32(b.PartNumber))
	})
	out, err := m.dst.Endpoint.client.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{
		Bucket: &m.dst.Bucket, Key: &m.dst.Key, UploadId: &m.id,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: parts},
	})
	if err != nil {
		return "", classify("put", m.dst.Bucket, m.dst.Key, err)
	}
	return aws.ToString(out.ETag), nil
}

// olderUploads lists the uploads to the key initiated before this one (by
// the server's clock, the only one they share): a dead run's, or one whose
// CreateMultipartUpload the SDK retried after its answer was lost (the
// server created the upload, the client never heard of it), which nothing
// else would ever abort. An upload this one cannot be placed against, or a
// listing that fails, gives none: the stray is then left to the sweeps.
func (m *multipart) olderUploads(ctx context.Context) []string {
	var ours *time.Time
	var all []types.MultipartUpload
	err := listUploads(ctx, m.dst.Endpoint, m.dst.Bucket, m.dst.Key, func(u types.MultipartUpload) {
		switch {
		case aws.ToString(u.Key) != m.dst.Key:
		case aws.ToString(u.UploadId) == m.id:
			ours = u.Initiated
		default:
			all = append(all, u)
		}
	})
	if err != nil || ours == nil {
		return nil
	}
	var older []string
	for _, u := range all {
		if u.Initiated != nil && u.Initiated.Before(*ours) {
			older = append(older, aws.ToString(u.UploadId))
		}
	}
	return older
}

// abortStrays aborts the uploads olderUploads found, once this one has
// completed. A failure is left to the sweeps.
func (m *multipart) abortStrays(ctx context.Context, ids []string) {
	if len(ids) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), abortTimeout)
	defer cancel()
	for _, id := range ids {
		_, _ = m.dst.Endpoint.client.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{
			Bucket: &m.dst.Bucket, Key: &m.dst.Key, UploadId: &id,
		})
	}
}

// gone reports whether the server no longer knows the upload: a part sent
// as a newer writer aborted it may get no answer at all (MinIO refuses it
// before reading the body and closes the connection, so the client sees a
// broken pipe, not NoSuchUpload). A check that fails says nothing: false.
func (m *multipart) gone(ctx context.Context) bool {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), abortTimeout)
	defer cancel()
	_, err := m.dst.Endpoint.client.ListParts(ctx, &s3.ListPartsInput{
		Bucket: &m.dst.Bucket, Key: &m.dst.Key, UploadId: &m.id, MaxParts: aws.Int32(1),
	})
	return hasCode(err, "NoSuchUpload")
}

// abort aborts the upload even if ctx was cancelled.
func (m *multipart) abort(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), abortTimeout)
	defer cancel()
	_, err := m.dst.Endpoint.client.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{
		Bucket: &m.dst.Bucket, Key: &m.dst.Key, UploadId: &m.id,
	})
	if hasCode(err, "NoSuchUpload") {
		return nil
	}
	return err
}

// Copy strategies.
const (
	StrategyCopyObject    = "CopyObject"     // one server-side CopyObject
	StrategyMultipartCopy = "UploadPartCopy" // a server-side multipart copy
	StrategyStream        = "stream"         // GetObject streamed into a (multipart) upload
)

// CopyOptions configure Copy.
type CopyOptions struct {
	Encryption Encryption
	// Progress, when set, is called with the bytes copied so far, from one
	// goroutine at a time. A single CopyObject reports all bytes at its end.
	Progress func(done int64)
	Tuning
}

// CopyResult describes a finished copy.
type CopyResult struct {
	Size     int64
	ETag     string // of the destination object
	Strategy string // StrategyCopyObject, StrategyMultipartCopy or StrategyStream
}

// Copy copies the object at src to dst.
//
// When both locations are on the same endpoint with the same credentials
// (SameEndpoint), the copy is server-side: CopyObject up to
// MaxSingleCopySize, UploadPartCopy parts in parallel above. Otherwise the
// bytes stream from a GetObject into a multipart upload with parts in
// parallel, holding at most PartSize × Concurrency bytes in memory.
//
// The source is pinned by its ETag: if it is replaced mid-copy the copy
// fails with ErrSourceChanged. The destination appears only when the copy
// is complete; a failed or cancelled copy aborts its multipart upload and
// creates no destination object. A missing source bucket or key, or a
// missing destination bucket, is an *ObjectError (ErrNoSuchBucket,
// ErrNoSuchKey) naming it.
func Copy(ctx context.Context, src, dst Location, opts CopyOptions) (CopyResult, error) {
	if err := src.validate("source"); err != nil {
		return CopyResult{}, err
	}
	if err := dst.validate("destination"); err != nil {
		return CopyResult{}, err
	}
	if err := opts.Encryption.validate(); err != nil {
		return CopyResult{}, err
	}
	t := opts.Tuning.withDefaults()
	prog := &progress{fn: opts.Progress}

	info, err := Head(ctx, src)
	if err != nil {
		return CopyResult{}, err
	}
	// Fail fast on a missing destination bucket, before moving any byte.
	// An endpoint that won't answer HeadBucket (no s3:ListBucket) is given
	// the benefit of the doubt.
	if exists, err := bucketExists(ctx, dst.Endpoint, dst.Bucket); err == nil && !exists {
		return CopyResult{}, objectError("copy", dst.Bucket, dst.Key, ErrNoSuchBucket, nil)
	} else if err != nil && ctx.Err() != nil {
		return CopyResult{}, ctx.Err()
	}

	res := CopyResult{Size: info.Size}
	switch {
	case SameEndpoint(src.Endpoint, dst.Endpoint) && info.Size <= t.MaxSingleCopySize:
		res.Strategy = StrategyCopyObject
		res.ETag, err = copyObject(ctx, src, dst, info, opts.Encryption)
		if err == nil {
			prog.add(info.Size)
		}
	case SameEndpoint(src.Endpoint, dst.Endpoint):
		res.Strategy = StrategyMultipartCopy
		res.ETag, err = multipartCopy(ctx, src, dst, info, opts.Encryption, t, prog)
	default:
		res.Strategy = StrategyStream
		res.ETag, err = streamCopy(ctx, src, dst, info, opts.Encryption, t, prog)
	}
	if err != nil {
		return CopyResult{}, err
	}
	return res, nil
}

// copySource is the x-amz-copy-source value: bucket/key with the key
// percent-encoded (every byte but unreserved characters and '/').
func copySource(loc Location) string {
	return loc.Bucket + "/" + escapeKey(loc.Key)
}

func escapeKey(key string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(key); i++ {
		c := key[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
			c == '-' || c == '_' || c == '.' || c == '~' || c == '/' {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&15])
	}
	return b.String()
}

// copyError classifies a server-side copy's error: a missing key is the
// source's (it vanished since Head), a missing bucket the destination's
// unless the source's bucket is gone.
func copyError(ctx context.Context, src, dst Location, err error) error {
	reason := reasonOf(err)
	switch reason {
	case ErrNoSuchKey:
		return objectError("copy", src.Bucket, src.Key, reason, err)
	case ErrNoSuchBucket:
		if exists, berr := bucketExists(ctx, src.Endpoint, src.Bucket); berr == nil && !exists {
			return objectError("copy", src.Bucket, src.Key, reason, err)
		}
		return objectError("copy", dst.Bucket, dst.Key, reason, err)
	case ErrSourceChanged:
		return objectError("copy", src.Bucket, src.Key, reason, err)
	}
	return objectError("copy", dst.Bucket, dst.Key, reason, err)
}

func copyObject(ctx context.Context, src, dst Location, info ObjectInfo, enc Encryption) (string, error) {
	sse, kmsKey := enc.sse()
	in := &s3.CopyObjectInput{
		Bucket: &dst.Bucket, Key: &dst.Key, CopySource: aws.String(copySource(src)),
		ServerSideEncryption: sse, SSEKMSKeyId: kmsKey,
	}
	if info.ETag != "" {
		in.CopySourceIfMatch = aws.String(info.ETag)
	}
	out, err := dst.Endpoint.client.CopyObject(ctx, in)
	if err != nil {
		return "", copyError(ctx, src, dst, err)
	}
	if out.CopyObjectResult == nil {
		return "", nil
	}
	return aws.ToString(out.CopyObjectResult.ETag), nil
}

func multipartCopy(ctx context.Context, src, dst Location, info ObjectInfo, enc Encryption, t Tuning,
	prog *progress) (string, error) {
	partSize := partSizeFor(info.Size, t.CopyPartSize)
	var ctype *string
	if info.ContentType != "" {
		ctype = aws.String(info.ContentType)
	}
	mu, err := startMultipart(ctx, dst, enc, ctype)
	if err != nil {
		return "", err
	}
	source := aws.String(copySource(src))
	return mu.run(ctx, t.Concurrency, func(gctx context.Context, g *errgroup.Group) error {
		part := int32(0)
		for off := int64(0); off < info.Size; off += partSize {
			part++
			num, first, last := part, off, min(off+partSize, info.Size)-1
			if gctx.Err() != nil {
				return context.Cause(gctx)
			}
			g.Go(func() error {
				in := &s3.UploadPartCopyInput{
					Bucket: &dst.Bucket, Key: &dst.Key, UploadId: &mu.id, PartNumber: aws.Int32(num),
					CopySource: source, CopySourceRange: aws.String(fmt.Sprintf("bytes=%d-%d", first, last)),
				}
				if info.ETag != "" {
					in.CopySourceIfMatch = aws.String(info.ETag)
				}
				out, err := dst.Endpoint.client.UploadPartCopy(gctx, in)
				if err != nil {
					return copyError(gctx, src, dst, err)
				}
				if out.CopyPartResult == nil {
					return objectError("copy", dst.Bucket, dst.Key, nil, errors.New("UploadPartCopy returned no result"))
				}
				mu.done(num, out.CopyPartResult.ETag)
				prog.add(last - first + 1)
				return nil
			})
		}
		return nil
	})
}

func streamCopy(ctx context.Context, src, dst Location, info ObjectInfo, enc Encryption, t Tuning,
	prog *progress) (string, error) {
	// The body is read as parts are cut from it, so its request lives as
	// long as the copy: cancelling ctx ends it.
	body, got, err := get(ctx, src, info.ETag, -1, -1)
	if err != nil {
		return "", err
	}
	defer body.Close()
	if got.Size != info.Size {
		return "", objectError("copy", src.Bucket, src.Key, ErrSourceChanged, nil)
	}
	ctype := info.ContentType
	etag, _, err := upload(ctx, dst, body, info.Size, enc, ctype, t, prog)
	if err != nil {
		var oe *ObjectError
		var re *readError
		switch {
		case errors.As(err, &oe) && oe.Reason == ErrSizeMismatch:
			// The source's body ended early or ran long: the source's fault.
			return "", objectError("copy", src.Bucket, src.Key, ErrSourceChanged, oe.Cause)
		case errors.As(err, &re):
			return "", classify("get", src.Bucket, src.Key, re.err)
		}
		return "", err
	}
	return etag, nil
}

// AbortUploads aborts every multipart upload in bucket whose key starts with
// prefix, such as those a crashed process left, and returns how many it
// aborted. The caller must own the prefix: uploads in progress there are
// aborted too (see AbortUploadsBefore).
func AbortUploads(ctx context.Context, ep *Endpoint, bucket, prefix string) (int, error) {
	return AbortUploadsBefore(ctx, ep, bucket, prefix, time.Time{})
}

// AbortUploadsBefore is AbortUploads limited to uploads initiated before
// cutoff (all of them when cutoff is zero), so that a process can clean up
// after crashed ones while others are still uploading under the prefix.
//
// The uploads are listed without a server-side prefix and filtered here:
// MinIO's ListMultipartUploads matches its Prefix against whole keys only,
// so a server-side prefix would miss uploads on MinIO.
func AbortUploadsBefore(ctx context.Context, ep *Endpoint, bucket, prefix string, cutoff time.Time) (int, error) {
	return abortUploads(ctx, ep, bucket, "", func(key string) bool { return strings.HasPrefix(key, prefix) }, cutoff)
}

// AbortUploadsAt aborts the multipart uploads to exactly loc's key, such as
// the one a crashed export left at its destination, and returns how many it
// aborted. A job that resumes a copy calls it before writing the key again.
func AbortUploadsAt(ctx context.Context, loc Location) (int, error) {
	if err := loc.validate("destination"); err != nil {
		return 0, err
	}
	return abortUploads(ctx, loc.Endpoint, loc.Bucket, loc.Key, func(key string) bool { return key == loc.Key }, time.Time{})
}

// abortUploads aborts the uploads whose keys match, listing them with the
// server-side prefix listPrefix (which must be "" or a whole key, for
// MinIO).
func abortUploads(ctx context.Context, ep *Endpoint, bucket, listPrefix string, match func(string) bool,
	cutoff time.Time) (int, error) {
	if ep == nil || bucket == "" {
		return 0, errors.New("s3access: aborting uploads needs an endpoint and a bucket")
	}
	var uploads []types.MultipartUpload
	aborted := 0
	err := listUploads(ctx, ep, bucket, listPrefix, func(u types.MultipartUpload) {
		if !match(aws.ToString(u.Key)) {
			return
		}
		if !cutoff.IsZero() && u.Initiated != nil && !u.Initiated.Before(cutoff) {
			return
		}
		uploads = append(uploads, u)
	})
	if err != nil {
		return 0, err
	}
	for _, u := range uploads {
		_, err := ep.client.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{
			Bucket: &bucket, Key: u.Key, UploadId: u.UploadId,
		})
		if err != nil && !hasCode(err, "NoSuchUpload") {
			return aborted, classify("abort-upload", bucket, aws.ToString(u.Key), err)
		}
		aborted++
	}
	return aborted, nil
}

// listUploads calls fn with each multipart upload in bucket listed with the
// server-side prefix listPrefix (which must be "" or a whole key, for
// MinIO), page by page.
func listUploads(ctx context.Context, ep *Endpoint, bucket, listPrefix string, fn func(types.MultipartUpload)) error {
	in := &s3.ListMultipartUploadsInput{Bucket: &bucket}
	if listPrefix != "" {
		in.Prefix = &listPrefix
	}
	for {
		out, err := ep.client.ListMultipartUploads(ctx, in)
		if hasCode(err, "NoSuchUpload") {
			return nil // some servers' way of saying "no uploads in this bucket"
		}
		if err != nil {
			return notFoundDetail(ctx, "list-uploads", Location{Endpoint: ep, Bucket: bucket}, err)
		}
		for _, u := range out.Uploads {
			fn(u)
		}
		if !aws.ToBool(out.IsTruncated) {
			return nil
		}
		in.KeyMarker, in.UploadIdMarker = out.NextKeyMarker, out.NextUploadIdMarker
	}
}
