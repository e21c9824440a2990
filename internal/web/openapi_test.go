package web_test

import (
	"bytes"
	"maps"
	"net/http"
	"os"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"

	"galenix/docs"
	"galenix/internal/access"
	"galenix/internal/audit"
	"galenix/internal/backup"
	"galenix/internal/controlled"
	"galenix/internal/document"
	"galenix/internal/environment"
	"galenix/internal/errs"
	"galenix/internal/identity"
	"galenix/internal/infra"
	"galenix/internal/production"
	"galenix/internal/qualification"
	"galenix/internal/quality"
	"galenix/internal/site"
	"galenix/internal/store"
	"galenix/internal/text"
)

const openapiPath = "../../docs/openapi.yaml"

// openapiDoc reads and parses docs/openapi.yaml.
func openapiDoc(t *testing.T) (raw []byte, doc map[string]any) {
	t.Helper()
	raw, err := os.ReadFile(openapiPath)
	if err != nil {
		t.Fatal(err)
	}
	v, err := parseYAML(string(raw))
	if err != nil {
		t.Fatalf("%s: %v", openapiPath, err)
	}
	doc, ok := v.(map[string]any)
	if !ok {
		t.Fatalf("%s is not a mapping", openapiPath)
	}
	if doc["openapi"] != "3.1.0" {
		t.Errorf("openapi: %v, want 3.1.0", doc["openapi"])
	}
	return raw, doc
}

// at walks the document along keys, failing the test if a key is missing.
func at(t *testing.T, v any, keys ...string) any {
	t.Helper()
	for i, k := range keys {
		m, ok := v.(map[string]any)
		if !ok {
			t.Fatalf("%s is not a mapping", strings.Join(keys[:i], "."))
		}
		if v, ok = m[k]; !ok {
			t.Fatalf("%s: missing", strings.Join(keys[:i+1], "."))
		}
	}
	return v
}

var httpMethods = []string{"get", "put", "post", "delete", "options", "head", "patch", "trace"}

// TestOpenAPIDescribesEveryRoute checks the document and the router agree:
// every API and operational route is described, and nothing else is.
func TestOpenAPIDescribesEveryRoute(t *testing.T) {
	_, doc := openapiDoc(t)
	e := newEnv(t, store.SQLite)

	type op struct{ method, path string }
	documented := map[op]map[string]any{}
	for path, item := range at(t, doc, "paths").(map[string]any) {
		for k, v := range item.(map[string]any) {
			if slices.Contains(httpMethods, k) {
				documented[op{strings.ToUpper(k), path}] = v.(map[string]any)
			} else if k != "parameters" && k != "summary" && k != "description" {
				t.Errorf("paths.%s: unexpected key %q", path, k)
			}
		}
	}

	registered := map[op]bool{}
	for _, rt := range e.web.Routes() {
		if rt.Path == "/api/" { // the catch-all that answers 404
			continue
		}
		if !strings.HasPrefix(rt.Path, "/api/") && !slices.Contains([]string{"/healthz", "/readyz", "/metrics"}, rt.Path) {
			continue // a page
		}
		o := op{rt.Method, rt.Path}
		registered[o] = true
		operation, ok := documented[o]
		if !ok {
			t.Errorf("%s %s is registered but not in %s", rt.Method, rt.Path, openapiPath)
			continue
		}
		// A public route says so with "security: []"; the others inherit
		// the document's bearer and cookie schemes and answer 401.
		sec, hasSec := operation["security"]
		isPublic := hasSec && reflect.DeepEqual(sec, []any{})
		if isPublic != rt.Public {
			t.Errorf("%s %s: public %v in the document (security %v), %v in the router", rt.Method, rt.Path, isPublic, sec, rt.Public)
		}
		responses, _ := operation["responses"].(map[string]any)
		if len(responses) == 0 {
			t.Errorf("%s %s: no responses", rt.Method, rt.Path)
		}
		if _, ok := responses["401"]; !rt.Public && !ok {
			t.Errorf("%s %s needs a session but documents no 401", rt.Method, rt.Path)
		}
		if rt.Method == "POST" || rt.Method == "PUT" {
			for _, status := range []string{"400", "413"} {
				if _, ok := responses[status]; !ok && rt.Path != "/api/v1/logout" {
					t.Errorf("%s %s takes a body but documents no %s", rt.Method, rt.Path, status)
				}
			}
		}
		if strings.Contains(rt.Path, "{id}") {
			if _, ok := responses["404"]; !ok {
				t.Errorf("%s %s names a record but documents no 404", rt.Method, rt.Path)
			}
		}
	}
	for o := range documented {
		if !registered[o] {
			t.Errorf("%s documents %s %s, which the server does not register", openapiPath, o.method, o.path)
		}
	}
	if len(registered) < 30 {
		t.Errorf("only %d routes found; are the routes registered?", len(registered))
	}
}

