package api

import (
	"context"
	"net/http"

	"github.com/wharf-dev/wharf/internal/exchange"
)

type updateAssetRequest struct {
	Name *string `json:"Name"`
}

type listRevisionAssetsResponse struct {
	Assets    []assetShape `json:"Assets"`
	NextToken string       `json:"NextToken,omitempty"`
}

func assetInput(r *http.Request) exchange.GetAssetInput {
	return exchange.GetAssetInput{
		DataSetID: r.PathValue("DataSetId"), RevisionID: r.PathValue("RevisionId"), AssetID: r.PathValue("AssetId"),
	}
}

func (s *server) getAsset(r *http.Request, account string) (int, any, error) {
	v, err := s.svc.GetAsset(r.Context(), account, assetInput(r))
	if err != nil {
		return 0, nil, err
	}
	if err := s.signAsset(r.Context(), &v); err != nil {
		return 0, nil, err
	}
	return http.StatusOK, assetOut(v), nil
}

func (s *server) updateAsset(r *http.Request, account string) (int, any, error) {
	var req updateAssetRequest
	if err := decodeBody(r, &req); err != nil {
		return 0, nil, err
	}
	id := assetInput(r)
	v, err := s.svc.UpdateAsset(r.Context(), account, exchange.UpdateAssetInput{
		DataSetID: id.DataSetID, RevisionID: id.RevisionID, AssetID: id.AssetID, Name: req.Name,
	})
	if err != nil {
		return 0, nil, err
	}
	if err := s.signAsset(r.Context(), &v); err != nil {
		return 0, nil, err
	}
	return http.StatusOK, assetOut(v), nil
}

func (s *server) deleteAsset(r *http.Request, account string) (int, any, error) {
	id := assetInput(r)
	err := s.svc.DeleteAsset(r.Context(), account, exchange.DeleteAssetInput{
		DataSetID: id.DataSetID, RevisionID: id.RevisionID, AssetID: id.AssetID,
	})
	if err != nil {
		return 0, nil, err
	}
	return http.StatusNoContent, nil, nil
}

func (s *server) listRevisionAssets(r *http.Request, account string) (int, any, error) {
	page, err := pageInput(r)
	if err != nil {
		return 0, nil, err
	}
	out, err := s.svc.ListRevisionAssets(r.Context(), account, exchange.ListRevisionAssetsInput{
		DataSetID: r.PathValue("DataSetId"), RevisionID: r.PathValue("RevisionId"), PageInput: page,
	})
	if err != nil {
		return 0, nil, err
	}
	for i := range out.Items {
		if err := s.signAsset(r.Context(), &out.Items[i]); err != nil {
			return 0, nil, err
		}
	}
	return http.StatusOK, listRevisionAssetsResponse{Assets: listOut(out.Items, assetOut), NextToken: out.NextToken}, nil
}

// signAsset adds the members of v's details that are signed at each read
// (Config.AssetDetails).
func (s *server) signAsset(ctx context.Context, v *exchange.AssetView) error {
	if s.assetDetails == nil {
		return nil
	}
	d, err := s.assetDetails(ctx, v.Asset)
	if err != nil {
		return err
	}
	v.Details = d
	return nil
}
