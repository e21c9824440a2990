package app_test

import (
	"context"
	"testing"
	"time"

	"galenix/internal/app"
	"galenix/internal/environment"
	"galenix/internal/identity"
	"galenix/internal/site"
)

// TestLeaderRollsUpReadings: the leading node makes the roll-ups of the
// readings received (its job environment.rollup), without being asked.
func TestLeaderRollsUpReadings(t *testing.T) {
	defer func(d time.Duration) { app.LeaderEvery = d }(app.LeaderEvery)
	app.LeaderEvery = 50 * time.Millisecond
	m := app.New(app.Config{Addr: "127.0.0.1:0", DataDir: t.TempDir(), DrainTimeout: -1}, nil)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := m.Open(ctx); err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	sys := identity.WithActor(ctx, identity.System)
	now := time.Now().UTC().Truncate(time.Second)
	s := oneSensor(t, m, now)
	// Two hours of readings, received ten minutes ago.
	var rs []environment.Reading
	for i := range 120 {
		rs = append(rs, environment.Reading{SensorID: s.ID, Seq: uint64(i + 1), At: now.Add(-2*time.Hour - 11*time.Minute + time.Duration(i)*time.Minute), Value: 20 + float64(i%10)/10})
	}
	m.DB.Now = func() time.Time { return now.Add(-10 * time.Minute) }
	if _, err := m.DB.Environment().AppendReadings(sys, rs, nil); err != nil {
		t.Fatal(err)
	}
	m.DB.Now = func() time.Time { return time.Now().UTC() }
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx) }()
	want := environment.Roll(rs, environment.Minute)
	// The minutes and the closed hours (at least two of the three the
	// readings touch), which a run may commit one after the other.
	for deadline := time.Now().Add(10 * time.Second); ; {
		got, err := m.DB.Environment().Rollups(sys, s.ID, environment.Minute, now.Add(-3*time.Hour), now)
		if err != nil {
			t.Fatal(err)
		}
		// From four hours back: the first hour the readings touch starts
		// up to 3 h 11 min before now.
		hours, err := m.DB.Environment().Rollups(sys, s.ID, environment.Hour, now.Add(-4*time.Hour), now)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) == len(want) && len(hours) >= 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the leader rolled up %d minutes of %d and %d hours within 10 s", len(got), len(want), len(hours))
		}
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// oneSensor writes a site with one room of grade D and one temperature
// sensor in it, as galenix itself, and returns the sensor.
func oneSensor(t *testing.T, m *app.Main, now time.Time) environment.Sensor {
	t.Helper()
	sys := identity.WithActor(context.Background(), identity.System)
	b := site.Building{Code: "B1", Name: "Building", Role: site.RoleProduction}
	r := site.Room{Code: "R1", Name: "Room", Grade: site.GradeD, TempMin: 15, TempMax: 25, HumidityMin: 20, HumidityMax: 70}
	s := environment.Sensor{Code: "T1", Name: "Temperature", Kind: environment.KindTemperature, Place: environment.PlaceRoom,
		Location: "Wall", LocationSince: now.AddDate(0, -1, 0), CalibrationDue: now.AddDate(1, 0, 0), Decimals: 1}
	for _, step := range []func() error{
		func() error {
			return m.DB.Site().CreateSite(sys, &site.Site{Code: "S", Name: "Site", Timezone: "Europe/Paris"})
		},
		func() error { return m.DB.Site().CreateBuilding(sys, &b) },
		func() error { r.BuildingID = b.ID; return m.DB.Site().CreateRoom(sys, &r) },
		func() error { s.PlaceID = r.ID; return m.DB.Environment().CreateSensor(sys, &s) },
	} {
		if err := step(); err != nil {
			t.Fatal(err)
		}
	}
	return s
}
