package access

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"slices"
	"testing"
	"time"

	"galenix/internal/errs"
	"galenix/internal/identity"
	"galenix/internal/qualification"
	"galenix/internal/site"
	"galenix/internal/text"
)

var (
	paris = func() *time.Location { z, _ := time.LoadLocation("Europe/Paris"); return z }()
	// A Tuesday morning in Paris.
	tuesday = time.Date(2026, 3, 3, 8, 0, 0, 0, paris)
)

func gown(grade string, from, until time.Time) qualification.Qualification {
	return qualification.Qualification{Kind: qualification.Gowning, Subject: grade, GrantedAt: from, ValidUntil: until, Status: qualification.Granted}
}

// testPolicy is a small site: its perimeter, a grade B clean area, the
// vault, a server room and a laboratory for the laboratory's team on
// shift; Anne gowned for grade B, Bruno whose gowning lapsed, Carl and
// Dina qualified on narcotics, Ivan of IT.
func testPolicy(version int64) *Policy {
	lapsed := tuesday.AddDate(0, 0, -3)
	narcotics := qualification.Qualification{Kind: qualification.Narcotics, GrantedAt: tuesday.AddDate(-1, 0, 0), ValidUntil: tuesday.AddDate(1, 0, 0), Status: qualification.Granted}
	return &Policy{Version: version, IssuedAt: tuesday, Timezone: "Europe/Paris", Online: PassbackHard, Offline: PassbackSoft,
		Zones: []Zone{
			{ID: "z-site", Code: "SITE", Name: "Site", Kind: Perimeter, AssemblyPoint: "Parking nord"},
			{ID: "z-b", Code: "B30-B", Name: "Zone B du B30", Kind: CleanArea, Grade: site.GradeB},
			{ID: "z-vault", Code: "B70-VAULT", Name: "Coffre stupéfiants", Kind: Vault},
			{ID: "z-srv", Code: "B90-SRV", Name: "Salle serveurs", Kind: ServerRoom, Roles: ITRoles},
			{ID: "z-lab", Code: "B25-LAB", Name: "Laboratoire", Kind: Laboratory, Teams: []string{"t-lab"}, OnShift: true},
		},
		Readers: []Reader{
			{Code: "R-SITE-IN", ZoneID: "z-site", Direction: In, Door: "Portail"}, {Code: "R-SITE-OUT", ZoneID: "z-site", Direction: Out, Door: "Portail"},
			{Code: "R-B-IN", ZoneID: "z-b", Direction: In, Door: "SAS B"}, {Code: "R-B-OUT", ZoneID: "z-b", Direction: Out, Door: "SAS B"},
			{Code: "R-VAULT", ZoneID: "z-vault", Direction: In, Door: "Coffre"}, {Code: "R-SRV", ZoneID: "z-srv", Direction: In, Door: "Salle serveurs"},
			{Code: "R-LAB", ZoneID: "z-lab", Direction: In, Door: "Laboratoire"},
		},
		Holders: []Holder{
			{Badge: "B1", Name: "Anne", Roles: []identity.Role{identity.RoleOperator}, Qualifications: []qualification.Qualification{gown("B", tuesday.AddDate(0, -6, 0), tuesday.AddDate(0, 6, 0))}},
			{Badge: "B2", Name: "Bruno", Roles: []identity.Role{identity.RoleOperator}, Qualifications: []qualification.Qualification{gown("B", lapsed.AddDate(-1, 0, 0), lapsed)}},
			{Badge: "B3", Name: "Carl", Qualifications: []qualification.Qualification{narcotics}},
			{Badge: "B4", Name: "Dina", Qualifications: []qualification.Qualification{narcotics}},
			{Badge: "B5", Name: "Ivan", Roles: []identity.Role{identity.RoleAdmin}},
			{Badge: "B6", Name: "Léa", TeamID: "t-lab", Shift: &Shift{Kind: site.ShiftDay, Start: "06:00", End: "14:00"}},
		}}
}

