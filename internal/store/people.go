package store

import (
	"context"

	"galenix/internal/errs"

	"galenix/internal/site"
)

var (
	shiftTable  = table{"shifts", "shift", []string{"code", "name", "kind", "start_time", "end_time"}}
	teamTable   = table{"teams", "team", []string{"code", "name", "building_id", "shift_id"}}
	personTable = table{"people", "person", []string{"badge", "name", "job", "team_id", "account_id"}}
)

// --- shifts

const shiftCols = `id, code, name, kind, start_time, end_time, version`

func scanShift(sc scanner, s *site.Shift) error {
	return sc.Scan(&s.ID, &s.Code, &s.Name, &s.Kind, &s.Start, &s.End, &s.Version)
}

// Shifts lists the shifts by code.
func (s *SiteStore) Shifts(ctx context.Context) ([]site.Shift, error) {
	if err := site.CanViewStaff(actorOf(ctx)); err != nil {
		return nil, err
	}
	return list(ctx, s.db, `SELECT `+shiftCols+` FROM shifts ORDER BY code`, nil, scanShift)
}

// Shift returns one shift.
func (s *SiteStore) Shift(ctx context.Context, id string) (*site.Shift, error) {
	// Out of scope is not found: existence does not leak.
	if site.CanViewStaff(actorOf(ctx)) != nil {
		return nil, errs.E(errs.NotFound, "store.no_such_shift")
	}
	var sh site.Shift
	err := s.db.Read(ctx, func(tx *Tx) error { return tx.shift(id, &sh) })
	return &sh, err
}

func (tx *Tx) shift(id string, s *site.Shift) error {
	return tx.byID(`SELECT `+shiftCols+` FROM shifts WHERE id = ?`, id, func(sc scanner) error { return scanShift(sc, s) }, "store.no_such_shift")
}

// CreateShift records a new shift.
func (s *SiteStore) CreateShift(ctx context.Context, sh *site.Shift) error {
	if err := checkEditStaff(ctx); err != nil {
		return err
	}
	return s.db.Write(ctx, "shift.create", "", func(tx *Tx) error { return tx.createShift(sh) })
}

// createShift records a shift in this transaction.
func (tx *Tx) createShift(s *site.Shift) error {
	if err := s.Validate(); err != nil {
		return err
	}
	s.ID = NewID()
	return create(tx, shiftTable, s.ID, s, shiftRow(s))
}

// UpdateShift changes a shift.
func (s *SiteStore) UpdateShift(ctx context.Context, sh *site.Shift, reason string) error {
	if err := checkEditStaff(ctx); err != nil {
		return err
	}
	return s.db.Write(ctx, "shift.update", reason, func(tx *Tx) error {
		if err := sh.Validate(); err != nil {
			return err
		}
		var old site.Shift
		if err := tx.shift(sh.ID, &old); err != nil {
			return err
		}
		return update(tx, shiftTable, sh.ID, &old, sh, shiftRow(sh))
	})
}

// --- teams

const teamCols = `id, code, name, COALESCE(CAST(building_id AS TEXT), ''), shift_id, version`

func scanTeam(sc scanner, t *site.Team) error {
	return sc.Scan(&t.ID, &t.Code, &t.Name, &t.BuildingID, &t.ShiftID, &t.Version)
}

// Teams lists the teams by code.
func (s *SiteStore) Teams(ctx context.Context) ([]site.Team, error) {
	if err := site.CanViewStaff(actorOf(ctx)); err != nil {
		return nil, err
	}
	return list(ctx, s.db, `SELECT `+teamCols+` FROM teams ORDER BY code`, nil, scanTeam)
}

// Team returns one team.
func (s *SiteStore) Team(ctx context.Context, id string) (*site.Team, error) {
	// Out of scope is not found: existence does not leak.
	if site.CanViewStaff(actorOf(ctx)) != nil {
		return nil, errs.E(errs.NotFound, "store.no_such_team")
	}
	var t site.Team
	err := s.db.Read(ctx, func(tx *Tx) error { return tx.team(id, &t) })
	return &t, err
}

