// Package testldap starts a throwaway OpenLDAP server (Debian's slapd) on
// loopback for tests, with a service account, people and groups.
//
// Each Start runs its own slapd in a temporary directory, listening on
// ldap:// (with StartTLS) and ldaps://, its certificate signed by a CA made
// for it; the test's cleanup stops it and removes the directory.
package testldap

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	goldap "github.com/go-ldap/ldap/v3"
)

// Binary is where Debian installs slapd.
const Binary = "/usr/sbin/slapd"

const notInstalled = "slapd not installed (" + Binary + " not found): skipping; install the slapd package"

// The directory's layout.
const (
	Suffix    = "dc=galenix,dc=test"
	RootDN    = "cn=admin," + Suffix
	UserBase  = "ou=people," + Suffix
	GroupBase = "ou=groups," + Suffix
	// BindDN is the service account galenix searches with.
	BindDN = "cn=galenix,ou=services," + Suffix
)

// Server is a running slapd.
type Server struct {
	// URL is ldap://127.0.0.1:PORT (StartTLS available); LDAPS is
	// ldaps://127.0.0.1:PORT.
	URL   string
	LDAPS string
	// CAFile is the PEM certificate of the CA that signed the server's
	// certificate, for 127.0.0.1 and localhost.
	CAFile string
	// BindPassword is the service account's password.
	BindPassword string
	rootPW       string

	dir    string
	cmd    *exec.Cmd
	exited chan error // receives slapd's exit
	mu     sync.Mutex
	out    bytes.Buffer
}

// Available reports whether slapd is installed. It starts nothing.
func Available() bool {
	_, err := os.Stat(Binary)
	return err == nil
}

// Start starts a slapd for the test and seeds the base entries and the
// service account. Without slapd the test is skipped, or fails if the CI
// environment variable is set.
func Start(t testing.TB) *Server {
	t.Helper()
	if !Available() {
		if os.Getenv("CI") != "" {
			t.Fatal(notInstalled + " (CI is set, so this is an error)")
		}
		t.Skip(notInstalled)
	}
	dir, err := os.MkdirTemp("", "testldap-")
	if err != nil {
		t.Fatal(err)
	}
	s := &Server{dir: dir, CAFile: filepath.Join(dir, "ca.pem"), rootPW: randomString(), BindPassword: randomString()}
	t.Cleanup(s.stop)
	if err := s.writeTLS(); err != nil {
		t.Fatalf("testldap: certificates: %v", err)
	}
	// A port picked free can be taken before slapd binds it: try again.
	for attempt := 1; ; attempt++ {
		err = s.start()
		if err == nil {
			break
		}
		if attempt == 3 {
			t.Fatalf("testldap: %v", err)
		}
	}
	s.seed(t)
	return s
}

// start writes the configuration and runs slapd until it answers.
func (s *Server) start() error {
	plain, err := freePort()
	if err != nil {
		return err
	}
	secure, err := freePort()
	if err != nil {
		return err
	}
	s.URL = fmt.Sprintf("ldap://127.0.0.1:%d", plain)
	s.LDAPS = fmt.Sprintf("ldaps://127.0.0.1:%d", secure)
	db := filepath.Join(s.dir, "db")
	os.RemoveAll(db)
	if err := os.Mkdir(db, 0o700); err != nil {
		return err
	}
	conf := filepath.Join(s.dir, "slapd.conf")
	if err := os.WriteFile(conf, []byte(s.config(db)), 0o600); err != nil {
		return err
	}
	s.out.Reset()
	s.cmd = exec.Command(Binary, "-h", s.URL+"/ "+s.LDAPS+"/", "-f", conf, "-d", "0")
	s.cmd.Dir = s.dir
	s.cmd.Stdout, s.cmd.Stderr = &lockedWriter{s}, &lockedWriter{s}
	s.cmd.SysProcAttr = procAttr()
	if err := s.cmd.Start(); err != nil {
		return fmt.Errorf("start slapd: %v", err)
	}
	exited := make(chan error, 1)
	s.exited = exited
	go func() { exited <- s.cmd.Wait() }()
	deadline := time.After(20 * time.Second)
	for {
		select {
		case err := <-exited:
			s.cmd = nil
			return fmt.Errorf("slapd exited: %v\n%s", err, s.output())
		case <-deadline:
			s.kill()
			return fmt.Errorf("slapd did not answer within 20s\n%s", s.output())
		case <-time.After(20 * time.Millisecond):
		}
		if s.answers() {
			return nil
		}
	}
}

func (s *Server) answers() bool {
	for _, u := range []string{s.URL, s.LDAPS} {
		c, err := net.DialTimeout("tcp", strings.TrimPrefix(strings.TrimPrefix(u, "ldap://"), "ldaps://"), time.Second)
		if err != nil {
			return false
		}
		c.Close()
	}
	return true
}

// kill stops slapd, if running, and waits for it to exit.
func (s *Server) kill() {
	if s.cmd != nil {
		_ = s.cmd.Process.Kill()
		<-s.exited
	}
	s.cmd = nil
}

// stop stops slapd and removes its directory.
func (s *Server) stop() {
	s.kill()
	os.RemoveAll(s.dir)
}

func (s *Server) output() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.out.String()
}

type lockedWriter struct{ s *Server }

func (w *lockedWriter) Write(p []byte) (int, error) {
	w.s.mu.Lock()
	defer w.s.mu.Unlock()
	return w.s.out.Write(p)
}

