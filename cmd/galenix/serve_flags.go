package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"galenix/internal/environment"
	"galenix/internal/ingest"
	"galenix/internal/ldap"
	"galenix/internal/mail"
)

// tlsFlags are serve's HTTPS flags.
type tlsFlags struct {
	cert, key string
}

func (f *tlsFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.cert, "tls-cert", os.Getenv("GALENIX_TLS_CERT"), "PEM certificate `FILE` (with its chain): serve HTTPS only, TLS 1.2 or later, with HSTS and Secure cookies (env GALENIX_TLS_CERT; galenix cert makes a self-signed one)")
	fs.StringVar(&f.key, "tls-key", os.Getenv("GALENIX_TLS_KEY"), "PEM private key `FILE` of --tls-cert (env GALENIX_TLS_KEY)")
}

// ldapFlags are serve's Active Directory / LDAP flags.
type ldapFlags struct {
	url, bindDN, passwordFile         string
	userBase, userFilter, userAttr    string
	groupBase, groupFilter, groupRole string
	caFile                            string
	startTLS                          bool
	timeout                           time.Duration
}

func (f *ldapFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.url, "ldap-url", os.Getenv("GALENIX_LDAP_URL"), "sign people in against Active Directory / LDAP at this `URL` (ldaps://HOST or ldap://HOST); off when empty (env GALENIX_LDAP_URL)")
	fs.StringVar(&f.bindDN, "ldap-bind-dn", os.Getenv("GALENIX_LDAP_BIND_DN"), "`DN` of the service account that searches the directory; anonymous when empty (env GALENIX_LDAP_BIND_DN)")
	fs.StringVar(&f.passwordFile, "ldap-bind-password-file", os.Getenv("GALENIX_LDAP_BIND_PASSWORD_FILE"), "`FILE` holding the service account's password (env GALENIX_LDAP_BIND_PASSWORD_FILE; or the password itself in env GALENIX_LDAP_BIND_PASSWORD)")
	fs.StringVar(&f.userBase, "ldap-user-base", os.Getenv("GALENIX_LDAP_USER_BASE"), "`DN` under which people are searched (env GALENIX_LDAP_USER_BASE)")
	fs.StringVar(&f.userFilter, "ldap-user-filter", envOr("GALENIX_LDAP_USER_FILTER", ldap.DefaultUserFilter), "`FILTER` finding one person, %s standing for the username; Active Directory: (&(objectClass=user)(sAMAccountName=%s)) (env GALENIX_LDAP_USER_FILTER)")
	fs.StringVar(&f.userAttr, "ldap-user-attr", envOr("GALENIX_LDAP_USER_ATTR", ldap.DefaultUserAttr), "`ATTRIBUTE` holding the username; Active Directory: sAMAccountName (env GALENIX_LDAP_USER_ATTR)")
	fs.StringVar(&f.groupBase, "ldap-group-base", os.Getenv("GALENIX_LDAP_GROUP_BASE"), "`DN` under which groups are searched with --ldap-group-filter; when empty, only the person's memberOf is read (env GALENIX_LDAP_GROUP_BASE)")
	fs.StringVar(&f.groupFilter, "ldap-group-filter", envOr("GALENIX_LDAP_GROUP_FILTER", ldap.DefaultGroupFilter), "`FILTER` finding a person's groups, %s standing for their DN (env GALENIX_LDAP_GROUP_FILTER)")
	fs.StringVar(&f.groupRole, "ldap-group-roles", os.Getenv("GALENIX_LDAP_GROUP_ROLES"), "group → role `MAPPING`: GROUP=ROLE[,ROLE];GROUP=ROLE..., GROUP a group's DN or CN; a person in no mapped group cannot sign in (env GALENIX_LDAP_GROUP_ROLES)")
	fs.StringVar(&f.caFile, "ldap-ca-file", os.Getenv("GALENIX_LDAP_CA_FILE"), "PEM `FILE` of the authorities that sign the directory's certificate; the system's when empty (env GALENIX_LDAP_CA_FILE)")
	fs.BoolVar(&f.startTLS, "ldap-starttls", envBool("GALENIX_LDAP_STARTTLS"), "upgrade an ldap:// connection with StartTLS before any password is sent (env GALENIX_LDAP_STARTTLS=1)")
	fs.DurationVar(&f.timeout, "ldap-timeout", envDuration("GALENIX_LDAP_TIMEOUT", ldap.DefaultTimeout), "bound on connecting to the directory and on each request (env GALENIX_LDAP_TIMEOUT)")
}

