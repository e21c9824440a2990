package app_test

import (
	"context"
	"net"
	"testing"
	"time"

	"galenix/internal/app"
	"galenix/internal/identity"
	"galenix/internal/infra"
	"galenix/internal/site"
)

// TestSupervisionFlagsWhatStops: the leading node runs a TCP check of a
// switch every 5 s; when the service it checks stops, the next run finds
// it down, and the line and the room's monitoring behind that switch show
// as stopped within one check interval, with one event of the change.
func TestSupervisionFlagsWhatStops(t *testing.T) {
	defer func(d time.Duration) { app.InfraTick = d }(app.InfraTick)
	app.InfraTick = 100 * time.Millisecond
	ctx := context.Background()
	m := app.New(app.Config{Addr: "127.0.0.1:0", DataDir: t.TempDir()}, nil)
	if err := m.Open(ctx); err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	sys := identity.WithActor(ctx, identity.System)

	// A building, a grade A room, its line; a switch, the line's PLC and
	// the room's sensor gateway behind it.
	plant := m.DB.Site()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	st := &site.Site{Code: "S", Name: "Site", Timezone: "Europe/Paris"}
	must(plant.CreateSite(sys, st))
	b := &site.Building{Code: "B30", Name: "Bâtiment 30", Role: site.RoleSterileProduction}
	must(plant.CreateBuilding(sys, b))
	room := &site.Room{BuildingID: b.ID, Code: "B30-A01", Name: "Zone A", Grade: site.GradeA, TempMin: 18, TempMax: 22, HumidityMin: 30, HumidityMax: 60}
	must(plant.CreateRoom(sys, room))
	line := &site.Line{Code: "L01", Name: "Remplissage 1", RoomID: room.ID, Sterile: true, Forms: []site.Form{site.FormVial}, CapacityPerHour: 6000}
	must(plant.CreateLine(sys, line))
	svc := m.DB.Infra()
	mk := func(a infra.Asset) *infra.Asset {
		t.Helper()
		must(svc.CreateAsset(sys, &a))
		return &a
	}
	sw := mk(infra.Asset{Code: "B30-SW", Name: "Switch B30", Kind: infra.Switch, RoomID: room.ID})
	plc := mk(infra.Asset{Code: "L01-PLC", Name: "Automate", Kind: infra.PLC, LineID: line.ID, DependsOn: []string{sw.ID}})
	gw := mk(infra.Asset{Code: "B30-A01-GW", Name: "Passerelle", Kind: infra.SensorGateway, RoomID: room.ID, DependsOn: []string{sw.ID}})
	mk(infra.Asset{Code: "L01", Name: "Ligne 1", Kind: infra.Line, LineID: line.ID, Impact: infra.ImpactCritical, DependsOn: []string{plc.ID}})
	mk(infra.Asset{Code: "B30-A01-MON", Name: "Surveillance A01", Kind: infra.RoomMonitoring, RoomID: room.ID, Impact: infra.ImpactCritical,
		DependsOn: []string{gw.ID}})

	// The service the check reaches: a listener standing for the switch's
	// management port.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	must(err)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	check := &infra.Check{AssetID: sw.ID, Kind: infra.CheckTCP, Target: ln.Addr().String(), Every: 5}
	must(svc.CreateCheck(sys, check))

	rctx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- m.Run(rctx) }()
	defer func() { stop(); <-done }()

	state := func() infra.State {
		as, err := svc.Assets(sys, infra.Filter{Q: "B30-SW"})
		must(err)
		return as[0].State
	}
	for end := time.Now().Add(10 * time.Second); state() != infra.StateUp; time.Sleep(50 * time.Millisecond) {
		if time.Now().After(end) {
			t.Fatal("the switch's check never found it up")
		}
	}
	live, err := svc.Live(sys)
	must(err)
	if len(live.Stopped) != 0 {
		t.Fatalf("stopped while up: %+v", live.Stopped)
	}

	// The service stops: within one check interval (5 s, plus the tick
	// and the probe's own time) the line and the room are flagged.
	ln.Close()
	stopped := time.Now()
	interval := time.Duration(check.Every) * time.Second
	var flagged time.Duration
	for {
		live, err = svc.Live(sys)
		must(err)
		if len(live.Stopped) == 2 {
			flagged = time.Since(stopped)
			break
		}
		if time.Since(stopped) > 2*interval {
			t.Fatalf("not flagged after %s: %+v", time.Since(stopped), live)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if flagged > interval+time.Second {
		t.Errorf("flagged %s after the service stopped: more than one check interval (%s)", flagged, interval)
	}
	if live.Lines != 1 || len(live.Rooms) != 1 || live.Rooms[0].RoomID != room.ID || live.Stopped[0].Because[0].Code != "B30-SW" {
		t.Errorf("what the switch's loss stops: %+v", live)
	}
	evs, err := svc.Events(sys, sw.ID, 10)
	must(err)
	if len(evs) != 2 || evs[0].To != infra.StateDown || evs[0].Detail.Key != "stored.infra.refused" || evs[1].To != infra.StateUp {
		t.Errorf("events: %+v", evs)
	}
	t.Logf("flagged %s after the service stopped (check every %s)", flagged.Round(time.Millisecond), interval)
}
