package ldap

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	goldap "github.com/go-ldap/ldap/v3"

	"galenix/internal/errs"
	"galenix/internal/identity"
)

// Directory signs people in against an LDAP directory. It keeps no
// connection open: each sign-in dials, searches, binds and hangs up.
type Directory struct {
	cfg    Config
	tls    *tls.Config
	groups []groupRole
	log    *slog.Logger
}

var _ identity.Directory = (*Directory)(nil)

// New checks the configuration and returns the directory. It does not
// connect yet: Check does.
func New(cfg Config, log *slog.Logger) (*Directory, error) {
	if err := cfg.check(); err != nil {
		return nil, err
	}
	groups, err := parseGroupRoles(cfg.GroupRoles)
	if err != nil {
		return nil, fmt.Errorf("LDAP: %w", err)
	}
	u, _ := url.Parse(cfg.URL)
	tc, err := cfg.tlsConfig(u.Hostname())
	if err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Directory{cfg: cfg, tls: tc, groups: groups, log: log}, nil
}

// Encrypted reports whether passwords travel to the directory over TLS.
func (d *Directory) Encrypted() bool {
	return d.cfg.StartTLS || strings.HasPrefix(d.cfg.URL, "ldaps:")
}

// errRefused is the answer to every refused sign-in, whatever the reason:
// it must not tell a wrong password from an unknown user.
func errRefused() error {
	return errs.E(errs.Unauthorized, "ldap.wrong_username_password")
}

// Authenticate checks the credentials against the directory: it searches
// the person with the service account, reads their groups, then binds as
// them with the password. A person none of whose groups maps to a role is
// refused like a wrong password.
func (d *Directory) Authenticate(ctx context.Context, username, password string) (*identity.DirectoryUser, error) {
	username = strings.TrimSpace(username)
	// An empty password would make an unauthenticated bind, which
	// directories answer with success (RFC 4513 §5.1.2): never send one.
	if password == "" || !plausibleUsername(username) {
		return nil, errRefused()
	}
	s, err := d.connect(ctx)
	if err != nil {
		return nil, err
	}
	defer s.Close()

	entry, err := d.findUser(s, username)
	if err != nil {
		return nil, err
	}
	groups, err := d.groupsOf(s, entry)
	if err != nil {
		return nil, err
	}
	if err := s.conn.Bind(entry.DN, password); err != nil {
		if goldap.IsErrorWithCode(err, goldap.LDAPResultInvalidCredentials) {
			d.log.Info("directory sign-in refused: wrong password", "username", username)
			return nil, errRefused()
		}
		return nil, s.failure(err, "bind as the person")
	}
	roles := d.roles(groups)
	if len(roles) == 0 {
		d.log.Info("directory sign-in refused: none of the person's groups maps to a galenix role", "username", username, "groups", len(groups))
		return nil, errRefused()
	}
	u := &identity.DirectoryUser{Username: username, Roles: roles}
	if v := entry.GetEqualFoldAttributeValue(d.cfg.UserAttr); v != "" {
		// The directory's spelling names the account, so that "Alice"
		// and "alice" are one account, as they are one person there.
		u.Username = v
	}
	u.Name = firstOf(entry.GetEqualFoldAttributeValue("displayName"), entry.GetEqualFoldAttributeValue("cn"), u.Username)
	return u, nil
}

// Check connects and binds with the service account: it tells at start
// whether the directory can be reached.
func (d *Directory) Check(ctx context.Context) error {
	s, err := d.connect(ctx)
	if err != nil {
		return err
	}
	s.Close()
	return nil
}

// session is one connection to the directory, bound as the service
// account. Cancelling its context closes the connection, which ends any
// operation under way.
type session struct {
	conn *goldap.Conn
	ctx  context.Context
	stop func()
}

// Close hangs up.
func (s *session) Close() {
	s.stop()
	s.conn.Close()
}

// connect dials the directory, upgrades to TLS if asked, and binds as the
// service account.
func (d *Directory) connect(ctx context.Context) (*session, error) {
	if err := ctx.Err(); err != nil {
		return nil, errs.Wrap(err, "ldap")
	}
	dialer := &net.Dialer{Timeout: d.cfg.Timeout}
	conn, err := goldap.DialURL(d.cfg.URL, goldap.DialWithDialer(dialer), goldap.DialWithTLSConfig(d.tls))
	if err != nil {
		return nil, errs.Wrap(err, "ldap: connect to "+d.cfg.URL)
	}
	conn.SetTimeout(d.cfg.Timeout)
	// A stuck directory must not hold a sign-in longer than the request
	// allows: the whole exchange ends with ctx or after a few timeouts.
	// (StartTLS waits for its answer without a timeout of its own.)
	opCtx, cancel := context.WithTimeout(ctx, 4*d.cfg.Timeout)
	closeOnDone := context.AfterFunc(opCtx, func() { conn.Close() })
	s := &session{conn: conn, ctx: opCtx, stop: func() { closeOnDone(); cancel() }}
	if d.cfg.StartTLS {
		if err := conn.StartTLS(d.tls); err != nil {
			defer s.Close()
			return nil, s.failure(err, "StartTLS")
		}
	}
	if d.cfg.BindDN != "" {
		if err := conn.Bind(d.cfg.BindDN, string(d.cfg.BindPassword)); err != nil {
			defer s.Close()
			return nil, s.failure(err, "bind as the service account "+d.cfg.BindDN)
		}
	}
	return s, nil
}