func (tx *Tx) team(id string, t *site.Team) error {
	return tx.byID(`SELECT `+teamCols+` FROM teams WHERE id = ?`, id, func(sc scanner) error { return scanTeam(sc, t) }, "store.no_such_team")
}

// CreateTeam records a new team.
func (s *SiteStore) CreateTeam(ctx context.Context, t *site.Team) error {
	if err := checkEditStaff(ctx); err != nil {
		return err
	}
	return s.db.Write(ctx, "team.create", "", func(tx *Tx) error { return tx.createTeam(t) })
}

// createTeam records a team in this transaction.
func (tx *Tx) createTeam(t *site.Team) error {
	if err := t.Validate(); err != nil {
		return err
	}
	if err := tx.checkTeam(t); err != nil {
		return err
	}
	t.ID = NewID()
	return create(tx, teamTable, t.ID, t, teamRow(t))
}

// UpdateTeam changes a team.
func (s *SiteStore) UpdateTeam(ctx context.Context, t *site.Team, reason string) error {
	if err := checkEditStaff(ctx); err != nil {
		return err
	}
	return s.db.Write(ctx, "team.update", reason, func(tx *Tx) error {
		if err := t.Validate(); err != nil {
			return err
		}
		var old site.Team
		if err := tx.team(t.ID, &old); err != nil {
			return err
		}
		if err := tx.checkTeam(t); err != nil {
			return err
		}
		return update(tx, teamTable, t.ID, &old, t, teamRow(t))
	})
}

func (tx *Tx) checkTeam(t *site.Team) error {
	var sh site.Shift
	if err := tx.shift(t.ShiftID, &sh); err != nil {
		return asField(err, "shift_id")
	}
	if t.BuildingID != "" {
		var b site.Building
		if err := tx.building(t.BuildingID, &b); err != nil {
			return asField(err, "building_id")
		}
	}
	return nil
}

// --- people

const personCols = `id, badge, name, job, COALESCE(CAST(team_id AS TEXT), ''), COALESCE(CAST(account_id AS TEXT), ''), version`

func scanPerson(sc scanner, p *site.Person) error {
	return sc.Scan(&p.ID, &p.Badge, &p.Name, &p.Job, &p.TeamID, &p.AccountID, &p.Version)
}

// People lists staff by badge number, a page at a time when f.Limit is set.
func (s *SiteStore) People(ctx context.Context, f site.PersonFilter) ([]site.Person, error) {
	if err := site.CanViewStaff(actorOf(ctx)); err != nil {
		return nil, err
	}
	q, args := personQuery(f)
	q += ` ORDER BY badge`
	if f.Limit > 0 {
		q += ` LIMIT ? OFFSET ?`
		args = append(args, f.Limit, max(f.Offset, 0))
	}
	return list(ctx, s.db, q, args, scanPerson)
}

// SearchPeople answers the page of staff f asks for, by badge number, and
// how many match f in all. Staff are the site's: a client's user reads
// none of them.
func (s *SiteStore) SearchPeople(ctx context.Context, f site.PersonFilter) ([]site.Person, int, error) {
	if err := site.CanViewStaff(actorOf(ctx)); err != nil {
		return nil, 0, err
	}
	var out []site.Person
	var total int
	err := s.db.Read(ctx, func(tx *Tx) error {
		q, args := personQuery(f)
		var err error
		out, total, err = paged(tx, q, args, `badge, id`, f.Limit, f.Offset, scanPerson)
		return err
	})
	return out, total, err
}

// personQuery selects the staff matching the filter (its page aside).
func personQuery(f site.PersonFilter) (string, []any) {
	q, args := andIDFilters(`SELECT `+personCols+` FROM people WHERE 1 = 1`, nil, "team_id", f.TeamID)
	return andSearch(q, args, f.Query, "badge", "name", "job")
}

