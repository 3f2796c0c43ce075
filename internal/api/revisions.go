package api

import (
	"net/http"

	"github.com/wharf-dev/wharf/internal/exchange"
)

type createRevisionRequest struct {
	Comment *string           `json:"Comment"`
	Tags    map[string]string `json:"Tags"`
}

type updateRevisionRequest struct {
	Comment   *string `json:"Comment"`
	Finalized *bool   `json:"Finalized"`
}

type revokeRevisionRequest struct {
	RevocationComment *string `json:"RevocationComment"`
}

type listDataSetRevisionsResponse struct {
	NextToken string          `json:"NextToken,omitempty"`
	Revisions []revisionShape `json:"Revisions"`
}

func (s *server) createRevision(r *http.Request, account string) (int, any, error) {
	var req createRevisionRequest
	if err := decodeBody(r, &req); err != nil {
		return 0, nil, err
	}
	v, err := s.svc.CreateRevision(r.Context(), account, exchange.CreateRevisionInput{
		DataSetID: r.PathValue("DataSetId"), Comment: req.Comment, Tags: req.Tags,
	})
	if err != nil {
		return 0, nil, err
	}
	return http.StatusCreated, revisionOut(v), nil
}

func (s *server) getRevision(r *http.Request, account string) (int, any, error) {
	v, err := s.svc.GetRevision(r.Context(), account, exchange.GetRevisionInput{
		DataSetID: r.PathValue("DataSetId"), RevisionID: r.PathValue("RevisionId"),
	})
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, revisionOut(v), nil
}

func (s *server) updateRevision(r *http.Request, account string) (int, any, error) {
	var req updateRevisionRequest
	if err := decodeBody(r, &req); err != nil {
		return 0, nil, err
	}
	v, err := s.svc.UpdateRevision(r.Context(), account, exchange.UpdateRevisionInput{
		DataSetID: r.PathValue("DataSetId"), RevisionID: r.PathValue("RevisionId"),
		Comment: req.Comment, Finalized: req.Finalized,
	})
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, revisionOut(v), nil
}

func (s *server) deleteRevision(r *http.Request, account string) (int, any, error) {
	err := s.svc.DeleteRevision(r.Context(), account, exchange.DeleteRevisionInput{
		DataSetID: r.PathValue("DataSetId"), RevisionID: r.PathValue("RevisionId"),
	})
	if err != nil {
		return 0, nil, err
	}
	return http.StatusNoContent, nil, nil
}

func (s *server) listDataSetRevisions(r *http.Request, account string) (int, any, error) {
	page, err := pageInput(r)
	if err != nil {
		return 0, nil, err
	}
	out, err := s.svc.ListDataSetRevisions(r.Context(), account, exchange.ListDataSetRevisionsInput{
		DataSetID: r.PathValue("DataSetId"), PageInput: page,
	})
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, listDataSetRevisionsResponse{Revisions: listOut(out.Items, revisionOut), NextToken: out.NextToken}, nil
}

func (s *server) revokeRevision(r *http.Request, account string) (int, any, error) {
	var req revokeRevisionRequest
	if err := decodeBody(r, &req); err != nil {
		return 0, nil, err
	}
	v, err := s.svc.RevokeRevision(r.Context(), account, exchange.RevokeRevisionInput{
		DataSetID: r.PathValue("DataSetId"), RevisionID: r.PathValue("RevisionId"),
		RevocationComment: req.RevocationComment,
	})
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, revisionOut(v), nil
}
