package ldap_test

import (
	"bytes"
	"context"
	"log/slog"
	"net"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"galenix/internal/errs"
	"galenix/internal/identity"
	"galenix/internal/ldap"
	"galenix/internal/testldap"
)

// The people of the test directory.
const (
	alicePassword = "Sarbacane-Thermostat-42"
	bobPassword   = "Pelican-Vanille-7"
	carolPassword = "Gravier-Boussole-19"
)

// mapping maps one group by DN and one by name alone.
var mapping = "cn=galenix-qa," + testldap.GroupBase + "=qa;galenix-operators=operator"

// directory is slapd seeded with alice (in galenix-qa and galenix-operators),
// bob (in canteen only, which maps to nothing) and carol (in no group).
func directory(t *testing.T) *testldap.Server {
	t.Helper()
	s := testldap.Start(t)
	alice := s.AddUser(t, "alice", "Alice Martin", alicePassword)
	bob := s.AddUser(t, "bob", "Bob Petit", bobPassword)
	s.AddUser(t, "carol", "Carol Roux", carolPassword)
	s.AddGroup(t, "galenix-qa", alice)
	s.AddGroup(t, "galenix-operators", alice)
	s.AddGroup(t, "canteen", bob)
	return s
}

// config is the configuration of the directory of s, searching groups.
func config(s *testldap.Server) ldap.Config {
	return ldap.Config{
		URL: s.URL, BindDN: testldap.BindDN, BindPassword: ldap.Secret(s.BindPassword),
		UserBase: testldap.UserBase, GroupBase: testldap.GroupBase, GroupRoles: mapping,
		Timeout: 5 * time.Second,
	}
}

// logBuffer collects a logger's output.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func newDirectory(t *testing.T, cfg ldap.Config, log *slog.Logger) *ldap.Directory {
	t.Helper()
	d, err := ldap.New(cfg, log)
	if err != nil {
		t.Fatalf("ldap.New: %v", err)
	}
	return d
}

// wantRefused checks the error is the refusal of a wrong password, word
// for word.
func wantRefused(t *testing.T, err error) {
	t.Helper()
	if errs.CodeOf(err) != errs.Unauthorized {
		t.Fatalf("got %v, want unauthorized", err)
	}
	if en, fr := errs.MessageOf(err, "en"), errs.MessageOf(err, "fr"); en != "Wrong username or password." || fr != "Identifiant ou mot de passe incorrect." {
		t.Errorf("messages %q / %q tell more than a wrong password", en, fr)
	}
}

func TestAuthenticate(t *testing.T) {
	s := directory(t)
	var logs logBuffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	ctx := context.Background()
	alice := &identity.DirectoryUser{Username: "alice", Name: "Alice Martin", Roles: []identity.Role{identity.RoleOperator, identity.RoleQA}}

	memberOf := config(s)
	memberOf.GroupBase = "" // the memberof overlay's attribute alone
	ldaps := config(s)
	ldaps.URL, ldaps.CAFile = s.LDAPS, s.CAFile
	startTLS := config(s)
	startTLS.StartTLS, startTLS.CAFile = true, s.CAFile
	for name, cfg := range map[string]ldap.Config{"group search": config(s), "memberOf": memberOf, "ldaps": ldaps, "StartTLS": startTLS} {
		t.Run(name, func(t *testing.T) {
			d := newDirectory(t, cfg, log)
			if err := d.Check(ctx); err != nil {
				t.Fatalf("check: %v", err)
			}
			got, err := d.Authenticate(ctx, "alice", alicePassword)
			if err != nil {
				t.Fatalf("alice: %v", err)
			}
			if !reflect.DeepEqual(got, alice) {
				t.Errorf("alice:\n got %+v\nwant %+v", got, alice)
			}
			if got, want := d.Encrypted(), name == "ldaps" || name == "StartTLS"; got != want {
				t.Errorf("Encrypted: got %v, want %v", got, want)
			}
		})
	}

	d := newDirectory(t, config(s), log)
	t.Run("the directory's spelling of the username", func(t *testing.T) {
		got, err := d.Authenticate(ctx, " ALICE ", alicePassword)
		if err != nil {
			t.Fatal(err)
		}
		if got.Username != "alice" {
			t.Errorf("username: got %q, want the directory's %q", got.Username, "alice")
		}
	})

	t.Run("refused", func(t *testing.T) {
		for _, c := range []struct{ name, user, password string }{
			{"wrong password", "alice", "Sarbacane-Thermostat-43"},
			{"password of another", "alice", bobPassword},
			{"unknown user", "zoe", alicePassword},
			{"empty password", "alice", ""},
			{"blank password", "alice", " "},
			{"empty username", "", alicePassword},
			{"no mapped group", "bob", bobPassword},
			{"no group at all", "carol", carolPassword},
			// Filter injection: escaped, these are usernames no one has.
			{"injection *)(uid=*", "*)(uid=*", alicePassword},
			{"injection *", "*", alicePassword},
			{"injection alice*", "ali*", alicePassword},
			{"injection or", "alice)(|(uid=*", alicePassword},
			{"injection NUL", "alice\x00", alicePassword},
			{"injection backslash", `alice\2a`, alicePassword},
			{"too long", strings.Repeat("a", 65), alicePassword},
		} {
			t.Run(c.name, func(t *testing.T) {
				u, err := d.Authenticate(ctx, c.user, c.password)
				if u != nil {
					t.Errorf("signed in as %+v", u)
				}
				wantRefused(t, err)
			})
		}
	})

	t.Run("groups change in the directory", func(t *testing.T) {
		s.SetMembers(t, testldap.GroupDN("galenix-operators"))
		got, err := d.Authenticate(ctx, "alice", alicePassword)
		if err != nil {
			t.Fatal(err)
		}
		if want := []identity.Role{identity.RoleQA}; !reflect.DeepEqual(got.Roles, want) {
			t.Errorf("roles after leaving galenix-operators: got %v, want %v", got.Roles, want)
		}
		s.SetMembers(t, testldap.GroupDN("galenix-qa"))
		_, err = d.Authenticate(ctx, "alice", alicePassword)
		wantRefused(t, err)
	})

	for _, secret := range []string{alicePassword, bobPassword, carolPassword, s.BindPassword} {
		if strings.Contains(logs.String(), secret) {
			t.Errorf("the log carries a password:\n%s", logs.String())
		}
	}
	if !strings.Contains(logs.String(), "none of the person's groups maps") {
		t.Errorf("the log does not say why bob was refused:\n%s", logs.String())
	}
}

