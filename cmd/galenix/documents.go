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

// documentKeyPath is where the master key of documents is.
func documentKeyPath(flagged, data string) string {
	if flagged != "" {
		return flagged
	}
	return filepath.Join(data, store.MasterKeyFile)
}

// documentsCmd runs "galenix documents rotate-key": every client's key is
// wrapped again under a new master key of documents, audited, and the new
// key replaces the old one in its file. Backups taken before open only
// with the old key: once its every copy is destroyed, a client key
// destroyed at the end of a contract is gone from them too.
func documentsCmd(args []string, stdout, stderr io.Writer) error {
	const synopsis = "Makes a new master key of documents, wraps every client's key again under it in one\n" +
		"audited transaction (client_key.rewrap, with the reason), then writes it in place of the\n" +
		"old one (--document-key). Copy the new file to every node and to its safe place, and\n" +
		"destroy every copy of the old key once no backup that needs it is kept. Run it with\n" +
		"galenix stopped."
	if len(args) == 0 || args[0] != "rotate-key" {
		fmt.Fprintf(stderr, "Usage: galenix documents rotate-key --reason TEXT [flags]\n\n%s\n", synopsis)
		if len(args) > 0 && (args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
			return flag.ErrHelp
		}
		return usageError{errors.New("documents needs the command rotate-key")}
	}
	fs := newFlagSet("documents rotate-key", synopsis, stderr)
	var dbf dbFlags
	dbf.register(fs)
	keyFile := fs.String("document-key", os.Getenv("GALENIX_DOCUMENT_KEY"),
		"the site's master key of documents (`file`); default: "+store.MasterKeyFile+" in the data directory (env GALENIX_DOCUMENT_KEY)")
	reason := fs.String("reason", "", "why the key is rotated (kept in the audit trail; required)")
	by := fs.String("by", "", "who rotates it, for the audit trail (default: the system user and host)")
	if err := parse(fs, args[1:]); err != nil {
		return err
	}
	if *reason == "" {
		fmt.Fprintln(stderr, "galenix documents rotate-key: --reason is required: why the key is rotated, kept in the audit trail")
		return usageError{errors.New("no reason")}
	}
	path := documentKeyPath(*keyFile, dbf.data)
	if _, err := os.Stat(path); err != nil {
		return fmt.Errorf("the master key of documents: %w", err)
	}
	old, err := store.LoadOrCreateMasterKey(path)
	if err != nil {
		return err
	}
	// The new key is written beside the old one first: a failure between
	// the commit and the rename leaves it there, to put in place by hand.
	next := path + ".new"
	fresh, err := store.CreateSecretKey(next)
	if err != nil {
		return fmt.Errorf("the new master key of documents: %w", err)
	}
	ctx := context.Background()
	db, err := store.Open(ctx, store.Config{DSN: dbf.dsn, DataDir: dbf.data, MasterKey: old})
	if err != nil {
		os.Remove(next)
		return err
	}
	defer db.Close()
	n, err := db.RotateMasterKey(identity.WithActor(ctx, app.CLIActor(*by, "galenix documents rotate-key")), fresh, *reason)
	if err != nil {
		os.Remove(next)
		return err
	}
	if err := os.Rename(next, path); err != nil {
		return fmt.Errorf("%d client keys are wrapped under the new key %s, which could not replace %s: move it there by hand: %w", n, next, path, err)
	}
	fmt.Fprintf(stdout, "OK: %d client key(s) wrapped again; the new master key of documents is %s. Copy it to every node; destroy every other copy of the old key once no backup needs it.\n", n, path)
	return nil
}
