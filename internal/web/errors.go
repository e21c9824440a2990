package web

import (
	"log/slog"
	"net/http"

	"galenix/internal/errs"
)

// statusOf maps each error code to its HTTP status: the one table of it.
var statusOf = map[errs.Code]int{
	errs.Invalid:          http.StatusBadRequest,
	errs.NotFound:         http.StatusNotFound,
	errs.Conflict:         http.StatusConflict,
	errs.Stale:            http.StatusPreconditionFailed,
	errs.Forbidden:        http.StatusForbidden,
	errs.Unauthorized:     http.StatusUnauthorized,
	errs.TooLarge:         http.StatusRequestEntityTooLarge,
	errs.MethodNotAllowed: http.StatusMethodNotAllowed,
	errs.RateLimited:      http.StatusTooManyRequests,
	errs.Unavailable:      http.StatusServiceUnavailable,
	errs.Internal:         http.StatusInternalServerError,

	// A key already applied: 409, the conflict it is with the first
	// request; a key reused for another request: 422, a well-formed
	// request that cannot be processed with that key (IETF Idempotency-Key
	// header draft, "Error Scenarios").
	errs.IdempotencyApplied:  http.StatusConflict,
	errs.IdempotencyMismatch: http.StatusUnprocessableEntity,

	// A password to change first is a refusal like any other 403, with a
	// code of its own so that a client can lead the person to the change.
	errs.PasswordChangeRequired: http.StatusForbidden,
}

// errorBody is the JSON error envelope of the API.
type errorBody struct {
	Error errorDetail `json:"error"`
}

type errorDetail struct {
	Code    errs.Code `json:"code"`
	Message string    `json:"message"`
	Field   string    `json:"field,omitempty"`
	// RequestID is the request's X-Request-Id, to find its log lines.
	RequestID string `json:"request_id,omitempty"`
}

// apiError answers err in the error envelope, in the request's language.
// Only internal errors are logged; their detail never reaches the client.
func (s *Server) apiError(w http.ResponseWriter, r *http.Request, err error) {
	code := errs.CodeOf(err)
	status, ok := statusOf[code]
	if !ok {
		status = http.StatusInternalServerError
	}
	s.logIfInternal(r, err)
	if v := errs.VersionOf(err); v > 0 {
		w.Header().Set("ETag", etag(v))
	}
	writeJSON(w, status, errorBody{Error: errorDetail{Code: code, Message: errs.MessageOf(err, apiLang(r)), Field: errs.FieldOf(err), RequestID: RequestID(r.Context())}})
}

// logIfInternal logs an internal error, and a database that could not
// take the request as a warning (the site is degraded, the request may be
// sent again); pages use it before showing a generic message.
func (s *Server) logIfInternal(r *http.Request, err error) {
	level := slog.LevelError
	switch errs.CodeOf(err) {
	case errs.Internal:
	case errs.Unavailable:
		level = slog.LevelWarn
	default:
		return
	}
	s.log.LogAttrs(r.Context(), level, "request failed",
		slog.String("method", r.Method), slog.String("path", r.URL.Path), slog.Any("err", err))
}
