package main

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/schollz/progressbar/v3"

	"galenix/internal/audit"
	"galenix/internal/store"
)

const auditUsage = `Usage: galenix audit verify [flags]
       galenix audit verify --bundle FILE [--public-key FILE]

Commands:
  verify    check the whole audit trail: the hash chain, the signed checkpoints
            and every signature. Exits 0 when all of it holds; otherwise exits 1
            and names the first entry (its sequence number) that does not hold.
            With --bundle, check instead, offline and without any database, a
            record's audit bundle (GET /api/v1/audit/bundle).
`

func auditCmd(args []string, stdout, stderr io.Writer) error {
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

func auditVerify(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("audit verify", "Checks the whole audit trail: the hash chain, the signed checkpoints and every\nsignature. Exits 0 when all of it holds; otherwise exits 1 and names the first entry\n(its sequence number) that does not hold, and why.\n\nWith --bundle FILE, checks a record's audit bundle instead (the proof that\nGET /api/v1/audit/bundle downloads), offline: no database, no data directory.", stderr)
	var dbf dbFlags
	dbf.register(fs)
	bundle := fs.String("bundle", "", "verify this audit bundle `file` on its own, offline, instead of the database's trail")
	pubKey := fs.String("public-key", "", "with --bundle: the site's public key (PEM `file`) the bundle must be signed with")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *bundle != "" {
		return auditVerifyBundle(*bundle, *pubKey, stdout)
	}
	if *pubKey != "" {
		fmt.Fprintln(stderr, "galenix audit verify: --public-key goes with --bundle; the database's trail is checked with --audit-key")
		return usageError{errors.New("--public-key without --bundle")}
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
	fmt.Fprintf(stdout, "OK: %d audit entries and %d signed checkpoints hold (last entry %d)\n", rep.Entries, rep.Checkpoints, rep.Head)
	return nil
}

// auditVerifyBundle checks an audit bundle file on its own. It opens no
// database and reads no data directory: a client laboratory runs it on its
// own machine.
func auditVerifyBundle(path, pubKeyPath string, stdout io.Writer) error {
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
		if audit.KeyFingerprint(want) != rep.KeyFingerprint {
			fmt.Fprintf(stdout, "FAILED: the bundle is signed with another key than %s (its key's SHA-256 is %s)\n", pubKeyPath, rep.KeyFingerprint)
			return errSilent
		}
	}
	fmt.Fprintf(stdout, "OK: the %d audit entries of %s %s hold (entries %d to %d)\n", rep.Entries, rep.Entity, rep.EntityID, rep.First, rep.Last)
	fmt.Fprintf(stdout, "    linked through %d entries of the chain to %d signed checkpoints, the last signed %s\n",
		rep.Linked, rep.Checkpoints, rep.SignedAt.Format("2006-01-02 15:04:05 MST"))
	if want != nil {
		fmt.Fprintf(stdout, "    signed with the key of %s (SHA-256 %s)\n", pubKeyPath, rep.KeyFingerprint)
	} else {
		fmt.Fprintf(stdout, "    signed with the key the bundle carries, SHA-256 %s:\n    compare it with the site's published key, or give that key with --public-key\n", rep.KeyFingerprint)
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
