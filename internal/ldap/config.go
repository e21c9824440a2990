// Package ldap signs people in against the site's Active Directory or any
// LDAP directory: search-then-bind with a service account, group membership
// read from memberOf or from a group search, and groups mapped to galenix
// roles. It implements identity.Directory.
package ldap

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/url"
	"os"
	"slices"
	"strings"
	"time"

	goldap "github.com/go-ldap/ldap/v3"

	"galenix/internal/identity"
)

// Defaults for an OpenLDAP directory; Active Directory wants
// (&(objectClass=user)(sAMAccountName=%s)), sAMAccountName and
// (&(objectClass=group)(member=%s)).
const (
	DefaultUserFilter  = "(&(objectClass=inetOrgPerson)(uid=%s))"
	DefaultUserAttr    = "uid"
	DefaultGroupFilter = "(&(objectClass=groupOfNames)(member=%s))"
	DefaultTimeout     = 10 * time.Second
)

// Secret is a password from the configuration. It prints as a placeholder,
// so that a configuration written to a log never carries it.
type Secret string

func (Secret) String() string   { return "[hidden]" }
func (Secret) GoString() string { return "[hidden]" }

// MarshalText keeps the secret out of JSON and text encodings as well.
func (Secret) MarshalText() ([]byte, error) { return []byte("[hidden]"), nil }

// Config says how to reach the directory and how its groups map to roles.
// Sign-in against the directory is on when URL is set.
type Config struct {
	// URL is ldap://HOST[:PORT] or ldaps://HOST[:PORT].
	URL string
	// StartTLS upgrades an ldap:// connection to TLS before any bind.
	StartTLS bool
	// CAFile is a PEM file of the certificate authorities that sign the
	// directory's certificate; when empty, the system's are trusted.
	CAFile string
	// BindDN and BindPassword are the service account that searches the
	// directory. An empty BindDN searches anonymously.
	BindDN       string
	BindPassword Secret
	// UserBase is where people are searched; UserFilter finds one person,
	// with %s standing for the escaped username; UserAttr is the attribute
	// holding the username, whose value names the galenix account.
	UserBase   string
	UserFilter string
	UserAttr   string
	// GroupBase, when set, is where groups are searched with GroupFilter,
	// %s standing for the escaped DN of the person: needed where the
	// directory keeps no memberOf attribute (OpenLDAP without the memberof
	// overlay). memberOf is read in any case.
	GroupBase   string
	GroupFilter string
	// GroupRoles maps groups to roles: "GROUP=ROLE[,ROLE];GROUP=ROLE",
	// GROUP being a group's DN or its CN alone.
	GroupRoles string
	// Timeout bounds the connection and each operation.
	Timeout time.Duration
}

// groupRole is one entry of the group → role mapping.
type groupRole struct {
	dn    *goldap.DN // the group's DN, or nil when only its name is given
	name  string     // the group's CN, lower-cased, when no DN is given
	roles []identity.Role
}

