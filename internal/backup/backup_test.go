package backup

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestCompare(t *testing.T) {
	h := Head{Seq: 10, Hash: "aa"}
	f := Figures{"audit_entries": 10, "people": 3}
	tests := []struct {
		name      string
		got       Head
		gotF      Figures
		code      string
		params    map[string]string
		wantNoErr bool
	}{
		{"same", h, Figures{"audit_entries": 10, "people": 3}, "", nil, true},
		{"head seq", Head{Seq: 9, Hash: "aa"}, f, FailHeadDiffers, map[string]string{"want_seq": "10", "got_seq": "9"}, false},
		{"head hash", Head{Seq: 10, Hash: "bb"}, f, FailHeadDiffers, map[string]string{"want_seq": "10", "got_seq": "10"}, false},
		{"a count", h, Figures{"audit_entries": 10, "people": 4}, FailFigureDiffers, map[string]string{"figure": "people", "want": "3", "got": "4"}, false},
		{"a missing count", h, Figures{"audit_entries": 10}, FailFigureDiffers, map[string]string{"figure": "people", "want": "3", "got": "0"}, false},
		{"an extra count", h, Figures{"audit_entries": 10, "people": 3, "batches": 1}, FailFigureDiffers, map[string]string{"figure": "batches", "want": "", "got": "1"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Compare(h, f, tt.got, tt.gotF)
			if tt.wantNoErr {
				if got != nil {
					t.Errorf("got %+v, want nothing", got)
				}
				return
			}
			if got == nil || got.Code != tt.code || len(got.Params) != len(tt.params) {
				t.Fatalf("got %+v, want %s %v", got, tt.code, tt.params)
			}
			for k, v := range tt.params {
				if got.Params[k] != v {
					t.Errorf("param %s: %q, want %q", k, got.Params[k], v)
				}
			}
		})
	}
}

func TestFinishAndFail(t *testing.T) {
	d := &Drill{Database: SQLite, BackupID: "b", StartedAt: time.Now(), Target: Target{Kind: TargetBackup, Time: time.Now()}}
	if err := d.Validate(); err != nil || d.Result != Running {
		t.Fatalf("validate: %v %s", err, d.Result)
	}
	if err := d.MayFinish(); err != nil {
		t.Fatal(err)
	}
	d.Finish(time.Now(), nil, 5, Fail(FailRestore, strings.Repeat("é", 400)))
	if d.Result != Failed || d.Restored == nil || len(d.Failure.Params["detail"]) > 504 || !strings.HasSuffix(d.Failure.Params["detail"], "…") {
		t.Errorf("finished: %+v", d)
	}
	if err := d.MayFinish(); err == nil {
		t.Error("an ended drill may finish again")
	}
	for _, bad := range []Drill{
		{Database: "mysql", BackupID: "b", StartedAt: time.Now(), Target: Target{Kind: TargetBackup, Time: time.Now()}},
		{Database: SQLite, StartedAt: time.Now(), Target: Target{Kind: TargetBackup, Time: time.Now()}},
		{Database: SQLite, BackupID: "b", StartedAt: time.Now(), Target: Target{Kind: "lsn", Time: time.Now()}},
		{Database: SQLite, BackupID: "b", StartedAt: time.Now(), Target: Target{Kind: TargetTime}},
	} {
		if err := bad.Validate(); err == nil {
			t.Errorf("%+v: valid", bad)
		}
	}
}

// TestReadManifest refuses what is no galenix backup, and a manifest that
// names a file outside its directory.
func TestReadManifest(t *testing.T) {
	good := Manifest{Format: ManifestFormat, ID: "x", Database: SQLite, File: "galenix.db", SHA256: strings.Repeat("a", 64)}
	for name, c := range map[string]struct {
		edit func(m *Manifest)
		raw  string
		want string
	}{
		"good":        {edit: func(*Manifest) {}},
		"format":      {edit: func(m *Manifest) { m.Format = 7 }, want: "format 7"},
		"postgres":    {edit: func(m *Manifest) { m.Database = Postgres }, want: "pgBackRest"},
		"outside":     {edit: func(m *Manifest) { m.File = "../../etc/passwd" }, want: "outside its directory"},
		"key out":     {edit: func(m *Manifest) { m.KeyFile = "/root/key.pem" }, want: "outside its directory"},
		"no sha":      {edit: func(m *Manifest) { m.SHA256 = "" }, want: "no SHA-256"},
		"not json":    {raw: "{", want: "cannot be read"},
		"no manifest": {raw: "-", want: "has no manifest.json"},
	} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			switch {
			case c.raw == "-":
			case c.raw != "":
				os.WriteFile(filepath.Join(dir, ManifestFile), []byte(c.raw), 0o600)
			default:
				m := good
				c.edit(&m)
				if err := WriteManifest(dir, &m); err != nil {
					t.Fatal(err)
				}
			}
			_, err := ReadManifest(dir)
			if c.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if _, ok := err.(*Problem); !ok || !strings.Contains(err.Error(), c.want) {
				t.Errorf("got %v, want a problem saying %q", err, c.want)
			}
		})
	}
}
