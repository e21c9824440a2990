package identity

import (
	"slices"
	"testing"
	"time"

	"galenix/internal/errs"
)

var (
	admin   = Actor{UserID: "a1", Roles: []Role{RoleAdmin}}
	qa      = Actor{UserID: "q1", Roles: []Role{RoleQA}}
	op      = Actor{UserID: "o1", Roles: []Role{RoleOperator}}
	manager = Actor{UserID: "m1", Roles: []Role{RoleClientManager}, ClientID: "alpha"}
	cuser   = Actor{UserID: "u1", Roles: []Role{RoleClientUser}, ClientID: "alpha"}
)

func TestAccountSight(t *testing.T) {
	staff := &Account{ID: "s"}
	ofAlpha := &Account{ID: "x", ClientID: "alpha"}
	ofBeta := &Account{ID: "y", ClientID: "beta"}
	for _, tt := range []struct {
		name    string
		a       Actor
		forbid  bool
		sees    []*Account
		notSees []*Account
	}{
		{"administrator", admin, false, []*Account{staff, ofAlpha, ofBeta}, nil},
		{"quality", qa, false, []*Account{staff, ofAlpha, ofBeta}, nil},
		{"client manager", manager, false, []*Account{ofAlpha}, []*Account{staff, ofBeta}},
		{"operator", op, true, nil, nil},
		{"client user", cuser, true, nil, nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s, err := tt.a.AccountSight()
			if tt.forbid {
				if errs.CodeOf(err) != errs.Forbidden {
					t.Fatalf("got %v, want forbidden", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			for _, a := range tt.sees {
				if !s.Sees(a) {
					t.Errorf("does not see %+v", a)
				}
			}
			for _, a := range tt.notSees {
				if s.Sees(a) {
					t.Errorf("sees %+v", a)
				}
			}
		})
	}
}

func TestAccountRules(t *testing.T) {
	userOfAlpha := &Account{ID: "x", ClientID: "alpha", Roles: []Role{RoleClientUser}, Active: true}
	managerOfAlpha := &Account{ID: "z", ClientID: "alpha", Roles: []Role{RoleClientManager}, Active: true}
	userOfBeta := &Account{ID: "y", ClientID: "beta", Roles: []Role{RoleClientUser}, Active: true}
	staff := &Account{ID: "s", Roles: []Role{RoleOperator}, Active: true}
	self := &Account{ID: admin.UserID, Roles: []Role{RoleAdmin, RoleQA}, Active: true}

	t.Run("new accounts", func(t *testing.T) {
		for _, tt := range []struct {
			name string
			a    Actor
			acc  *Account
			ok   bool
		}{
			{"admin, staff", admin, staff, true},
			{"admin, client user", admin, userOfBeta, true},
			{"manager, own user", manager, &Account{ClientID: "alpha", Roles: []Role{RoleClientUser}}, true},
			{"manager, other client's user", manager, &Account{ClientID: "beta", Roles: []Role{RoleClientUser}}, false},
			{"manager, another manager", manager, &Account{ClientID: "alpha", Roles: []Role{RoleClientManager}}, false},
			{"manager, staff", manager, &Account{Roles: []Role{RoleAdmin}}, false},
			{"quality", qa, staff, false},
			{"client user", cuser, &Account{ClientID: "alpha", Roles: []Role{RoleClientUser}}, false},
		} {
			if err := tt.a.CheckNewAccount(tt.acc); (err == nil) != tt.ok || (err != nil && errs.CodeOf(err) != errs.Forbidden) {
				t.Errorf("%s: got %v, want ok %v", tt.name, err, tt.ok)
			}
		}
	})

	t.Run("changes", func(t *testing.T) {
		noAdmin := *self
		noAdmin.Roles = []Role{RoleQA}
		inactive := *self
		inactive.Active = false
		renamed := *self
		renamed.Name = "Renamed"
		for _, tt := range []struct {
			name     string
			a        Actor
			old, new *Account
			ok       bool
		}{
			{"admin renames themselves", admin, self, &renamed, true},
			{"admin drops their own admin role", admin, self, &noAdmin, false},
			{"admin withdraws themselves", admin, self, &inactive, false},
			{"admin changes another", admin, staff, &Account{ID: "s", Roles: []Role{RoleQA}}, true},
			{"quality changes another", qa, staff, &Account{ID: "s", Roles: []Role{RoleQA}}, false},
			{"manager changes own user", manager, userOfAlpha, userOfAlpha, false},
		} {
			if err := tt.a.CheckAccountChange(tt.old, tt.new); (err == nil) != tt.ok || (err != nil && errs.CodeOf(err) != errs.Forbidden) {
				t.Errorf("%s: got %v, want ok %v", tt.name, err, tt.ok)
			}
		}
	})

	t.Run("withdrawals", func(t *testing.T) {
		for _, tt := range []struct {
			name   string
			a      Actor
			target *Account
			ok     bool
		}{
			{"admin, staff", admin, staff, true},
			{"admin, client user", admin, userOfBeta, true},
			{"admin, themselves", admin, self, false},
			{"manager, own user", manager, userOfAlpha, true},
			{"manager, own laboratory's manager", manager, managerOfAlpha, false},
			{"manager, themselves", manager, &Account{ID: manager.UserID, ClientID: "alpha", Roles: []Role{RoleClientManager}}, false},
			{"manager, other client's user", manager, userOfBeta, false},
			{"manager, staff", manager, staff, false},
			{"quality", qa, staff, false},
			{"client user", cuser, userOfAlpha, false},
		} {
			if err := tt.a.CheckWithdraw(tt.target); (err == nil) != tt.ok || (err != nil && errs.CodeOf(err) != errs.Forbidden) {
				t.Errorf("%s: got %v, want ok %v", tt.name, err, tt.ok)
			}
		}
	})

	t.Run("who manages at all", func(t *testing.T) {
		for a, ok := range map[*Actor]bool{&admin: true, &manager: true, &qa: false, &op: false, &cuser: false} {
			if err := a.MayManageAccounts(); (err == nil) != ok {
				t.Errorf("%v: got %v, want ok %v", a.Roles, err, ok)
			}
		}
	})
}

func TestTokenValidate(t *testing.T) {
	now := time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)
	ok := Token{Name: " gateway B30 ", Scopes: []TokenScope{ScopeSiteRead, ScopeTelemetryWrite}, ExpiresAt: now.Add(time.Hour)}
	if err := ok.Validate(now); err != nil || ok.Name != "gateway B30" {
		t.Fatalf("valid token refused: %v (name %q)", err, ok.Name)
	}
	for _, tt := range []struct {
		name  string
		tok   Token
		field string
	}{
		{"no name", Token{Scopes: []TokenScope{ScopeSiteRead}}, "name"},
		{"no scope", Token{Name: "x"}, "scopes"},
		{"unknown scope", Token{Name: "x", Scopes: []TokenScope{"admin:all"}}, "scopes"},
		{"scope twice", Token{Name: "x", Scopes: []TokenScope{ScopeSiteRead, ScopeSiteRead}}, "scopes"},
		{"expired already", Token{Name: "x", Scopes: []TokenScope{ScopeSiteRead}, ExpiresAt: now}, "expires_at"},
	} {
		err := tt.tok.Validate(now)
		if errs.CodeOf(err) != errs.Invalid || errs.FieldOf(err) != tt.field {
			t.Errorf("%s: got %v, want invalid %s", tt.name, err, tt.field)
		}
	}
}

func TestTokenLiveAndActor(t *testing.T) {
	now := time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)
	tok := Token{ID: "t1", Name: "reader", Scopes: []TokenScope{ScopeAccessWrite}}
	if !tok.Live(now) {
		t.Error("a token without expiry or revocation does not work")
	}
	if exp := (Token{ExpiresAt: now}); exp.Live(now) {
		t.Error("a token works at its expiry")
	}
	if rev := (Token{RevokedAt: now.Add(-time.Second)}); rev.Live(now) {
		t.Error("a revoked token works")
	}
	a := tok.MachineActor()
	if a.UserID != "token:t1" || a.Name != "reader" || !a.IsMachine() || len(a.Roles) != 0 || !a.HasScope(ScopeAccessWrite) || a.HasScope(ScopeSiteRead) {
		t.Errorf("machine actor %+v", a)
	}
	if a.Can(PermSiteView) || a.Can(PermAccountsView) {
		t.Error("a machine holds a role's permission")
	}
	if got := ParseScopes(ScopesText(TokenScopes)); !slices.Equal(got, TokenScopes) {
		t.Errorf("scopes round trip: %v", got)
	}
}
