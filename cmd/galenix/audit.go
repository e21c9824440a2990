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

Commands:
  verify    check the whole audit trail: the hash chain, the signed checkpoints
            and every signature. Exits 0 when all of it holds; otherwise exits 1
            and names the first entry (its sequence number) that does not hold.
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
	fs := newFlagSet("audit verify", "Checks the whole audit trail: the hash chain, the signed checkpoints and every\nsignature. Exits 0 when all of it holds; otherwise exits 1 and names the first entry\n(its sequence number) that does not hold, and why.", stderr)
	var dbf dbFlags
	dbf.register(fs)
	if err := parse(fs, args); err != nil {
		return err
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

// errSilent fails a command that has already said why.
var errSilent = errors.New("")

// loadKey reads the site's public key from its signing key file.
func loadKey(path string) (ed25519.PublicKey, error) {
	if _, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("the site's audit signing key %s cannot be read (%v); give it with --audit-key", path, err)
	}
	k, err := audit.LoadOrCreateKey(path)
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
