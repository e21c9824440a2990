package store_test

import (
	"context"
	"maps"
	"reflect"
	"strings"
	"testing"
	"time"

	"galenix/internal/errs"
	"galenix/internal/esign"
	"galenix/internal/identity"
	"galenix/internal/production"
	"galenix/internal/site"
	"galenix/internal/store"
)

// catEnv is the signing environment with a catalogue: quality assurance
// (quinn) and the supervisor (victor) are assigned to the client alpha;
// alpha has a product, beta another, and the site a material.
type catEnv struct {
	*sigEnv
	svc       *store.ProductionStore
	alphaProd production.Product
	betaProd  production.Product
	water     production.Material
}

func newCatEnv(t *testing.T, db *store.DB) *catEnv {
	t.Helper()
	e := &catEnv{sigEnv: newSigEnv(t, db), svc: db.Production()}
	sys := as(identity.System)
	must(t, db.Write(sys, "test.seed", "", func(tx *store.Tx) error { return tx.AssignClient(e.acc["quinn"].ID, e.alpha.ID) }))
	e.alphaProd = newProduct(e.alpha.ID, "P-ALPHA", site.FormVial)
	must(t, e.svc.CreateProduct(e.as("victor"), &e.alphaProd))
	e.betaProd = newProduct(e.beta.ID, "P-BETA", site.FormTablet)
	must(t, e.svc.CreateProduct(sys, &e.betaProd))
	e.water = production.Material{Code: "WFI", Name: "Water for injection", Kind: production.MaterialRaw, Unit: "L"}
	must(t, e.svc.CreateMaterial(e.as("victor"), &e.water))
	return e
}

// as is the context of username's session, with their client assignments.
func (e *catEnv) as(username string) context.Context {
	a := e.acc[username].Actor()
	a.SessionID, a.Address = "session-"+username+"-1", "10.0.0.9"
	if username == "victor" || username == "quinn" {
		a.Assigned = []string{e.alpha.ID}
	}
	return as(a)
}

// signAs signs a record as username, with a fresh challenge.
func (e *catEnv) signAs(t *testing.T, username, entity, id string, m esign.Meaning, reason ...string) (*esign.Signature, error) {
	t.Helper()
	ctx := e.as(username)
	c, err := e.sigEnv.svc.Challenge(ctx, esign.ChallengeRequest{Entity: entity, EntityID: id, Meaning: string(m)})
	if err != nil {
		return nil, err
	}
	return e.sigEnv.svc.Sign(ctx, esign.SignRequest{Entity: entity, EntityID: id, Meaning: string(m), Username: username, Password: password,
		Reason: strings.Join(reason, ""), Challenge: c.Challenge})
}

// betaUser is a user of the client beta.
func (e *catEnv) betaUser() context.Context {
	return as(identity.Actor{UserID: store.NewID(), Username: "bea", Name: "Bea Beta", Roles: []identity.Role{identity.RoleClientUser}, ClientID: e.beta.ID})
}

func newProduct(clientID, code string, form site.Form) production.Product {
	return production.Product{ClientID: clientID, Code: code, Name: "Product " + code, Form: form, Strength: "10 mg/mL",
		Presentation: "Box of 10", Storage: "2–8 °C"}
}

func newMaster(productID, materialID, code string) production.Master {
	low, target, high := 6.8, 7.0, 7.2
	return production.Master{ProductID: productID, Code: code, Title: "Filling of " + code, BatchSize: 10000, Unit: "vials", Hours: 8,
		Operations: []production.Operation{
			{Title: "Preparation", Steps: []production.Step{
				{Kind: production.StepClearance, Text: "Clear the line", Checklist: []string{"No material of the previous batch", "Documents removed"}},
				{Kind: production.StepMaterial, Text: "Add the water", MaterialID: materialID, Quantity: 12.5, Tolerance: 2, Critical: true},
			}},
			{Title: "Mixing", Steps: []production.Step{
				{Kind: production.StepNumeric, Text: "Measure the pH", Unit: "pH", Target: &target, Low: &low, High: &high, Decimals: 2},
			}},
		}}
}

// catalogueTables are the tables a refused catalogue write must leave as
// they were.
var catalogueTables = []string{"products", "materials", "material_lots", "masters", "signatures", "audit_log"}

func catalogueCounts(t *testing.T, db *store.DB) map[string]int {
	t.Helper()
	out := map[string]int{}
	for _, tb := range catalogueTables {
		n, err := db.CountRows(tb)
		must(t, err)
		out[tb] = n
	}
	return out
}

func sameCatalogue(t *testing.T, db *store.DB, before map[string]int) {
	t.Helper()
	if after := catalogueCounts(t, db); !maps.Equal(before, after) {
		t.Errorf("a refused write changed the database: before %v, after %v", before, after)
	}
}

