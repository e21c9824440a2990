package pgbackrest

import (
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestParseInfo reads what pgbackrest info --output=json said on the
// cluster of deploy/ha after a switchover: a full backup on the first
// timeline, a differential on the second, and the archive across both.
func TestParseInfo(t *testing.T) {
	b, err := os.ReadFile("testdata/info.json")
	if err != nil {
		t.Fatal(err)
	}
	st, err := parseInfo(b, "galenix")
	if err != nil {
		t.Fatal(err)
	}
	if st.ArchiveMin != "000000010000000000000001" || st.ArchiveMax != "00000002000000000000000D" || len(st.Sets) != 2 {
		t.Fatalf("stanza: %+v", st)
	}
	full, diff := st.Sets[0], st.Sets[1]
	want := Set{Label: "20261204-043946F", Type: "full", Start: time.Unix(1796359186, 0).UTC(), Stop: time.Unix(1796359189, 0).UTC(),
		WALStart: "000000010000000000000006", WALStop: "000000010000000000000006", Size: 45215236, RepoSize: 10085459}
	full.Annotation = nil
	if !reflect.DeepEqual(full, want) {
		t.Errorf("full: %+v\nwant %+v", full, want)
	}
	if diff.Type != "diff" || diff.Prior != full.Label || diff.WALStart != "00000002000000000000000A" || diff.Annotation["galenix-schema"] != "13" {
		t.Errorf("diff: %+v", diff)
	}
	if other, err := parseInfo(b, "other"); err != nil || len(other.Sets) != 0 || other.ArchiveMax != "" {
		t.Errorf("another stanza: %+v %v", other, err)
	}
	if _, err := parseInfo([]byte("{"), "galenix"); err == nil {
		t.Error("no JSON read")
	}
	bad := strings.Replace(string(b), `"code": 0,
            "lock"`, `"code": 99,
            "lock"`, 1)
	if bad == string(b) {
		t.Fatal("the status was not found in testdata/info.json")
	}
	if _, err := parseInfo([]byte(bad), "galenix"); err == nil || !strings.Contains(err.Error(), "status 99") {
		t.Errorf("a stanza in error: %v", err)
	}
}

// TestRetentionArgs passes the retention to backup and expire only.
func TestRetentionArgs(t *testing.T) {
	c := Config{Stanza: "galenix", ConfigFile: "/etc/pgbackrest.conf", RetentionFull: 4, RetentionDiff: 6}
	for cmd, want := range map[string]bool{"backup": true, "expire": true, "info": false, "restore": false, "check": false} {
		args := c.args(cmd)
		has := slices.Contains(args, "--repo1-retention-full=4") && slices.Contains(args, "--repo1-retention-diff=6")
		if has != want || args[len(args)-1] != cmd {
			t.Errorf("%s: %v", cmd, args)
		}
	}
	if args := (Config{Stanza: "galenix"}).args("expire"); slices.ContainsFunc(args, func(a string) bool { return strings.Contains(a, "retention") }) {
		t.Errorf("no retention given: %v", args)
	}
	if err := (Config{Stanza: "galenix", RetentionFull: -1}).Check(); err == nil {
		t.Error("a negative retention passed Check")
	}
}
