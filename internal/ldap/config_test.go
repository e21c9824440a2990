package ldap

import (
	"fmt"
	"reflect"
	"strings"
	"testing"

	goldap "github.com/go-ldap/ldap/v3"

	"galenix/internal/identity"
)

func TestNewRefusesBadConfig(t *testing.T) {
	good := Config{URL: "ldap://dc.example.com", UserBase: "ou=people,dc=example,dc=com", GroupRoles: "galenix-qa=qa"}
	if _, err := New(good, nil); err != nil {
		t.Fatalf("a good configuration is refused: %v", err)
	}
	tests := []struct {
		name   string
		change func(c *Config)
		want   string
	}{
		{"no scheme", func(c *Config) { c.URL = "dc.example.com" }, "ldap://"},
		{"http", func(c *Config) { c.URL = "http://dc.example.com" }, "ldap://"},
		{"StartTLS on ldaps", func(c *Config) { c.URL = "ldaps://dc.example.com"; c.StartTLS = true }, "StartTLS"},
		{"no user base", func(c *Config) { c.UserBase = "" }, "user base"},
		{"bind DN without password", func(c *Config) { c.BindDN = "cn=svc,dc=example,dc=com" }, "password"},
		{"user filter without %s", func(c *Config) { c.UserFilter = "(uid=alice)" }, "%s"},
		{"group filter twice %s", func(c *Config) { c.GroupFilter = "(|(member=%s)(uniqueMember=%s))" }, "%s"},
		{"broken filter", func(c *Config) { c.UserFilter = "(&(uid=%s)" }, "user filter"},
		{"no mapping", func(c *Config) { c.GroupRoles = " ; " }, "mapping"},
		{"unknown role", func(c *Config) { c.GroupRoles = "galenix-qa=quality" }, "unknown role"},
		{"client role", func(c *Config) { c.GroupRoles = "lab-alpha=client_user" }, "client laboratory"},
		{"no role", func(c *Config) { c.GroupRoles = "galenix-qa=" }, "GROUP=ROLE"},
		{"no group", func(c *Config) { c.GroupRoles = "=qa" }, "GROUP=ROLE"},
		{"missing CA file", func(c *Config) { c.CAFile = "/nonexistent/ca.pem" }, "CA file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := good
			tt.change(&c)
			_, err := New(c, nil)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got %v, want an error about %q", err, tt.want)
			}
		})
	}
}

func TestParseGroupRoles(t *testing.T) {
	got, err := parseGroupRoles("cn=galenix-qa,ou=groups,dc=example,dc=com=qa ; Galenix-Admins=admin,qa,admin;")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 {
		t.Fatalf("got %d entries, want 2", len(got))
	}
	if got[0].dn == nil || got[0].dn.String() != "cn=galenix-qa,ou=groups,dc=example,dc=com" || !reflect.DeepEqual(got[0].roles, []identity.Role{identity.RoleQA}) {
		t.Errorf("first entry: %+v", got[0])
	}
	if got[1].dn != nil || got[1].name != "galenix-admins" || !reflect.DeepEqual(got[1].roles, []identity.Role{identity.RoleAdmin, identity.RoleQA}) {
		t.Errorf("second entry: %+v", got[1])
	}
	dn := func(s string) *goldap.DN {
		d, err := goldap.ParseDN(s)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	for _, tt := range []struct {
		group string
		entry int
		want  bool
	}{
		{"CN=Galenix-QA,OU=Groups,DC=example,DC=com", 0, true},
		{"cn=galenix-qa,ou=other,dc=example,dc=com", 0, false},
		{"cn=galenix-admins,ou=anywhere,dc=example,dc=com", 1, true},
		{"cn=galenix-admins-old,ou=groups,dc=example,dc=com", 1, false},
	} {
		if m := got[tt.entry].matches(dn(tt.group)); m != tt.want {
			t.Errorf("entry %d matches %s: got %v, want %v", tt.entry, tt.group, m, tt.want)
		}
	}
}

// TestSecretNeverPrinted: a configuration printed or logged whole does not
// show the service account's password.
func TestSecretNeverPrinted(t *testing.T) {
	c := Config{URL: "ldap://dc", BindDN: "cn=svc", BindPassword: "s3cret-pa55"}
	for _, f := range []string{"%v", "%+v", "%#v", "%s"} {
		if out := fmt.Sprintf(f, c); strings.Contains(out, "s3cret") {
			t.Errorf("%s prints the password: %s", f, out)
		}
	}
}