func TestProductScope(t *testing.T) {
	t.Parallel()
	forEachDB(t, func(t *testing.T, db *store.DB) {
		e := newCatEnv(t, db)
		s := e.svc
		victor, carla, olga := e.as("victor"), e.as("carla"), e.as("olga")

		got, err := s.Product(victor, e.alphaProd.ID)
		sameRow(t, got, err, &e.alphaProd)
		if !got.Sterile || got.SpecialClass != production.ClassNone {
			t.Errorf("sterile and class set by validation: %+v", got)
		}
		wantFields(t, trail(t, db, "product", e.alphaProd.ID, 0),
			"product.create client_id →"+e.alpha.ID+" client="+e.alpha.ID, "product.create code →P-ALPHA client="+e.alpha.ID,
			"product.create name →Product P-ALPHA client="+e.alpha.ID, "product.create form →vial client="+e.alpha.ID,
			"product.create sterile →true client="+e.alpha.ID, "product.create strength →10 mg/mL client="+e.alpha.ID,
			"product.create presentation →Box of 10 client="+e.alpha.ID, "product.create special_class →none client="+e.alpha.ID,
			"product.create storage →2–8 °C client="+e.alpha.ID, "product.create shelf_life_months →0 client="+e.alpha.ID)

		codes := func(ctx context.Context, f production.ProductFilter) []string {
			t.Helper()
			ps, err := s.Products(ctx, f)
			must(t, err)
			out := []string{}
			for _, p := range ps {
				out = append(out, p.Code)
			}
			return out
		}
		for _, c := range []struct {
			name string
			ctx  context.Context
			f    production.ProductFilter
			want []string
		}{
			{"assigned staff", victor, production.ProductFilter{}, []string{"P-ALPHA"}},
			{"galenix", as(identity.System), production.ProductFilter{}, []string{"P-ALPHA", "P-BETA"}},
			{"galenix, one client", as(identity.System), production.ProductFilter{ClientID: e.beta.ID}, []string{"P-BETA"}},
			{"a client out of scope", victor, production.ProductFilter{ClientID: e.beta.ID}, []string{}},
			{"a filter that is no id", victor, production.ProductFilter{ClientID: "alpha"}, []string{}},
			{"the client's user", carla, production.ProductFilter{}, []string{"P-ALPHA"}},
			{"another client's user", e.betaUser(), production.ProductFilter{}, []string{"P-BETA"}},
			{"unassigned staff", olga, production.ProductFilter{}, []string{}},
		} {
			if got := codes(c.ctx, c.f); !reflect.DeepEqual(got, c.want) {
				t.Errorf("%s: got %v, want %v", c.name, got, c.want)
			}
		}
		if _, err := s.Product(carla, e.alphaProd.ID); err != nil {
			t.Errorf("the client's user reading its product: %v", err)
		}
		for name, ctx := range map[string]context.Context{"another client's user": e.betaUser(), "unassigned staff": olga} {
			_, err := s.Product(ctx, e.alphaProd.ID)
			if errs.CodeOf(err) != errs.NotFound {
				t.Errorf("%s reading alpha's product: %v, want not found", name, err)
			}
		}
		_, err = s.Product(carla, e.betaProd.ID)
		wantErr(t, err, errs.NotFound, "")
		_, err = s.Product(victor, "P-ALPHA")
		wantErr(t, err, errs.NotFound, "")
		security := as(identity.Actor{UserID: store.NewID(), Username: "sam", Name: "Sam", Roles: []identity.Role{identity.RoleSecurity}})
		_, err = s.Products(security, production.ProductFilter{})
		wantErr(t, err, errs.Forbidden, "")

		if db.Dialect() == store.Postgres {
			// Row-level security: beyond the query's filter.
			if n, err := db.CountUnfiltered(carla, "products"); err != nil || n != 1 {
				t.Errorf("products seen past the filter by alpha's user: %d, %v", n, err)
			}
		}
	})
}