// TestOpenAPIComponents checks the schemas against the Go types the API
// encodes, the enums against the domain's lists, and every $ref.
func TestOpenAPIComponents(t *testing.T) {
	raw, doc := openapiDoc(t)
	schemas := at(t, doc, "components", "schemas").(map[string]any)

	t.Run("refs resolve", func(t *testing.T) {
		for _, m := range regexp.MustCompile(`\$ref: "#/components/(\w+)/(\w+)"`).FindAllStringSubmatch(string(raw), -1) {
			if comp, _ := at(t, doc, "components").(map[string]any)[m[1]].(map[string]any); comp[m[2]] == nil {
				t.Errorf("$ref %s/%s names nothing", m[1], m[2])
			}
		}
		if n := strings.Count(string(raw), "$ref:"); n != len(regexp.MustCompile(`\$ref: "#/components/\w+/\w+"`).FindAllString(string(raw), -1)) {
			t.Errorf("some $ref is not of the form \"#/components/KIND/NAME\"")
		}
	})

	t.Run("schemas match the JSON of the Go types", func(t *testing.T) {
		for name, v := range map[string]any{
			"Site": site.Site{}, "Building": site.Building{}, "Room": site.Room{}, "Line": site.Line{},
			"Equipment": site.Equipment{}, "Shift": site.Shift{}, "Team": site.Team{}, "Person": site.Person{},
			"BackupDrill": backup.Drill{}, "BackupDrillTarget": backup.Target{}, "BackupDrillFailure": backup.Failure{},
			"QualityDeviation": struct {
				quality.Deviation
				TitleCode *text.Coded `json:"title_code"`
			}{}, "DeviationAction": quality.Action{}, "DeviationImpact": quality.Impact{},
			"AuditCheckpoint": audit.Checkpoint{},
			"AuditEntry": struct {
				ID string `json:"id"`
				audit.Entry
			}{},
			// The laboratory's.
			"Spec": quality.Spec{}, "SpecTest": quality.Test{}, "SpecLimit": quality.Limit{}, "SampleRequest": quality.SampleRequest{},
			"Sample": quality.Sample{}, "Receipt": quality.Receipt{}, "ResultEntry": quality.Entry{}, "Result": quality.Result{},
			"ResultOutcome": quality.ResultOutcome{}, "Work": quality.Work{}, "Investigation": quality.Investigation{},
			// The production's, the access's, the register's, the
			// documents' and the infrastructure's.
			"Batch": production.Batch{}, "EntryFields": production.Entry{}, "Floor": production.Floor{}, "Lot": production.Lot{},
			"Order": production.Order{}, "Slot": production.Slot{}, "BatchDossier": quality.Dossier{}, "BatchReview": quality.BatchReview{},
			"Certification": quality.Certification{}, "ObligationItem": quality.ObligationItem{},
			"AccessRecord": access.Record{}, "Muster": access.Muster{}, "MusterLine": access.MusterLine{}, "Presence": access.Presence{},
			"Reader": access.Reader{}, "Visit": access.Visit{}, "Zone": access.Zone{},
			"ControlledAlert": controlled.Alert{}, "ControlledContainer": controlled.Container{}, "ControlledCount": controlled.Count{},
			"ControlledMovement": controlled.Movement{}, "ControlledSubstance": controlled.Substance{},
			"Document": document.Document{}, "DocumentVersion": document.Version{},
			"Qualification": qualification.Qualification{}, "Token": identity.Token{},
			"InfraAsset": infra.Asset{}, "InfraConduit": infra.Conduit{}, "InfraFlow": infra.Flow{}, "InfraZone": infra.Zone{}, "InfraLoss": infra.LossReport{},
			"Sensor": environment.Sensor{}, "SensorLimits": environment.Limits{}, "Reading": environment.Reading{}, "Gap": store.Gap{},
			// The environment's.
			"Alarm": struct {
				environment.Alarm
				MessageText string `json:"message_text"`
				Open        bool   `json:"open"`
				Trail       string `json:"trail"`
			}{},
		} {
			props := at(t, schemas, name, "properties").(map[string]any)
			got := slices.Sorted(maps.Keys(props))
			want := jsonFields(reflect.TypeOf(v))
			if !slices.Equal(got, want) {
				t.Errorf("schema %s has properties %v; the API encodes %v", name, got, want)
			}
			if req, ok := at(t, schemas, name).(map[string]any)["required"].([]any); ok {
				for _, r := range req {
					if !slices.Contains(want, r.(string)) {
						t.Errorf("schema %s requires %v, which it does not have", name, r)
					}
				}
			}
		}
	})

	t.Run("enums match the domain", func(t *testing.T) {
		for name, want := range map[string][]string{
			"Grade":           strs(site.Grades),
			"Form":            strs(site.Forms),
			"LineStatus":      strs(site.LineStatuses),
			"EquipmentStatus": strs(site.EquipmentStatuses),
			"ShiftKind":       strs(site.ShiftKinds),
			"BuildingRole":    strs(site.BuildingRoles),
			"Role":            strs(identity.Roles),
			"ErrorCode":       strs(errs.Codes),
			"SampleKind":      strs(quality.SampleKinds),
			"SampleCondition": strs(quality.Conditions),
			"DeviationState":  strs(quality.DeviationStates),
			"DeviationClass":  strs(quality.Classes),
		} {
			var got []string
			for _, v := range at(t, schemas, name, "enum").([]any) {
				got = append(got, v.(string))
			}
			if !slices.Equal(got, want) {
				t.Errorf("enum %s: %v, want %v", name, got, want)
			}
		}
	})

	t.Run("error envelope", func(t *testing.T) {
		detail := at(t, schemas, "Error", "properties", "error", "properties").(map[string]any)
		if got := slices.Sorted(maps.Keys(detail)); !slices.Equal(got, []string{"code", "field", "message", "request_id"}) {
			t.Errorf("error detail properties %v", got)
		}
		responses := at(t, doc, "components", "responses").(map[string]any)
		for _, name := range []string{"BadRequest", "Unauthorized", "Forbidden", "NotFound", "Conflict", "TooLarge", "Internal"} {
			ref := at(t, responses, name, "content", "application/json", "schema", "$ref")
			if ref != "#/components/schemas/Error" {
				t.Errorf("response %s: schema %v, want the error envelope", name, ref)
			}
		}
	})

	t.Run("security schemes", func(t *testing.T) {
		if got := at(t, doc, "components", "securitySchemes", "bearerAuth", "scheme"); got != "bearer" {
			t.Errorf("bearerAuth scheme %v", got)
		}
		if got := at(t, doc, "components", "securitySchemes", "sessionCookie", "name"); got != "galenix_session" {
			t.Errorf("sessionCookie name %v", got)
		}
	})
}

