// Package apiasset is what Wharf does for API_GATEWAY_API assets: where an
// API's requests go (the endpoint of its id, configurable, else API
// Gateway's own), the asset's details, and SendApiAsset's forwarding of a
// request to the API with the asset's API key.
package apiasset

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"
)

// Details is the ApiGatewayApiAsset member of an asset's AssetDetails, with
// its wire names.
type Details struct {
	ApiDescription                       *string    `json:"ApiDescription,omitempty"`
	ApiEndpoint                          string     `json:"ApiEndpoint"`
	ApiId                                string     `json:"ApiId"`
	ApiKey                               *string    `json:"ApiKey,omitempty"`
	ApiName                              string     `json:"ApiName"`
	ApiSpecificationDownloadUrl          string     `json:"ApiSpecificationDownloadUrl,omitempty"`
	ApiSpecificationDownloadUrlExpiresAt *time.Time `json:"ApiSpecificationDownloadUrlExpiresAt,omitempty"`
	ProtocolType                         string     `json:"ProtocolType"`
	Stage                                string     `json:"Stage"`
}

// Endpoints maps API ids to the base URL their requests are forwarded to,
// for APIs that are not reached at API Gateway's own address (a local
// server, a private deployment, a test). Safe for concurrent reads.
type Endpoints map[string]*url.URL

// apiIDPattern is an API Gateway REST API id: 10 lowercase letters and
// digits.
var apiIDPattern = regexp.MustCompile(`^[a-z0-9]{10}$`)

// ValidAPIID reports whether id has the form of an API Gateway REST API id.
func ValidAPIID(id string) bool { return apiIDPattern.MatchString(id) }

// ParseEndpoint parses "API_ID=URL", the form of wharf serve's
// --api-endpoint, and adds it to e.
func (e Endpoints) ParseEndpoint(spec string) error {
	id, raw, ok := strings.Cut(spec, "=")
	if !ok || id == "" || raw == "" {
		return fmt.Errorf("api endpoint %q: the form is API_ID=URL", spec)
	}
	if !ValidAPIID(id) {
		return fmt.Errorf("api endpoint %q: %q is not an API Gateway API id (10 lowercase letters and digits)", spec, id)
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return fmt.Errorf("api endpoint %q: %q is not an http(s) URL without query or fragment", spec, raw)
	}
	if _, dup := e[id]; dup {
		return fmt.Errorf("api endpoint %q: API %s has an endpoint already", spec, id)
	}
	e[id] = u
	return nil
}

// For returns the endpoint of API apiID's stage: the configured one, else
// API Gateway's https://{apiID}.execute-api.{region}.amazonaws.com/{stage}.
func (e Endpoints) For(region, apiID, stage string) string {
	if u, ok := e[apiID]; ok {
		return u.String()
	}
	return fmt.Sprintf("https://%s.execute-api.%s.amazonaws.com/%s", apiID, region, url.PathEscape(stage))
}

// Request is a SendApiAsset call: what to send to the API.
type Request struct {
	Method string
	// Path is the path under the API's endpoint, "/" or starting with "/".
	Path    string
	Query   url.Values
	Headers http.Header
	Body    io.Reader
}

// Forwarder sends SendApiAsset requests to APIs.
type Forwarder struct {
	Endpoints Endpoints
	// Client sends the requests; nil means a client with a 29-second
	// timeout, API Gateway's own integration timeout.
	Client *http.Client
}

// DefaultTimeout is how long a forwarded request may take: API Gateway's
// default integration timeout.
const DefaultTimeout = 29 * time.Second

// MaxBodySize is the largest request or response body forwarded: API
// Gateway API assets take payloads of up to 10 MB.
const MaxBodySize = 10 << 20

var defaultClient = &http.Client{Timeout: DefaultTimeout}

// hopHeaders are not forwarded (RFC 9110 section 7.6.1), nor are the
// headers that carry the caller's credentials to Wharf or name the
// SendApiAsset call itself.
var hopHeaders = []string{"Connection", "Keep-Alive", "Proxy-Connection", "Proxy-Authenticate",
	"Proxy-Authorization", "Te", "Trailer", "Transfer-Encoding", "Upgrade", "Host", "Content-Length",
	"Authorization", "X-Amz-Date", "X-Amz-Security-Token", "X-Amz-Content-Sha256", "Amz-Sdk-Invocation-Id", "Amz-Sdk-Request"}

// Forward sends req to the API of asset d, with d's API key in x-api-key,
// and returns the API's answer whatever its status, its body unread (the
// caller streams it and closes it) and its hop-by-hop headers removed. The
// endpoint is the configured one for d.ApiId if any, else d.ApiEndpoint.
func (f *Forwarder) Forward(ctx context.Context, d Details, req Request) (*http.Response, error) {
	base := d.ApiEndpoint
	if u, ok := f.Endpoints[d.ApiId]; ok {
		base = u.String()
	}
	target, err := url.Parse(strings.TrimSuffix(base, "/") + req.Path)
	if err != nil || target.Host == "" {
		return nil, fmt.Errorf("apiasset: endpoint %q and path %q make no URL (%v)", base, req.Path, err)
	}
	target.RawQuery = req.Query.Encode()
	body := req.Body
	if body == nil {
		body = http.NoBody
	}
	out, err := http.NewRequestWithContext(ctx, req.Method, target.String(), body)
	if err != nil {
		return nil, fmt.Errorf("apiasset: build request: %w", err)
	}
	out.Header = req.Headers.Clone()
	if out.Header == nil {
		out.Header = http.Header{}
	}
	for _, h := range hopHeaders {
		out.Header.Del(h)
	}
	if d.ApiKey != nil && *d.ApiKey != "" {
		out.Header.Set("X-Api-Key", *d.ApiKey)
	}
	client := f.Client
	if client == nil {
		client = defaultClient
	}
	resp, err := client.Do(out)
	if err != nil {
		return nil, err
	}
	for _, h := range hopHeaders {
		resp.Header.Del(h)
	}
	return resp, nil
}