func TestProductRefusals(t *testing.T) {
	t.Parallel()
	forEachDB(t, func(t *testing.T, db *store.DB) {
		e := newCatEnv(t, db)
		s := e.svc
		victor := e.as("victor")
		for _, c := range []struct {
			name  string
			ctx   context.Context
			p     production.Product
			code  errs.Code
			field string
		}{
			{"operator", e.as("olga"), newProduct(e.alpha.ID, "P-NEW", site.FormVial), errs.Forbidden, ""},
			{"client user", e.as("carla"), newProduct(e.alpha.ID, "P-NEW", site.FormVial), errs.Forbidden, ""},
			{"client out of scope", victor, newProduct(e.beta.ID, "P-NEW", site.FormVial), errs.Invalid, "client_id"},
			{"no client", victor, newProduct("", "P-NEW", site.FormVial), errs.Invalid, "client_id"},
			{"client that is no id", victor, newProduct("alpha", "P-NEW", site.FormVial), errs.Invalid, "client_id"},
			{"unknown form", victor, newProduct(e.alpha.ID, "P-NEW", "cream"), errs.Invalid, "form"},
			{"code taken by the client's own product", victor, newProduct(e.alpha.ID, "P-ALPHA", site.FormVial), errs.Conflict, "code"},
			{"code with a space", victor, newProduct(e.alpha.ID, "P NEW", site.FormVial), errs.Invalid, "code"},
		} {
			t.Run(c.name, func(t *testing.T) {
				before := catalogueCounts(t, db)
				p := c.p
				wantErr(t, s.CreateProduct(c.ctx, &p), c.code, c.field)
				sameCatalogue(t, db, before)
			})
		}

		t.Run("update", func(t *testing.T) {
			before := catalogueCounts(t, db)
			p := e.alphaProd
			p.Name = "Renamed product"
			wantErr(t, s.UpdateProduct(victor, &p, ""), errs.Invalid, "reason")
			wantErr(t, s.UpdateProduct(e.as("carla"), &p, "why not"), errs.Forbidden, "")
			q := p
			q.ClientID = e.beta.ID
			wantErr(t, s.UpdateProduct(victor, &q, "move it"), errs.Invalid, "client_id")
			r := e.betaProd
			wantErr(t, s.UpdateProduct(victor, &r, "not mine"), errs.NotFound, "")
			sameCatalogue(t, db, before)

			// A change that changes nothing writes nothing, reason or not.
			same := e.alphaProd
			must(t, s.UpdateProduct(victor, &same, ""))
			sameCatalogue(t, db, before)

			seq := lastSeqAll(t, db)
			must(t, s.UpdateProduct(victor, &p, "Name of the marketing authorisation"))
			wantFields(t, trail(t, db, "product", p.ID, seq),
				"product.update name Product P-ALPHA→Renamed product [Name of the marketing authorisation] client="+e.alpha.ID)
			got, err := s.Product(victor, p.ID)
			sameRow(t, got, err, &p)
		})
	})
}

