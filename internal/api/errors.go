package api

import (
	"encoding/json"
	"log/slog"
	"net/http"

	"github.com/wharf-dev/wharf/internal/fault"
)

// errorBody is an AWS error body; the SDK reads the exception's name from
// the X-Amzn-ErrorType header and these members from the body.
type errorBody struct {
	Message      string  `json:"Message"`
	ResourceID   string  `json:"ResourceId,omitempty"`
	ResourceType string  `json:"ResourceType,omitempty"`
	LimitName    string  `json:"LimitName,omitempty"`
	LimitValue   float64 `json:"LimitValue,omitempty"`
}

// writeError writes err as an AWS error. An error that is not a
// *fault.Error is unexpected: its cause is logged and the client only learns
// that an internal error occurred.
func (s *server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	fe := fault.As(err)
	if fe == nil || fe.Name == fault.InternalServer {
		s.log.LogAttrs(r.Context(), slog.LevelError, "internal error",
			slog.String("request_id", requestIDFrom(r.Context())),
			slog.String("method", r.Method),
			slog.String("path", r.URL.EscapedPath()),
			slog.String("error", err.Error()))
		fe = fault.Internal(err)
	}
	if rec, ok := w.(*recorder); ok {
		rec.exception = fe.Name
	}
	b, mErr := json.Marshal(errorBody{
		Message:      fe.Message,
		ResourceID:   fe.ResourceID,
		ResourceType: string(fe.ResourceType),
		LimitName:    fe.LimitName,
		LimitValue:   fe.LimitValue,
	})
	if mErr != nil { // only strings and a float: can't happen
		b = []byte(`{"Message":"internal error"}`)
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("X-Amzn-ErrorType", fe.Name)
	w.WriteHeader(fe.Status())
	_, _ = w.Write(b)
}
