package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"galenix/internal/testldap"
)

// TestServeLDAP configures directory sign-in by flags, then by environment
// variables alone, and signs a person of the directory in through the API.
func TestServeLDAP(t *testing.T) {
	dir := testldap.Start(t)
	alice := dir.AddUser(t, "alice", "Alice Martin", "Sarbacane-Thermostat-42")
	dir.AddGroup(t, "galenix-supervisors", alice)
	roles := "cn=galenix-supervisors," + testldap.GroupBase + "=supervisor"
	pwFile := filepath.Join(t.TempDir(), "bind-password")
	if err := os.WriteFile(pwFile, []byte(dir.BindPassword+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}

	for _, c := range []struct {
		name string
		env  []string
		args []string
	}{
		{"flags", nil, []string{"--ldap-url", dir.LDAPS, "--ldap-ca-file", dir.CAFile, "--ldap-bind-dn", testldap.BindDN,
			"--ldap-bind-password-file", pwFile, "--ldap-user-base", testldap.UserBase, "--ldap-group-roles", roles}},
		{"environment", []string{"GALENIX_LDAP_URL=" + dir.URL, "GALENIX_LDAP_STARTTLS=1", "GALENIX_LDAP_CA_FILE=" + dir.CAFile,
			"GALENIX_LDAP_BIND_DN=" + testldap.BindDN, "GALENIX_LDAP_BIND_PASSWORD=" + dir.BindPassword,
			"GALENIX_LDAP_USER_BASE=" + testldap.UserBase, "GALENIX_LDAP_GROUP_BASE=" + testldap.GroupBase,
			"GALENIX_LDAP_GROUP_ROLES=" + roles}, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := startServerEnv(t, t.TempDir(), c.env, c.args...)
			s.waitReady(t)
			if code, tok := s.login(t, "alice", "Sarbacane-Thermostat-42"); code != 200 || tok == "" {
				t.Errorf("alice: login answered %d; log:\n%s", code, s.logText())
			}
			if code, _ := s.login(t, "alice", "Sarbacane-Thermostat-43"); code != 401 {
				t.Errorf("alice, wrong password: %d", code)
			}
			said := s.logSays("LDAP sign-in on")
			log := s.logText()
			if !said || strings.Contains(log, dir.BindPassword) || strings.Contains(log, "not reachable") {
				t.Errorf("log:\n%s", log)
			}
		})
	}
}
