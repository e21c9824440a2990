package main

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/schollz/progressbar/v3"

	"galenix/internal/app"
	"galenix/internal/audit"
	"galenix/internal/identity"
	"galenix/internal/store"
)

const auditUsage = `Usage: galenix audit verify [flags]
       galenix audit verify --bundle FILE [--public-key FILE | --fingerprint HEX]
       galenix audit key [flags]
       galenix audit new-key FILE
       galenix audit rotate-key --new-key FILE --reason TEXT [flags]

Commands:
  verify      check the whole audit trail: the hash chain, the signed checkpoints
              and every signature. Exits 0 when all of it holds; otherwise exits 1
              and names the first entry (its sequence number) that does not hold.
              With --bundle, check instead, offline and without any database, a
              record's audit bundle (GET /api/v1/audit/bundle).
  key         print the site's audit signing key: its SHA-256 fingerprint and
              the public key in PEM, for clients and inspectors to check, out of
              band, the key a bundle is signed with (docs/audit-bundle.md).
  new-key     make a new Ed25519 key file (mode 0600) for a rotation, to put in
              every node's key file before rotate-key; an existing file is never
              overwritten.
  rotate-key  hand the site's audit signing over to a new key: a handover
              checkpoint signed by the key of today and the new one, and the
              rotation recorded in the audit trail. Running nodes whose key file
              holds the new key take it without a restart.
`

func auditCmd(args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 && args[0] == "rotate-key" {
		return auditRotateKey(args[1:], stdout, stderr)
	}
	if len(args) > 0 && args[0] == "key" {
		return auditKey(args[1:], stdout, stderr)
	}
	if len(args) > 0 && args[0] == "new-key" {
		return auditNewKey(args[1:], stdout, stderr)
	}
	if len(args) == 0 || args[0] != "verify" {
		if len(args) > 0 && (args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
			fmt.Fprint(stdout, auditUsage)
			return nil
		}
		fmt.Fprint(stderr, auditUsage)
		return usageError{errors.New("audit needs a command")}
	}
	return auditVerify(args[1:], stdout, stderr)
}

// auditRotateKey hands the site's audit signing over to a new key
// (docs/operations.md, "Rotating the site's audit key").
func auditRotateKey(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("audit rotate-key", "Hands the site's audit signing over to a new key. In one transaction it records the\nrotation in the audit trail (who, when, why, both keys' fingerprints) and appends a\nhandover checkpoint signed by the key of today (--audit-key) and by the new one.\nFrom then on only the new key signs: a running node whose key file holds the new key\ntakes it within seconds, without a restart; one whose file still holds the old key\nturns not ready, and refuses to start.\nThe new key file is made (mode 0600) when it does not exist.", stderr)
	var dbf dbFlags
	dbf.register(fs)
	newKey := fs.String("new-key", "", "the new key (PEM `file`); made when it does not exist, never overwritten")
	reason := fs.String("reason", "", "why the key is rotated (kept in the audit trail; required)")
	by := fs.String("by", "", "who rotates it, for the audit trail (default: the system user and host)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *newKey == "" {
		return usageError{errors.New("--new-key is required: the file of the new key (made when it does not exist)")}
	}
	if *reason == "" {
		return usageError{errors.New("--reason is required: why the key is rotated, kept in the audit trail")}
	}
	if abs(*newKey) == abs(dbf.keyPath()) {
		return usageError{errors.New("--new-key names the key of today: give the new key another file")}
	}
	key, err := audit.LoadKey(dbf.keyPath())
	if err != nil {
		return fmt.Errorf("the site's audit key of today %s cannot be read (%v); give it with --audit-key", dbf.keyPath(), err)
	}
	next, made, err := loadOrMakeKey(*newKey)
	if err != nil {
		return err
	}
	ctx := context.Background()
	db, err := store.Open(ctx, store.Config{DSN: dbf.dsn, DataDir: dbf.data})
	if err != nil {
		return err
	}
	defer db.Close()
	cp, err := db.RotateAuditKey(identity.WithActor(ctx, app.CLIActor(*by, "galenix audit rotate-key")), key, next, *reason)
	if err != nil {
		if made {
			os.Remove(*newKey) // nothing was rotated: the new key was never used
		}
		return err
	}
	fmt.Fprintf(stdout, "OK: from audit entry %d the site's audit key is %s (was %s).\n", cp.Seq, audit.KeyFingerprintOf(next), audit.KeyFingerprintOf(key))
	fmt.Fprintf(stdout, "Every node whose key file holds %s now signs with it, without a restart; keep the old key offline (the trail before entry %d is signed with it).\n", *newKey, cp.Seq)
	return nil
}

