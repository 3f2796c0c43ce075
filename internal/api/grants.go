package api

import (
	"encoding/json"
	"net/http"
	"time"

	"github.com/wharf-dev/wharf/internal/exchange"
)

// Data grants: the sender's operations under /v1/data-grants, the
// receiver's under /v1/received-data-grants (and AcceptDataGrant). The
// receiver names a grant by its ARN, percent-encoded as one path segment;
// the routes also take it with its slash unescaped (two segments).

type createDataGrantRequest struct {
	Description            *string           `json:"Description"`
	EndsAt                 *time.Time        `json:"EndsAt"`
	GrantDistributionScope *string           `json:"GrantDistributionScope"`
	Name                   *string           `json:"Name"`
	ReceiverPrincipal      *string           `json:"ReceiverPrincipal"`
	SourceDataSetId        *string           `json:"SourceDataSetId"`
	Tags                   map[string]string `json:"Tags"`
}

// dataGrantShape is the grant of CreateDataGrant, GetDataGrant,
// GetReceivedDataGrant and AcceptDataGrant, and the entries of the
// listings. The receiver's shapes have no SourceDataSetId (or Tags).
type dataGrantShape struct {
	AcceptanceState        string            `json:"AcceptanceState"`
	AcceptedAt             *timestamp        `json:"AcceptedAt,omitempty"`
	Arn                    string            `json:"Arn"`
	CreatedAt              timestamp         `json:"CreatedAt"`
	DataSetId              string            `json:"DataSetId"`
	Description            string            `json:"Description,omitempty"`
	EndsAt                 *timestamp        `json:"EndsAt,omitempty"`
	GrantDistributionScope string            `json:"GrantDistributionScope,omitempty"`
	Id                     string            `json:"Id"`
	Name                   string            `json:"Name"`
	ReceiverPrincipal      string            `json:"ReceiverPrincipal"`
	SenderPrincipal        string            `json:"SenderPrincipal"`
	SourceDataSetId        string            `json:"SourceDataSetId,omitempty"`
	UpdatedAt              timestamp         `json:"UpdatedAt"`
	Tags                   map[string]string `json:"Tags,omitempty"`
}

// grantView says which members a grant's shape has.
type grantView int

const (
	senderGrant   grantView = iota // + SourceDataSetId (+ Tags where the view has them)
	receiverGrant                  // no SourceDataSetId, no Tags
	summaryEntry                   // a listing's entry: no Description, GrantDistributionScope or Tags
)

func dataGrantOut(v exchange.DataGrantView, view grantView) dataGrantShape {
	out := dataGrantShape{
		AcceptanceState:        v.AcceptanceState,
		AcceptedAt:             optionalTimestamp(v.AcceptedAt),
		Arn:                    v.ARN,
		CreatedAt:              timestamp(v.CreatedAt),
		DataSetId:              v.DataSetID,
		Description:            v.Description,
		EndsAt:                 optionalTimestamp(v.EndsAt),
		GrantDistributionScope: v.GrantDistributionScope,
		Id:                     v.ID,
		Name:                   v.Name,
		ReceiverPrincipal:      v.ReceiverAccountID,
		SenderPrincipal:        v.AccountID,
		UpdatedAt:              timestamp(v.UpdatedAt),
	}
	switch view {
	case senderGrant:
		out.SourceDataSetId, out.Tags = v.SourceDataSetID, v.Tags
	case summaryEntry:
		out.SourceDataSetId, out.Description, out.GrantDistributionScope = v.SourceDataSetID, "", ""
	}
	return out
}

type listDataGrantsResponse struct {
	DataGrantSummaries []dataGrantShape `json:"DataGrantSummaries"`
	NextToken          string           `json:"NextToken,omitempty"`
}

// grantARN is the DataGrantArn path label, whether it arrived as one
// percent-encoded segment or as two.
func grantARN(r *http.Request) string {
	if tail := r.PathValue("DataGrantArnTail"); tail != "" {
		return r.PathValue("DataGrantArn") + "/" + tail
	}
	return r.PathValue("DataGrantArn")
}

