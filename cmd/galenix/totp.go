package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"galenix/internal/app"
	"galenix/internal/identity"
	"galenix/internal/store"
)

// totpKeyFlag registers --totp-key: the key of the second-factor secrets.
func totpKeyFlag(fs *flag.FlagSet) *string {
	return fs.String("totp-key", os.Getenv("GALENIX_TOTP_KEY"),
		"the key (`file`) that encrypts the second-factor secrets in the database; default: "+store.SecretKeyFile+
			" in the data directory, made at first start; every node of a site holds the same (env GALENIX_TOTP_KEY)")
}

// totpKeyPath is where the key of the second-factor secrets is.
func totpKeyPath(flagged, data string) string {
	if flagged != "" {
		return flagged
	}
	return filepath.Join(data, store.SecretKeyFile)
}

// totpCmd runs "galenix totp reset-lost": after the key of second-factor
// secrets is lost, the second factors it sealed are removed, audited, so
// that the site starts with a new key and people set theirs up again.
func totpCmd(args []string, stdout, stderr io.Writer) error {
	const synopsis = "For a site whose key of second-factor secrets is lost: removes, in one audited\n" +
		"transaction (account.totp.reset, with the reason), the second factor of every account\n" +
		"whose secret the key (--totp-key, made when missing) does not open. Those people set\n" +
		"their second factor up again at their next sign-in. Run it with galenix stopped."
	if len(args) == 0 || args[0] != "reset-lost" {
		fmt.Fprintf(stderr, "Usage: galenix totp reset-lost --reason TEXT [flags]\n\n%s\n", synopsis)
		if len(args) > 0 && (args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
			return flag.ErrHelp
		}
		return usageError{errors.New("totp needs the command reset-lost")}
	}
	fs := newFlagSet("totp reset-lost", synopsis, stderr)
	var dbf dbFlags
	dbf.register(fs)
	keyFile := totpKeyFlag(fs)
	reason := fs.String("reason", "", "why the second factors are removed (kept in the audit trail; required)")
	by := fs.String("by", "", "who removes them, for the audit trail (default: the system user and host)")
	if err := parse(fs, args[1:]); err != nil {
		return err
	}
	if *reason == "" {
		fmt.Fprintln(stderr, "galenix totp reset-lost: --reason is required: why the second factors are removed, kept in the audit trail")
		return usageError{errors.New("no reason")}
	}
	path := totpKeyPath(*keyFile, dbf.data)
	key, err := store.LoadSecretKey(path)
	if errors.Is(err, os.ErrNotExist) {
		key, err = store.CreateSecretKey(path)
	}
	if err != nil {
		return fmt.Errorf("the key of second-factor secrets: %w", err)
	}
	ctx := context.Background()
	db, err := store.Open(ctx, store.Config{DSN: dbf.dsn, DataDir: dbf.data, SecretKey: key})
	if err != nil {
		return err
	}
	defer db.Close()
	n, err := db.ResetLostTOTP(identity.WithActor(ctx, app.CLIActor(*by, "galenix totp reset-lost")), *reason)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "OK: %d second factor(s) removed; the key of second-factor secrets is %s.\n", n, path)
	return nil
}
