package web

import (
	"encoding/json"
	"math"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"galenix/internal/errs"
)

// TestWriteJSONEncodesFirst: an answer that cannot be encoded (a time past
// year 9999, a non-finite number) is a 500 in the error envelope, the
// failure kept for the log, never an empty 200.
func TestWriteJSONEncodesFirst(t *testing.T) {
	for name, v := range map[string]any{
		"a time in year 10000": struct {
			End time.Time `json:"end"`
		}{time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)},
		"+Inf":      map[string]float64{"number": math.Inf(1)},
		"NaN":       []float64{1, math.NaN()},
		"in a list": itemsBody[map[string]any]{Items: []map[string]any{{"id": "a"}, {"id": "b", "number": math.Inf(-1)}}},
	} {
		t.Run(name, func(t *testing.T) {
			w := httptest.NewRecorder()
			w.Header().Set("X-Request-Id", "req-1")
			rec := &statusRecorder{ResponseWriter: w}
			// Wrapped as the idempotency layer wraps a write's answer.
			idem := &recorder{ResponseWriter: rec, header: http.Header{}}
			writeJSON(idem, http.StatusOK, v)
			idem.flush()
			if w.Code != http.StatusInternalServerError {
				t.Errorf("status %d, want 500", w.Code)
			}
			var body errorBody
			if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil || body.Error.Code != "internal" || body.Error.Message == "" {
				t.Errorf("body %q (%v): want the error envelope", w.Body.String(), err)
			}
			if ct := w.Header().Get("Content-Type"); ct != "application/json; charset=utf-8" {
				t.Errorf("Content-Type %q", ct)
			}
			if rec.failure == nil {
				t.Error("the failure is not kept for the log")
			}
		})
	}
	// An answer that encodes goes out as it is, with its status.
	w := httptest.NewRecorder()
	writeJSON(w, http.StatusCreated, map[string]float64{"number": 1.7e308})
	if w.Code != http.StatusCreated || w.Body.String() != "{\"number\":1.7e+308}\n" {
		t.Errorf("%d %q", w.Code, w.Body.String())
	}
}

// TestCleanJSON: every string of a JSON body, keys included, is held to
// bounds.Text, named by its key; numbers and other values pass.
func TestCleanJSON(t *testing.T) {
	for body, field := range map[string]string{
		`{"name":"a\u0000b"}`:                          "name",
		`{"a":1,"b":{"c":["x","\u0000"]}}`:             "c",
		`{"a":{"b":1},"name":"\u0000"}`:                "name",
		`{"a\u0000":1}`:                                "",
		`["ok","\u0000"]`:                              "",
		`{"reason":"ok","lines":[{"text":"x\u0000"}]}`: "text",
	} {
		err := cleanJSON([]byte(body))
		if err == nil || errs.FieldOf(err) != field || !errs.Is(err, errs.Invalid) {
			t.Errorf("%s: %v (field %q), want refused on %q", body, err, errs.FieldOf(err), field)
		}
	}
	for _, body := range []string{`{"name":"Łukasz Żółć 王芳","n":1.5,"ok":true,"x":null}`, `{"a":"\\u0000"}`, `not json`, ``} {
		if err := cleanJSON([]byte(body)); err != nil {
			t.Errorf("%s refused: %v", body, err)
		}
	}
}