func TestMaterialsAndLots(t *testing.T) {
	t.Parallel()
	forEachDB(t, func(t *testing.T, db *store.DB) {
		e := newCatEnv(t, db)
		s := e.svc
		victor, quinn, carla := e.as("victor"), e.as("quinn"), e.as("carla")
		expires := time.Date(2027, 6, 30, 15, 4, 0, 0, time.FixedZone("CEST", 2*3600))

		before := catalogueCounts(t, db)
		wantErr(t, s.CreateMaterial(e.as("olga"), &production.Material{Code: "X", Name: "X", Kind: production.MaterialRaw, Unit: "kg"}), errs.Forbidden, "")
		wantErr(t, s.CreateMaterial(victor, &production.Material{Code: "X", Name: "X", Kind: "gas", Unit: "kg"}), errs.Invalid, "kind")
		wantErr(t, s.CreateMaterial(victor, &production.Material{Code: "WFI", Name: "Again", Kind: production.MaterialRaw, Unit: "L"}), errs.Conflict, "code")
		wantErr(t, s.CreateLot(victor, &production.Lot{MaterialID: store.NewID(), Code: "L-1", Quantity: 5, ExpiresOn: expires}), errs.Invalid, "material_id")
		wantErr(t, s.CreateLot(victor, &production.Lot{MaterialID: e.water.ID, Code: "L-1", Quantity: -5, ExpiresOn: expires}), errs.Invalid, "quantity")
		// A received lot starts in quarantine: QA's signature releases it.
		wantErr(t, s.CreateLot(victor, &production.Lot{MaterialID: e.water.ID, Code: "L-1", Status: production.LotReleased, Quantity: 5, ExpiresOn: expires}), errs.Invalid, "status")
		wantErr(t, s.CreateLot(quinn, &production.Lot{MaterialID: e.water.ID, Code: "L-1", Status: production.LotReleased, Quantity: 5, ExpiresOn: expires}), errs.Invalid, "status")
		wantErr(t, s.CreateLot(e.as("olga"), &production.Lot{MaterialID: e.water.ID, Code: "L-1", Quantity: 5, ExpiresOn: expires}), errs.Forbidden, "")
		sameCatalogue(t, db, before)

		// A receipt in the future, an expiry before the receipt: refused.
		tomorrow := now.AddDate(0, 0, 1)
		wantErr(t, s.CreateLot(victor, &production.Lot{MaterialID: e.water.ID, Code: "L-1", Quantity: 5, ExpiresOn: expires, ReceivedOn: &tomorrow}), errs.Invalid, "received_on")
		wantErr(t, s.CreateLot(victor, &production.Lot{MaterialID: e.water.ID, Code: "L-1", Quantity: 5, ExpiresOn: now.AddDate(0, 0, -2)}), errs.Invalid, "expires_on")
		sameCatalogue(t, db, before)

		// Received today (the clock's day), with its supplier's lot.
		lot := production.Lot{MaterialID: e.water.ID, Code: "WFI-2603-01", Quantity: 25, ExpiresOn: expires, Supplier: "Fresenius Kabi", SupplierLot: "FK-26-0117"}
		must(t, s.CreateLot(victor, &lot))
		received := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)
		want := production.Lot{ID: lot.ID, MaterialID: e.water.ID, Code: "WFI-2603-01", Status: production.LotQuarantine, Quantity: 25,
			ExpiresOn: time.Date(2027, 6, 30, 0, 0, 0, 0, time.UTC), Supplier: "Fresenius Kabi", SupplierLot: "FK-26-0117", ReceivedOn: &received,
			Material: "Water for injection", Unit: "L"}
		got, err := s.Lot(victor, lot.ID)
		sameRow(t, got, err, &want)
		wantFields(t, trail(t, db, "lot", lot.ID, 0), "lot.create material_id →"+e.water.ID, "lot.create code →WFI-2603-01",
			"lot.create status →quarantine", "lot.create quantity →25", "lot.create expires_on →2027-06-30",
			"lot.create supplier →Fresenius Kabi", "lot.create supplier_lot →FK-26-0117", "lot.create received_on →2026-03-02")
		other := production.Lot{MaterialID: e.water.ID, Code: "WFI-2603-02", Quantity: 3.5, ExpiresOn: expires}
		must(t, s.CreateLot(quinn, &other))

		lots := func(ctx context.Context, f production.LotFilter) []string {
			t.Helper()
			ls, err := s.Lots(ctx, f)
			must(t, err)
			out := []string{}
			for _, l := range ls {
				out = append(out, l.Code)
			}
			return out
		}
		for _, c := range []struct {
			name string
			ctx  context.Context
			f    production.LotFilter
			want []string
		}{
			{"all", e.as("olga"), production.LotFilter{}, []string{"WFI-2603-01", "WFI-2603-02"}},
			{"by material", victor, production.LotFilter{MaterialID: e.water.ID}, []string{"WFI-2603-01", "WFI-2603-02"}},
			{"another material", victor, production.LotFilter{MaterialID: store.NewID()}, []string{}},
			{"by code", victor, production.LotFilter{Code: "WFI-2603-02"}, []string{"WFI-2603-02"}},
			{"a client's user", carla, production.LotFilter{}, []string{}},
		} {
			if got := lots(c.ctx, c.f); !reflect.DeepEqual(got, c.want) {
				t.Errorf("lots, %s: got %v, want %v", c.name, got, c.want)
			}
		}
		if ms, err := s.Materials(carla); err != nil || len(ms) != 0 {
			t.Errorf("materials seen by a client's user: %v, %v", ms, err)
		}
		if ms, err := s.Materials(e.as("olga")); err != nil || len(ms) != 1 || ms[0] != e.water {
			t.Errorf("materials seen by the operator: %v, %v", ms, err)
		}
		_, err = s.Lot(carla, lot.ID)
		wantErr(t, err, errs.NotFound, "")
		_, err = s.Material(carla, e.water.ID)
		wantErr(t, err, errs.NotFound, "")

		t.Run("status", func(t *testing.T) {
			before := catalogueCounts(t, db)
			_, err := s.SetLotStatus(victor, lot.ID, production.LotReleased, "Analysed")
			wantErr(t, err, errs.Forbidden, "")
			_, err = s.SetLotStatus(quinn, lot.ID, production.LotReleased, " ")
			wantErr(t, err, errs.Invalid, "reason")
			_, err = s.SetLotStatus(quinn, lot.ID, "approved", "Analysed")
			wantErr(t, err, errs.Invalid, "status")
			_, err = s.SetLotStatus(quinn, store.NewID(), production.LotReleased, "Analysed")
			wantErr(t, err, errs.NotFound, "")
			sameCatalogue(t, db, before)

			// Released or rejected only by quality's signature
			// (TestCatalogueSignatures): unsigned, refused, nothing written.
			seq := lastSeqAll(t, db)
			for _, st := range []production.LotStatus{production.LotReleased, production.LotRejected} {
				_, err = s.SetLotStatus(quinn, lot.ID, st, "Certificate of analysis conforms")
				wantErr(t, err, errs.Invalid, "status")
			}
			sameCatalogue(t, db, before)
			wantFields(t, trail(t, db, "lot", lot.ID, seq))
			// Quarantine again is no change and writes nothing.
			got, err := s.SetLotStatus(quinn, lot.ID, production.LotQuarantine, "Supplier complaint")
			must(t, err)
			if got.Status != production.LotQuarantine || got.Material != "Water for injection" {
				t.Errorf("lot %+v", got)
			}
			sameCatalogue(t, db, before)
			wantFields(t, trail(t, db, "lot", lot.ID, seq))
		})

		t.Run("update a material", func(t *testing.T) {
			salt := production.Material{Code: "NACL", Name: "Sodium chloride", Kind: production.MaterialRaw, Unit: "kg"}
			must(t, s.CreateMaterial(victor, &salt))
			if salt.Version != 1 {
				t.Fatalf("a new material at version %d", salt.Version)
			}
			before := catalogueCounts(t, db)
			edit := func(change func(m *production.Material)) *production.Material {
				m := salt
				change(&m)
				return &m
			}
			wantErr(t, s.UpdateMaterial(victor, edit(func(m *production.Material) { m.Name = "NaCl" }), " "), errs.Invalid, "reason")
			wantErr(t, s.UpdateMaterial(victor, edit(func(m *production.Material) { m.Kind = "gas" }), "kind"), errs.Invalid, "kind")
			wantErr(t, s.UpdateMaterial(victor, edit(func(m *production.Material) { m.Unit = "" }), "unit"), errs.Invalid, "unit")
			wantErr(t, s.UpdateMaterial(victor, edit(func(m *production.Material) { m.Code = "WFI" }), "same code"), errs.Conflict, "code")
			wantErr(t, s.UpdateMaterial(e.as("olga"), edit(func(m *production.Material) { m.Name = "NaCl" }), "operator"), errs.Forbidden, "")
			wantErr(t, s.UpdateMaterial(carla, edit(func(m *production.Material) { m.Name = "NaCl" }), "client"), errs.Forbidden, "")
			wantErr(t, s.UpdateMaterial(victor, edit(func(m *production.Material) { m.ID = store.NewID() }), "none"), errs.NotFound, "")
			_, err := db.Production().Material(victor, salt.ID)
			must(t, err)
			sameCatalogue(t, db, before)

			seq := lastSeqAll(t, db)
			m := edit(func(m *production.Material) { m.Name = "Sodium chloride, Ph. Eur."; m.Unit = "g" })
			must(t, s.UpdateMaterial(victor, m, "Pharmacopoeia grade, weighed in grams"))
			if m.Version != 2 {
				t.Errorf("version after the change: %d", m.Version)
			}
			got, err := s.Material(victor, salt.ID)
			sameRow(t, got, err, m)
			wantFields(t, trail(t, db, "material", salt.ID, seq),
				"material.update name Sodium chloride→Sodium chloride, Ph. Eur. [Pharmacopoeia grade, weighed in grams]",
				"material.update unit kg→g [Pharmacopoeia grade, weighed in grams]")
			// The form read at version 1 is stale now: refused, nothing written.
			before = catalogueCounts(t, db)
			wantErr(t, s.UpdateMaterial(victor, edit(func(m *production.Material) { m.Name = "Salt" }), "stale"), errs.Stale, "")
			sameCatalogue(t, db, before)
		})

		t.Run("consume", func(t *testing.T) {
			olga := e.as("olga")
			seq := lastSeqAll(t, db)
			must(t, db.Write(olga, "test.consume", "", func(tx *store.Tx) error { return tx.ConsumeLot(lot.ID, 2.4) }))
			must(t, db.Write(olga, "test.consume", "", func(tx *store.Tx) error { return tx.ConsumeLot(lot.ID, 0.2) }))
			wantFields(t, trail(t, db, "lot", lot.ID, seq), "test.consume quantity 25→22.6", "test.consume quantity 22.6→22.4")
			before := catalogueCounts(t, db)
			err := db.Write(olga, "test.consume", "", func(tx *store.Tx) error { return tx.ConsumeLot(lot.ID, 22.5) })
			wantErr(t, err, errs.Conflict, "")
			if msg := errs.MessageOf(err, "fr"); msg != "Le lot WFI-2603-01 contient 22,4 L : pas assez pour 22,5 L." {
				t.Errorf("message %q", msg)
			}
			err = db.Write(olga, "test.consume", "", func(tx *store.Tx) error { return tx.ConsumeLot(lot.ID, 0) })
			wantErr(t, err, errs.Invalid, "quantity")
			err = db.Write(olga, "test.consume", "", func(tx *store.Tx) error { return tx.ConsumeLot(store.NewID(), 1) })
			wantErr(t, err, errs.NotFound, "")
			sameCatalogue(t, db, before)
			// All that is left may be used.
			must(t, db.Write(olga, "test.consume", "", func(tx *store.Tx) error { return tx.ConsumeLot(lot.ID, 22.4) }))
			if got, err := s.Lot(olga, lot.ID); err != nil || got.Quantity != 0 {
				t.Errorf("lot emptied: %+v, %v", got, err)
			}
		})
	})
}