// config returns the directory's configuration, reading the service
// account's password; an empty URL leaves directory sign-in off.
func (f *ldapFlags) config() (ldap.Config, error) {
	c := ldap.Config{
		URL: f.url, StartTLS: f.startTLS, CAFile: f.caFile, BindDN: f.bindDN,
		UserBase: f.userBase, UserFilter: f.userFilter, UserAttr: f.userAttr,
		GroupBase: f.groupBase, GroupFilter: f.groupFilter, GroupRoles: f.groupRole, Timeout: f.timeout,
	}
	if c.URL == "" || c.BindDN == "" {
		return c, nil
	}
	switch {
	case f.passwordFile != "":
		b, err := os.ReadFile(f.passwordFile)
		if err != nil {
			return c, fmt.Errorf("LDAP bind password file: %w", err)
		}
		c.BindPassword = ldap.Secret(strings.TrimRight(string(b), "\r\n"))
		if c.BindPassword == "" {
			return c, errors.New("LDAP bind password file " + f.passwordFile + " is empty")
		}
	default:
		c.BindPassword = ldap.Secret(os.Getenv("GALENIX_LDAP_BIND_PASSWORD"))
	}
	return c, nil
}

// envBool reads a yes/no environment variable: 1 or true is yes.
func envBool(key string) bool {
	v := strings.ToLower(os.Getenv(key))
	return v == "1" || v == "true" || v == "yes"
}

// envDuration reads a duration from the environment, or def when unset or
// unreadable (the flag's parse then says nothing; the default stands).
func envDuration(key string, def time.Duration) time.Duration {
	if d, err := time.ParseDuration(os.Getenv(key)); err == nil {
		return d
	}
	return def
}

func envInt(key string, def int) int {
	if n, err := strconv.Atoi(os.Getenv(key)); err == nil {
		return n
	}
	return def
}

// opsFlags are serve's flags for what the site's IT team runs it with:
// its logs and the balancers in front of it.
type opsFlags struct {
	logFormat, logLevel, trustedProxies string
}

func (f *opsFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.logFormat, "log-format", envOr("GALENIX_LOG_FORMAT", "text"), "log line `FORMAT`: text (key=value) or json, one object a line (env GALENIX_LOG_FORMAT)")
	fs.StringVar(&f.logLevel, "log-level", envOr("GALENIX_LOG_LEVEL", "info"), "least `LEVEL` logged: debug, info, warn or error (env GALENIX_LOG_LEVEL)")
	fs.StringVar(&f.trustedProxies, "trusted-proxies", os.Getenv("GALENIX_TRUSTED_PROXIES"), "comma-separated `CIDRS` of the balancers (HAProxy) whose X-Forwarded-For gives the client's address; from anyone else the header is ignored (env GALENIX_TRUSTED_PROXIES)")
}

// logger is the server's logger in the chosen format and level.
func (f *opsFlags) logger(w io.Writer) (*slog.Logger, error) {
	var level slog.Level
	if err := level.UnmarshalText([]byte(f.logLevel)); err != nil {
		return nil, fmt.Errorf("--log-level %q: say debug, info, warn or error", f.logLevel)
	}
	opts := &slog.HandlerOptions{Level: level}
	switch f.logFormat {
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return nil, fmt.Errorf("--log-format %q: say text or json", f.logFormat)
}

// proxies reads --trusted-proxies; a lone address is a /32 (or /128).
func (f *opsFlags) proxies() ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, s := range strings.Split(f.trustedProxies, ",") {
		if s = strings.TrimSpace(s); s == "" {
			continue
		}
		if p, err := netip.ParsePrefix(s); err == nil {
			out = append(out, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(s)
		if err != nil {
			return nil, fmt.Errorf("--trusted-proxies: %q is neither an address nor a CIDR", s)
		}
		out = append(out, netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()))
	}
	return out, nil
}

// mqttFlags are serve's flags for the sensors' readings through the site's
// MQTT broker.
type mqttFlags struct {
	url, clientID, username, passwordFile string
	sessionExpiry                         time.Duration
}

func (f *mqttFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.url, "mqtt", os.Getenv("GALENIX_MQTT"), "subscribe to the sensors' readings on the MQTT broker at this `URL` (mqtt://HOST:PORT, or tls://HOST:PORT); off when empty (env GALENIX_MQTT)")
	fs.StringVar(&f.clientID, "mqtt-client-id", os.Getenv("GALENIX_MQTT_CLIENT_ID"), "this node's MQTT client `ID`, the name of its session at the broker: the same across restarts, another on each node; galenix-HOSTNAME when empty (env GALENIX_MQTT_CLIENT_ID)")
	fs.DurationVar(&f.sessionExpiry, "mqtt-session-expiry", envDuration("GALENIX_MQTT_SESSION_EXPIRY", 24*time.Hour), "how long the broker keeps this node's session, queuing its share of the readings, while the node is away (env GALENIX_MQTT_SESSION_EXPIRY)")
	fs.StringVar(&f.username, "mqtt-username", os.Getenv("GALENIX_MQTT_USERNAME"), "`NAME` galenix connects to the broker as; anonymous when empty (env GALENIX_MQTT_USERNAME)")
	fs.StringVar(&f.passwordFile, "mqtt-password-file", os.Getenv("GALENIX_MQTT_PASSWORD_FILE"), "`FILE` holding the password of --mqtt-username (env GALENIX_MQTT_PASSWORD_FILE; or the password itself in env GALENIX_MQTT_PASSWORD)")
}

