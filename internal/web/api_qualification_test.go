package web_test

import (
	"net/http"
	"testing"
)

// exerciseQualifications records a qualification of the env's person,
// has quality assurance grant it by signature and revoke it.
func exerciseQualifications(t *testing.T, p *prodEnv) string {
	t.Helper()
	id := p.created(t, "supervisor", "/api/v1/qualifications", qualificationBody(p.person.ID, "MBR-EXERCISE"))
	p.ok(t, p.sign(t, "qa", "qualification", id, "approved"), http.StatusCreated, "grant the qualification")
	p.ok(t, p.call(t, "qa", "POST", "/api/v1/qualifications/"+id+"/revoke", map[string]any{"reason": "Échec à la requalification", "revision": 2}),
		http.StatusOK, "revoke the qualification")
	return id
}
