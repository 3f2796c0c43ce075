package api

import (
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"github.com/wharf-dev/wharf/internal/exchange"
	"github.com/wharf-dev/wharf/internal/fault"
	"github.com/wharf-dev/wharf/internal/jobs"
)

// Wire shapes. Member names are the JSON keys the AWS SDKs read (they match
// case-sensitively). Required members are always written; optional ones are
// left out when empty.

// timestamp is a time on the wire: an ISO 8601 string in UTC with
// milliseconds, as AWS writes them ("2019-10-11T14:12:24.640Z").
type timestamp time.Time

const timestampLayout = "2006-01-02T15:04:05.000Z"

func (t timestamp) MarshalJSON() ([]byte, error) {
	return []byte(`"` + time.Time(t).UTC().Format(timestampLayout) + `"`), nil
}

func optionalTimestamp(t *time.Time) *timestamp {
	if t == nil {
		return nil
	}
	ts := timestamp(*t)
	return &ts
}

type originDetailsShape struct {
	ProductId   string `json:"ProductId,omitempty"`
	DataGrantId string `json:"DataGrantId,omitempty"`
}

type dataSetShape struct {
	Arn           string              `json:"Arn"`
	AssetType     string              `json:"AssetType"`
	CreatedAt     timestamp           `json:"CreatedAt"`
	Description   string              `json:"Description"`
	Id            string              `json:"Id"`
	Name          string              `json:"Name"`
	Origin        string              `json:"Origin"`
	OriginDetails *originDetailsShape `json:"OriginDetails,omitempty"`
	SourceId      string              `json:"SourceId,omitempty"`
	UpdatedAt     timestamp           `json:"UpdatedAt"`
	Tags          map[string]string   `json:"Tags,omitempty"`
}

func dataSetOut(v exchange.DataSetView) dataSetShape {
	out := dataSetShape{
		Arn:         v.ARN,
		AssetType:   v.AssetType,
		CreatedAt:   timestamp(v.CreatedAt),
		Description: v.Description,
		Id:          v.ID,
		Name:        v.Name,
		Origin:      v.Origin,
		SourceId:    v.SourceID,
		UpdatedAt:   timestamp(v.UpdatedAt),
		Tags:        v.Tags,
	}
	if o := v.OriginDetails; o != nil && (o.ProductID != "" || o.DataGrantID != "") {
		out.OriginDetails = &originDetailsShape{ProductId: o.ProductID, DataGrantId: o.DataGrantID}
	}
	return out
}

type revisionShape struct {
	Arn               string            `json:"Arn"`
	Comment           string            `json:"Comment,omitempty"`
	CreatedAt         timestamp         `json:"CreatedAt"`
	DataSetId         string            `json:"DataSetId"`
	Finalized         bool              `json:"Finalized"`
	Id                string            `json:"Id"`
	RevocationComment string            `json:"RevocationComment,omitempty"`
	Revoked           bool              `json:"Revoked"`
	RevokedAt         *timestamp        `json:"RevokedAt,omitempty"`
	SourceId          string            `json:"SourceId,omitempty"`
	UpdatedAt         timestamp         `json:"UpdatedAt"`
	Tags              map[string]string `json:"Tags,omitempty"`
}

func revisionOut(v exchange.RevisionView) revisionShape {
	return revisionShape{
		Arn:               v.ARN,
		Comment:           v.Comment,
		CreatedAt:         timestamp(v.CreatedAt),
		DataSetId:         v.DataSetID,
		Finalized:         v.Finalized,
		Id:                v.ID,
		RevocationComment: v.RevocationComment,
		Revoked:           v.Revoked,
		RevokedAt:         optionalTimestamp(v.RevokedAt),
		SourceId:          v.SourceID,
		UpdatedAt:         timestamp(v.UpdatedAt),
		Tags:              v.Tags,
	}
}

