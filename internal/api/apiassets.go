package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"

	"golang.org/x/net/http/httpguts"

	"github.com/wharf-dev/wharf/internal/apiasset"
	"github.com/wharf-dev/wharf/internal/exchange"
	"github.com/wharf-dev/wharf/internal/fault"
	"github.com/wharf-dev/wharf/internal/resource"
)

// SendApiAsset's headers.
const (
	headerAssetID    = "X-Amzn-Dataexchange-Asset-Id"
	headerDataSetID  = "X-Amzn-Dataexchange-Data-Set-Id"
	headerRevisionID = "X-Amzn-Dataexchange-Revision-Id"
	headerMethod     = "X-Amzn-Dataexchange-Http-Method"
	headerPath       = "X-Amzn-Dataexchange-Path"
	// headerOverride prefixes RequestHeaders: x-amzn-dataexchange-header-X
	// is sent to the API as X.
	headerOverride = "X-Amzn-Dataexchange-Header-"
	controlPrefix  = "X-Amzn-Dataexchange-"
)

// sendApiAsset serves SendApiAsset: POST /v1 (the SDKs' form, on the host
// api-fulfill.<endpoint>), or any verb on /v1/<path> (the direct form, for
// paths no other operation takes). It forwards the request to the API of an
// API_GATEWAY_API asset of the caller's and returns the API's status,
// headers and body as they came.
func (s *server) sendApiAsset(r *http.Request, account string) (int, any, error) {
	h := r.Header
	in := exchange.GetAssetInput{DataSetID: h.Get(headerDataSetID), RevisionID: h.Get(headerRevisionID), AssetID: h.Get(headerAssetID)}
	for name, v := range map[string]string{headerAssetID: in.AssetID, headerDataSetID: in.DataSetID, headerRevisionID: in.RevisionID} {
		if v == "" {
			return 0, nil, fault.Validationf("the %s header is required", strings.ToLower(name))
		}
	}
	// GetAsset scopes the read: the owner's asset, or an entitled data
	// set's through a live data grant (deleted: ResourceNotFoundException;
	// past EndsAt: AccessDeniedException).
	a, err := s.svc.GetAsset(r.Context(), account, in)
	if err != nil {
		return 0, nil, err
	}
	// A revoked revision's API is withdrawn, as its data is from exports:
	// AWS's subscribers lose access to revoked revisions' assets.
	rev, err := s.svc.GetRevision(r.Context(), account, exchange.GetRevisionInput{DataSetID: in.DataSetID, RevisionID: in.RevisionID})
	if err != nil {
		return 0, nil, err
	}
	if rev.Revoked {
		return 0, nil, fault.Conflictf(resource.KindRevision, rev.ID, "revision %s is revoked: its API assets can't be called", rev.ID)
	}
	if a.AssetType != resource.AssetTypeAPIGatewayAPI {
		return 0, nil, fault.Validationf("asset %s is a %s asset: SendApiAsset calls API_GATEWAY_API assets", a.ID, a.AssetType)
	}
	var details struct{ ApiGatewayApiAsset *apiasset.Details }
	if err := json.Unmarshal(a.Details, &details); err != nil || details.ApiGatewayApiAsset == nil {
		return 0, nil, fmt.Errorf("api: asset %s has invalid API details: %v", a.ID, err)
	}

	method, path, err := apiTarget(r)
	if err != nil {
		return 0, nil, err
	}
	// readBody has read the body (at most maxAPIAssetBody bytes).
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return 0, nil, fault.New(fault.Serialization, "the request body could not be read: %v", err)
	}
	headers := http.Header{}
	for name, values := range h {
		if !strings.HasPrefix(name, controlPrefix) {
			headers[name] = values
		}
	}
	for name, values := range h {
		if rest, ok := strings.CutPrefix(name, headerOverride); ok && rest != "" {
			headers[http.CanonicalHeaderKey(rest)] = values
		}
	}
	resp, err := s.apiAssets.Forward(r.Context(), *details.ApiGatewayApiAsset, apiasset.Request{
		Method: method, Path: path, Query: r.URL.Query(), Headers: headers, Body: bytes.NewReader(body),
	})
	if err != nil {
		return 0, nil, fmt.Errorf("api: SendApiAsset to API %s: %w", details.ApiGatewayApiAsset.ApiId, err)
	}
	if resp.ContentLength > apiasset.MaxBodySize {
		resp.Body.Close()
		return 0, nil, fmt.Errorf("api: SendApiAsset: API %s answered %d bytes, over the %d MB limit",
			details.ApiGatewayApiAsset.ApiId, resp.ContentLength, apiasset.MaxBodySize>>20)
	}
	return resp.StatusCode, apiResponse{resp}, nil
}

// apiTarget is the method and path SendApiAsset calls: the
// x-amzn-dataexchange-http-method and -path headers, else the request's
// own verb and the path after /v1. A method that is not an HTTP token
// ("G ET") or a path that is not a URL path is a ValidationException.
func apiTarget(r *http.Request) (method, path string, err error) {
	method = r.Method
	if m := r.Header.Get(headerMethod); m != "" {
		if !httpguts.ValidHeaderFieldName(m) { // the token rule, as for methods
			return "", "", fault.Validationf("%s %q is not an HTTP method", strings.ToLower(headerMethod), m)
		}
		method = strings.ToUpper(m)
	}
	path = r.Header.Get(headerPath)
	if path == "" {
		path = strings.TrimPrefix(r.URL.EscapedPath(), "/v1")
	} else if u, perr := url.Parse(path); perr != nil || u.Scheme != "" || u.Host != "" || u.Opaque != "" {
		return "", "", fault.Validationf("%s %q is not a URL path", strings.ToLower(headerPath), path)
	}
	if path == "" || path[0] != '/' {
		path = "/" + path
	}
	return method, path, nil
}

// apiResponse is an API's answer, streamed to the client as it came (the
// body at most apiasset.MaxBodySize bytes).
type apiResponse struct{ resp *http.Response }

func (a apiResponse) write(s *server, w http.ResponseWriter, r *http.Request) {
	defer a.resp.Body.Close()
	for name, values := range a.resp.Header {
		if name == "X-Amzn-Requestid" {
			continue // Wharf's own request id stays
		}
		w.Header()[name] = values
	}
	w.WriteHeader(a.resp.StatusCode)
	n, err := io.Copy(w, io.LimitReader(a.resp.Body, apiasset.MaxBodySize+1))
	if err == nil && n > apiasset.MaxBodySize {
		err = errors.New("the API's response body is over the limit")
	}
	if err != nil {
		// The status is sent: all that is left is to cut the response.
		s.log.LogAttrs(r.Context(), slog.LevelWarn, "SendApiAsset response cut",
			slog.String("request_id", requestIDFrom(r.Context())), slog.String("error", err.Error()))
		panic(http.ErrAbortHandler)
	}
}

// isDirectSendApiAsset reports whether a request no route takes is
// SendApiAsset's direct form (a verb and /v1/<path>).
func isDirectSendApiAsset(r *http.Request) bool {
	return strings.HasPrefix(r.URL.Path, "/v1/") && r.Header.Get(headerAssetID) != ""
}