func TestMasterLifeCycle(t *testing.T) {
	t.Parallel()
	forEachDB(t, func(t *testing.T, db *store.DB) {
		e := newCatEnv(t, db)
		s := e.svc
		victor, quinn := e.as("victor"), e.as("quinn")
		alpha := " client=" + e.alpha.ID

		v1 := newMaster(e.alphaProd.ID, e.water.ID, "MBR-ALPHA")
		must(t, s.CreateMaster(victor, &v1))
		if v1.Version != 1 || v1.Status != production.MasterDraft || v1.ClientID != e.alpha.ID || v1.Steps != 3 {
			t.Errorf("created %+v", v1)
		}
		got, err := s.Master(victor, v1.ID)
		sameRow(t, got, err, &v1)
		for _, en := range trail(t, db, "master", v1.ID, 0) {
			if en.Command != "master.create" || en.ClientID != e.alpha.ID {
				t.Errorf("entry %+v", en)
			}
		}

		// A second draft of the code is its next version; the code is the
		// product's.
		v2 := newMaster(e.alphaProd.ID, e.water.ID, "MBR-ALPHA")
		v2.Title = "Filling, new filler"
		must(t, s.CreateMaster(victor, &v2))
		if v2.Version != 2 || v2.Status != production.MasterDraft {
			t.Errorf("second version %+v", v2)
		}

		t.Run("refusals", func(t *testing.T) {
			before := catalogueCounts(t, db)
			other := newProduct(e.alpha.ID, "P-ALPHA-2", site.FormAmpoule)
			noClearance := newMaster(e.alphaProd.ID, e.water.ID, "MBR-X")
			noClearance.Operations = noClearance.Operations[1:]
			noMaterial := newMaster(e.alphaProd.ID, store.NewID(), "MBR-X")
			for _, c := range []struct {
				name  string
				ctx   context.Context
				m     production.Master
				code  errs.Code
				field string
			}{
				{"operator", e.as("olga"), newMaster(e.alphaProd.ID, e.water.ID, "MBR-X"), errs.Forbidden, ""},
				{"quality assurance writes none", quinn, newMaster(e.alphaProd.ID, e.water.ID, "MBR-X"), errs.Forbidden, ""},
				{"product out of scope", victor, newMaster(e.betaProd.ID, e.water.ID, "MBR-X"), errs.Invalid, "product_id"},
				{"no line clearance first", victor, noClearance, errs.Invalid, "operations"},
				{"unknown material", victor, noMaterial, errs.Invalid, "operations"},
			} {
				m := c.m
				wantErr(t, s.CreateMaster(c.ctx, &m), c.code, c.field)
			}
			sameCatalogue(t, db, before)
			must(t, s.CreateProduct(victor, &other))
			before = catalogueCounts(t, db)
			m := newMaster(other.ID, e.water.ID, "MBR-ALPHA")
			wantErr(t, s.CreateMaster(victor, &m), errs.Invalid, "code")
			sameCatalogue(t, db, before)
		})

		t.Run("reads", func(t *testing.T) {
			ms, err := s.Masters(victor, production.MasterFilter{ProductID: e.alphaProd.ID})
			must(t, err)
			if len(ms) != 2 || ms[0].ID != v1.ID || ms[1].ID != v2.ID || ms[0].Steps != 3 || ms[0].Operations != nil {
				t.Errorf("masters %+v", ms)
			}
			for name, ctx := range map[string]context.Context{"client's user": e.as("carla"), "unassigned staff": e.as("olga"), "another client's user": e.betaUser()} {
				ms, err := s.Masters(ctx, production.MasterFilter{})
				if err != nil || len(ms) != 0 {
					t.Errorf("masters seen by %s: %+v, %v", name, ms, err)
				}
				_, err = s.Master(ctx, v1.ID)
				if errs.CodeOf(err) != errs.NotFound {
					t.Errorf("master read by %s: %v, want not found", name, err)
				}
			}
		})

		t.Run("update a draft", func(t *testing.T) {
			m := v1
			m.Title = "Filling of vials"
			m.Operations = append([]production.Operation(nil), v1.Operations...)
			m.Operations[1].Title = "Mixing and pH"
			before := catalogueCounts(t, db)
			wantErr(t, s.UpdateMaster(victor, &m, ""), errs.Invalid, "reason")
			bad := m
			bad.Code = "MBR-OTHER"
			wantErr(t, s.UpdateMaster(victor, &bad, "rename"), errs.Invalid, "code")
			sameCatalogue(t, db, before)
			seq := lastSeqAll(t, db)
			must(t, s.UpdateMaster(victor, &m, "Operation named as on the floor"))
			var fields []string
			for _, en := range trail(t, db, "master", v1.ID, seq) {
				fields = append(fields, en.Field)
				if en.ClientID != e.alpha.ID || en.Reason != "Operation named as on the floor" {
					t.Errorf("entry %+v", en)
				}
			}
			if !reflect.DeepEqual(fields, []string{"title", "body_sha256", "body"}) {
				t.Errorf("audited fields %v", fields)
			}
			got, err := s.Master(victor, v1.ID)
			sameRow(t, got, err, &m)
			v1 = m
		})

		t.Run("submit by the author's signature", func(t *testing.T) {
			before := catalogueCounts(t, db)
			// Submission is a signature, not a move.
			_, err := s.MoveMaster(victor, v1.ID, production.MoveSubmit, "Ready for review")
			wantErr(t, err, errs.Invalid, "action")
			// Only who writes masters signs as author.
			_, err = e.signAs(t, "quinn", "master", v1.ID, esign.Authored)
			wantErr(t, err, errs.Forbidden, "")
			_, err = s.MoveMaster(victor, v1.ID, production.MoveApproved, "approve it")
			wantErr(t, err, errs.Invalid, "action")
			_, err = s.MoveMaster(victor, v1.ID, production.MoveEffect, "now")
			wantErr(t, err, errs.Forbidden, "")
			_, err = s.MoveMaster(quinn, v1.ID, production.MoveEffect, "now")
			wantErr(t, err, errs.Conflict, "")
			sameCatalogue(t, db, before)

			seq := lastSeqAll(t, db)
			_, err = e.signAs(t, "victor", "master", v1.ID, esign.Authored, "Ready for review")
			must(t, err)
			got, err := s.Master(victor, v1.ID)
			must(t, err)
			if got.Status != production.MasterInReview || len(got.Operations) != 2 {
				t.Errorf("submitted %+v", got)
			}
			es := trail(t, db, "master", v1.ID, seq)
			if len(es) != 2 || es[0].Field != "signature" || es[1].Command != "signature.sign" || es[1].Field != "status" ||
				es[1].Old != "draft" || es[1].New != "in_review" || es[1].ClientID != e.alpha.ID {
				t.Errorf("entries %v", entryLines(es))
			}
			// Signed once: a version in review is not signed as authored.
			_, err = e.signAs(t, "victor", "master", v1.ID, esign.Authored)
			wantErr(t, err, errs.Conflict, "")
			m := *got
			m.Title = "Too late"
			err = s.UpdateMaster(victor, &m, "change after submission")
			wantErr(t, err, errs.Conflict, "")
		})

		t.Run("approve by signature", func(t *testing.T) {
			before := catalogueCounts(t, db)
			// Only quality assurance approves: the supervisor's signature
			// is refused whole.
			_, err := e.signAs(t, "victor", "master", v1.ID, esign.Approved)
			wantErr(t, err, errs.Forbidden, "")
			// A draft is not approved.
			_, err = e.signAs(t, "quinn", "master", v2.ID, esign.Approved)
			wantErr(t, err, errs.Conflict, "")
			// Client users and unassigned staff see no master to sign.
			_, err = e.signAs(t, "carla", "master", v1.ID, esign.Approved)
			wantErr(t, err, errs.NotFound, "")
			sameCatalogue(t, db, before)

			seq := lastSeqAll(t, db)
			sig, err := e.signAs(t, "quinn", "master", v1.ID, esign.Approved)
			must(t, err)
			if sig.ClientID != e.alpha.ID {
				t.Errorf("signature %+v", sig)
			}
			got, err := s.Master(quinn, v1.ID)
			must(t, err)
			if got.Status != production.MasterApproved {
				t.Errorf("status after approval %s", got.Status)
			}
			es := trail(t, db, "master", v1.ID, seq)
			if len(es) != 2 || es[0].Field != "signature" || es[1].Command != "signature.sign" || es[1].Field != "status" ||
				es[1].Old != "in_review" || es[1].New != "approved" || es[1].ClientID != e.alpha.ID {
				t.Errorf("entries %v", entryLines(es))
			}
			// The approval signs the content, not the status it changes.
			sigs, err := e.sigEnv.svc.Signatures(quinn, "master", v1.ID)
			must(t, err)
			// The author's signature stays valid: the move it made changed
			// the status, not the content it signed.
			if len(sigs) != 2 || sigs[0].Status != esign.Valid || sigs[1].Status != esign.Valid {
				t.Errorf("signatures %+v", sigs)
			}
			// Another meaning changes nothing.
			if _, err := e.signAs(t, "victor", "master", v2.ID, esign.Reviewed); err != nil {
				t.Errorf("reviewed signature: %v", err)
			}
			if got, _ := s.Master(victor, v2.ID); got.Status != production.MasterDraft {
				t.Errorf("a reviewed signature moved the draft to %s", got.Status)
			}
		})

		t.Run("effective, then superseded", func(t *testing.T) {
			must(t, db.Read(victor, func(tx *store.Tx) error {
				_, err := tx.EffectiveMaster(e.alphaProd.ID)
				wantErr(t, err, errs.Conflict, "")
				return nil
			}))
			got, err := s.MoveMaster(quinn, v1.ID, production.MoveEffect, "Approved, training done")
			must(t, err)
			if got.Status != production.MasterEffective {
				t.Errorf("status %s", got.Status)
			}
			_, err = e.signAs(t, "victor", "master", v2.ID, esign.Authored, "Version 2 ready")
			must(t, err)
			_, err = e.signAs(t, "quinn", "master", v2.ID, esign.Approved)
			must(t, err)
			seq := lastSeqAll(t, db)
			_, err = s.MoveMaster(quinn, v2.ID, production.MoveEffect, "New filler qualified")
			must(t, err)
			wantFields(t, trail(t, db, "master", v1.ID, seq), "master.move status effective→superseded [New filler qualified]"+alpha)
			wantFields(t, trail(t, db, "master", v2.ID, seq), "master.move status approved→effective [New filler qualified]"+alpha)

			ms, err := s.Masters(victor, production.MasterFilter{Status: production.MasterEffective})
			must(t, err)
			if len(ms) != 1 || ms[0].ID != v2.ID {
				t.Errorf("effective masters %+v", ms)
			}
			must(t, db.Read(victor, func(tx *store.Tx) error {
				m, err := tx.EffectiveMaster(e.alphaProd.ID)
				if err != nil {
					return err
				}
				if m.ID != v2.ID || m.Version != 2 || len(m.Operations) != 2 || m.Operations[0].Steps[1].MaterialID != e.water.ID {
					t.Errorf("effective master %+v", m)
				}
				return nil
			}))
			must(t, db.Read(e.as("olga"), func(tx *store.Tx) error {
				_, err := tx.EffectiveMaster(e.alphaProd.ID)
				wantErr(t, err, errs.NotFound, "")
				return nil
			}))
			// A superseded version moves no more.
			_, err = s.MoveMaster(quinn, v1.ID, production.MoveEffect, "back")
			wantErr(t, err, errs.Conflict, "")
			// Retired, the product has no effective version.
			_, err = s.MoveMaster(quinn, v2.ID, production.MoveRetire, "Product discontinued")
			must(t, err)
			must(t, db.Read(quinn, func(tx *store.Tx) error {
				_, err := tx.EffectiveMaster(e.alphaProd.ID)
				wantErr(t, err, errs.Conflict, "")
				return nil
			}))
		})

		t.Run("a third version", func(t *testing.T) {
			v3 := newMaster(e.alphaProd.ID, e.water.ID, "MBR-ALPHA")
			must(t, s.CreateMaster(victor, &v3))
			if v3.Version != 3 {
				t.Errorf("version %d", v3.Version)
			}
		})

		t.Run("loaded effective by galenix", func(t *testing.T) {
			sys := as(identity.System)
			m := newMaster(e.betaProd.ID, e.water.ID, "MBR-BETA")
			var loaded *store.History
			must(t, db.WriteHistory(sys, "test.load", func(ctx context.Context, h *store.History) error {
				loaded = h
				if err := db.Production().CreateMaster(ctx, &m); err != nil {
					return err
				}
				return h.SetMasterStatus(m.ID, production.MasterEffective)
			}))
			// Once the history load has ended, a master's status moves
			// only by its life cycle.
			wantErr(t, loaded.SetMasterStatus(m.ID, production.MasterRetired), errs.Internal, "")
			must(t, db.Read(sys, func(tx *store.Tx) error {
				got, err := tx.EffectiveMaster(e.betaProd.ID)
				if err == nil && (got.ID != m.ID || got.ClientID != e.beta.ID) {
					t.Errorf("effective master %+v", got)
				}
				return err
			}))
		})
	})
}

