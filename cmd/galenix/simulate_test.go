package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"galenix/internal/environment"
	"galenix/internal/identity"
	"galenix/internal/ingest"
	"galenix/internal/site"
	"galenix/internal/store"
	"galenix/internal/testmqtt"
)

// TestSimulateArgs checks the command line of "simulate sensors" refuses,
// in words and without sending anything, what does not go together.
func TestSimulateArgs(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"simulate"}, "Usage: galenix simulate sensors"},
		{[]string{"simulate", "rooms"}, "Usage: galenix simulate sensors"},
		{[]string{"simulate", "sensors"}, "say where to send the readings"},
		{[]string{"simulate", "sensors", "--broker", "tcp://127.0.0.1:1883", "--http", "http://127.0.0.1:1"}, "the readings go to one of them"},
		{[]string{"simulate", "sensors", "--http", "http://127.0.0.1:1"}, "--http needs --token"},
		{[]string{"simulate", "sensors", "--http", "ftp://x", "--token", "t"}, "give galenix's address"},
		{[]string{"simulate", "sensors", "--broker", "tcp://127.0.0.1:1883", "--rate", "0"}, "--rate: from 0.1 to 600"},
		{[]string{"simulate", "sensors", "--broker", "tcp://127.0.0.1:1883", "--sensors", "-1"}, "--sensors: from 1 to 100000"},
		{[]string{"simulate", "sensors", "--broker", "tcp://127.0.0.1:1883", "--data", "d", "--db", "postgres://x"}, "read from one database"},
		{[]string{"simulate", "sensors", "--broker", "tcp://127.0.0.1:1883", "--duration", "-1s"}, "--duration cannot be negative"},
		{[]string{"simulate", "sensors", "--broker", "tcp://127.0.0.1:1883", "extra"}, `unexpected argument "extra"`},
		{[]string{"simulate", "sensors", "--broker", "127.0.0.1:1883"}, "give the broker's URL"},
		{[]string{"serve", "--simulate", "tcp://127.0.0.1:1883"}, "--simulate needs --demo"},
		{[]string{"serve", "--demo", "--simulate", "localhost"}, "give the broker's URL"},
	} {
		var out, errOut bytes.Buffer
		if code := run(c.args, &out, &errOut); code != 2 || !strings.Contains(errOut.String(), c.want) {
			t.Errorf("%q: exit %d, stderr %q; want 2 and %q", c.args, code, errOut.String(), c.want)
		}
	}
	var out, errOut bytes.Buffer
	if code := run([]string{"simulate", "sensors", "--help"}, &out, &errOut); code != 0 || !strings.Contains(errOut.String(), "-broker") {
		t.Errorf("--help: exit %d, %q", code, errOut.String())
	}
}

// TestIntakeBroker: serve --demo --simulate subscribes to the broker its
// simulator publishes to, unless --mqtt names another.
func TestIntakeBroker(t *testing.T) {
	for _, c := range [][3]string{
		{"", "", ""},
		{"", "tcp://127.0.0.1:1883", "tcp://127.0.0.1:1883"},
		{"mqtt://broker:1883", "tcp://127.0.0.1:1883", "mqtt://broker:1883"},
		{"mqtt://broker:1883", "", "mqtt://broker:1883"},
	} {
		if got := intakeBroker(c[0], c[1]); got != c[2] {
			t.Errorf("--mqtt %q --simulate %q: subscribes to %q, want %q", c[0], c[1], got, c[2])
		}
	}
}

// bulkServer is galenix's readings endpoint as the simulator sees it: it
// decodes each body strictly in ingest's bulk format and keeps what came.
type bulkServer struct {
	mu       sync.Mutex
	bodies   int
	keys     map[string]bool
	readings map[string][]ingest.Message // by sensor code
	bad      []string
}

func (b *bulkServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b.mu.Lock()
	defer b.mu.Unlock()
	fail := func(why string) {
		b.bad = append(b.bad, why)
		http.Error(w, why, http.StatusBadRequest)
	}
	switch {
	case r.Method != http.MethodPost || r.URL.Path != "/api/v1/readings":
		fail(r.Method + " " + r.URL.Path)
		return
	case r.Header.Get("Authorization") != "Bearer s3cret":
		fail("authorization " + r.Header.Get("Authorization"))
		return
	case r.Header.Get("Idempotency-Key") == "" || b.keys[r.Header.Get("Idempotency-Key")]:
		fail("idempotency key missing or reused")
		return
	}
	b.keys[r.Header.Get("Idempotency-Key")] = true
	var body struct {
		Readings []ingest.Message `json:"readings"`
	}
	d := json.NewDecoder(r.Body)
	d.DisallowUnknownFields()
	if err := d.Decode(&body); err != nil || len(body.Readings) == 0 || len(body.Readings) > store.MaxReadingBatch {
		fail("body: " + err.Error())
		return
	}
	b.bodies++
	for _, m := range body.Readings {
		b.readings[m.Sensor] = append(b.readings[m.Sensor], m)
	}
	w.WriteHeader(http.StatusOK)
	w.Write([]byte(`{"new": 1}`))
}