// TestDirectoryFailures: a directory that cannot be reached, a wrong service
// password or an untrusted certificate are internal errors (logged, and
// answered in general words), never a sign-in; and a directory that does
// not answer does not hold the sign-in past the timeout.
func TestDirectoryFailures(t *testing.T) {
	s := directory(t)
	ctx := context.Background()

	silent, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	go func() {
		for {
			c, err := silent.Accept()
			if err != nil {
				return
			}
			defer c.Close() // accepted, never answered
		}
	}()
	closed, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closedURL := "ldap://" + closed.Addr().String()
	closed.Close()

	tests := map[string]func(c *ldap.Config){
		"nothing listens":          func(c *ldap.Config) { c.URL = closedURL },
		"wrong service password":   func(c *ldap.Config) { c.BindPassword = "wrong" },
		"untrusted certificate":    func(c *ldap.Config) { c.URL = s.LDAPS },
		"StartTLS, untrusted":      func(c *ldap.Config) { c.StartTLS = true },
		"silent directory":         func(c *ldap.Config) { c.URL = "ldap://" + silent.Addr().String() },
		"user base does not exist": func(c *ldap.Config) { c.UserBase = "ou=nobody," + testldap.Suffix },
		"filter finds several":     func(c *ldap.Config) { c.UserFilter = "(|(uid=%s)(objectClass=inetOrgPerson))" },
	}
	for name, change := range tests {
		t.Run(name, func(t *testing.T) {
			cfg := config(s)
			cfg.Timeout = 500 * time.Millisecond
			change(&cfg)
			d := newDirectory(t, cfg, nil)
			start := time.Now()
			u, err := d.Authenticate(ctx, "alice", alicePassword)
			if u != nil || errs.CodeOf(err) != errs.Internal {
				t.Errorf("got %+v, %v; want an internal error", u, err)
			}
			if took := time.Since(start); took > 5*time.Second {
				t.Errorf("took %v, beyond the timeout", took)
			}
			if strings.Contains(err.Error(), alicePassword) || strings.Contains(err.Error(), s.BindPassword) {
				t.Errorf("the error carries a password: %v", err)
			}
			if name != "filter finds several" && name != "user base does not exist" {
				if err := d.Check(ctx); err == nil {
					t.Error("Check passes")
				}
			}
		})
	}

	t.Run("cancelled", func(t *testing.T) {
		cfg := config(s)
		cfg.URL = "ldap://" + silent.Addr().String()
		d := newDirectory(t, cfg, nil)
		ctx, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
		defer cancel()
		start := time.Now()
		if _, err := d.Authenticate(ctx, "alice", alicePassword); errs.CodeOf(err) != errs.Internal {
			t.Errorf("got %v, want an internal error", err)
		}
		if took := time.Since(start); took > 2*time.Second {
			t.Errorf("a cancelled sign-in took %v", took)
		}
	})
}