// jsonFields lists the JSON names of a struct's fields, embedded ones
// included (a name the outer struct gives again once), sorted.
func jsonFields(typ reflect.Type) []string {
	var out []string
	for i := range typ.NumField() {
		f := typ.Field(i)
		if f.Anonymous {
			out = append(out, jsonFields(f.Type)...)
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" || !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		out = append(out, name)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

func strs[T ~string](v []T) []string {
	out := make([]string, len(v))
	for i, s := range v {
		out[i] = string(s)
	}
	return out
}

// TestOpenAPIServed checks the server serves the document itself, to a
// signed-in caller only.
func TestOpenAPIServed(t *testing.T) {
	raw, _ := openapiDoc(t)
	if !bytes.Equal(docs.OpenAPI, raw) {
		t.Fatalf("docs.OpenAPI differs from %s", openapiPath)
	}
	e := newEnv(t, store.SQLite)
	r := e.call(t, "operator", "GET", "/api/v1/openapi.yaml", nil)
	if r.status != http.StatusOK {
		t.Fatalf("status %d: %s", r.status, r.body)
	}
	if !bytes.Equal(r.body, raw) {
		t.Errorf("GET /api/v1/openapi.yaml serves %d bytes that differ from %s (%d bytes)", len(r.body), openapiPath, len(raw))
	}
	if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/yaml") {
		t.Errorf("Content-Type %q, want application/yaml", ct)
	}
	e.call(t, "", "GET", "/api/v1/openapi.yaml", nil).wantError(t, http.StatusUnauthorized, "unauthorized", "")
}

// TestOpenAPIClientAndMe checks the schemas of the answers built in the web
// layer itself against what the server answers.
func TestOpenAPIClientAndMe(t *testing.T) {
	_, doc := openapiDoc(t)
	schemas := at(t, doc, "components", "schemas").(map[string]any)
	e := newEnv(t, store.SQLite)
	for name, path := range map[string]string{"Client": "/api/v1/clients/" + e.alpha.ID, "Me": "/api/v1/me"} {
		got := slices.Sorted(maps.Keys(e.call(t, "client-alpha", "GET", path, nil).object(t)))
		want := slices.Sorted(maps.Keys(at(t, schemas, name, "properties").(map[string]any)))
		if !slices.Equal(got, want) {
			t.Errorf("GET %s answers %v; schema %s has %v", path, got, name, want)
		}
	}
}

// TestParseYAML checks the subset reader the tests above rely on.
func TestParseYAML(t *testing.T) {
	src := `# a comment
a: 1
"quoted key": 'it''s'
b:
  - x
  - "y: z"
  - k: v
    l: [m, "n"]
  -
    deep: true
c:
- same indent
d: |
  line one

  line three
e: {}
f: []
`
	got, err := parseYAML(src)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"a": "1", "quoted key": "it's",
		"b": []any{"x", "y: z", map[string]any{"k": "v", "l": []any{"m", "n"}}, map[string]any{"deep": "true"}},
		"c": []any{"same indent"},
		"d": "line one\n\nline three",
		"e": map[string]any{}, "f": []any{},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %#v\nwant %#v", got, want)
	}
	for _, bad := range []string{"a: b: c", "a:\n  b: 1\n c: 2", "a: 1\na: 2", "- a\nb: 1", "a: {b: 1}", "a: \"unterminated"} {
		if v, err := parseYAML(bad); err == nil {
			t.Errorf("parseYAML(%q) = %v, want an error", bad, v)
		}
	}
}