// config is slapd.conf: the schemas, TLS, the mdb database with the
// memberof overlay, and access rules under which only a bound client may
// read, and no one reads a password.
func (s *Server) config(db string) string {
	return fmt.Sprintf(`include /etc/ldap/schema/core.schema
include /etc/ldap/schema/cosine.schema
include /etc/ldap/schema/inetorgperson.schema
include /etc/ldap/schema/nis.schema
pidfile %[1]s/slapd.pid
argsfile %[1]s/slapd.args
modulepath /usr/lib/ldap
moduleload back_mdb
moduleload memberof
TLSCACertificateFile %[1]s/ca.pem
TLSCertificateFile %[1]s/server.pem
TLSCertificateKeyFile %[1]s/server-key.pem

database mdb
maxsize 67108864
suffix "%[2]s"
rootdn "%[3]s"
rootpw %[4]s
directory %[5]s
overlay memberof
access to attrs=userPassword
	by anonymous auth
	by * none
access to *
	by users read
	by * none
`, s.dir, Suffix, RootDN, s.rootPW, db)
}

// writeTLS makes a CA and the server's certificate, signed by it.
func (s *Server) writeTLS() error {
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	ca := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "testldap CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, ca, ca, &caKey.PublicKey, caKey)
	if err != nil {
		return err
	}
	if ca, err = x509.ParseCertificate(caDER); err != nil {
		return err
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	leaf := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		DNSNames: []string{"localhost"}, IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	leafDER, err := x509.CreateCertificate(rand.Reader, leaf, ca, &key.PublicKey, caKey)
	if err != nil {
		return err
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return err
	}
	for name, b := range map[string]*pem.Block{
		"ca.pem":         {Type: "CERTIFICATE", Bytes: caDER},
		"server.pem":     {Type: "CERTIFICATE", Bytes: leafDER},
		"server-key.pem": {Type: "PRIVATE KEY", Bytes: keyDER},
	} {
		if err := os.WriteFile(filepath.Join(s.dir, name), pem.EncodeToMemory(b), 0o600); err != nil {
			return err
		}
	}
	return nil
}

// Conn returns a connection bound as the directory's root, closed when the
// test ends.
func (s *Server) Conn(t testing.TB) *goldap.Conn {
	t.Helper()
	c, err := goldap.DialURL(s.URL)
	if err != nil {
		t.Fatalf("testldap: dial: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	if err := c.Bind(RootDN, s.rootPW); err != nil {
		t.Fatalf("testldap: bind as root: %v", err)
	}
	return c
}

// seed writes the suffix, the organizational units and the service account.
func (s *Server) seed(t testing.TB) {
	t.Helper()
	c := s.Conn(t)
	add := func(dn string, attrs map[string][]string) {
		req := goldap.NewAddRequest(dn, nil)
		for k, v := range attrs {
			req.Attribute(k, v)
		}
		if err := c.Add(req); err != nil {
			t.Fatalf("testldap: add %s: %v", dn, err)
		}
	}
	add(Suffix, map[string][]string{"objectClass": {"dcObject", "organization"}, "dc": {"galenix"}, "o": {"galenix test"}})
	for _, ou := range []string{"people", "groups", "services"} {
		add("ou="+ou+","+Suffix, map[string][]string{"objectClass": {"organizationalUnit"}, "ou": {ou}})
	}
	add(BindDN, map[string][]string{"objectClass": {"inetOrgPerson"}, "cn": {"galenix"}, "sn": {"service"},
		"userPassword": {s.BindPassword}})
}

// UserDN is the DN of the person uid.
func UserDN(uid string) string { return "uid=" + goldap.EscapeDN(uid) + "," + UserBase }

// GroupDN is the DN of the group cn.
func GroupDN(cn string) string { return "cn=" + goldap.EscapeDN(cn) + "," + GroupBase }

// AddUser adds a person (inetOrgPerson) with a password and returns the DN.
func (s *Server) AddUser(t testing.TB, uid, name, password string) string {
	t.Helper()
	dn := UserDN(uid)
	req := goldap.NewAddRequest(dn, nil)
	req.Attribute("objectClass", []string{"inetOrgPerson"})
	req.Attribute("uid", []string{uid})
	req.Attribute("cn", []string{name})
	req.Attribute("sn", []string{name[strings.LastIndex(name, " ")+1:]})
	req.Attribute("displayName", []string{name})
	req.Attribute("userPassword", []string{password})
	if err := s.Conn(t).Add(req); err != nil {
		t.Fatalf("testldap: add user %s: %v", uid, err)
	}
	return dn
}

// AddGroup adds a group (groupOfNames) with its members' DNs and returns its
// DN. A groupOfNames needs a member: with none, the root stands in.
func (s *Server) AddGroup(t testing.TB, cn string, members ...string) string {
	t.Helper()
	dn := GroupDN(cn)
	req := goldap.NewAddRequest(dn, nil)
	req.Attribute("objectClass", []string{"groupOfNames"})
	req.Attribute("cn", []string{cn})
	req.Attribute("member", orRoot(members))
	if err := s.Conn(t).Add(req); err != nil {
		t.Fatalf("testldap: add group %s: %v", cn, err)
	}
	return dn
}

// SetMembers replaces the members of a group.
func (s *Server) SetMembers(t testing.TB, groupDN string, members ...string) {
	t.Helper()
	req := goldap.NewModifyRequest(groupDN, nil)
	req.Replace("member", orRoot(members))
	if err := s.Conn(t).Modify(req); err != nil {
		t.Fatalf("testldap: set members of %s: %v", groupDN, err)
	}
}

func orRoot(members []string) []string {
	if len(members) == 0 {
		return []string{RootDN}
	}
	return members
}

func randomString() string {
	b := make([]byte, 12)
	rand.Read(b)
	return fmt.Sprintf("%x", b)
}

// freePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
