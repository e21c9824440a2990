package testldap_test

import (
	"os"
	"path/filepath"
	"testing"

	goldap "github.com/go-ldap/ldap/v3"

	"galenix/internal/testldap"
)

// TestServer starts slapd, seeds a person and a group, and checks what the
// directory tests rely on: the person binds with their password, the
// memberof overlay fills memberOf, an anonymous client reads nothing, and
// stopping removes everything.
func TestServer(t *testing.T) {
	var dir string
	t.Run("running", func(t *testing.T) {
		s := testldap.Start(t)
		dir = filepath.Dir(s.CAFile)
		dn := s.AddUser(t, "marie", "Marie Curie", "radium-1898")
		group := s.AddGroup(t, "chemists", dn)

		c, err := goldap.DialURL(s.URL)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		anon, err := c.Search(goldap.NewSearchRequest(testldap.UserBase, goldap.ScopeWholeSubtree, goldap.NeverDerefAliases,
			0, 0, false, "(uid=marie)", nil, nil))
		if err == nil && len(anon.Entries) > 0 {
			t.Error("an anonymous client reads people")
		}
		if err := c.Bind(dn, "wrong"); !goldap.IsErrorWithCode(err, goldap.LDAPResultInvalidCredentials) {
			t.Errorf("bind with a wrong password: %v, want invalid credentials", err)
		}
		if err := c.Bind(dn, "radium-1898"); err != nil {
			t.Fatalf("bind as the person: %v", err)
		}
		res, err := c.Search(goldap.NewSearchRequest(dn, goldap.ScopeBaseObject, goldap.NeverDerefAliases,
			0, 0, false, "(objectClass=*)", []string{"memberOf", "userPassword"}, nil))
		if err != nil || len(res.Entries) != 1 {
			t.Fatalf("read own entry: %v", err)
		}
		if got := res.Entries[0].GetAttributeValues("memberOf"); len(got) != 1 || got[0] != group {
			t.Errorf("memberOf: got %q, want [%s]", got, group)
		}
		if res.Entries[0].GetAttributeValue("userPassword") != "" {
			t.Error("a person reads their password back")
		}
	})
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("the server's directory %s is still there after the test", dir)
	}
}