// TestCatalogueSignatures: products, masters and lots can be signed, each
// by those who see it. Quality's approval of a lot is its release, which
// needs its reason; what it signs is the lot, which neither its use nor a
// later decision on its status alters.
func TestCatalogueSignatures(t *testing.T) {
	t.Parallel()
	forEachDB(t, func(t *testing.T, db *store.DB) {
		e := newCatEnv(t, db)
		sig, err := e.signAs(t, "carla", "product", e.alphaProd.ID, esign.Acknowledged)
		must(t, err)
		if sig.ClientID != e.alpha.ID {
			t.Errorf("signature %+v", sig)
		}
		_, err = e.signAs(t, "carla", "product", e.betaProd.ID, esign.Acknowledged)
		wantErr(t, err, errs.NotFound, "")

		lot := production.Lot{MaterialID: e.water.ID, Code: "WFI-1", Quantity: 10, ExpiresOn: now.AddDate(1, 0, 0)}
		must(t, e.svc.CreateLot(e.as("victor"), &lot))
		_, err = e.signAs(t, "carla", "lot", lot.ID, esign.Reviewed)
		wantErr(t, err, errs.NotFound, "")
		_, err = e.signAs(t, "quinn", "lot", lot.ID, esign.Approved)
		wantErr(t, err, errs.Invalid, "reason")
		if got, err := e.svc.Lot(e.as("quinn"), lot.ID); err != nil || got.Status != production.LotQuarantine {
			t.Fatalf("a refused approval moved the lot: %+v %v", got, err)
		}
		_, err = e.signAs(t, "quinn", "lot", lot.ID, esign.Approved, "Certificate of analysis conforms")
		must(t, err)
		if got, err := e.svc.Lot(e.as("quinn"), lot.ID); err != nil || got.Status != production.LotReleased {
			t.Fatalf("the approval did not release the lot: %+v %v", got, err)
		}
		// Using the lot does not break the signature, nor does a later
		// decision on its status, which has its own trail.
		must(t, db.Write(e.as("olga"), "test.consume", "", func(tx *store.Tx) error { return tx.ConsumeLot(lot.ID, 1) }))
		sigs, err := e.sigEnv.svc.Signatures(e.as("quinn"), "lot", lot.ID)
		must(t, err)
		if len(sigs) != 1 || sigs[0].Status != esign.Valid || sigs[0].ClientID != "" {
			t.Errorf("signatures after use %+v", sigs)
		}
		seq := lastSeqAll(t, db)
		_, err = e.svc.SetLotStatus(e.as("quinn"), lot.ID, production.LotQuarantine, "Supplier complaint")
		must(t, err)
		wantFields(t, trail(t, db, "lot", lot.ID, seq), "lot.status status released→quarantine [Supplier complaint]")
		sigs, err = e.sigEnv.svc.Signatures(e.as("quinn"), "lot", lot.ID)
		must(t, err)
		if len(sigs) != 1 || sigs[0].Status != esign.Valid {
			t.Errorf("signatures after quarantine %+v", sigs)
		}
	})
}