// parseGroupRoles reads a group → role mapping:
// "cn=galenix-qa,ou=groups,dc=example,dc=com=qa;galenix-operators=operator".
// The role follows the last "=" of an entry; several roles are separated by
// commas. Client laboratories' roles cannot come from the site's directory:
// a client user belongs to a client, which a group does not say.
func parseGroupRoles(s string) ([]groupRole, error) {
	var out []groupRole
	for entry := range strings.SplitSeq(s, ";") {
		entry = strings.TrimSpace(entry)
		if entry == "" {
			continue
		}
		i := strings.LastIndex(entry, "=")
		if i <= 0 || i == len(entry)-1 {
			return nil, fmt.Errorf("group mapping %q: want GROUP=ROLE", entry)
		}
		group, roleList := strings.TrimSpace(entry[:i]), entry[i+1:]
		g := groupRole{}
		if strings.Contains(group, "=") {
			dn, err := goldap.ParseDN(group)
			if err != nil || len(dn.RDNs) == 0 {
				return nil, fmt.Errorf("group mapping %q: %q is not a DN", entry, group)
			}
			g.dn = dn
		} else {
			g.name = strings.ToLower(group)
		}
		for r := range strings.SplitSeq(roleList, ",") {
			role := identity.Role(strings.TrimSpace(r))
			switch {
			case !role.Valid():
				return nil, fmt.Errorf("group mapping %q: unknown role %q (roles: %s)", entry, role, staffRoles())
			case role.Client():
				return nil, fmt.Errorf("group mapping %q: the role %q belongs to a client laboratory's account and cannot come from the directory", entry, role)
			}
			if !slices.Contains(g.roles, role) {
				g.roles = append(g.roles, role)
			}
		}
		out = append(out, g)
	}
	if len(out) == 0 {
		return nil, errors.New("no group → role mapping: nobody could sign in; set it as GROUP=ROLE;GROUP=ROLE")
	}
	return out, nil
}

func staffRoles() string {
	var names []string
	for _, r := range identity.Roles {
		if !r.Client() {
			names = append(names, string(r))
		}
	}
	return strings.Join(names, ", ")
}

// matches reports whether the group of the DN is the mapping's.
func (g groupRole) matches(dn *goldap.DN) bool {
	if g.dn != nil {
		return g.dn.EqualFold(dn)
	}
	if len(dn.RDNs) == 0 || len(dn.RDNs[0].Attributes) == 0 {
		return false
	}
	return strings.ToLower(dn.RDNs[0].Attributes[0].Value) == g.name
}

// check fills the defaults and refuses a configuration that cannot work.
func (c *Config) check() error {
	if c.UserFilter == "" {
		c.UserFilter = DefaultUserFilter
	}
	if c.UserAttr == "" {
		c.UserAttr = DefaultUserAttr
	}
	if c.GroupFilter == "" {
		c.GroupFilter = DefaultGroupFilter
	}
	if c.Timeout <= 0 {
		c.Timeout = DefaultTimeout
	}
	u, err := url.Parse(c.URL)
	if err != nil || u.Host == "" || (u.Scheme != "ldap" && u.Scheme != "ldaps") {
		return fmt.Errorf("LDAP URL %q: want ldap://HOST[:PORT] or ldaps://HOST[:PORT]", c.URL)
	}
	if c.StartTLS && u.Scheme == "ldaps" {
		return errors.New("LDAP: StartTLS is for ldap:// URLs; an ldaps:// connection is encrypted already")
	}
	if c.UserBase == "" {
		return errors.New("LDAP: the user base DN is required (where people are searched)")
	}
	if c.BindDN != "" && c.BindPassword == "" {
		return errors.New("LDAP: the bind DN has no password (give a password file or GALENIX_LDAP_BIND_PASSWORD)")
	}
	for name, f := range map[string]string{"user filter": c.UserFilter, "group filter": c.GroupFilter} {
		if strings.Count(f, "%s") != 1 {
			return fmt.Errorf("LDAP %s %q: it needs exactly one %%s", name, f)
		}
		if _, err := goldap.CompileFilter(strings.ReplaceAll(f, "%s", "x")); err != nil {
			return fmt.Errorf("LDAP %s %q: %v", name, f, err)
		}
	}
	return nil
}

// tlsConfig returns the TLS configuration of connections to host.
func (c *Config) tlsConfig(host string) (*tls.Config, error) {
	tc := &tls.Config{ServerName: host, MinVersion: tls.VersionTLS12}
	if c.CAFile == "" {
		return tc, nil
	}
	pem, err := os.ReadFile(c.CAFile)
	if err != nil {
		return nil, fmt.Errorf("LDAP CA file: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("LDAP CA file %s: no PEM certificate in it", c.CAFile)
	}
	tc.RootCAs = pool
	return tc, nil
}
