package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"

	"galenix/internal/app"
	"galenix/internal/errs"
	"galenix/internal/identity"
	"galenix/internal/infra"
	"galenix/internal/store"
)

// maxInventory bounds the CSV file an import reads: far beyond a site's
// inventory (whose rows infra.ParseCSV bounds).
const maxInventory = 64 << 20

// infraCmd runs "galenix infra export|import|spof": the site's IT and OT
// inventory as CSV out and in (the page's and the API's file), and the
// single points of failure, for IT's scripts and its terminal.
func infraCmd(args []string, stdout, stderr io.Writer) error {
	const synopsis = "The site's IT and OT infrastructure:\n" +
		"  export  write the inventory as CSV (the file the inventory page and the API give)\n" +
		"  import  create or change the assets of an inventory's CSV file, all or none: every\n" +
		"          bad line is named, and one refuses the file (audited: infra.import, with the reason)\n" +
		"  spof    list the single points of failure, ranked by GMP impact, and what each stops"
	sub := ""
	if len(args) > 0 {
		sub = args[0]
	}
	switch sub {
	case "export":
		return infraExport(args[1:], stdout, stderr)
	case "import":
		return infraImport(args[1:], stdout, stderr)
	case "spof":
		return infraSPOF(args[1:], stdout, stderr)
	}
	fmt.Fprintf(stderr, "Usage: galenix infra export|import|spof [flags]\n\n%s\n", synopsis)
	if sub == "--help" || sub == "-h" || sub == "help" {
		return flag.ErrHelp
	}
	return usageError{errors.New("infra needs the command export, import or spof")}
}

// openInfra opens the database of dbf and hands its infrastructure as the
// person at the terminal.
func openInfra(dbf dbFlags, by, command string) (*store.DB, *store.InfraStore, context.Context, error) {
	ctx := context.Background()
	db, err := store.Open(ctx, store.Config{DSN: dbf.dsn, DataDir: dbf.data})
	if err != nil {
		return nil, nil, nil, err
	}
	return db, db.Infra(), identity.WithActor(ctx, app.CLIActor(by, command)), nil
}

func infraExport(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("infra export", "Writes the inventory of the site's IT and OT assets as CSV, to --out or to the\n"+
		"standard output. The file imports back unchanged (galenix infra import).", stderr)
	var dbf dbFlags
	dbf.register(fs)
	out := fs.String("out", "", "the CSV `file` to write; default: the standard output")
	if err := parse(fs, args); err != nil {
		return err
	}
	db, svc, ctx, err := openInfra(dbf, "", "galenix infra export")
	if err != nil {
		return err
	}
	defer db.Close()
	assets, err := svc.Assets(ctx, infra.Filter{})
	if err != nil {
		return err
	}
	if *out == "" {
		return infra.WriteCSV(stdout, assets)
	}
	f, err := os.OpenFile(*out, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o640)
	if err != nil {
		return err
	}
	if err := infra.WriteCSV(f, assets); err != nil {
		f.Close()
		os.Remove(*out)
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	fmt.Fprintf(stderr, "OK: %d assets written to %s\n", len(assets), *out)
	return nil
}

func infraImport(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("infra import", "Creates or changes the assets of an inventory's CSV file (--file, or - for the\n"+
		"standard input), all or none: an asset whose code is known is changed, another created.\n"+
		"Every bad line is named with its reason, and one refuses the file: nothing is written.\n"+
		"The import is audited (infra.import) with its reason, under --by's name.", stderr)
	var dbf dbFlags
	dbf.register(fs)
	file := fs.String("file", "", "the CSV `file` to import (comma or semicolon separated, UTF-8), - for the standard input; required")
	reason := fs.String("reason", "", "why the inventory changes (kept in the audit trail; required)")
	by := fs.String("by", "", "who imports it, for the audit trail (default: the system user and host)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *file == "" || strings.TrimSpace(*reason) == "" {
		fmt.Fprintln(stderr, "galenix infra import: --file and --reason are required: the CSV file, and why the inventory changes, kept in the audit trail")
		return usageError{errors.New("no file or no reason")}
	}
	in := io.Reader(os.Stdin)
	if *file != "-" {
		f, err := os.Open(*file)
		if err != nil {
			return err
		}
		defer f.Close()
		in = f
	}
	data, err := io.ReadAll(io.LimitReader(in, maxInventory+1))
	if err != nil {
		return err
	}
	if len(data) > maxInventory {
		return fmt.Errorf("%s is larger than %d MiB: split the inventory", *file, maxInventory>>20)
	}
	db, svc, ctx, err := openInfra(dbf, *by, "galenix infra import")
	if err != nil {
		return err
	}
	defer db.Close()
	done, err := svc.Import(ctx, data, *reason)
	if err != nil {
		if errs.CodeOf(err) == errs.Internal {
			return err
		}
		lines := errs.LinesOf(err)
		if len(lines) == 0 {
			fmt.Fprintf(stdout, "REFUSED: %s\n", errs.MessageOf(err, "en"))
		} else {
			fmt.Fprintf(stdout, "REFUSED: %d line(s) of the file are refused:\n", len(lines))
		}
		for _, l := range lines {
			fmt.Fprintf(stdout, "  %s\n", errs.MessageOf(l, "en"))
		}
		fmt.Fprintln(stdout, "Nothing was written.")
		return errSilent
	}
	fmt.Fprintf(stdout, "OK: %d assets created, %d changed\n", done.Created, done.Updated)
	return nil
}

func infraSPOF(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("infra spof", "Lists the single points of failure of the site's infrastructure: every asset whose\n"+
		"loss alone stops a line, a room's GMP monitoring or a service, under the k-of-n rules of\n"+
		"its redundancy groups, ranked by GMP impact (critical 100, relevant 10, none 1), with\n"+
		"what it stops. A line's own equipment (its PLC stopping that line only) is listed with\n"+
		"--own. Exits 1 when a shared single point of failure exists, 0 otherwise.", stderr)
	var dbf dbFlags
	dbf.register(fs)
	own := fs.Bool("own", false, "list also a line's own equipment, which stops that line only")
	if err := parse(fs, args); err != nil {
		return err
	}
	db, svc, ctx, err := openInfra(dbf, "", "galenix infra spof")
	if err != nil {
		return err
	}
	defer db.Close()
	an, err := svc.Analysis(ctx)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SCORE\tASSET\tKIND\tPLACE\tSTOPS")
	shared := 0
	for _, p := range an.Points {
		if p.Own && !*own {
			continue
		}
		if !p.Own {
			shared++
		}
		stops := make([]string, len(p.Stops))
		for i, s := range p.Stops {
			stops[i] = s.Code
		}
		place := strings.Trim(p.Asset.Building+" "+p.Asset.Room, " ")
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\n", p.Score, p.Asset.Code, p.Asset.Kind, place, strings.Join(stops, " "))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%d shared single point(s) of failure among %d assets and %d lines, rooms and services.\n", shared, an.Assets, an.Targets)
	if shared > 0 {
		return errSilent
	}
	return nil
}
