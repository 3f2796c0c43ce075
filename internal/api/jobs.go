package api

import (
	"encoding/json"
	"net/http"

	"github.com/wharf-dev/wharf/internal/jobs"
)

type createJobRequest struct {
	AssetConfiguration json.RawMessage `json:"AssetConfiguration"`
	Details            json.RawMessage `json:"Details"`
	Type               *string         `json:"Type"`
}

type listJobsResponse struct {
	Jobs      []jobShape `json:"Jobs"`
	NextToken string     `json:"NextToken,omitempty"`
}

func (s *server) createJob(r *http.Request, account string) (int, any, error) {
	var req createJobRequest
	if err := decodeBody(r, &req); err != nil {
		return 0, nil, err
	}
	v, err := s.jobs.CreateJob(r.Context(), account, jobs.CreateJobInput{
		Type: req.Type, Details: req.Details, AssetConfiguration: req.AssetConfiguration,
	})
	if err != nil {
		return 0, nil, err
	}
	return http.StatusCreated, jobOut(v, false), nil
}

func (s *server) startJob(r *http.Request, account string) (int, any, error) {
	if err := s.jobs.StartJob(r.Context(), account, r.PathValue("JobId")); err != nil {
		return 0, nil, err
	}
	return http.StatusAccepted, nil, nil
}

func (s *server) getJob(r *http.Request, account string) (int, any, error) {
	v, err := s.jobs.GetJob(r.Context(), account, r.PathValue("JobId"))
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, jobOut(v, true), nil
}

func (s *server) cancelJob(r *http.Request, account string) (int, any, error) {
	if err := s.jobs.CancelJob(r.Context(), account, r.PathValue("JobId")); err != nil {
		return 0, nil, err
	}
	return http.StatusNoContent, nil, nil
}

func (s *server) listJobs(r *http.Request, account string) (int, any, error) {
	page, err := pageInput(r)
	if err != nil {
		return 0, nil, err
	}
	q := r.URL.Query()
	out, err := s.jobs.ListJobs(r.Context(), account, jobs.ListJobsInput{
		DataSetID: q.Get("dataSetId"), RevisionID: q.Get("revisionId"), PageInput: page,
		// Wharf extensions, for the console (docs/compatibility.md).
		State: q.Get("state"), Type: q.Get("type"),
	})
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, listJobsResponse{
		Jobs:      listOut(out.Items, func(v jobs.JobView) jobShape { return jobOut(v, true) }),
		NextToken: out.NextToken,
	}, nil
}