// auditKey prints the site's public key and its fingerprint. It reads the
// key file only: no database.
func auditKey(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("audit key", "Prints the site's audit signing key: the SHA-256 fingerprint of its public key (the\nSHA-256 of its DER encoding, as `openssl pkey -pubin -outform DER | sha256sum` prints it)\nand the public key in PEM. Give them to clients and inspectors by another channel than\nthe bundles, so that they can check the key a bundle carries (docs/audit-bundle.md).\nThe private key is never printed.", stderr)
	var dbf dbFlags
	dbf.register(fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	key, err := audit.LoadKey(dbf.keyPath())
	if err != nil {
		return fmt.Errorf("the site's audit signing key %s cannot be read (%v); give it with --audit-key", dbf.keyPath(), err)
	}
	pub := key.Public().(ed25519.PublicKey)
	pem, err := audit.PublicKeyPEM(pub)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "SHA-256 fingerprint: %s\n", audit.KeyFingerprint(pub))
	fmt.Fprintf(stdout, "%s", pem)
	return nil
}

// auditNewKey makes the key of a coming rotation.
func auditNewKey(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("audit new-key FILE", "Makes a new Ed25519 audit signing key in FILE (mode 0600) for a rotation: put it in every\nnode's key file, then run audit rotate-key with it as --new-key. An existing file is never\noverwritten.", stderr)
	path := ""
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		path, args = args[0], args[1:]
	}
	if err := parse(fs, args); err != nil {
		return err
	}
	if path == "" {
		return usageError{errors.New("audit new-key needs the FILE to make")}
	}
	if _, err := os.Stat(path); err == nil {
		return fmt.Errorf("%s exists: a key file is never overwritten; name another", path)
	}
	key, err := audit.CreateKey(path)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "OK: new audit key %s in %s (mode 0600).\n", audit.KeyFingerprintOf(key), path)
	return nil
}

// loadOrMakeKey reads the Ed25519 key of path, or makes it (mode 0600) when
// there is no such file. A key file others may read is refused.
func loadOrMakeKey(path string) (key ed25519.PrivateKey, made bool, err error) {
	fi, err := os.Stat(path)
	if errors.Is(err, os.ErrNotExist) {
		key, err = audit.CreateKey(path)
		return key, err == nil, err
	}
	if err != nil {
		return nil, false, err
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return nil, false, fmt.Errorf("%s may be read by others (mode %o): a signing key must be the owner's alone (chmod 600)", path, fi.Mode().Perm())
	}
	key, err = audit.LoadKey(path)
	return key, false, err
}

// abs is path made absolute, or path itself.
func abs(path string) string {
	if a, err := filepath.Abs(path); err == nil {
		return a
	}
	return path
}

func auditVerify(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("audit verify", "Checks the whole audit trail: the hash chain, the signed checkpoints and every\nsignature. Exits 0 when all of it holds; otherwise exits 1 and names the first entry\n(its sequence number) that does not hold, and why.\n\nWith --bundle FILE, checks a record's audit bundle instead (the proof that\nGET /api/v1/audit/bundle downloads), offline: no database, no data directory.", stderr)
	var dbf dbFlags
	dbf.register(fs)
	bundle := fs.String("bundle", "", "verify this audit bundle `file` on its own, offline, instead of the database's trail")
	pubKey := fs.String("public-key", "", "with --bundle: the site's public key (PEM `file`) the bundle must be signed with")
	fingerprint := fs.String("fingerprint", "", "with --bundle: the SHA-256 `fingerprint` of the site's key (as `galenix audit key` prints it) the bundle must be signed with")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *bundle != "" {
		if *pubKey != "" && *fingerprint != "" {
			return usageError{errors.New("give the site's key with --public-key or --fingerprint, not both")}
		}
		return auditVerifyBundle(*bundle, *pubKey, *fingerprint, stdout)
	}
	if *pubKey != "" || *fingerprint != "" {
		fmt.Fprintln(stderr, "galenix audit verify: --public-key and --fingerprint go with --bundle; the database's trail is checked with --audit-key")
		return usageError{errors.New("--public-key or --fingerprint without --bundle")}
	}
	key, err := loadKey(dbf.keyPath())
	if err != nil {
		return err
	}
	ctx := context.Background()
	db, err := store.Open(ctx, store.Config{DSN: dbf.dsn, DataDir: dbf.data})
	if err != nil {
		return err
	}
	defer db.Close()

	var bar *progressbar.ProgressBar
	progress := func(done, total int64) {}
	if f, ok := stderr.(*os.File); ok && isTerminal(f) {
		progress = func(done, total int64) {
			if bar == nil {
				bar = progressbar.NewOptions64(total, progressbar.OptionSetWriter(stderr),
					progressbar.OptionSetDescription("verifying the audit trail"), progressbar.OptionShowCount(),
					progressbar.OptionThrottle(100_000_000), progressbar.OptionClearOnFinish())
			}
			_ = bar.Set64(done)
		}
	}
	rep, err := db.VerifyAudit(ctx, key, progress)
	if bar != nil {
		_ = bar.Finish()
	}
	var broken *audit.Broken
	if errors.As(err, &broken) {
		fmt.Fprintf(stdout, "FAILED: audit entry %d does not hold: %s\n", broken.Seq, broken.Reason)
		return errSilent
	}
	if err != nil {
		return err
	}
	// The sensors' readings, sealed in the trail by batch and, once
	// compacted, by hour.
	bad, err := db.Environment().VerifySeals(identity.WithActor(ctx, identity.System))
	if err != nil {
		return err
	}
	for _, m := range bad {
		what := "the batch of readings " + m.BatchID
		if m.Window != "" {
			what = "the readings compacted for the hour from " + m.Window
		}
		fmt.Fprintf(stdout, "FAILED: %s no longer match their seal in the audit trail (sealed %s, stored %s)\n", what, m.Sealed, m.Stored)
	}
	if len(bad) > 0 {
		return errSilent
	}
	fmt.Fprintf(stdout, "OK: %d audit entries and %d signed checkpoints hold (last entry %d), and the sensors' readings match their seals\n", rep.Entries, rep.Checkpoints, rep.Head)
	return nil
}

