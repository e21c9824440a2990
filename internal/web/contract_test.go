package web_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"mime"
	"net"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"

	"galenix/internal/store"
)

// The API contract is checked on every exchange the web tests make: the
// test server's handler is wrapped (checkContract) so that each request to
// a documented path (/api/..., /healthz, /readyz, /metrics) and its answer
// are validated against docs/openapi.yaml by kin-openapi, an independent
// OpenAPI 3.1 validator (JSON Schema 2020-12). A test fails on an
// undocumented route, status, content type or field, naming the route, the
// status and the field at fault.

// contract is the document's router, loaded and validated once.
var contract = sync.OnceValues(func() (routers.Router, error) {
	doc, err := contractDoc()
	if err != nil {
		return nil, err
	}
	return gorillamux.NewRouter(doc)
})

// streamData names, for each live stream of the API, the schema of its
// events' data (the document describes the stream as a string).
var streamData = map[string]string{"/api/v1/batches/events": "BatchSummaryList", "/api/v1/portal/events": "PortalDashboard"}

// contractDoc is the document, loaded and validated once.
var contractDoc = sync.OnceValues(func() (*openapi3.T, error) {
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromFile(openapiPath)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", openapiPath, err)
	}
	if err := doc.Validate(loader.Context, openapi3.EnableExamplesValidation()); err != nil {
		return nil, fmt.Errorf("%s is not a valid OpenAPI document: %w", openapiPath, err)
	}
	// Formats are asserted: an id is a UUID (RFC 9562, the v7 the server
	// gives included), never "".
	openapi3.DefineStringFormatValidator("uuid", openapi3.NewRegexpFormatValidator(openapi3.FormatOfStringForUUIDOfRFC9562))
	// The answers that are files or streams: their bodies are checked
	// for their content type alone (a schema of type string describes
	// them); a stream's events below.
	for _, ct := range []string{"application/pdf", "text/event-stream", "application/zip", "application/gzip", "application/x-ndjson", "application/openmetrics-text", "application/yaml", "text/csv", "text/html"} {
		openapi3filter.RegisterBodyDecoder(ct, openapi3filter.FileBodyDecoder)
	}
	for path, name := range streamData {
		if doc.Components.Schemas[name] == nil {
			return nil, fmt.Errorf("%s: the data of %s is schema %s, which is missing", openapiPath, path, name)
		}
	}
	return doc, nil
})

// contracted reports whether the document describes path: the API and the
// operational endpoints, not the pages.
func contracted(path string) bool {
	return strings.HasPrefix(path, "/api/") || path == "/healthz" || path == "/readyz" || path == "/metrics"
}

// checkContract wraps the handler of a test server: every exchange on a
// contracted path is validated against the document, failing t.
func checkContract(t testing.TB, h http.Handler) http.Handler {
	t.Helper()
	if _, err := contract(); err != nil {
		t.Fatal(err)
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !contracted(r.URL.Path) {
			h.ServeHTTP(w, r)
			return
		}
		var reqBody []byte
		if r.Body != nil {
			reqBody, _ = io.ReadAll(r.Body)
			r.Body = io.NopCloser(bytes.NewReader(reqBody))
		}
		// The request as it arrived: the handler may change r's context.
		sent := r.Clone(context.Background())
		cw := &contractWriter{ResponseWriter: w}
		h.ServeHTTP(cw, r)
		if cw.status == 0 {
			cw.status = http.StatusOK
		}
		for _, p := range contractProblems(sent, reqBody, cw.status, cw.Header(), cw.body.Bytes()) {
			t.Errorf("API contract (%s): %s %s answered %d: %s", openapiPath, sent.Method, sent.URL.RequestURI(), cw.status, p)
		}
	})
}

// contractWriter keeps a copy of the answer while passing it through,
// streams included.
type contractWriter struct {
	http.ResponseWriter
	status int
	body   bytes.Buffer
}

func (w *contractWriter) WriteHeader(status int) {
	if w.status == 0 {
		w.status = status
	}
	w.ResponseWriter.WriteHeader(status)
}

func (w *contractWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	w.body.Write(b)
	return w.ResponseWriter.Write(b)
}

