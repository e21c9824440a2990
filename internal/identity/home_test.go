package identity

import "testing"

// TestHomeRole: a person with one role lands on that role's home; with
// several, on the first of HomeOrder they hold, whatever the order of their
// roles; without a role, nowhere in particular. Every role has its place in
// the order.
func TestHomeRole(t *testing.T) {
	for _, tc := range []struct {
		roles []Role
		want  Role
	}{
		{[]Role{RoleOperator}, RoleOperator},
		{[]Role{RoleAdmin}, RoleAdmin},
		{[]Role{RoleClientUser}, RoleClientUser},
		{[]Role{RoleQA, RoleQP}, RoleQP},
		{[]Role{RoleQP, RoleQA}, RoleQP},
		{[]Role{RoleOperator, RoleSupervisor}, RoleSupervisor},
		{[]Role{RoleAdmin, RoleSecurity}, RoleSecurity},
		{[]Role{RoleAdmin, RoleLab}, RoleLab},
		{[]Role{RoleMaintenance, RoleOperator}, RoleOperator},
		{nil, ""},
	} {
		if got := (Actor{Roles: tc.roles}).HomeRole(); got != tc.want {
			t.Errorf("roles %v: home role %q, want %q", tc.roles, got, tc.want)
		}
	}
	if got := System.HomeRole(); got != "" {
		t.Errorf("galenix itself has the home role %q", got)
	}
	for _, r := range Roles {
		found := false
		for _, h := range HomeOrder {
			found = found || h == r
		}
		if !found {
			t.Errorf("the role %s has no place in HomeOrder", r)
		}
	}
	if len(HomeOrder) != len(Roles) {
		t.Errorf("HomeOrder has %d roles, want the %d roles once each", len(HomeOrder), len(Roles))
	}
}
