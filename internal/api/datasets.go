package api

import (
	"net/http"

	"github.com/wharf-dev/wharf/internal/exchange"
)

type createDataSetRequest struct {
	AssetType   *string           `json:"AssetType"`
	Description *string           `json:"Description"`
	Name        *string           `json:"Name"`
	Tags        map[string]string `json:"Tags"`
}

type updateDataSetRequest struct {
	Description *string `json:"Description"`
	Name        *string `json:"Name"`
}

type listDataSetsResponse struct {
	DataSets  []dataSetShape `json:"DataSets"`
	NextToken string         `json:"NextToken,omitempty"`
}

func (s *server) createDataSet(r *http.Request, account string) (int, any, error) {
	var req createDataSetRequest
	if err := decodeBody(r, &req); err != nil {
		return 0, nil, err
	}
	v, err := s.svc.CreateDataSet(r.Context(), account, exchange.CreateDataSetInput{
		Name: req.Name, Description: req.Description, AssetType: req.AssetType, Tags: req.Tags,
	})
	if err != nil {
		return 0, nil, err
	}
	return http.StatusCreated, dataSetOut(v), nil
}

func (s *server) getDataSet(r *http.Request, account string) (int, any, error) {
	v, err := s.svc.GetDataSet(r.Context(), account, exchange.GetDataSetInput{DataSetID: r.PathValue("DataSetId")})
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, dataSetOut(v), nil
}

func (s *server) updateDataSet(r *http.Request, account string) (int, any, error) {
	var req updateDataSetRequest
	if err := decodeBody(r, &req); err != nil {
		return 0, nil, err
	}
	v, err := s.svc.UpdateDataSet(r.Context(), account, exchange.UpdateDataSetInput{
		DataSetID: r.PathValue("DataSetId"), Name: req.Name, Description: req.Description,
	})
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, dataSetOut(v), nil
}

func (s *server) deleteDataSet(r *http.Request, account string) (int, any, error) {
	err := s.svc.DeleteDataSet(r.Context(), account, exchange.DeleteDataSetInput{DataSetID: r.PathValue("DataSetId")})
	if err != nil {
		return 0, nil, err
	}
	return http.StatusNoContent, nil, nil
}

func (s *server) listDataSets(r *http.Request, account string) (int, any, error) {
	page, err := pageInput(r)
	if err != nil {
		return 0, nil, err
	}
	out, err := s.svc.ListDataSets(r.Context(), account, exchange.ListDataSetsInput{
		Origin: r.URL.Query().Get("origin"), PageInput: page,
	})
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, listDataSetsResponse{DataSets: listOut(out.Items, dataSetOut), NextToken: out.NextToken}, nil
}
