package identity

import (
	"flag"
	"os"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the permission matrix in docs/security.md from the code")

const securityDoc = "../../docs/security.md"

// The permission matrix in docs/security.md lies between these two lines.
const (
	matrixBegin = "<!-- BEGIN permission matrix: generated from internal/identity by `go test ./internal/identity -run TestPermissionMatrixDoc -update`; do not edit by hand -->"
	matrixEnd   = "<!-- END permission matrix -->"
)

// meanings says, for the document, what each permission allows.
var meanings = map[Permission]string{
	PermSiteView:          "see site operations: buildings, rooms, lines, equipment, sensors (client users without other clients' names); the staff host their own visitors",
	PermSiteEdit:          "create and change the site model",
	PermStaffView:         "see people, teams and shifts",
	PermStaffEdit:         "create and change people, teams and shifts",
	PermClientDirectory:   "see every client laboratory's name and code (not their confidential data)",
	PermAccountsView:      "see accounts, roles, client assignments and machine tokens, and the trail of access rights",
	PermAccountsAdmin:     "create, change and withdraw accounts, roles, client assignments and machine tokens",
	PermAuditSite:         "read the audit trail of site data and of the clients in one's scope",
	PermSecurityEvents:    "see and acknowledge security events (failed sign-ins, locked accounts, the badge readers' alerts); keep the access zones and badge readers; see who is on site and run the muster; welcome every visitor at the gate",
	PermBatchRelease:      "release or reject a batch (Qualified Person)",
	PermClientUsers:       "list, create and withdraw the client user accounts of one's own laboratory",
	PermProductionView:    "see the products, orders and batches of the clients in scope (client users: their own, without operator names)",
	PermProductionPlan:    "create products and orders, schedule batches on lines, release them to the floor",
	PermLineMaintenance:   "plan maintenance windows of the lines",
	PermMasterEdit:        "write master batch records and submit them for review",
	PermMasterApprove:     "approve master batch records by signature, make them effective, retire them",
	PermBatchExecute:      "execute batches on the shop floor: line clearance, steps, completion",
	PermBatchReview:       "review batch records by exception, export them to PDF",
	PermStockEdit:         "record materials and received lots",
	PermLotStatus:         "release, quarantine or reject material lots",
	PermControlledView:    "read the controlled-substance register",
	PermControlledRecord:  "enter and witness the register's movements, count inventories",
	PermInfraView:         "read the IT and OT infrastructure: assets, dependencies, states, single points of failure, what-if",
	PermInfraEdit:         "keep the infrastructure's assets, dependencies, zones, conduits and checks; draft planned shutdowns",
	PermBackupView:        "see the restore drills of the site's backups (EU GMP Annex 11 §7.2)",
	PermRecordPrint:       "print a whole batch record (PDF), with its operators and signatures",
	PermLabWork:           "the QC laboratory's work: receive samples, enter, import and review results, investigate an OOS in the laboratory (phase I)",
	PermSpecEdit:          "write product specifications and submit them for review",
	PermDeviationWork:     "assess and investigate deviations, record their CAPA, investigate an OOS in full (phase II)",
	PermQualityDecide:     "approve specifications and deviation assessments, close deviations and OOS investigations, check CAPA effectiveness, sign a batch's QA review",
	PermEquipmentMaintain: "clean equipment, take it out of and back in service, renew its qualification by signature",
	PermClientApprove:     "approve on the client laboratory's side what its quality agreement asks (a major deviation's closure), by signature",
	PermClientDocuments:   "upload the client laboratory's documents and approve its specifications on its side, by signature",
	PermProjectEdit:       "open a client's project with the site, move its phase, set its milestones and objectives",
	PermProjectWork:       "take part in a client's project on either side: record decisions, tasks and messages, move tasks",
	PermTrainingRecord:    "record a person's training or qualification, which quality assurance grants by signature",
}

// renderMatrix writes the permission matrix as a Markdown table: one row per
// permission, one column per role, ✓ where the role grants it.
func renderMatrix(t *testing.T) string {
	t.Helper()
	var b strings.Builder
	b.WriteString("| permission | allows |")
	for _, r := range Roles {
		b.WriteString(" `" + string(r) + "` |")
	}
	b.WriteString("\n|---|---|")
	for range Roles {
		b.WriteString(":-:|")
	}
	b.WriteString("\n")
	for _, p := range Permissions {
		m, ok := meanings[p]
		if !ok {
			t.Errorf("permission %s has no meaning for the document: add it to meanings", p)
		}
		b.WriteString("| `" + string(p) + "` | " + m + " |")
		for _, r := range Roles {
			if r.Grants(p) {
				b.WriteString(" ✓ |")
			} else {
				b.WriteString("   |")
			}
		}
		b.WriteString("\n")
	}
	return b.String()
}

// TestPermissionMatrixDoc checks that the permission matrix of
// docs/security.md is the one the code enforces (identity.Roles,
// identity.Permissions and Role.Grants); with -update it rewrites it.
func TestPermissionMatrixDoc(t *testing.T) {
	raw, err := os.ReadFile(securityDoc)
	if err != nil {
		t.Fatal(err)
	}
	doc := string(raw)
	i, j := strings.Index(doc, matrixBegin), strings.Index(doc, matrixEnd)
	if i < 0 || j < i {
		t.Fatalf("%s lacks the lines that enclose the permission matrix:\n%s\n%s", securityDoc, matrixBegin, matrixEnd)
	}
	want := renderMatrix(t)
	got := doc[i+len(matrixBegin) : j]
	if strings.TrimSpace(got) == strings.TrimSpace(want) {
		return
	}
	if *update {
		doc = doc[:i+len(matrixBegin)] + "\n" + want + doc[j:]
		if err := os.WriteFile(securityDoc, []byte(doc), 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("rewrote the permission matrix of %s", securityDoc)
		return
	}
	t.Errorf("the permission matrix in %s differs from the code; run\n\tgo test ./internal/identity -run TestPermissionMatrixDoc -update\nwant:\n%s\ngot:\n%s", securityDoc, want, got)
}

// TestEveryPermissionIsGranted checks that no permission is dead: each is
// granted to some role, and none is granted to a role that does not exist.
func TestEveryPermissionIsGranted(t *testing.T) {
	for _, p := range Permissions {
		if len(RolesGranting(p)) == 0 {
			t.Errorf("no role grants %s", p)
		}
	}
	for r, ps := range grants {
		if !r.Valid() {
			t.Errorf("the matrix grants permissions to the unknown role %q", r)
		}
		for _, p := range ps {
			found := false
			for _, q := range Permissions {
				found = found || p == q
			}
			if !found {
				t.Errorf("role %s is granted %q, which is not in Permissions", r, p)
			}
		}
	}
}
