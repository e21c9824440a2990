package web

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"

	"galenix/internal/bounds"
	"galenix/internal/errs"
)

// cleanText refuses, before any handler reads it, a request whose text is
// not valid UTF-8 or holds a NUL byte: in its path, its query parameters,
// its posted form values (multipart included, files aside: an import
// checks its file) or the strings of its JSON body, keys included. Both
// databases then only ever see text they store as given: PostgreSQL
// refuses a NUL byte and invalid UTF-8 (a 500 before), SQLite would keep
// them. The answer is a 400 naming the field, in the error envelope for
// the API and a page for the pages; nothing is changed.
// The bulk intake of readings checks its own body the same way (ownBody),
// so that it counts what it refuses.
func (s *Server) cleanText(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := uncleanText(w, r); err != nil {
			if errs.Is(err, errs.NotFound) && !strings.HasPrefix(r.URL.Path, "/api/") {
				s.notFound(w, r)
			} else if strings.HasPrefix(r.URL.Path, "/api/") {
				s.apiError(w, r, err)
			} else {
				s.pageError(w, r, err)
			}
			return
		}
		next.ServeHTTP(w, r)
	})
}

// uncleanText finds the first text of the request that bounds.Text
// refuses; a body it reads is put back for the handler.
func uncleanText(w http.ResponseWriter, r *http.Request) error {
	if !bounds.Text(r.URL.Path) {
		// An address holding a NUL byte or invalid UTF-8 names nothing
		// galenix serves: a 404, as any unknown address.
		return errs.E(errs.NotFound, "web.there_no_such_api")
	}
	// A query that does not parse is its handler's to refuse; what parses
	// is checked, names and values.
	q, _ := url.ParseQuery(r.URL.RawQuery)
	if err := cleanValues(q); err != nil {
		return err
	}
	if r.Body == nil || r.Body == http.NoBody || r.Method == http.MethodGet || r.Method == http.MethodHead || ownBody(r) {
		return nil
	}
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch ct {
	case "application/x-www-form-urlencoded":
		r.Body = http.MaxBytesReader(w, r.Body, MaxBody)
		if err := r.ParseForm(); err != nil {
			var tooBig *http.MaxBytesError
			if errors.As(err, &tooBig) {
				return errs.E(errs.TooLarge, "web.request_body_larger_than", MaxBody)
			}
			return errs.E(errs.Invalid, "error.form")
		}
		return cleanValues(r.PostForm)
	case "multipart/form-data":
		r.Body = http.MaxBytesReader(w, r.Body, MaxBody)
		if err := r.ParseMultipartForm(MaxBody); err != nil {
			return nil // its handler finds no form and says so
		}
		return cleanValues(r.MultipartForm.Value)
	case "application/json", "":
	default:
		return nil // a CSV import, say: its reader checks its text
	}
	// The body is read and given back to the handler, which bounds its
	// size as before.
	b, err := io.ReadAll(io.LimitReader(r.Body, MaxBody+1))
	r.Body = io.NopCloser(io.MultiReader(bytes.NewReader(b), r.Body))
	if err != nil {
		return nil // the handler's read fails the same way, and says so
	}
	// encoding/json would read invalid UTF-8 as U+FFFD, silently.
	if !bounds.Text(string(b)) {
		return bounds.TextField("", string(b))
	}
	return cleanJSON(b)
}

// cleanValues checks the names and values of a form or a query.
func cleanValues(v url.Values) error {
	for k, vs := range v {
		if !bounds.Text(k) {
			return bounds.TextField("", k)
		}
		for _, s := range vs {
			if err := bounds.TextField(k, s); err != nil {
				return err
			}
		}
	}
	return nil
}

// cleanJSON checks every string of a JSON value, keys included, as
// decoded: an escaped NUL (\u0000) is one. The field named is the key the
// string was found under. A body that is not JSON is its handler's to
// refuse.
func cleanJSON(b []byte) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	// The objects and arrays the decoder is in; in an object, whether a
	// key comes next (keys and values alternate).
	type frame struct{ object, key bool }
	var in []frame
	field := ""
	for {
		tok, err := dec.Token()
		if err != nil {
			return nil // the end, or not JSON: the handler says so
		}
		if d, ok := tok.(json.Delim); ok {
			switch d {
			case '{', '[':
				in = append(in, frame{object: d == '{', key: d == '{'})
			default:
				in = in[:len(in)-1]
				if n := len(in); n > 0 && in[n-1].object {
					in[n-1].key = true
				}
			}
			continue
		}
		s, isString := tok.(string)
		if isString && !bounds.Text(s) {
			if n := len(in); n > 0 && in[n-1].object && in[n-1].key {
				return bounds.TextField("", s) // a key
			}
			return bounds.TextField(field, s)
		}
		if n := len(in); n > 0 && in[n-1].object {
			if in[n-1].key {
				field = s
			}
			in[n-1].key = !in[n-1].key
		}
	}
}
