package web

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"time"

	"galenix/internal/errs"
)

// MaxBody is the largest request body accepted: 1 MiB.
const MaxBody = 1 << 20

// readBody reads a request body of at most MaxBody bytes.
func readBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBody))
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return nil, errs.E(errs.TooLarge, "web.request_body_larger_than", MaxBody)
	}
	if err != nil {
		return nil, errs.E(errs.Invalid, "web.request_body_unreadable")
	}
	return b, nil
}

// decodeStrict decodes one JSON value into v, refusing unknown fields and
// anything after the value.
func decodeStrict(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return badJSON(err)
	}
	if dec.More() {
		return errs.E(errs.Invalid, "web.request_body_holds_more")
	}
	return nil
}

// badJSON explains a decoding error in words a person understands.
func badJSON(err error) error {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	var date *time.ParseError
	switch {
	case errors.Is(err, io.EOF):
		return errs.E(errs.Invalid, "web.request_body_empty_json")
	case errors.As(err, &syn), errors.Is(err, io.ErrUnexpectedEOF):
		return errs.E(errs.Invalid, "web.request_body_not_valid")
	case errors.As(err, &typ) && typ.Field == "":
		return errs.E(errs.Invalid, "web.request_body_must_json")
	case errors.As(err, &typ):
		return &errs.Error{Code: errs.Invalid, Field: typ.Field,
			Key: "web.field_must_type", Args: []any{typ.Field, typ.Type}}
	case errors.As(err, &date):
		return errs.E(errs.Invalid, "web.date_request_body_not")
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		f := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return &errs.Error{Code: errs.Invalid, Field: f,
			Key: "web.field_not_known_here", Args: []any{f}}
	}
	return errs.E(errs.Invalid, "web.request_body_not_json")
}

// decode reads and strictly decodes the request body into v.
func decode(w http.ResponseWriter, r *http.Request, v any) error {
	b, err := readBody(w, r)
	if err != nil {
		return err
	}
	return decodeStrict(b, v)
}

// decodeWithReason decodes an update: the record's fields plus a "reason"
// saying why it changes. The record's own "id" is ignored; the path names it.
func decodeWithReason(w http.ResponseWriter, r *http.Request, v any) (reason string, err error) {
	b, err := readBody(w, r)
	if err != nil {
		return "", err
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(b, &fields); err != nil {
		return "", badJSON(err)
	}
	if raw, ok := fields["reason"]; ok {
		if err := json.Unmarshal(raw, &reason); err != nil {
			return "", errs.Field("reason", "web.reason_must_text")
		}
		delete(fields, "reason")
	}
	delete(fields, "id")
	rest, _ := json.Marshal(fields)
	return reason, decodeStrict(rest, v)
}

// writeJSON answers v as JSON with the status. The answer is encoded
// before its status is sent: a value that cannot be encoded (a time past
// year 9999, a non-finite number) answers a 500 in the error envelope,
// logged with the request (see failedAnswer), never an empty 200.
func writeJSON(w http.ResponseWriter, status int, v any) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(true)
	if err := enc.Encode(v); err != nil {
		failedAnswer(w, err)
		buf.Reset()
		status = http.StatusInternalServerError
		e := errs.Wrap(err, "encoding the answer")
		_ = enc.Encode(errorBody{Error: errorDetail{Code: errs.Internal, Message: errs.MessageOf(e, "en"),
			RequestID: w.Header().Get("X-Request-Id")}})
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// failedAnswer tells the access log (statusRecorder, under any writer
// wrapping it) that the answer could not be encoded, to be logged as an
// error with the request.
func failedAnswer(w http.ResponseWriter, err error) {
	for w != nil {
		switch v := w.(type) {
		case *statusRecorder:
			v.failure = err
			return
		case *recorder:
			w = v.ResponseWriter
		case interface{ Unwrap() http.ResponseWriter }:
			w = v.Unwrap()
		default:
			return
		}
	}
}

// itemsBody is the envelope of every list: {"items": [...]}.
type itemsBody[T any] struct {
	Items []T `json:"items"`
}

// apiLang is the language of API messages: French when the client asks for
// it first, English otherwise.
func apiLang(r *http.Request) string {
	if strings.HasPrefix(strings.ToLower(strings.TrimSpace(r.Header.Get("Accept-Language"))), "fr") {
		return "fr"
	}
	return "en"
}
