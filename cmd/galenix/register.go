package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"galenix/internal/controlled"
	"galenix/internal/errs"
	"galenix/internal/identity"
	"galenix/internal/store"
)

// registerCmd runs "galenix register verify-copy": the controlled-substance
// register's copy on its second medium checked against the database.
func registerCmd(args []string, stdout, stderr io.Writer) error {
	const synopsis = "Checks the controlled-substance register's copy on its second medium (the file\n" +
		controlled.CopyFile + " in --register-copy) against the database: its chain of\n" +
		"hashes whole, each line the movement of its serial number. Exits 0 when it holds\n" +
		"(naming the movements not copied yet, a few seconds' worth while galenix serves);\n" +
		"otherwise exits 1 and says where the copy breaks."
	if len(args) == 0 || args[0] != "verify-copy" {
		fmt.Fprintf(stderr, "Usage: galenix register verify-copy [flags]\n\n%s\n", synopsis)
		if len(args) > 0 && (args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
			return flag.ErrHelp
		}
		return usageError{errors.New("register needs the command verify-copy")}
	}
	fs := newFlagSet("register verify-copy", synopsis, stderr)
	var dbf dbFlags
	dbf.register(fs)
	dir := fs.String("register-copy", os.Getenv("GALENIX_REGISTER_COPY"),
		"the `DIR` of the register's copy; default: register-copy in the data directory (env GALENIX_REGISTER_COPY)")
	if err := parse(fs, args[1:]); err != nil {
		return err
	}
	if *dir == "" {
		*dir = filepath.Join(dbf.data, "register-copy")
	}
	ctx := context.Background()
	db, err := store.Open(ctx, store.Config{DSN: dbf.dsn, DataDir: dbf.data})
	if err != nil {
		return err
	}
	defer db.Close()
	lines, missing, err := db.Controlled().VerifyCopy(identity.WithActor(ctx, identity.System), *dir)
	if errs.Is(err, errs.Conflict) {
		fmt.Fprintf(stdout, "FAILED: %s\n", errs.MessageOf(err, "en"))
		return errSilent
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "OK: the copy in %s holds the register's %d first movements, whole; %d not copied yet\n", *dir, lines, missing)
	return nil
}