// auditVerifyBundle checks an audit bundle file on its own. It opens no
// database and reads no data directory: a client laboratory runs it on its
// own machine.
func auditVerifyBundle(path, pubKeyPath, fingerprint string, stdout io.Writer) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	var want ed25519.PublicKey
	if pubKeyPath != "" {
		b, err := os.ReadFile(pubKeyPath)
		if err != nil {
			return err
		}
		if want, err = audit.ParsePublicKeyPEM(b); err != nil {
			return fmt.Errorf("%s: %w", pubKeyPath, err)
		}
	}
	rep, err := audit.VerifyBundle(data)
	var broken *audit.Broken
	switch {
	case errors.As(err, &broken):
		fmt.Fprintf(stdout, "FAILED: audit entry %d does not hold: %s\n", broken.Seq, broken.Reason)
		return errSilent
	case err != nil:
		fmt.Fprintf(stdout, "FAILED: %s: %v\n", path, err)
		return errSilent
	}
	if want != nil {
		fingerprint = audit.KeyFingerprint(want)
	} else if fingerprint != "" {
		// Written as people copy it: in capitals, in groups.
		fingerprint = strings.ToLower(strings.NewReplacer(" ", "", ":", "").Replace(fingerprint))
		pubKeyPath = fingerprint
	}
	if fingerprint != "" && fingerprint != rep.KeyFingerprint {
		fmt.Fprintf(stdout, "FAILED: the bundle is signed with another key than %s (its key's SHA-256 is %s)\n", pubKeyPath, rep.KeyFingerprint)
		return errSilent
	}
	fmt.Fprintf(stdout, "OK: the %d audit entries of %s %s hold (entries %d to %d)\n", rep.Entries, rep.Entity, rep.EntityID, rep.First, rep.Last)
	fmt.Fprintf(stdout, "    linked through %d entries of the chain to %d signed checkpoints, the last signed %s\n",
		rep.Linked, rep.Checkpoints, rep.SignedAt.Format("2006-01-02 15:04:05 MST"))
	switch {
	case want != nil:
		fmt.Fprintf(stdout, "    signed with the key of %s (SHA-256 %s)\n", pubKeyPath, rep.KeyFingerprint)
	case fingerprint != "":
		fmt.Fprintf(stdout, "    signed with the site's key of SHA-256 %s\n", rep.KeyFingerprint)
	default:
		fmt.Fprintf(stdout, "    signed with the key the bundle carries, SHA-256 %s:\n    compare it with the site's published key (galenix audit key), or give it with --public-key or --fingerprint\n", rep.KeyFingerprint)
	}
	return nil
}

// errSilent fails a command that has already said why.
var errSilent = errors.New("")

// loadKey reads the site's public key from its signing key file.
func loadKey(path string) (ed25519.PublicKey, error) {
	if _, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("the site's audit signing key %s cannot be read (%v); give it with --audit-key", path, err)
	}
	k, err := audit.LoadKey(path)
	if err != nil {
		return nil, err
	}
	return k.Public().(ed25519.PublicKey), nil
}

// isTerminal reports whether f is a terminal, where a progress bar is shown.
func isTerminal(f *os.File) bool {
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}