// failure turns an error of the directory into an internal error, logged by
// the caller, that never carries a password.
func (s *session) failure(err error, what string) error {
	if s.ctx.Err() != nil {
		err = fmt.Errorf("%w (%v)", err, context.Cause(s.ctx))
	}
	return errs.Wrap(err, "ldap: "+what)
}

// findUser searches the one entry of the username.
func (d *Directory) findUser(s *session, username string) (*goldap.Entry, error) {
	filter := strings.ReplaceAll(d.cfg.UserFilter, "%s", goldap.EscapeFilter(username))
	req := goldap.NewSearchRequest(d.cfg.UserBase, goldap.ScopeWholeSubtree, goldap.NeverDerefAliases,
		2, d.timeLimit(), false, filter, []string{d.cfg.UserAttr, "cn", "displayName", "memberOf"}, nil)
	res, err := s.conn.Search(req)
	several := err != nil && (errors.Is(err, goldap.ErrSizeLimitExceeded) || goldap.IsErrorWithCode(err, goldap.LDAPResultSizeLimitExceeded))
	switch {
	case several || (err == nil && len(res.Entries) > 1):
		return nil, errs.Wrap(errors.New("the user filter finds several entries for one username: make it find one person"), "ldap: search the person")
	case goldap.IsErrorWithCode(err, goldap.LDAPResultNoSuchObject):
		return nil, errs.Wrap(fmt.Errorf("the user base %q does not exist", d.cfg.UserBase), "ldap: search the person")
	case err != nil:
		return nil, s.failure(err, "search the person")
	case len(res.Entries) == 0:
		// No username here: people type their password there by mistake.
		d.log.Info("directory sign-in refused: no such person in the directory")
		return nil, errRefused()
	}
	return res.Entries[0], nil
}

// groupsOf returns the DNs of the groups the person belongs to: their
// memberOf values and, when a group base is set, the groups found there.
func (d *Directory) groupsOf(s *session, entry *goldap.Entry) ([]*goldap.DN, error) {
	var out []*goldap.DN
	add := func(s string) {
		if dn, err := goldap.ParseDN(s); err == nil && len(dn.RDNs) > 0 {
			out = append(out, dn)
		}
	}
	for _, g := range entry.GetEqualFoldAttributeValues("memberOf") {
		add(g)
	}
	if d.cfg.GroupBase == "" {
		return out, nil
	}
	filter := strings.ReplaceAll(d.cfg.GroupFilter, "%s", goldap.EscapeFilter(entry.DN))
	req := goldap.NewSearchRequest(d.cfg.GroupBase, goldap.ScopeWholeSubtree, goldap.NeverDerefAliases,
		0, d.timeLimit(), false, filter, []string{"1.1"}, nil)
	res, err := s.conn.Search(req)
	if err != nil {
		return nil, s.failure(err, "search the person's groups")
	}
	for _, e := range res.Entries {
		add(e.DN)
	}
	return out, nil
}

// roles returns the roles the groups map to, in the order of identity.Roles.
func (d *Directory) roles(groups []*goldap.DN) []identity.Role {
	var got []identity.Role
	for _, g := range d.groups {
		for _, dn := range groups {
			if g.matches(dn) {
				got = append(got, g.roles...)
				break
			}
		}
	}
	var out []identity.Role
	for _, r := range identity.Roles {
		if slices.Contains(got, r) {
			out = append(out, r)
		}
	}
	return out
}

// timeLimit is the directory's own limit on a search, in whole seconds.
func (d *Directory) timeLimit() int {
	return max(1, int(d.cfg.Timeout.Seconds()))
}

// plausibleUsername refuses, before any request, what no account may be
// named: nothing, more than 64 characters, control characters.
func plausibleUsername(s string) bool {
	if s == "" || !utf8.ValidString(s) || utf8.RuneCountInString(s) > 64 {
		return false
	}
	return !strings.ContainsFunc(s, unicode.IsControl)
}

func firstOf(vals ...string) string {
	for _, v := range vals {
		if v = strings.TrimSpace(v); v != "" {
			return v
		}
	}
	return ""
}