func newKey(t *testing.T) ed25519.PrivateKey {
	t.Helper()
	_, k, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// TestBundle: a reader takes a bundle signed by the site's key and newer
// than its policy; a bundle altered, signed by another key or replayed is
// refused and the policy held kept.
func TestBundle(t *testing.T) {
	key, other := newKey(t), newKey(t)
	d := NewDevice(key.Public().(ed25519.PublicKey))
	v1, err := Sign(testPolicy(1), key)
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Load(v1); err != nil || d.PolicyVersion() != 1 {
		t.Fatalf("the site's bundle: %v", err)
	}
	v2, _ := Sign(testPolicy(2), key)
	// Altered: a badge added to the signed bytes.
	var p Policy
	_ = json.Unmarshal(v2.Policy, &p)
	p.Holders = append(p.Holders, Holder{Badge: "EVIL", Roles: []identity.Role{identity.RoleAdmin}})
	altered := *v2
	altered.Policy, _ = json.Marshal(&p)
	forged, _ := Sign(&p, other)
	for name, b := range map[string]*Bundle{"altered": &altered, "signed by another key": forged, "no signature": {Policy: v2.Policy}} {
		if err := d.Load(b); errs.CodeOf(err) != errs.Forbidden || errs.MessageOf(err, text.EN) != "This policy bundle is not signed by the site: refused, the reader keeps its policy." {
			t.Errorf("%s: %v", name, errs.MessageOf(err, text.EN))
		}
	}
	if err := d.Load(v2); err != nil || d.PolicyVersion() != 2 {
		t.Fatalf("version 2: %v", err)
	}
	// Replayed: version 1 again, and version 2 again.
	for _, b := range []*Bundle{v1, v2} {
		if err := d.Load(b); errs.CodeOf(err) != errs.Conflict || d.PolicyVersion() != 2 {
			t.Errorf("a replayed bundle: %v", err)
		}
	}
	if ev := d.Swipe("R-SITE-IN", "EVIL", tuesday); ev.Allow || ev.Rule != RuleBadge {
		t.Errorf("the forged badge: %+v", ev)
	}
}

// TestDecide: each rule, in the reader's words; leaving always allowed.
func TestDecide(t *testing.T) {
	p, err := Compile(testPolicy(1))
	if err != nil {
		t.Fatal(err)
	}
	var st State
	for _, tc := range []struct {
		name, reader, badge string
		at                  time.Time
		allow               bool
		rule, fr            string
	}{
		{"an unknown badge", "R-SITE-IN", "B99", tuesday, false, RuleBadge, "Badge B99 inconnu : accès refusé."},
		{"an unknown reader", "R-NONE", "B1", tuesday, false, RuleReader, "Lecteur R-NONE inconnu de la politique : accès refusé."},
		{"the site", "R-SITE-IN", "B1", tuesday, true, RuleAllowed, "Accès autorisé : Site."},
		{"grade B, gowned", "R-B-IN", "B1", tuesday, true, RuleAllowed, "Accès autorisé : Zone B du B30."},
		{"grade B, gowning lapsed", "R-B-IN", "B2", tuesday, false, RuleQualification, "Qualification échue le 28/02/2026 : habillage, classe B."},
		{"grade B, no gowning", "R-B-IN", "B5", tuesday, false, RuleQualification, "Qualification requise absente : habillage, classe B."},
		{"the server room, not IT", "R-SRV", "B1", tuesday, false, RuleRole, "Accès refusé à Salle serveurs : votre rôle n'y donne pas accès."},
		{"the server room, IT", "R-SRV", "B5", tuesday, true, RuleAllowed, "Accès autorisé : Salle serveurs."},
		{"the laboratory, another team", "R-LAB", "B1", tuesday, false, RuleTeam, "Accès refusé à Laboratoire : réservé à d'autres équipes."},
		{"the laboratory on shift", "R-LAB", "B6", tuesday, true, RuleAllowed, "Accès autorisé : Laboratoire."},
		{"the laboratory at night", "R-LAB", "B6", tuesday.Add(14 * time.Hour), false, RuleShift, "Accès refusé à Laboratoire : hors de votre poste."},
		{"the laboratory on Saturday", "R-LAB", "B6", tuesday.AddDate(0, 0, 4), false, RuleShift, "Accès refusé à Laboratoire : hors de votre poste."},
		{"the vault without narcotics", "R-VAULT", "B1", tuesday, false, RuleQualification, "Qualification requise absente : manipulation des stupéfiants."},
		{"grade B again (anti-passback, online)", "R-B-IN", "B1", tuesday.Add(time.Minute), false, RulePassback, "Accès refusé à Zone B du B30 : ce badge y est déjà entré sans en être sorti."},
		{"out of grade B", "R-B-OUT", "B1", tuesday.Add(2 * time.Minute), true, RuleExit, "Sortie : Zone B du B30."},
		{"grade B after leaving it", "R-B-IN", "B1", tuesday.Add(3 * time.Minute), true, RuleAllowed, "Accès autorisé : Zone B du B30."},
		{"out, even lapsed", "R-B-OUT", "B2", tuesday, true, RuleExit, "Sortie : Zone B du B30."},
	} {
		d := p.Decide(&st, tc.reader, tc.badge, tc.at, true)
		if d.Allow != tc.allow || d.Rule != tc.rule || d.Message(text.FR) != tc.fr {
			t.Errorf("%s: %+v %q, want %v %s %q", tc.name, d, d.Message(text.FR), tc.allow, tc.rule, tc.fr)
		}
	}
	// Offline, anti-passback is soft: let in, flagged.
	if d := p.Decide(&st, "R-B-IN", "B1", tuesday.Add(4*time.Minute), false); !d.Allow || !d.Flagged {
		t.Errorf("anti-passback offline: %+v", d)
	}
}

// TestVault: the vault opens to two people qualified on narcotics within
// the window, never to one alone nor to one badge shown twice.
func TestVault(t *testing.T) {
	p, _ := Compile(testPolicy(1))
	var st State
	if d := p.Decide(&st, "R-VAULT", "B3", tuesday, true); d.Allow || d.Rule != RuleTwoPersonWait || d.Message(text.EN) != "Coffre stupéfiants needs a second authorised person within 30 s." {
		t.Fatalf("the first badge: %+v %q", d, d.Message(text.EN))
	}
	if d := p.Decide(&st, "R-VAULT", "B3", tuesday.Add(5*time.Second), true); d.Allow {
		t.Fatalf("the same badge twice: %+v", d)
	}
	if d := p.Decide(&st, "R-VAULT", "B4", tuesday.Add(40*time.Second), true); d.Allow {
		t.Fatalf("the second badge after the window: %+v", d)
	}
	d := p.Decide(&st, "R-VAULT", "B3", tuesday.Add(50*time.Second), true)
	if !d.Allow || d.Rule != RuleTwoPerson || d.With != "B4" {
		t.Fatalf("two people within the window: %+v", d)
	}
	if !st.Inside["B3"]["z-vault"] || !st.Inside["B4"]["z-vault"] {
		t.Errorf("both are inside: %+v", st.Inside)
	}
}

// TestOfflineBurst: a reader offline keeps deciding, numbering its events
// one after the other; back online, it sends them; what galenix stored is
// acknowledged and forgotten, the rest sent again; the gaps of what was
// received are found.
func TestOfflineBurst(t *testing.T) {
	key := newKey(t)
	d := NewDevice(key.Public().(ed25519.PublicKey))
	b, _ := Sign(testPolicy(1), key)
	if err := d.Load(b); err != nil {
		t.Fatal(err)
	}
	d.Swipe("R-SITE-IN", "B1", tuesday)
	d.Online = false
	for i := range 50 {
		badge := []string{"B1", "B2", "B3"}[i%3]
		ev := d.Swipe("R-B-IN", badge, tuesday.Add(time.Duration(i)*time.Second))
		if !ev.Offline || ev.Seq != int64(i+1) || ev.Policy != 1 {
			t.Fatalf("offline event %d: %+v", i, ev)
		}
	}
	d.Online = true
	pending := d.Pending()
	if len(pending) != 51 {
		t.Fatalf("%d events pending, want 51", len(pending))
	}
	// galenix received the site's and the first 20 of grade B.
	d.Ack(map[string]int64{"R-SITE-IN": 1, "R-B-IN": 20})
	if left := d.Pending(); len(left) != 30 || left[0].Seq != 21 || left[0].Reader != "R-B-IN" {
		t.Fatalf("after the acknowledgement: %d left, first %+v", len(left), left[0])
	}
	if g := Gaps("R-B-IN", []int64{1, 2, 5, 6, 9}); !slices.Equal(g, []Gap{{"R-B-IN", 3, 4}, {"R-B-IN", 7, 8}}) {
		t.Errorf("gaps: %+v", g)
	}
	if g := Gaps("R", []int64{2}); !slices.Equal(g, []Gap{{"R", 1, 1}}) {
		t.Errorf("the first missing: %+v", g)
	}
}

// TestZoneValidate: a clean area names its grade; a server room admits IT
// alone.
func TestZoneValidate(t *testing.T) {
	for _, tc := range []struct {
		z     Zone
		field string
	}{
		{Zone{Code: "Z", Name: "Z", Kind: CleanArea}, "grade"},
		{Zone{Code: "Z", Name: "Z", Kind: "garden"}, "kind"},
		{Zone{Code: "", Name: "Z", Kind: Building}, "code"},
		{Zone{Code: "Z", Name: "Z", Kind: ServerRoom, Roles: []identity.Role{identity.RoleOperator}}, "roles"},
	} {
		if err := tc.z.Validate(); errs.FieldOf(err) != tc.field {
			t.Errorf("%+v: %v, want %s", tc.z, err, tc.field)
		}
	}
	z := Zone{Code: "SRV", Name: "Serveurs", Kind: ServerRoom}
	if err := z.Validate(); err != nil || !slices.Equal(z.Roles, ITRoles) {
		t.Errorf("a server room's roles default to IT: %+v %v", z, err)
	}
}

// TestPresent: who is on site from the passages: in the last zone
// entered and not left, else on the site; gone once out of the gate; seen
// inside without the gate's event, on site all the same; each with the
// assembly point of their zone, their building's, or the site's.
func TestPresent(t *testing.T) {
	zones := []Zone{{ID: "site", Name: "Site", Kind: Perimeter, AssemblyPoint: "Parking nord"},
		{ID: "b30", Name: "Bâtiment 30", Kind: Building, BuildingID: "B30", AssemblyPoint: "Pelouse est"},
		{ID: "b30-b", Name: "Zone B", Kind: CleanArea, BuildingID: "B30", Grade: site.GradeB},
		{ID: "b90", Name: "Bâtiment 90", Kind: Building, BuildingID: "B90"}}
	at := func(m int) time.Time { return tuesday.Add(time.Duration(m) * time.Minute) }
	p := func(who, zone string, dir Direction, m int) Passage {
		return Passage{PersonID: who, Badge: "B-" + who, Name: who, ZoneID: zone, Direction: dir, Reader: "R-" + zone, At: at(m)}
	}
	got := Present([]Passage{
		p("anne", "site", In, 0), p("anne", "b30", In, 1), p("anne", "b30-b", In, 2),
		p("bruno", "site", In, 0), p("bruno", "b30", In, 1), p("bruno", "b30-b", In, 2), p("bruno", "b30-b", Out, 30),
		p("carl", "site", In, 0), p("carl", "site", Out, 60),
		p("dina", "b90", In, 5),
		p("eve", "site", In, 10),
	}, zones)
	want := []struct{ name, zone, point string }{
		{"dina", "Bâtiment 90", "Parking nord"}, {"eve", "Site", "Parking nord"},
		{"anne", "Zone B", "Pelouse est"}, {"bruno", "Bâtiment 30", "Pelouse est"},
	}
	if len(got) != len(want) {
		t.Fatalf("present: %+v", got)
	}
	for i, w := range want {
		if got[i].Name != w.name || got[i].Zone != w.zone || got[i].AssemblyPoint != w.point {
			t.Errorf("%d: %+v, want %+v", i, got[i], w)
		}
	}
	if got[3].Since != at(0) || got[3].LastSeen != at(30) || got[3].LastReader != "R-b30-b" {
		t.Errorf("bruno's times: %+v", got[3])
	}
}

// TestInsideOffline: a controller lists who it let in and did not let
// out, with the policy's names: the muster's list when galenix cannot be
// reached.
func TestInsideOffline(t *testing.T) {
	key := newKey(t)
	d := NewDevice(key.Public().(ed25519.PublicKey))
	b, _ := Sign(testPolicy(1), key)
	if err := d.Load(b); err != nil {
		t.Fatal(err)
	}
	d.Online = false
	d.Swipe("R-SITE-IN", "B1", tuesday)
	d.Swipe("R-SITE-IN", "B5", tuesday)
	d.Swipe("R-SITE-OUT", "B5", tuesday.Add(time.Hour))
	in := d.Inside()
	if len(in) != 1 || in[0].Name != "Anne" || in[0].Zone != "Site" || in[0].AssemblyPoint != "Parking nord" {
		t.Fatalf("inside: %+v", in)
	}
}

// TestAlerts: three denials of a badge within ten minutes raise one
// alert, a door forced and one held open each theirs, a badge let into
// two buildings within a minute one, a badge leaving again a zone it had
// left one; what was stored before raises nothing again.
func TestAlerts(t *testing.T) {
	at := func(s int) time.Time { return tuesday.Add(time.Duration(s) * time.Second) }
	ev := func(reader string, seq int64, badge string, allow bool, dir Direction, zone, building string, s int) Seen {
		return Seen{Event: Event{Reader: reader, Seq: seq, Badge: badge, At: at(s), Allow: allow}, ZoneID: zone, BuildingID: building, Direction: dir}
	}
	earlier := []Seen{ev("R-B", 1, "B2", false, In, "z-b", "B30", 0), ev("R-B", 2, "B2", false, In, "z-b", "B30", 60)}
	door := ev("R-B", 6, "", false, In, "z-b", "B30", 400)
	door.Kind = DoorForced
	held := ev("R-B", 7, "", false, In, "z-b", "B30", 500)
	held.Kind = DoorHeld
	fresh := []Seen{
		ev("R-B", 3, "B2", false, In, "z-b", "B30", 120),
		ev("R-30", 1, "B1", true, In, "z-30", "B30", 200), ev("R-40", 1, "B1", true, In, "z-40", "B40", 230),
		ev("R-30-OUT", 1, "B3", true, Out, "z-30", "B30", 300), ev("R-30-OUT", 2, "B3", true, Out, "z-30", "B30", 360),
		door, held,
	}
	got := Alerts(fresh, earlier)
	var kinds []string
	for _, a := range got {
		kinds = append(kinds, a.Kind)
	}
	want := []string{AlertDenials, AlertTwoPlaces, AlertTailgating, AlertForced, AlertHeld}
	if !slices.Equal(kinds, want) {
		t.Fatalf("alerts: %v, want %v (%+v)", kinds, want, got)
	}
	if got[0].Detail != "badge=B2 denials=3 reader=R-B" {
		t.Errorf("the denials' detail: %q", got[0].Detail)
	}
	if again := Alerts(nil, append(earlier, fresh...)); len(again) != 0 {
		t.Errorf("raised again: %+v", again)
	}
}