// TestSimulateHTTP runs the simulator against an HTTP endpoint: the
// database's sensors first, synthesized ones up to --sensors; each
// sensor's sequence numbers continue the database's and follow one
// another; every value is within its kind's physical range.
func TestSimulateHTTP(t *testing.T) {
	data := t.TempDir()
	sensorsDB(t, data)
	kind := map[string]environment.Kind{"B1-C01-T1": environment.KindTemperature, "B1-C01-PA1": environment.KindParticles05}

	srv := &bulkServer{keys: map[string]bool{}, readings: map[string][]ingest.Message{}}
	ts := httptest.NewServer(srv)
	defer ts.Close()
	n := len(kind) + 7
	var out, errOut bytes.Buffer
	code := run([]string{"simulate", "sensors", "--http", ts.URL, "--token", "s3cret", "--data", data,
		"--sensors", strconv.Itoa(n), "--rate", "600", "--duration", "350ms"}, &out, &errOut)
	if code != 0 {
		t.Fatalf("simulate: exit %d: %s", code, errOut.String())
	}
	srv.mu.Lock()
	defer srv.mu.Unlock()
	if len(srv.bad) > 0 {
		t.Fatalf("bad requests: %q", srv.bad)
	}
	if srv.bodies < 2 || len(srv.readings) != n {
		t.Fatalf("%d bodies, %d sensors; want at least 2 rounds of %d sensors", srv.bodies, len(srv.readings), n)
	}
	synthesized := 0
	for code, ms := range srv.readings {
		k, known := kind[code]
		if !known {
			if !strings.HasPrefix(code, "SIM-R") {
				t.Errorf("sensor %q neither the database's nor synthesized", code)
			}
			synthesized++
		}
		for i, m := range ms {
			if i > 0 && (m.Seq != ms[i-1].Seq+1 || !m.At.After(ms[i-1].At)) {
				t.Errorf("%s: seq %d at %s after seq %d at %s", code, m.Seq, m.At, ms[i-1].Seq, ms[i-1].At)
			}
			if known {
				if lo, hi, _ := k.Physical(); m.Value < lo || m.Value > hi {
					t.Errorf("%s: value %v outside %v..%v", code, m.Value, lo, hi)
				}
			}
		}
	}
	if synthesized != 7 {
		t.Errorf("%d synthesized sensors, want 7", synthesized)
	}
	if ms := srv.readings["B1-C01-T1"]; len(ms) == 0 || ms[0].Seq != 6 {
		t.Errorf("B1-C01-T1: first reading sent %+v, want seq 6 (after the database's last)", ms)
	}
	if ms := srv.readings["B1-C01-PA1"]; len(ms) == 0 || ms[0].Seq != 1 {
		t.Errorf("B1-C01-PA1: first reading sent %+v, want seq 1 (none received)", ms)
	}

	// "serve --demo --simulate" on a site's own database simulates nothing.
	db, err := store.Open(context.Background(), store.Config{DataDir: data})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if ok, err := demoDatabase(context.Background(), db); ok || err != nil {
		t.Errorf("a site's own database taken for the demo's: %v, %v", ok, err)
	}
	var logs bytes.Buffer
	simulateDemo(context.Background(), db, "tcp://127.0.0.1:1", logger(&logs))
	if !strings.Contains(logs.String(), "not the demo") {
		t.Errorf("simulateDemo on a site's own database: %s", logs.String())
	}
}

