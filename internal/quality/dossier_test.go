package quality

import (
	"testing"
	"time"

	"galenix/internal/errs"
	"galenix/internal/identity"
)

// TestDossierMayDeliver: the client receives, once its batch is
// certified, the documents its agreement names and no other (the
// certificate of analysis alone without an agreement); the staff who
// review or release batches read every document, whatever the state;
// other staff none.
func TestDossierMayDeliver(t *testing.T) {
	ag := &Agreement{BatchDocuments: []BatchDocument{DocBatchRecord, DocEnvironmentReport}}
	if !ag.Delivers(DocBatchRecord) || ag.Delivers(DocCertificate) {
		t.Errorf("the agreement delivers %v", ag.Delivered())
	}
	var none *Agreement
	if got := none.Delivered(); len(got) != 1 || got[0] != DocCertificate {
		t.Errorf("without an agreement: %v", got)
	}
	at := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	ds := Dossier{Lot: "L1", Certified: true, CertifiedAt: &at, Documents: ag.Delivered()}
	client := identity.Actor{UserID: "u1", ClientID: "c1", Roles: []identity.Role{identity.RoleClientUser}}
	qa := identity.Actor{UserID: "u2", Roles: []identity.Role{identity.RoleQA}}
	op := identity.Actor{UserID: "u3", Roles: []identity.Role{identity.RoleOperator}}
	for _, tc := range []struct {
		name      string
		a         identity.Actor
		certified bool
		doc       BatchDocument
		want      errs.Code
	}{
		{"the client, a named document", client, true, DocBatchRecord, ""},
		{"the client, another document", client, true, DocCertificate, errs.Forbidden},
		{"the client, before certification", client, false, DocBatchRecord, errs.Conflict},
		{"QA, any document", qa, true, DocConformity, ""},
		{"QA, before certification", qa, false, DocCertificate, ""},
		{"an operator", op, true, DocBatchRecord, errs.Forbidden},
	} {
		d := ds
		d.Certified = tc.certified
		err := d.MayDeliver(tc.a, tc.doc)
		if (tc.want == "" && err != nil) || (tc.want != "" && errs.CodeOf(err) != tc.want) {
			t.Errorf("%s: %v, want %q", tc.name, err, tc.want)
		}
	}
	if _, err := ParseBatchDocument("recipe"); errs.CodeOf(err) != errs.NotFound {
		t.Errorf("an unknown document: %v", err)
	}
}