// config returns the MQTT intake's configuration, reading the password.
func (f *mqttFlags) config() (ingest.MQTTConfig, error) {
	c := ingest.MQTTConfig{URL: f.url, ClientID: f.clientID, SessionExpiry: f.sessionExpiry, Username: f.username}
	if c.URL == "" || c.Username == "" {
		return c, nil
	}
	switch {
	case f.passwordFile != "":
		b, err := os.ReadFile(f.passwordFile)
		if err != nil {
			return c, fmt.Errorf("MQTT password file: %w", err)
		}
		c.Password = []byte(strings.TrimRight(string(b), "\r\n"))
	default:
		c.Password = []byte(os.Getenv("GALENIX_MQTT_PASSWORD"))
	}
	return c, nil
}

// alarmFlags configure the escalation of environmental alarms.
type alarmFlags struct {
	ackWithin  time.Duration
	webhook    string
	secretFile string
}

func (f *alarmFlags) register(fs *flag.FlagSet) {
	fs.DurationVar(&f.ackWithin, "alarm-ack-within", envDuration("GALENIX_ALARM_ACK_WITHIN", 15*time.Minute),
		"how long an environmental alarm may stay unacknowledged before it is escalated; 0: never (env GALENIX_ALARM_ACK_WITHIN)")
	fs.StringVar(&f.webhook, "alarm-webhook-url", os.Getenv("GALENIX_ALARM_WEBHOOK_URL"),
		"`URL` an escalated alarm is posted to, as JSON signed with HMAC-SHA256 in X-Galenix-Signature; none when empty (env GALENIX_ALARM_WEBHOOK_URL)")
	fs.StringVar(&f.secretFile, "alarm-webhook-secret-file", os.Getenv("GALENIX_ALARM_WEBHOOK_SECRET_FILE"),
		"`FILE` holding the webhook's shared secret (env GALENIX_ALARM_WEBHOOK_SECRET_FILE)")
}

// secret reads the webhook's secret; a webhook without one is refused.
func (f *alarmFlags) secret() ([]byte, error) {
	if f.webhook == "" {
		return nil, nil
	}
	if f.secretFile == "" {
		return nil, errors.New("--alarm-webhook-url needs --alarm-webhook-secret-file")
	}
	b, err := os.ReadFile(f.secretFile)
	if err != nil {
		return nil, err
	}
	b = bytes.TrimSpace(b)
	if len(b) < 16 {
		return nil, errors.New("the alarm webhook's secret must hold at least 16 bytes")
	}
	return b, nil
}

// readingsFlags set the compaction and the retention of the
// environmental readings.
type readingsFlags struct {
	compactAfter, retention time.Duration
	// registerCopy is the controlled-substance register's second medium.
	registerCopy string
}

