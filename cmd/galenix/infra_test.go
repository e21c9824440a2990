package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"galenix/internal/audit"
	"galenix/internal/identity"
	"galenix/internal/site"
	"galenix/internal/store"
)

// inventory is a small site's infrastructure: galenix's service on a VM
// on one host, behind one switch (a single point of failure), powered by
// two UPS of which one is enough (neither is one).
const inventory = `code,name,kind,building,depends_on,need,gmp_impact
PANEL,Power panel,power_panel,B90,,,relevant
UPS-A,UPS A,ups,B90,PANEL,,relevant
UPS-B,UPS B,ups,B90,,,relevant
POWER,Power (1 of 2),redundancy_group,B90,UPS-A UPS-B,1,relevant
SW1,Core switch,switch,B90,POWER,,relevant
HOST,Host,server,B90,SW1 POWER,,relevant
VM,galenix VM,vm,B90,HOST,,relevant
GALENIX,galenix,service,B90,VM,,critical
`

// TestInfraCommands runs "galenix infra import", "export" and "spof" on a
// data directory: the import names every bad line and writes nothing, a
// good one is audited with its reason and who ran it, the export imports
// back unchanged, and the single points of failure are the switch, the
// host and the VM, not the redundant UPS.
func TestInfraCommands(t *testing.T) {
	data := t.TempDir()
	ctx := context.Background()
	db, err := store.Open(ctx, store.Config{DataDir: data})
	if err != nil {
		t.Fatal(err)
	}
	sys := identity.WithActor(ctx, identity.System)
	if err := db.Site().CreateSite(sys, &site.Site{Code: "GX", Name: "Test site", Timezone: "Europe/Paris"}); err != nil {
		t.Fatal(err)
	}
	if err := db.Site().CreateBuilding(sys, &site.Building{Code: "B90", Name: "Bâtiment 90", Role: site.RoleUtilities}); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	file := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	good := file("inventory.csv", inventory)
	var out, errOut bytes.Buffer

	// Refused: without a reason, an unknown command.
	if code := run([]string{"infra", "import", "--data", data, "--file", good}, &out, &errOut); code != 2 || !strings.Contains(errOut.String(), "--reason are required") {
		t.Errorf("without a reason: exit %d\n%s", code, errOut.String())
	}
	if code := run([]string{"infra", "nope"}, &out, &errOut); code != 2 {
		t.Errorf("an unknown command: exit %d", code)
	}
	// Every bad line named, nothing written.
	bad := file("bad.csv", strings.NewReplacer(",switch,", ",gizmo,", "HOST,Host,server,B90,SW1 POWER", "HOST,Host,server,B99,SW1 POWER").Replace(inventory))
	out.Reset()
	if code := run([]string{"infra", "import", "--data", data, "--file", bad, "--reason", "First inventory of Bâtiment 90"}, &out, &errOut); code != 1 ||
		!strings.Contains(out.String(), "REFUSED: 3 line(s)") || !strings.Contains(out.String(), `Line 6: The kind "gizmo"`) ||
		!strings.Contains(out.String(), `Line 7: no building has the code "B99"`) || !strings.Contains(out.String(), "Nothing was written.") {
		t.Errorf("a file with two bad lines (and one depending on a refused one): exit %d\n%s", code, out.String())
	}
	if got := runOK(t, "infra", "export", "--data", data); strings.Count(got, "\n") != 1 {
		t.Errorf("a refused import wrote assets:\n%s", got)
	}

	if got := runOK(t, "infra", "import", "--data", data, "--file", good, "--reason", "First inventory of Bâtiment 90", "--by", "a.lambert"); !strings.Contains(got, "OK: 8 assets created, 0 changed") {
		t.Errorf("import says %q", got)
	}
	db, err = store.Open(ctx, store.Config{DataDir: data})
	if err != nil {
		t.Fatal(err)
	}
	entries, err := db.Audit().Entries(sys, audit.Filter{})
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	imports := 0
	for _, e := range entries {
		if e.Command == "infra.import" {
			imports++
			if e.Reason != "First inventory of Bâtiment 90" || !strings.Contains(e.ActorName, "a.lambert (galenix infra import)") {
				t.Errorf("the import's audit entry: %+v", e)
			}
		}
	}
	if imports < 8 {
		t.Errorf("%d audit entries of the import, want at least one per asset (8)", imports)
	}

	// The export imports back unchanged.
	exported := filepath.Join(dir, "export.csv")
	runOK(t, "infra", "export", "--data", data, "--out", exported)
	if got := runOK(t, "infra", "import", "--data", data, "--file", exported, "--reason", "The export, imported back"); !strings.Contains(got, "OK: 0 assets created, 0 changed") {
		t.Errorf("the export imported back: %q", got)
	}
	if code := run([]string{"infra", "export", "--data", data, "--out", exported}, &out, &errOut); code != 1 {
		t.Errorf("an export over an existing file: exit %d, want 1 (it is kept)", code)
	}

	out.Reset()
	code := run([]string{"infra", "spof", "--data", data}, &out, &errOut)
	got := out.String()
	if code != 1 || !strings.Contains(got, "3 shared single point(s) of failure among 8 assets and 1 lines, rooms and services.") {
		t.Fatalf("spof: exit %d\n%s", code, got)
	}
	for _, code := range []string{"SW1", "HOST", "VM"} {
		if !strings.Contains(got, "\n"+code+" ") && !strings.Contains(got, " "+code+" ") {
			t.Errorf("spof does not list %s:\n%s", code, got)
		}
	}
	for _, code := range []string{"UPS-A", "UPS-B", "PANEL"} {
		if strings.Contains(got, " "+code+" ") {
			t.Errorf("spof lists %s, one of two redundant UPS (or what feeds one):\n%s", code, got)
		}
	}
}
