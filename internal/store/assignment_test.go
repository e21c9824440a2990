package store_test

import (
	"testing"

	"galenix/internal/audit"
	"galenix/internal/errs"
	"galenix/internal/identity"
	"galenix/internal/store"
)

func TestAdminAssignments(t *testing.T) {
	t.Parallel()
	forEachDB(t, func(t *testing.T, db *store.DB) {
		f := newAdminFixture(t, db)
		adm := db.Identity().Admin()
		op := f.acc["operator"]

		var asg identity.Assignment
		t.Run("assign", func(t *testing.T) {
			seq := lastSeqAll(t, db)
			asg = identity.Assignment{AccountID: op.ID, ClientID: f.alpha.ID}
			must(t, adm.Assign(f.ctx("admin"), &asg, "works on the Alpha launch"))
			if asg.ID == "" || asg.Username != "operator" || asg.ClientCode != "ALPHA" || asg.ClientName != f.alpha.Name || !asg.CreatedAt.Equal(now) {
				t.Errorf("assignment %+v", asg)
			}
			es := trail(t, db, "account", op.ID, seq)
			wantFields(t, es, "account.assign assigned_client →"+f.alpha.ID+" [works on the Alpha launch] client="+f.alpha.ID)
			if len(es) == 1 && (es[0].ActorID != f.acc["admin"].ID || !es[0].At.Equal(now)) {
				t.Errorf("entry %+v: want the admin, now", es[0])
			}
			// The administrator, not assigned to Alpha, reads the client
			// by its code: a name the directory shows them anyway.
			read, err := db.Audit().Entries(f.ctx("admin"), audit.Filter{Entity: "account", EntityID: op.ID, AfterSeq: seq})
			must(t, err)
			if len(read) != 1 || read[0].NewLabel != "ALPHA" {
				t.Errorf("the administrator reads %+v, want the client's code", read)
			}
		})

		for _, tt := range []struct {
			name, who, account, client string
			code                       errs.Code
			field                      string
		}{
			{"twice", "admin", op.ID, f.alpha.ID, errs.Conflict, "client_id"},
			{"a client's user", "admin", f.acc["user-beta"].ID, f.alpha.ID, errs.Invalid, "account_id"},
			{"no such client", "admin", op.ID, store.NewID(), errs.Invalid, "client_id"},
			{"not a client id", "admin", op.ID, "alpha", errs.Invalid, "client_id"},
			{"no such account", "admin", store.NewID(), f.alpha.ID, errs.Invalid, "account_id"},
			{"by quality", "qa", op.ID, f.beta.ID, errs.Forbidden, ""},
			{"by security", "security", op.ID, f.beta.ID, errs.Forbidden, ""},
			{"by the operator", "operator", op.ID, f.beta.ID, errs.Forbidden, ""},
			{"by a client manager", "manager-alpha", op.ID, f.alpha.ID, errs.Forbidden, ""},
		} {
			t.Run("refused: "+tt.name, func(t *testing.T) {
				before := adminCounts(t, db)
				err := adm.Assign(f.ctx(tt.who), &identity.Assignment{AccountID: tt.account, ClientID: tt.client}, "")
				wantErr(t, err, tt.code, tt.field)
				adminUnchanged(t, db, before)
			})
		}

		qaAcc := f.acc["qa"]
		must(t, adm.Assign(f.ctx("admin"), &identity.Assignment{AccountID: qaAcc.ID, ClientID: f.beta.ID}, ""))

		t.Run("lists", func(t *testing.T) {
			for _, tt := range []struct {
				who    string
				filter identity.AssignmentFilter
				want   []string
			}{
				{"admin", identity.AssignmentFilter{}, []string{"operator/ALPHA", "qa/BETA"}},
				{"qa", identity.AssignmentFilter{AccountID: op.ID}, []string{"operator/ALPHA"}},
				{"admin", identity.AssignmentFilter{ClientID: f.beta.ID}, []string{"qa/BETA"}},
				{"admin", identity.AssignmentFilter{ClientID: "nonsense"}, nil},
				// Security sees accounts, not every client's name.
				{"security", identity.AssignmentFilter{}, []string{"operator/", "qa/"}},
			} {
				got, err := adm.Assignments(f.ctx(tt.who), tt.filter)
				must(t, err)
				var g []string
				for _, a := range got {
					g = append(g, a.Username+"/"+a.ClientCode)
					if a.ID == "" || a.ClientID == "" {
						t.Errorf("assignment without id or client: %+v", a)
					}
				}
				if len(g) != len(tt.want) || (len(g) > 0 && !sameStrings(g, tt.want)) {
					t.Errorf("%s %+v lists %v, want %v", tt.who, tt.filter, g, tt.want)
				}
			}
			for _, who := range []string{"operator", "user-alpha", "manager-alpha"} {
				_, err := adm.Assignments(f.ctx(who), identity.AssignmentFilter{})
				wantErr(t, err, errs.Forbidden, "")
				_, err = adm.Assignment(f.ctx(who), asg.ID)
				wantErr(t, err, errs.NotFound, "")
			}
			got, err := adm.Assignment(f.ctx("qa"), asg.ID)
			must(t, err)
			if got.AccountID != op.ID || got.ClientID != f.alpha.ID {
				t.Errorf("assignment %+v", got)
			}
		})

		t.Run("the assigned actor sees the client", func(t *testing.T) {
			tok, _, err := db.Identity().Login(as(identity.System), "operator", password, "10.0.0.9")
			must(t, err)
			a, err := db.Identity().Authenticate(as(identity.System), tok)
			must(t, err)
			if !a.ClientScope().Has(f.alpha.ID) || a.ClientScope().Has(f.beta.ID) {
				t.Errorf("operator's scope %+v, want alpha only", a.ClientScope())
			}
		})

		t.Run("unassign", func(t *testing.T) {
			for _, tt := range []struct {
				name, who, reason string
				code              errs.Code
				field             string
			}{
				{"no reason", "admin", "", errs.Invalid, "reason"},
				{"by quality", "qa", "why", errs.Forbidden, ""},
				{"by the operator", "operator", "why", errs.Forbidden, ""},
			} {
				before := adminCounts(t, db)
				_, err := adm.Unassign(f.ctx(tt.who), asg.ID, tt.reason)
				wantErr(t, err, tt.code, tt.field)
				adminUnchanged(t, db, before)
			}
			seq := lastSeqAll(t, db)
			got, err := adm.Unassign(f.ctx("admin"), asg.ID, "Alpha launch over")
			must(t, err)
			if got.AccountID != op.ID || got.ClientID != f.alpha.ID {
				t.Errorf("withdrawn %+v", got)
			}
			wantFields(t, trail(t, db, "account", op.ID, seq), "account.unassign assigned_client "+f.alpha.ID+"→ [Alpha launch over] client="+f.alpha.ID)
			before := adminCounts(t, db)
			_, err = adm.Unassign(f.ctx("admin"), asg.ID, "again")
			wantErr(t, err, errs.NotFound, "")
			adminUnchanged(t, db, before)
		})

		t.Run("the client's own users see the grant and its withdrawal", func(t *testing.T) {
			es, err := db.Audit().Entries(f.ctx("user-alpha"), audit.Filter{Entity: "account", EntityID: op.ID})
			must(t, err)
			var cmds []string
			for _, e := range es {
				cmds = append(cmds, e.Command)
			}
			if !sameStrings(cmds, []string{"account.assign", "account.unassign"}) {
				t.Errorf("Alpha's user sees %v of the operator's trail, want the assignment and its withdrawal", cmds)
			}
			es, err = db.Audit().Entries(f.ctx("user-beta"), audit.Filter{Entity: "account", EntityID: op.ID})
			must(t, err)
			if len(es) != 0 {
				t.Errorf("Beta's user sees %d entries of an assignment to Alpha", len(es))
			}
		})
	})
}

func sameStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
