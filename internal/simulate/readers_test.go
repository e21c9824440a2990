package simulate

import (
	"testing"
	"time"

	"galenix/internal/access"
)

// TestReadersRound: the simulated readers number their events after the
// last galenix holds, let people in then out in turn, send again what was
// not acknowledged, and decide from a newer policy only.
func TestReadersRound(t *testing.T) {
	p := &access.Policy{Version: 3, Timezone: "Europe/Paris",
		Zones: []access.Zone{{ID: "site", Name: "Site", Kind: access.Perimeter}, {ID: "b1", Name: "B1", Kind: access.Building, BuildingID: "B1"}},
		Readers: []access.Reader{{Code: "GATE-IN", ZoneID: "site", Direction: access.In}, {Code: "GATE-OUT", ZoneID: "site", Direction: access.Out},
			{Code: "B1-IN", ZoneID: "b1", Direction: access.In}},
		Holders: []access.Holder{{Badge: "A"}, {Badge: "B"}}}
	r, err := NewReaders(map[string]int64{"GATE-IN": 10})
	if err != nil {
		t.Fatal(err)
	}
	r.PerRound = 1
	at := time.Date(2026, 3, 3, 8, 0, 0, 0, time.UTC)
	first, err := r.Round(p, at)
	if err != nil {
		t.Fatal(err)
	}
	if evs := first["GATE-IN"]; len(evs) != 1 || evs[0].Seq != 11 || !evs[0].Allow || len(first["B1-IN"]) != 1 {
		t.Fatalf("the first round: %+v", first)
	}
	// Not acknowledged: sent again with the next round.
	second, err := r.Round(p, at.Add(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if len(second["GATE-IN"]) < 1 || second["GATE-IN"][0].Seq != 11 {
		t.Fatalf("the second round does not send the first again: %+v", second)
	}
	r.Ack(second)
	// Round after round, each person comes in, then goes out.
	var outs int
	for i := range 4 {
		evs, err := r.Round(p, at.Add(time.Duration(2+i)*time.Minute))
		if err != nil {
			t.Fatal(err)
		}
		outs += len(evs["GATE-OUT"])
		r.Ack(evs)
	}
	if outs == 0 {
		t.Error("nobody ever left")
	}
	if len(r.dev.Pending()) != 0 {
		t.Errorf("left pending: %+v", r.dev.Pending())
	}
}
