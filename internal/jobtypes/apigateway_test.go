package jobtypes_test

import (
	"context"
	"net/url"
	"strings"
	"testing"

	"github.com/wharf-dev/wharf/internal/apiasset"
	"github.com/wharf-dev/wharf/internal/fault"
	"github.com/wharf-dev/wharf/internal/jobs"
	"github.com/wharf-dev/wharf/internal/jobtypes"
	"github.com/wharf-dev/wharf/internal/resource"
)

const petstore = `{
  "openapi": "3.0.1",
  "info": {"title": "Weather", "version": "1.0"},
  "paths": {
    "/forecast/{city}": {
      "get": {
        "parameters": [{"name": "city", "in": "path", "required": true, "schema": {"type": "string"}}],
        "responses": {"200": {"description": "a forecast",
          "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Forecast"}}}}}
      }
    }
  },
  "components": {"schemas": {"Forecast": {"type": "object", "properties": {"celsius": {"type": "number"}}}}}
}`

func TestValidateOpenAPISpec(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name, spec string
		message    string // "" for a valid spec
	}{
		{"valid 3.0.1", petstore, ""},
		{"valid 3.0.3 minimal", `{"openapi":"3.0.3","info":{"title":"t","version":"1"},"paths":{}}`, ""},
		{"yaml", "openapi: 3.0.1\ninfo:\n  title: t\n  version: '1'\npaths: {}\n", "not JSON"},
		{"json array", `[1,2]`, "not a JSON object"},
		{"swagger 2", `{"swagger":"2.0","info":{"title":"t","version":"1"},"paths":{}}`, "Swagger 2.0"},
		{"no version", `{"info":{"title":"t","version":"1"},"paths":{}}`, `no "openapi" version`},
		{"openapi 3.1", `{"openapi":"3.1.0","info":{"title":"t","version":"1"},"paths":{}}`, `OpenAPI "3.1.0"`},
		{"no info", `{"openapi":"3.0.1","paths":{}}`, "not valid OpenAPI 3.0"},
		{"dangling ref", strings.Replace(petstore, "#/components/schemas/Forecast", "#/components/schemas/Missing", 1), "not valid OpenAPI 3.0"},
		{"path param undeclared", `{"openapi":"3.0.1","info":{"title":"t","version":"1"},"paths":{"/a/{id}":{"get":{"responses":{"200":{"description":"ok"}}}}}}`, "not valid OpenAPI 3.0"},
		{"bad operation", `{"openapi":"3.0.1","info":{"title":"t","version":"1"},"paths":{"/a":{"get":{"responses":"nope"}}}}`, "not valid OpenAPI 3.0"},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			err := jobtypes.ValidateOpenAPISpec(context.Background(), strings.NewReader(c.spec))
			if c.message == "" {
				if err != nil {
					t.Fatalf("valid spec refused: %v", err)
				}
				return
			}
			fe := wantFault(t, err, fault.Validation)
			if !strings.Contains(fe.Message, c.message) {
				t.Errorf("message %q lacks %q", fe.Message, c.message)
			}
		})
	}
	big := `{"openapi":"3.0.1","info":{"title":"t","version":"1","description":"` + strings.Repeat("x", jobtypes.MaxAPISpecSize) + `"},"paths":{}}`
	fe := wantFault(t, jobtypes.ValidateOpenAPISpec(context.Background(), strings.NewReader(big)), fault.Validation)
	if !strings.Contains(fe.Message, "over 10 MB") {
		t.Errorf("big spec: %q", fe.Message)
	}
}

// TestAPIGatewayAssetShape checks every ApiGatewayApiAsset member of the
// asset an API import creates.
func TestAPIGatewayAssetShape(t *testing.T) {
	t.Parallel()
	desc, key := "forecasts", "k3y"
	req := jobtypes.APIGatewayRequest{ApiDescription: &desc, ApiId: "a1b2c3d4e5", ApiKey: &key, ApiName: "Weather API",
		ApiSpecificationMd5Hash: "1B2M2Y8AsgTpgAmY7PhCfg==", ProtocolType: "REST", Stage: "prod"}
	jobID := resource.NewID()
	a := jobtypes.APIGatewayAsset(jobID, "eu-west-1", apiasset.Endpoints{}, req)
	if a.ID != jobs.AssetID(jobID, 0) || a.Name != "Weather API" || a.AssetType != resource.AssetTypeAPIGatewayAPI {
		t.Errorf("asset %s %q %s", a.ID, a.Name, a.AssetType)
	}
	sameJSON(t, "default endpoint", a.Details, `{"ApiGatewayApiAsset":{"ApiDescription":"forecasts",
		"ApiEndpoint":"https://a1b2c3d4e5.execute-api.eu-west-1.amazonaws.com/prod","ApiId":"a1b2c3d4e5","ApiKey":"k3y",
		"ApiName":"Weather API","ProtocolType":"REST","Stage":"prod"}}`)

	u, _ := url.Parse("http://127.0.0.1:9999/base")
	req.ApiDescription, req.ApiKey = nil, nil
	a = jobtypes.APIGatewayAsset(jobID, "eu-west-1", apiasset.Endpoints{"a1b2c3d4e5": u}, req)
	sameJSON(t, "configured endpoint", a.Details, `{"ApiGatewayApiAsset":{"ApiEndpoint":"http://127.0.0.1:9999/base",
		"ApiId":"a1b2c3d4e5","ApiName":"Weather API","ProtocolType":"REST","Stage":"prod"}}`)
}