func (f *readingsFlags) register(fs *flag.FlagSet) {
	fs.DurationVar(&f.compactAfter, "readings-compact-after", envDuration("GALENIX_READINGS_COMPACT_AFTER", 48*time.Hour),
		"how long after their reception raw sensor readings are compacted, losslessly, into sealed blocks; 0: never (env GALENIX_READINGS_COMPACT_AFTER)")
	fs.DurationVar(&f.retention, "readings-retention", envDuration("GALENIX_READINGS_RETENTION", 0),
		"how long sensor readings are kept, as hours (87600h: ten years); at least six years (52560h); 0: for ever (env GALENIX_READINGS_RETENTION)")
	fs.StringVar(&f.registerCopy, "register-copy", os.Getenv("GALENIX_REGISTER_COPY"),
		"the `DIR`, on another disk than the database's, where the controlled-substance register is copied as it is written; default: register-copy in the data directory (env GALENIX_REGISTER_COPY)")
}

// check refuses a retention shorter than GMP's.
func (f *readingsFlags) check() error {
	if f.compactAfter < 0 {
		return errors.New("--readings-compact-after cannot be negative")
	}
	if f.retention != 0 && f.retention < environment.MinRetention {
		return fmt.Errorf("--readings-retention: at least %s (six years: GMP keeps a batch's records five years after its certification, one after its expiry)",
			environment.MinRetention)
	}
	return nil
}

// mailFlags set the site's SMTP relay and who is e-mailed.
type mailFlags struct {
	relay, from, security, user, passwordFile string
	alarmTo, publicURL                        string
}

func (f *mailFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.relay, "smtp-relay", os.Getenv("GALENIX_SMTP_RELAY"), "the site's SMTP relay, `HOST:PORT`; no e-mail when empty (env GALENIX_SMTP_RELAY)")
	fs.StringVar(&f.from, "smtp-from", os.Getenv("GALENIX_SMTP_FROM"), "the `ADDRESS` galenix's e-mails come from (env GALENIX_SMTP_FROM)")
	fs.StringVar(&f.security, "smtp-tls", envOr("GALENIX_SMTP_TLS", mail.StartTLS),
		"how the relay is reached: starttls (required), tls (from the first byte, port 465) or none (a relay on this host or a trusted segment) (env GALENIX_SMTP_TLS)")
	fs.StringVar(&f.user, "smtp-user", os.Getenv("GALENIX_SMTP_USER"), "`NAME` galenix authenticates to the relay as; none when empty (env GALENIX_SMTP_USER)")
	fs.StringVar(&f.passwordFile, "smtp-password-file", os.Getenv("GALENIX_SMTP_PASSWORD_FILE"), "`FILE` holding the password of --smtp-user (env GALENIX_SMTP_PASSWORD_FILE)")
	fs.StringVar(&f.alarmTo, "alarm-mail-to", os.Getenv("GALENIX_ALARM_MAIL_TO"), "comma-separated `ADDRESSES` an escalated environmental alarm is e-mailed to (env GALENIX_ALARM_MAIL_TO)")
	fs.StringVar(&f.publicURL, "public-url", os.Getenv("GALENIX_PUBLIC_URL"), "the `URL` people reach galenix at (https://galenix.site.example), for the links in e-mails (env GALENIX_PUBLIC_URL)")
}

// config checks the flags and reads the password.
func (f *mailFlags) config() (relay mail.Relay, to []string, err error) {
	if to, err = mail.ParseAddresses(f.alarmTo); err != nil {
		return relay, nil, fmt.Errorf("--alarm-mail-to: %w", err)
	}
	if f.publicURL != "" {
		if u, err := url.Parse(f.publicURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return relay, nil, fmt.Errorf("--public-url %q: give galenix's address, as https://galenix.site.example", f.publicURL)
		}
	}
	if f.relay == "" {
		if len(to) > 0 {
			return relay, nil, errors.New("--alarm-mail-to needs --smtp-relay")
		}
		return relay, nil, nil
	}
	if f.from == "" {
		return relay, nil, errors.New("--smtp-relay needs --smtp-from")
	}
	relay = mail.Relay{Addr: f.relay, From: f.from, Security: f.security, Username: f.user}
	if f.user != "" {
		if f.passwordFile == "" {
			return relay, nil, errors.New("--smtp-user needs --smtp-password-file")
		}
		b, err := os.ReadFile(f.passwordFile)
		if err != nil {
			return relay, nil, fmt.Errorf("SMTP password file: %w", err)
		}
		relay.Password = []byte(strings.TrimRight(string(b), "\r\n"))
	}
	return relay, to, relay.Check()
}