func (w *contractWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (w *contractWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	return http.NewResponseController(w.ResponseWriter).Hijack()
}

func (w *contractWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// contractProblems lists how one exchange departs from the document.
func contractProblems(req *http.Request, reqBody []byte, status int, header http.Header, body []byte) []string {
	router, _ := contract()
	ctx := context.Background()
	// The router matches the request URL's path on the document's servers.
	probe := req.Clone(ctx)
	probe.Body = io.NopCloser(bytes.NewReader(reqBody))
	if len(reqBody) > 0 && probe.Header.Get("Content-Type") == "" {
		// The server reads a body without a Content-Type as JSON.
		probe.Header.Set("Content-Type", "application/json")
	}
	route, params, err := router.FindRoute(probe)
	if err != nil {
		// A path or a method the document does not describe must be
		// refused as the document's introduction says: 404 in the error
		// envelope for an unknown path, 405 for an unknown method.
		if errors.Is(err, routers.ErrMethodNotAllowed) && status == http.StatusMethodNotAllowed {
			return nil
		}
		if errors.Is(err, routers.ErrPathNotFound) && status == http.StatusNotFound && isErrorEnvelope(header, body) {
			return nil
		}
		return []string{fmt.Sprintf("undocumented route (%v)", err)}
	}
	opts := &openapi3filter.Options{
		MultiError:            true,
		IncludeResponseStatus: true,
		// Who may call what is tested elsewhere (TestOpenAPIDescribesEveryRoute
		// checks the security of each operation against the router's).
		AuthenticationFunc: openapi3filter.NoopAuthenticationFunc,
		// A PUT sends the whole record as GET answers it, read-only fields
		// included (the document's introduction): they are ignored, not refused.
		ExcludeReadOnlyValidations: true,
		SchemaValidationOptions:    []openapi3.SchemaValidationOption{openapi3.EnableFormatValidation()},
	}
	in := &openapi3filter.RequestValidationInput{Request: probe, PathParams: params, Route: route, Options: opts}
	var out []string
	where := fmt.Sprintf("%s %s -> %d", route.Method, route.Path, status)
	// A request the document says is invalid must be refused; an invalid
	// request the server accepts means the document or the server is wrong.
	if err := openapi3filter.ValidateRequest(ctx, in); err != nil && status < 400 {
		for _, p := range describeErr(err) {
			out = append(out, fmt.Sprintf("%s: the server accepted a request the document says is invalid: %s", where, p))
		}
	}
	ct, _, _ := mime.ParseMediaType(header.Get("Content-Type"))
	respOpts := *opts
	resp := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: in,
		Status:                 status,
		Header:                 header,
		Body:                   io.NopCloser(bytes.NewReader(body)),
		Options:                &respOpts,
	}
	if err := openapi3filter.ValidateResponse(ctx, resp); err != nil {
		for _, p := range describeErr(err) {
			out = append(out, fmt.Sprintf("%s: response %s", where, p))
		}
		return out
	}
	// A live stream's events carry JSON data of their own schema.
	if name, ok := streamData[route.Path]; ok && ct == "text/event-stream" && status == http.StatusOK {
		doc, _ := contractDoc()
		schema := doc.Components.Schemas[name]
		for _, line := range strings.Split(string(body), "\n") {
			data, ok := strings.CutPrefix(line, "data:")
			if !ok {
				continue
			}
			var v any
			if err := json.Unmarshal([]byte(data), &v); err != nil {
				out = append(out, fmt.Sprintf("%s: event data is not JSON: %v", where, err))
				continue
			}
			if err := schema.Value.VisitJSON(v, openapi3.EnableJSONSchema2020(), openapi3.EnableFormatValidation(), openapi3.MultiErrors()); err != nil {
				for _, p := range describeErr(err) {
					out = append(out, fmt.Sprintf("%s: event data (%s) %s", where, name, p))
				}
			}
			var fields []string
			undeclaredFields(schema, v, "", &fields)
			for _, f := range fields {
				out = append(out, fmt.Sprintf("%s: event data (%s) field %s is not in the document", where, name, f))
			}
		}
	}
	// The response schemas leave additional properties open, as JSON
	// Schema does by default; the contract does not: every field answered
	// must be described.
	if ct == "application/json" {
		var schema *openapi3.SchemaRef
		if r := route.Operation.Responses.Status(status); r != nil && r.Value != nil {
			if mt := r.Value.Content.Get(ct); mt != nil {
				schema = mt.Schema
			}
		}
		dec := json.NewDecoder(bytes.NewReader(body))
		dec.UseNumber()
		var v any
		if schema != nil && dec.Decode(&v) == nil {
			var fields []string
			undeclaredFields(schema, v, "", &fields)
			for _, f := range fields {
				out = append(out, fmt.Sprintf("%s: response field %s is not in the document", where, f))
			}
		}
	}
	return out
}

// undeclaredFields lists the members of the objects in v that schema does
// not declare, where it does not allow others (additionalProperties,
// patternProperties or a free-form object), as JSON pointers.
func undeclaredFields(ref *openapi3.SchemaRef, v any, path string, out *[]string) {
	if ref == nil || ref.Value == nil {
		return
	}
	s := ref.Value
	switch v := v.(type) {
	case map[string]any:
		props := map[string][]*openapi3.SchemaRef{}
		var extra []*openapi3.SchemaRef
		open := false
		var collect func(s *openapi3.Schema)
		collect = func(s *openapi3.Schema) {
			composed := len(s.AllOf)+len(s.AnyOf)+len(s.OneOf) > 0
			if len(s.Properties) == 0 && !composed && (s.Type == nil || s.Type.Includes("object")) && s.AdditionalProperties.Has == nil && s.AdditionalProperties.Schema == nil {
				open = true // a free-form object
			}
			if len(s.PatternProperties) > 0 || (s.AdditionalProperties.Has != nil && *s.AdditionalProperties.Has) {
				open = true
			}
			if s.AdditionalProperties.Schema != nil {
				extra = append(extra, s.AdditionalProperties.Schema)
			}
			for name, p := range s.Properties {
				props[name] = append(props[name], p)
			}
			for _, group := range [][]*openapi3.SchemaRef{s.AllOf, s.AnyOf, s.OneOf} {
				for _, sub := range group {
					if sub != nil && sub.Value != nil && (sub.Value.Type == nil || sub.Value.Type.Includes("object") || len(sub.Value.Properties) > 0) {
						collect(sub.Value)
					}
				}
			}
		}
		collect(s)
		for _, k := range slices.Sorted(maps.Keys(v)) {
			at := path + "/" + k
			switch {
			case len(props[k]) > 0:
				for _, p := range props[k] {
					undeclaredFields(p, v[k], at, out)
				}
			case len(extra) > 0:
				for _, p := range extra {
					undeclaredFields(p, v[k], at, out)
				}
			case !open:
				*out = append(*out, at)
			}
		}
	case []any:
		for i, item := range v {
			at := fmt.Sprintf("%s/%d", path, i)
			if s.Items != nil {
				undeclaredFields(s.Items, item, at, out)
			}
			for _, group := range [][]*openapi3.SchemaRef{s.AllOf, s.AnyOf, s.OneOf} {
				for _, sub := range group {
					if sub != nil && sub.Value != nil && sub.Value.Items != nil {
						undeclaredFields(sub.Value.Items, item, at, out)
					}
				}
			}
		}
	}
}

// isErrorEnvelope reports whether an answer is the JSON error envelope.
func isErrorEnvelope(header http.Header, body []byte) bool {
	if ct, _, _ := mime.ParseMediaType(header.Get("Content-Type")); ct != "application/json" {
		return false
	}
	var env struct {
		Error *struct {
			Code string `json:"code"`
		} `json:"error"`
	}
	return json.Unmarshal(body, &env) == nil && env.Error != nil && env.Error.Code != ""
}

// describeErr turns a validation error into one short line per problem:
// where in the body or which parameter, and why.
func describeErr(err error) []string {
	if multi, ok := err.(openapi3.MultiError); ok {
		var out []string
		for _, e := range multi {
			out = append(out, describeErr(e)...)
		}
		return out
	}
	if reqErr, ok := err.(*openapi3filter.RequestError); ok {
		prefix := "body"
		if reqErr.Parameter != nil {
			prefix = fmt.Sprintf("parameter %q in %s", reqErr.Parameter.Name, reqErr.Parameter.In)
		}
		if reqErr.Err == nil {
			return []string{prefix + ": " + reqErr.Reason}
		}
		var out []string
		for _, p := range describeErr(reqErr.Err) {
			out = append(out, prefix+": "+p)
		}
		return out
	}
	if respErr, ok := err.(*openapi3filter.ResponseError); ok {
		if respErr.Err == nil {
			return []string{respErr.Reason}
		}
		var out []string
		for _, p := range describeErr(respErr.Err) {
			out = append(out, strings.TrimSpace(respErr.Reason+" "+p))
		}
		return out
	}
	var schemaErr *openapi3.SchemaError
	if errors.As(err, &schemaErr) {
		reason := schemaErr.Reason
		if reason == "" {
			reason = "does not match \"" + schemaErr.SchemaField + "\""
		}
		value, _ := json.Marshal(schemaErr.Value)
		if len(value) > 200 {
			value = append(value[:200], "..."...)
		}
		return []string{fmt.Sprintf("field /%s: %s (value %s)", strings.Join(schemaErr.JSONPointer(), "/"), reason, value)}
	}
	return []string{err.Error()}
}

// TestContractChecker checks the checker itself: the document loads as
// valid OpenAPI 3.1 (examples included), and an exchange that departs from
// it in each way is reported, naming the route, the status and the field.
func TestContractChecker(t *testing.T) {
	if _, err := contract(); err != nil {
		t.Fatal(err)
	}
	id := "0190a0b0-0000-7000-8000-000000000001"
	jsonHdr := http.Header{"Content-Type": {"application/json"}}
	req := func(method, path, body string) *http.Request {
		r, err := http.NewRequest(method, "http://galenix.test"+path, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		if body != "" {
			r.Header.Set("Content-Type", "application/json")
		}
		r.Header.Set("Authorization", "Bearer x")
		return r
	}
	for _, c := range []struct {
		name         string
		req          *http.Request
		reqBody      string
		status       int
		header       http.Header
		body         string
		wantProblems []string // substrings, one per expected problem; none: valid
	}{
		{name: "valid", req: req("GET", "/api/v1/clients/"+id, ""), status: 200, header: jsonHdr,
			body: `{"id":"` + id + `","client_id":"` + id + `","code":"A","name":"Alpha"}`},
		{name: "valid error", req: req("GET", "/api/v1/clients/"+id, ""), status: 404, header: jsonHdr,
			body: `{"error":{"code":"not_found","message":"Not found.","request_id":"r1"}}`},
		{name: "undocumented field", req: req("GET", "/api/v1/clients/"+id, ""), status: 200, header: jsonHdr,
			body:         `{"id":"` + id + `","client_id":"` + id + `","code":"A","name":"Alpha","secret":1}`,
			wantProblems: []string{"GET /api/v1/clients/{id} -> 200: response field /secret"}},
		{name: "missing field", req: req("GET", "/api/v1/clients/"+id, ""), status: 200, header: jsonHdr,
			body: `{"id":"` + id + `","code":"A","name":"Alpha"}`, wantProblems: []string{"client_id"}},
		{name: "uuid empty", req: req("GET", "/api/v1/clients/"+id, ""), status: 200, header: jsonHdr,
			body: `{"id":"` + id + `","client_id":"","code":"A","name":"Alpha"}`, wantProblems: []string{"/client_id"}},
		{name: "undocumented status", req: req("GET", "/api/v1/clients/"+id, ""), status: 418, header: jsonHdr,
			body: `{"error":{"code":"not_found","message":"x","request_id":"r"}}`, wantProblems: []string{"418"}},
		{name: "undocumented content type", req: req("GET", "/api/v1/clients/"+id, ""), status: 200,
			header: http.Header{"Content-Type": {"text/html"}}, body: `<p>`, wantProblems: []string{"text/html"}},
		{name: "undocumented route", req: req("GET", "/api/v1/nowhere", ""), status: 200, header: jsonHdr,
			body: `{}`, wantProblems: []string{"undocumented route"}},
		{name: "stream", req: req("GET", "/api/v1/batches/events", ""), status: 200,
			header: http.Header{"Content-Type": {"text/event-stream"}}, body: "event: batches\ndata: {\"items\":[]}\n\n"},
		{name: "stream event undocumented", req: req("GET", "/api/v1/batches/events", ""), status: 200,
			header: http.Header{"Content-Type": {"text/event-stream"}},
			body:   "event: batches\ndata: {\"items\":[{\"id\":\"" + id + "\",\"owner\":\"x\"}]}\n\n", wantProblems: []string{"/items/0/owner", "event data"}},
		{name: "unknown route refused", req: req("GET", "/api/v1/nowhere", ""), status: 404, header: jsonHdr,
			body: `{"error":{"code":"not_found","message":"Not found.","request_id":"r1"}}`},
		{name: "invalid request accepted", req: req("POST", "/api/v1/buildings", `{"code":"B1","name":"B","role":"offices","colour":"red"}`),
			reqBody: `{"code":"B1","name":"B","role":"offices","colour":"red"}`, status: 201, header: jsonHdr,
			body:         `{"id":"` + id + `","code":"B1","name":"B","role":"offices"}`,
			wantProblems: []string{"accepted a request the document says is invalid", "colour"}},
		{name: "invalid request refused", req: req("POST", "/api/v1/buildings", `{"code":"B1","name":"B","role":"offices","colour":"red"}`),
			reqBody: `{"code":"B1","name":"B","role":"offices","colour":"red"}`, status: 400, header: jsonHdr,
			body: `{"error":{"code":"invalid","message":"Unknown field.","field":"colour","request_id":"r1"}}`},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := contractProblems(c.req, []byte(c.reqBody), c.status, c.header, []byte(c.body))
			if len(c.wantProblems) == 0 {
				if len(got) != 0 {
					t.Errorf("a valid exchange reported: %q", got)
				}
				return
			}
			all := strings.Join(got, "\n")
			for _, w := range c.wantProblems {
				if !strings.Contains(all, w) {
					t.Errorf("problems %q do not mention %q", got, w)
				}
			}
		})
	}
}