func (s *server) createDataGrant(r *http.Request, account string) (int, any, error) {
	var req createDataGrantRequest
	if err := decodeBody(r, &req); err != nil {
		return 0, nil, err
	}
	v, err := s.svc.CreateDataGrant(r.Context(), account, exchange.CreateDataGrantInput{
		Name: req.Name, Description: req.Description, GrantDistributionScope: req.GrantDistributionScope,
		ReceiverPrincipal: req.ReceiverPrincipal, SourceDataSetID: req.SourceDataSetId, EndsAt: req.EndsAt, Tags: req.Tags,
	})
	if err != nil {
		return 0, nil, err
	}
	return http.StatusCreated, dataGrantOut(v, senderGrant), nil
}

func (s *server) getDataGrant(r *http.Request, account string) (int, any, error) {
	v, err := s.svc.GetDataGrant(r.Context(), account, r.PathValue("DataGrantId"))
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, dataGrantOut(v, senderGrant), nil
}

func (s *server) deleteDataGrant(r *http.Request, account string) (int, any, error) {
	if err := s.svc.DeleteDataGrant(r.Context(), account, r.PathValue("DataGrantId")); err != nil {
		return 0, nil, err
	}
	return http.StatusNoContent, nil, nil
}

func (s *server) listDataGrants(r *http.Request, account string) (int, any, error) {
	page, err := pageInput(r)
	if err != nil {
		return 0, nil, err
	}
	out, err := s.svc.ListDataGrants(r.Context(), account, page)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, listDataGrantsResponse{
		DataGrantSummaries: listOut(out.Items, func(v exchange.DataGrantView) dataGrantShape { return dataGrantOut(v, summaryEntry) }),
		NextToken:          out.NextToken,
	}, nil
}

func (s *server) listReceivedDataGrants(r *http.Request, account string) (int, any, error) {
	page, err := pageInput(r)
	if err != nil {
		return 0, nil, err
	}
	out, err := s.svc.ListReceivedDataGrants(r.Context(), account, exchange.ListReceivedDataGrantsInput{
		AcceptanceStates: r.URL.Query()["acceptanceState"], PageInput: page,
	})
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, listDataGrantsResponse{
		DataGrantSummaries: listOut(out.Items, func(v exchange.DataGrantView) dataGrantShape {
			e := dataGrantOut(v, summaryEntry)
			e.SourceDataSetId = ""
			return e
		}),
		NextToken: out.NextToken,
	}, nil
}

func (s *server) getReceivedDataGrant(r *http.Request, account string) (int, any, error) {
	v, err := s.svc.GetReceivedDataGrant(r.Context(), account, grantARN(r))
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, dataGrantOut(v, receiverGrant), nil
}

func (s *server) acceptDataGrant(r *http.Request, account string) (int, any, error) {
	v, err := s.svc.AcceptDataGrant(r.Context(), account, grantARN(r))
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, dataGrantOut(v, receiverGrant), nil
}

type sendDataSetNotificationRequest struct {
	ClientToken *string         `json:"ClientToken"`
	Comment     *string         `json:"Comment"`
	Details     json.RawMessage `json:"Details"`
	Scope       json.RawMessage `json:"Scope"`
	Type        *string         `json:"Type"`
}

func (s *server) sendDataSetNotification(r *http.Request, account string) (int, any, error) {
	var req sendDataSetNotificationRequest
	if err := decodeBody(r, &req); err != nil {
		return 0, nil, err
	}
	err := s.svc.SendDataSetNotification(r.Context(), account, exchange.SendDataSetNotificationInput{
		DataSetID: r.PathValue("DataSetId"), ClientToken: req.ClientToken, Type: req.Type, Comment: req.Comment,
		Details: req.Details, Scope: req.Scope,
	})
	if err != nil {
		return 0, nil, err
	}
	return http.StatusAccepted, struct{}{}, nil
}
