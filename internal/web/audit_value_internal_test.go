package web

import (
	"testing"
	"time"
)

// TestAuditValueInWords: the trail writes the values of enumerated fields
// by their record's words, numbers the reader's way (codes as they are),
// a master's or a specification's content by its size, and lists by their
// items.
func TestAuditValueInWords(t *testing.T) {
	for _, c := range []struct{ lang, entity, field, v, want string }{
		{"fr", "lot", "status", "quarantine", "Quarantaine"},
		{"en", "lot", "status", "released", "Released"},
		{"en", "equipment", "status", "in_use", "In use"},
		{"fr", "building", "role", "production_sterile", "Production stérile"},
		{"fr", "batch", "state", "in_progress", "En cours"},
		{"fr", "batch", "quantity", "2000000", "2\u202f000\u202f000"},
		{"en", "lot", "quantity", "12500.5", "12,500.5"},
		{"fr", "person", "badge", "12345", "12345"},
		{"fr", "lot", "code", "20261", "20261"},
		{"fr", "master", "body", `[{"no":1,"steps":[{"no":1},{"no":2}]}]`, "1 opération, 2 étapes"},
		{"en", "master", "body", `[{"no":1,"steps":[{"no":1}]},{"no":2,"steps":[{"no":1}]}]`, "2 operations, 2 steps"},
		{"en", "spec", "body", `[{"code":"ASSAY"}]`, "1 test"},
		{"fr", "deviation", "impacts", "null", "—"},
		{"fr", "deviation", "impacts", "[]", "—"},
		{"fr", "deviation", "impacts", `[{"batch_id":"x","lot":"L2611-0004","affects":false}]`, "L2611-0004"},
		{"en", "step", "checklist", `["Line clean","Labels removed"]`, "Line clean, Labels removed"},
		{"en", "deviation", "title", "Door left open", "Door left open"},
	} {
		if got := auditValue(c.lang, c.entity, c.field, c.v, "", time.UTC); got != c.want {
			t.Errorf("%s %s.%s %q: %q, want %q", c.lang, c.entity, c.field, c.v, got, c.want)
		}
	}
}