// Person returns one member of staff.
func (s *SiteStore) Person(ctx context.Context, id string) (*site.Person, error) {
	// Out of scope is not found: existence does not leak.
	if site.CanViewStaff(actorOf(ctx)) != nil {
		return nil, errs.E(errs.NotFound, "store.no_such_person")
	}
	var p site.Person
	err := s.db.Read(ctx, func(tx *Tx) error { return tx.person(id, &p) })
	return &p, err
}

func (tx *Tx) person(id string, p *site.Person) error {
	return tx.byID(`SELECT `+personCols+` FROM people WHERE id = ?`, id, func(sc scanner) error { return scanPerson(sc, p) }, "store.no_such_person")
}

// CreatePerson records a new member of staff.
func (s *SiteStore) CreatePerson(ctx context.Context, p *site.Person) error {
	if err := checkEditStaff(ctx); err != nil {
		return err
	}
	return s.db.Write(ctx, "person.create", "", func(tx *Tx) error { return tx.createPerson(p) })
}

// createPerson records a member of staff in this transaction.
func (tx *Tx) createPerson(p *site.Person) error {
	if err := p.Validate(); err != nil {
		return err
	}
	if err := tx.checkPerson(p); err != nil {
		return err
	}
	p.ID = NewID()
	return create(tx, personTable, p.ID, p, personRow(p))
}

// UpdatePerson changes a member of staff.
func (s *SiteStore) UpdatePerson(ctx context.Context, p *site.Person, reason string) error {
	if err := checkEditStaff(ctx); err != nil {
		return err
	}
	return s.db.Write(ctx, "person.update", reason, func(tx *Tx) error {
		if err := p.Validate(); err != nil {
			return err
		}
		var old site.Person
		if err := tx.person(p.ID, &old); err != nil {
			return err
		}
		if err := tx.checkPerson(p); err != nil {
			return err
		}
		return update(tx, personTable, p.ID, &old, p, personRow(p))
	})
}

func (tx *Tx) checkPerson(p *site.Person) error {
	if p.AccountID != "" {
		// A staff account, not already another person's.
		var staff bool
		var other string
		err := tx.byID(`SELECT a.client_id IS NULL, COALESCE((SELECT CAST(o.id AS TEXT) FROM people o WHERE o.account_id = a.id), '')
			FROM accounts a WHERE a.id = ?`, p.AccountID, func(sc scanner) error { return sc.Scan(&staff, &other) }, "store.no_such_account")
		if err != nil {
			return asField(err, "account_id")
		}
		if !staff {
			return errs.Field("account_id", "store.person_account_staff")
		}
		if other != "" && other != p.ID {
			return errs.Field("account_id", "store.person_account_taken")
		}
	}
	if p.TeamID == "" {
		return nil
	}
	var t site.Team
	return asField(tx.team(p.TeamID, &t), "team_id")
}

// StaffAccounts lists the site staff's active accounts, by name, for those
// who edit the staff (a person's account is chosen among them).
func (s *SiteStore) StaffAccounts(ctx context.Context) ([]site.StaffAccount, error) {
	if err := checkEditStaff(ctx); err != nil {
		return nil, err
	}
	return list(ctx, s.db, `SELECT id, username, name FROM accounts WHERE client_id IS NULL AND active ORDER BY name, username`, nil,
		func(sc scanner, a *site.StaffAccount) error { return sc.Scan(&a.ID, &a.Username, &a.Name) })
}

func shiftRow(s *site.Shift) row {
	return row{"code": s.Code, "name": s.Name, "kind": s.Kind, "start_time": s.Start, "end_time": s.End}
}

func teamRow(t *site.Team) row {
	return row{"code": t.Code, "name": t.Name, "building_id": nullable(t.BuildingID), "shift_id": t.ShiftID}
}

func personRow(p *site.Person) row {
	return row{"badge": p.Badge, "name": p.Name, "job": p.Job, "team_id": nullable(p.TeamID), "account_id": nullable(p.AccountID)}
}
