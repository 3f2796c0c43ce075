package exchange

import (
	"encoding/base64"
	"encoding/json"
	"strings"

	"github.com/wharf-dev/wharf/internal/fault"
	"github.com/wharf-dev/wharf/internal/resource"
	"github.com/wharf-dev/wharf/internal/store"
)

// PageInput is the paging part of a List* request.
type PageInput struct {
	// MaxResults is nil when the client sent none (the default page size
	// applies); otherwise it must be 1..200.
	MaxResults *int
	// NextToken is "" for the first page, else a token a previous page of
	// the same listing returned.
	NextToken string
}

// Page is one page of a listing. NextToken is "" on the last page.
type Page[T any] struct {
	Items     []T
	NextToken string
}

// Listings a token can belong to. A token names its listing so that one
// listing's token handed to another is refused rather than misread.
const (
	listingDataSets  = "data-sets"
	listingRevisions = "revisions"
	listingAssets    = "assets"
)

// pageToken is what a NextToken carries: the keyset cursor of the listing.
type pageToken struct {
	Listing string       `json:"l"`
	After   store.Cursor `json:"c"`
}

// encodePageToken turns a cursor into an opaque, URL-safe NextToken.
func encodePageToken(listing string, next *store.Cursor) string {
	if next == nil {
		return ""
	}
	b, err := json.Marshal(pageToken{Listing: listing, After: *next})
	if err != nil {
		panic("exchange: encoding a page token: " + err.Error()) // a struct of strings and a time always encodes
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// decodePageToken is the inverse of encodePageToken.
func decodePageToken(listing, token string) (*store.Cursor, error) {
	if token == "" {
		return nil, nil
	}
	bad := fault.Validationf("nextToken is not a token this listing returned")
	b, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(token, "="))
	if err != nil {
		return nil, bad
	}
	var t pageToken
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&t); err != nil || t.Listing != listing || !resource.ValidID(t.After.ID) {
		return nil, bad
	}
	return &t.After, nil
}

// pageRequest validates the paging input of a listing.
func pageRequest(listing string, in PageInput) (store.PageRequest, error) {
	limit := defaultPageSize
	if in.MaxResults != nil {
		limit = *in.MaxResults
		if limit < 1 || limit > maxPageSize {
			return store.PageRequest{}, fault.Validationf("maxResults must be between 1 and %d (got %d)", maxPageSize, limit)
		}
	}
	after, err := decodePageToken(listing, in.NextToken)
	if err != nil {
		return store.PageRequest{}, err
	}
	return store.PageRequest{Limit: limit, After: after}, nil
}

// mapPage converts a store page into a listing page.
func mapPage[R, V any](listing string, p store.Page[R], view func(R) V) Page[V] {
	items := make([]V, 0, len(p.Items))
	for _, r := range p.Items {
		items = append(items, view(r))
	}
	return Page[V]{Items: items, NextToken: encodePageToken(listing, p.Next)}
}

// NewPageRequest validates the paging input of a listing served outside
// this package (package jobs' ListJobs), so that every listing shares one
// token codec and one page-size rule. listing names the listing's tokens.
func NewPageRequest(listing string, in PageInput) (store.PageRequest, error) {
	return pageRequest(listing, in)
}

// NewPage converts a store page of the named listing into a listing page,
// the counterpart of NewPageRequest.
func NewPage[R, V any](listing string, p store.Page[R], view func(R) V) Page[V] {
	return mapPage(listing, p, view)
}