// sensorsDB makes a database with a room and two sensors, the first
// with five readings received.
func sensorsDB(t *testing.T, data string) {
	t.Helper()
	db, err := store.Open(context.Background(), store.Config{DataDir: data})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := identity.WithActor(context.Background(), identity.System)
	st := &site.Site{Code: "S", Name: "Site", Timezone: "Europe/Paris", Address: "Rue 1"}
	check := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	check(db.Site().CreateSite(ctx, st))
	b := &site.Building{SiteID: st.ID, Code: "B1", Name: "Bâtiment 1", Role: site.RoleProduction}
	check(db.Site().CreateBuilding(ctx, b))
	r := &site.Room{BuildingID: b.ID, Code: "B1-C01", Name: "Salle 1", Grade: site.GradeC, TempMin: 18, TempMax: 24, HumidityMin: 30, HumidityMax: 60}
	check(db.Site().CreateRoom(ctx, r))
	day := time.Now().UTC().Truncate(24 * time.Hour)
	for _, s := range []*environment.Sensor{
		{Code: "B1-C01-T1", Name: "Température", Kind: environment.KindTemperature, Decimals: 2},
		{Code: "B1-C01-PA1", Name: "Particules", Kind: environment.KindParticles05},
	} {
		s.Place, s.PlaceID, s.Location, s.LocationSince, s.CalibrationDue = environment.PlaceRoom, r.ID, "Mur", day.AddDate(0, -1, 0), day.AddDate(1, 0, 0)
		check(db.Environment().CreateSensor(ctx, s))
		l, _, ok := environment.DefaultLimits(r.Grade, s.Kind)
		if !ok {
			l, _ = environment.RoomLimits(r, s.Kind)
		}
		l.SensorID = s.ID
		check(db.Environment().SetLimits(ctx, &l, ""))
		if s.Kind == environment.KindTemperature {
			var rs []environment.Reading
			for i := range 5 {
				rs = append(rs, environment.Reading{SensorID: s.ID, Seq: uint64(i + 1), At: time.Now().Add(-time.Duration(5-i) * time.Minute), Value: 20})
			}
			_, err := db.Environment().AppendReadings(ctx, rs, nil)
			check(err)
		}
	}
}

// TestSimulateMQTT: the simulator's readings go through a real mosquitto
// into galenix's own intake (the subscriber and its pipeline) and are
// stored, each sensor's sequence going on from the database's last without
// a hole; the synthesized sensors, which the site does not know, are
// quarantined.
func TestSimulateMQTT(t *testing.T) {
	b := testmqtt.New(t, testmqtt.Options{})
	data := t.TempDir()
	sensorsDB(t, data)
	db, err := store.Open(context.Background(), store.Config{DataDir: data})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	sub, err := ingest.NewMQTT(ingest.MQTTConfig{URL: b.URL(), ClientID: "galenix-test", SessionExpiry: time.Hour},
		ingest.NewPipeline(db.Environment(), nil), nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := sub.Start(); err != nil {
		t.Fatal(err)
	}
	defer sub.Stop(context.Background())
	for deadline := time.Now().Add(10 * time.Second); !sub.Subscribed(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the intake did not subscribe within 10 s")
		}
	}
	var out, errOut bytes.Buffer
	if code := run([]string{"simulate", "sensors", "--broker", b.URL(), "--data", data, "--sensors", "4", "--rate", "600",
		"--duration", "350ms"}, &out, &errOut); code != 0 {
		t.Fatalf("simulate: exit %d: %s", code, errOut.String())
	}
	ctx := identity.WithActor(context.Background(), identity.System)
	sensors, err := db.Environment().Sensors(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	seqs := func(id string) []uint64 {
		rs, err := db.Environment().Readings(ctx, id, time.Now().Add(-time.Hour), time.Now().Add(time.Hour), 10000)
		if err != nil {
			t.Fatal(err)
		}
		var out []uint64
		for _, r := range rs {
			out = append(out, r.Seq)
		}
		slices.Sort(out)
		return out
	}
	// The broker has acknowledged every publish: the intake commits them
	// within moments.
	deadline := time.Now().Add(15 * time.Second)
	for _, s := range sensors {
		first := map[string]uint64{"B1-C01-T1": 6, "B1-C01-PA1": 1}[s.Code]
		var got []uint64
		for {
			got = seqs(s.ID)
			if n := len(got); n > 0 && got[n-1] >= first+1 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: stored %v, want the simulator's readings from %d on", s.Code, got, first)
			}
			time.Sleep(20 * time.Millisecond)
		}
		for i, q := range got {
			if q != uint64(i+1) {
				t.Fatalf("%s: stored %v, want 1, 2, 3… each once", s.Code, got)
			}
		}
	}
	for {
		q, err := db.Environment().Quarantined(ctx, 100)
		if err != nil {
			t.Fatal(err)
		}
		codes := map[string]bool{}
		for _, x := range q {
			codes[x.SensorRef] = true
		}
		if len(codes) == 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("quarantined sensors %v, want the 2 synthesized", codes)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
