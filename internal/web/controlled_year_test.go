package web_test

import (
	"context"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"galenix/internal/controlled"
	"galenix/internal/esign"
	"galenix/internal/identity"
	"galenix/internal/store"
)

// TestControlledYearEditions: a constructed year of movements, each month
// a receipt into the vault, a transfer to the laboratory and a sampling
// there, a loss in December. The register's PDF for the year lists every
// serial number from 1 to 37 in order, none missing, with the page x of y
// and the establishment's name on every page and its authorisation on the
// first; its closing balance is the year's; the annual statement (API and
// PDF) adds up; the twelve monthly balances, recorded, chain each month's
// closing to the next month's opening.
func TestControlledYearEditions(t *testing.T) {
	e := newSignEnv(t, newEnv(t, store.SQLite))
	if r := e.call(t, "qa", "PUT", "/api/v1/controlled/establishment", map[string]any{"authorisation": "ANSM-EP-2024-0042", "authorised_on": "2024-01-15",
		"pharmacist": "Paula Personne Qualifiée"}); r.status != 200 {
		t.Fatalf("establishment: %d %s", r.status, r.body)
	}
	sub := created(t, e.env, "qa", "/api/v1/controlled/substances", map[string]any{"code": "MORPH", "name": "Morphine", "class": "narcotic", "unit": "g",
		"client_id": e.alpha.ID})
	vault := created(t, e.env, "qa", "/api/v1/controlled/containers", map[string]any{"substance_id": sub, "code": "V-1", "lot_code": "S-1",
		"place": "Coffre", "place_kind": "vault"})
	lab := created(t, e.env, "qa", "/api/v1/controlled/containers", map[string]any{"substance_id": sub, "code": "LAB-1", "lot_code": "S-1",
		"place": "Laboratoire", "place_kind": "laboratory"})

	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Fatal(err)
	}
	qa, sup := e.accounts["qa"], e.accounts["supervisor"]
	g := func(v int) controlled.Qty { return controlled.Qty(v * controlled.QtyScale) }
	err = e.db.WriteHistory(identity.WithActor(context.Background(), identity.System), "test.seed", func(ctx context.Context, h *store.History) error {
		reg := e.db.Controlled()
		enter := func(at time.Time, m controlled.Movement) error {
			if err := h.Backdate(at); err != nil {
				return err
			}
			m.SubstanceID, m.WitnessID = sub, sup.ID
			if err := reg.EnterMovement(h.As(ctx, qa.Actor()), &m); err != nil {
				return err
			}
			if err := h.SignRecord(controlled.EntityMovement, m.ID, esign.Performed, qa.ID, qa.Name, ""); err != nil {
				return err
			}
			return h.SignRecord(controlled.EntityMovement, m.ID, esign.Verified, sup.ID, sup.Name, "")
		}
		for month := time.January; month <= time.December; month++ {
			day := func(d, hour int) time.Time { return time.Date(2025, month, d, hour, 0, 0, 0, paris) }
			for _, m := range []struct {
				at time.Time
				m  controlled.Movement
			}{
				// The first receipt at 00:30 on 1 January: the year's.
				{day(1, 0).Add(30 * time.Minute), controlled.Movement{Kind: controlled.Receipt, ContainerID: vault, Quantity: g(100), Party: "Francopia",
					Document: fmt.Sprintf("BL-%02d", month)}},
				{day(10, 10), controlled.Movement{Kind: controlled.Transfer, ContainerID: vault, ToContainerID: lab, Quantity: g(20)}},
				{day(20, 14), controlled.Movement{Kind: controlled.Sampling, ContainerID: lab, Quantity: g(5), Party: "Laboratoire CQ"}},
			} {
				if err := enter(m.at, m.m); err != nil {
					return fmt.Errorf("%s %v: %w", m.m.Kind, m.at, err)
				}
			}
		}
		return enter(time.Date(2025, 12, 31, 23, 30, 0, 0, paris), controlled.Movement{Kind: controlled.Loss, ContainerID: lab, Quantity: g(1),
			Cause: "Flacon brisé"})
	})
	if err != nil {
		t.Fatal(err)
	}
	// Every month ended since January 2025 is recorded.
	now := time.Now().In(paris)
	ended := (now.Year()-2025)*12 + int(now.Month()) - 1
	if n, err := e.db.Controlled().RecordMonths(identity.WithActor(context.Background(), identity.System)); err != nil || n != ended {
		t.Fatalf("months recorded: %d %v, want %d", n, err, ended)
	}

	// The register for the year, in French.
	r := e.call(t, "qa", "GET", "/controlled/register.pdf?substance="+sub+"&from=2025-01-01&to=2025-12-31", nil, "Accept-Language", "fr")
	text := pdfText(t, r)
	pages := strings.Split(text, "\f")
	if len(pages) > 0 && strings.TrimSpace(pages[len(pages)-1]) == "" {
		pages = pages[:len(pages)-1]
	}
	if len(pages) < 2 {
		t.Fatalf("the year's register holds %d page(s)", len(pages))
	}
	for i, p := range pages {
		if !strings.Contains(p, "Test site") {
			t.Errorf("page %d does not name the establishment:\n%s", i+1, p)
		}
		if !regexp.MustCompile(fmt.Sprintf(`\b%d\s*/\s*%d\b`, i+1, len(pages))).MatchString(p) {
			t.Errorf("page %d does not say %d / %d", i+1, i+1, len(pages))
		}
	}
	if !strings.Contains(pages[0], "ANSM-EP-2024-0042") {
		t.Errorf("the first page does not give the authorisation:\n%s", pages[0])
	}
	// Every serial number, in order, none missing: each movement's line
	// starts with it.
	var serials []int
	for _, line := range strings.Split(text, "\n") {
		if m := regexp.MustCompile(`^\s{0,4}(\d{1,3})\s+\d{2}/\d{2}/2025`).FindStringSubmatch(line); m != nil {
			n, _ := strconv.Atoi(m[1])
			serials = append(serials, n)
		}
	}
	if len(serials) != 37 {
		t.Fatalf("%d movement lines in the year's register, want 37: %v", len(serials), serials)
	}
	for i, n := range serials {
		if n != i+1 {
			t.Fatalf("serial numbers %v: %d where %d was due", serials, n, i+1)
		}
	}
	if !strings.Contains(text, "1 139,000") {
		t.Errorf("the year's closing balance 1 139,000 g is not in the register")
	}

	// The annual statement: API and PDF.
	st := e.call(t, "qa", "GET", "/api/v1/controlled/substances/"+sub+"/statement?year=2025", nil).object(t)
	for k, want := range map[string]string{"opening": "0.000", "received": "1200.000", "used": "0.000", "lost": "1.000", "sampled": "60.000",
		"destroyed": "0.000", "closing": "1139.000"} {
		if st[k] != want {
			t.Errorf("statement %s: %v, want %s", k, st[k], want)
		}
	}
	stText := pdfText(t, e.call(t, "qa", "GET", "/controlled/statement.pdf?substance="+sub+"&year=2025", nil, "Accept-Language", "en"))
	for _, want := range []string{"1,200.000", "60.000", "1.000", "1,139.000", "ANSM-EP-2024-0042"} {
		if !strings.Contains(stText, want) {
			t.Errorf("the statement's PDF lacks %q:\n%s", want, stText)
		}
	}

	// The monthly balances: chained, December's the year's closing.
	months := e.call(t, "qa", "GET", "/api/v1/controlled/substances/"+sub+"/months", nil).items(t)
	if len(months) != ended {
		t.Fatalf("%d monthly balances, want %d", len(months), ended)
	}
	for i := 1; i < len(months); i++ {
		if months[i]["opening"] != months[i-1]["closing"] {
			t.Errorf("%s opens at %v, %s closed at %v", months[i]["month"], months[i]["opening"], months[i-1]["month"], months[i-1]["closing"])
		}
	}
	if months[0]["month"] != "2025-01" || months[0]["first_serial"] != float64(1) || months[11]["closing"] != "1139.000" || months[11]["last_serial"] != float64(37) {
		t.Errorf("the months: first %v, last %v", months[0], months[11])
	}
}