type assetShape struct {
	Arn          string            `json:"Arn"`
	AssetDetails json.RawMessage   `json:"AssetDetails,omitempty"`
	AssetType    string            `json:"AssetType"`
	CreatedAt    timestamp         `json:"CreatedAt"`
	DataSetId    string            `json:"DataSetId"`
	Id           string            `json:"Id"`
	Name         string            `json:"Name"`
	RevisionId   string            `json:"RevisionId"`
	SourceId     string            `json:"SourceId,omitempty"`
	UpdatedAt    timestamp         `json:"UpdatedAt"`
	Tags         map[string]string `json:"Tags,omitempty"`
}

func assetOut(v exchange.AssetView) assetShape {
	return assetShape{
		Arn:          v.ARN,
		AssetDetails: v.Details,
		AssetType:    v.AssetType,
		CreatedAt:    timestamp(v.CreatedAt),
		DataSetId:    v.DataSetID,
		Id:           v.ID,
		Name:         v.Name,
		RevisionId:   v.RevisionID,
		SourceId:     v.SourceID,
		UpdatedAt:    timestamp(v.UpdatedAt),
		Tags:         v.Tags,
	}
}

// jobShape is Job in CreateJob and GetJob, and JobEntry in ListJobs.
// Details, Errors and AssetConfiguration are stored in their wire form.
// Progress is Wharf's addition, which the SDKs ignore (they skip unknown
// members); it is left out of CreateJob's response, where it would always
// be zero.
type jobShape struct {
	Arn                string          `json:"Arn"`
	AssetConfiguration json.RawMessage `json:"AssetConfiguration,omitempty"`
	CreatedAt          timestamp       `json:"CreatedAt"`
	Details            json.RawMessage `json:"Details"`
	Errors             json.RawMessage `json:"Errors"`
	Id                 string          `json:"Id"`
	State              string          `json:"State"`
	Type               string          `json:"Type"`
	UpdatedAt          timestamp       `json:"UpdatedAt"`
	Progress           *progressShape  `json:"Progress,omitempty"`
}

// progressShape is a job's progress in bytes; BytesTotal is 0 until known.
type progressShape struct {
	BytesDone  int64 `json:"BytesDone"`
	BytesTotal int64 `json:"BytesTotal"`
}

func jobOut(v jobs.JobView, withProgress bool) jobShape {
	out := jobShape{
		Arn:                v.ARN,
		AssetConfiguration: v.AssetConfiguration,
		CreatedAt:          timestamp(v.CreatedAt),
		Details:            v.Details,
		Errors:             v.Errors,
		Id:                 v.ID,
		State:              v.State,
		Type:               v.Type,
		UpdatedAt:          timestamp(v.UpdatedAt),
	}
	if len(out.Errors) == 0 {
		out.Errors = json.RawMessage(`[]`)
	}
	if withProgress {
		out.Progress = &progressShape{BytesDone: v.BytesDone, BytesTotal: v.BytesTotal}
	}
	return out
}

// listOut maps a page's items; the slice is never nil, so that an empty
// listing is written as [] rather than null.
func listOut[V, S any](items []V, shape func(V) S) []S {
	out := make([]S, 0, len(items))
	for _, v := range items {
		out = append(out, shape(v))
	}
	return out
}

// tagsShape is the body of ListTagsForResource and TagResource; these two
// operations spell the member in lower case.
type tagsShape struct {
	Tags map[string]string `json:"tags"`
}

// pageInput reads the maxResults and nextToken query parameters.
func pageInput(r *http.Request) (exchange.PageInput, error) {
	q := r.URL.Query()
	var in exchange.PageInput
	if q.Has("maxResults") {
		n, err := strconv.Atoi(q.Get("maxResults"))
		if err != nil {
			return in, fault.Validationf("maxResults must be an integer between 1 and 200 (got %q)", q.Get("maxResults"))
		}
		in.MaxResults = &n
	}
	in.NextToken = q.Get("nextToken")
	return in, nil
}
