package web

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
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
		return nil, errs.E(errs.TooLarge, fmt.Sprintf("The request body is larger than the limit of %d bytes.", MaxBody),
			fmt.Sprintf("Le corps de la requête dépasse la limite de %d octets.", MaxBody))
	}
	if err != nil {
		return nil, errs.E(errs.Invalid, "The request body could not be read.", "Le corps de la requête n'a pas pu être lu.")
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
		return errs.E(errs.Invalid, "The request body holds more than one JSON value.", "Le corps de la requête contient plus d'une valeur JSON.")
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
		return errs.E(errs.Invalid, "The request body is empty; a JSON object is expected.", "Le corps de la requête est vide ; un objet JSON est attendu.")
	case errors.As(err, &syn), errors.Is(err, io.ErrUnexpectedEOF):
		return errs.E(errs.Invalid, "The request body is not valid JSON.", "Le corps de la requête n'est pas du JSON valide.")
	case errors.As(err, &typ) && typ.Field == "":
		return errs.E(errs.Invalid, "The request body must be a JSON object.", "Le corps de la requête doit être un objet JSON.")
	case errors.As(err, &typ):
		return &errs.Error{Code: errs.Invalid, Field: typ.Field,
			Message:   fmt.Sprintf("The field %q must be of type %s.", typ.Field, typ.Type),
			MessageFR: fmt.Sprintf("Le champ « %s » doit être de type %s.", typ.Field, typ.Type)}
	case errors.As(err, &date):
		return errs.E(errs.Invalid, "A date in the request body is not in RFC 3339 form; write it like 2026-11-22T08:00:00Z.",
			"Une date du corps de la requête n'est pas au format RFC 3339 ; écrivez-la comme 2026-11-22T08:00:00Z.")
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		f := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return &errs.Error{Code: errs.Invalid, Field: f,
			Message:   fmt.Sprintf("The field %q is not known here.", f),
			MessageFR: fmt.Sprintf("Le champ « %s » n'est pas reconnu ici.", f)}
	}
	return errs.E(errs.Invalid, "The request body could not be read as JSON.", "Le corps de la requête n'a pas pu être lu comme du JSON.")
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
			return "", errs.Field("reason", "The reason must be text.", "La raison doit être un texte.")
		}
		delete(fields, "reason")
	}
	delete(fields, "id")
	rest, _ := json.Marshal(fields)
	return reason, decodeStrict(rest, v)
}

// writeJSON answers v as JSON with the status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(true)
	_ = enc.Encode(v)
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