// TestContractEveryRoute walks every API route of the router, as
// TestIsolation walks its GET routes, so that a route no other test calls
// is held to the document at least for its refusals: each is called by an
// administrator, an operator and a client's user, with ids that name no
// record and, for a write, a body that is not an object; and each GET
// route without an id is read whole. The contract-checking server fails
// the test on any answer the document does not describe. Nothing is
// written: every write is refused.
func TestContractEveryRoute(t *testing.T) {
	e := newEnv(t, store.SQLite)
	param := regexp.MustCompile(`\{[^}]*\}`)
	called := 0
	// Signed in first: a sign-in writes its session, a refused request
	// nothing.
	for _, who := range []string{"admin", "operator", "client-alpha"} {
		e.token(t, who)
	}
	for _, rt := range e.web.Routes() {
		if !strings.HasPrefix(rt.Path, "/api/") || rt.Path == "/api/" || rt.Public || rt.Path == "/api/v1/logout" {
			continue
		}
		called++
		path := param.ReplaceAllStringFunc(rt.Path, func(string) string { return newUUID(t) })
		for _, who := range []string{"admin", "operator", "client-alpha"} {
			var body string
			if rt.Method != "GET" {
				body = `["not an object"]`
			}
			before := e.snapshot(t)
			status := e.walkCall(t, who, rt.Method, path, body)
			if rt.Method != "GET" && status < 400 {
				t.Errorf("%s %s as %s with a body that is not an object answered %d", rt.Method, path, who, status)
			}
			if rt.Method != "GET" {
				e.unchanged(t, before)
			}
			if rt.Method == "GET" && path != rt.Path && status < 400 && status != http.StatusOK {
				t.Errorf("GET %s as %s (an id naming nothing) answered %d", path, who, status)
			}
			if rt.Method == "GET" && path == rt.Path {
				e.walkCall(t, who, "GET", path+"?limit=abc&from=x&to=y&state=nonsense", "")
			}
		}
	}
	if called < 100 {
		t.Errorf("only %d API routes walked; are the routes registered?", called)
	}
}

// walkCall sends a request as who and answers its status; a live stream
// is cut after a moment (the contract is checked on what was answered).
func (e *env) walkCall(t *testing.T, who, method, path, body string) int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, e.srv.URL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Authorization", "Bearer "+e.token(t, who))
	req.Header.Set("Idempotency-Key", newUUID(t))
	resp, err := e.srv.Client().Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body) // a stream ends with the context
	return resp.StatusCode
}
