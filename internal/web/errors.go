package web

import (
	"errors"
	"log/slog"
	"net/http"

	"galenix/internal/errs"
)

// statusOf maps each error code to its HTTP status: the one table of it.
var statusOf = map[errs.Code]int{
	errs.Invalid:          http.StatusBadRequest,
	errs.NotFound:         http.StatusNotFound,
	errs.Conflict:         http.StatusConflict,
	errs.Forbidden:        http.StatusForbidden,
	errs.Unauthorized:     http.StatusUnauthorized,
	errs.TooLarge:         http.StatusRequestEntityTooLarge,
	errs.MethodNotAllowed: http.StatusMethodNotAllowed,
	errs.RateLimited:      http.StatusTooManyRequests,
	errs.Internal:         http.StatusInternalServerError,
}

// errorBody is the JSON error envelope of the API.
type errorBody struct {
	Error errorDetail `json:"error"`
}

type errorDetail struct {
	Code    errs.Code `json:"code"`
	Message string    `json:"message"`
	Field   string    `json:"field,omitempty"`
}

// apiError answers err in the error envelope, in the request's language.
// Only internal errors are logged; their detail never reaches the client.
func (s *Server) apiError(w http.ResponseWriter, r *http.Request, err error) {
	code := errs.CodeOf(err)
	status, ok := statusOf[code]
	if !ok {
		status = http.StatusInternalServerError
	}
	if code == errs.Internal {
		s.log.Error("request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	writeJSON(w, status, errorBody{Error: errorDetail{Code: code, Message: errs.MessageOf(err, apiLang(r)), Field: errs.FieldOf(err)}})
}

// logIfInternal logs an internal error; pages use it before showing a
// generic message.
func (s *Server) logIfInternal(r *http.Request, err error) {
	if errs.CodeOf(err) == errs.Internal {
		s.log.LogAttrs(r.Context(), slog.LevelError, "request failed",
			slog.String("method", r.Method), slog.String("path", r.URL.Path), slog.Any("err", err))
	}
}

var errNoRoute = errors.New("no route")
