package api

import (
	"net/http"

	"github.com/wharf-dev/wharf/internal/exchange"
)

func (s *server) tagResource(r *http.Request, account string) (int, any, error) {
	var req tagsShape
	if err := decodeBody(r, &req); err != nil {
		return 0, nil, err
	}
	err := s.svc.TagResource(r.Context(), account, exchange.TagResourceInput{
		ResourceARN: r.PathValue("ResourceArn"), Tags: req.Tags,
	})
	if err != nil {
		return 0, nil, err
	}
	return http.StatusNoContent, nil, nil
}

func (s *server) untagResource(r *http.Request, account string) (int, any, error) {
	err := s.svc.UntagResource(r.Context(), account, exchange.UntagResourceInput{
		ResourceARN: r.PathValue("ResourceArn"), TagKeys: r.URL.Query()["tagKeys"],
	})
	if err != nil {
		return 0, nil, err
	}
	return http.StatusNoContent, nil, nil
}

func (s *server) listTagsForResource(r *http.Request, account string) (int, any, error) {
	tags, err := s.svc.ListTagsForResource(r.Context(), account, exchange.ListTagsForResourceInput{
		ResourceARN: r.PathValue("ResourceArn"),
	})
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, tagsShape{Tags: tags}, nil
}
