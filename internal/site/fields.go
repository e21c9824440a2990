package site

import (
	"strconv"

	"galenix/internal/audit"
)

// The audit trail records a record's fields in the plain form below, so that
// a reader of the trail sees the same values the screens show.

func num(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

// AuditFields lists the building's fields for the audit trail.
func (b *Building) AuditFields() []audit.Field {
	return []audit.Field{audit.F("code", b.Code), audit.F("name", b.Name), audit.F("role", string(b.Role))}
}

// AuditFields lists the room's fields for the audit trail.
func (r *Room) AuditFields() []audit.Field {
	return []audit.Field{audit.F("building_id", r.BuildingID), audit.F("code", r.Code), audit.F("name", r.Name), audit.F("grade", string(r.Grade)),
		audit.F("temp_min", num(r.TempMin)), audit.F("temp_max", num(r.TempMax)),
		audit.F("humidity_min", num(r.HumidityMin)), audit.F("humidity_max", num(r.HumidityMax)),
		audit.F("cascades_to", r.CascadesTo), audit.F("pressure_diff_pa", num(r.PressureDiffPa))}
}

// AuditFields lists the line's fields for the audit trail.
func (l *Line) AuditFields() []audit.Field {
	return []audit.Field{audit.F("code", l.Code), audit.F("name", l.Name), audit.F("building_id", l.BuildingID), audit.F("room_id", l.RoomID),
		audit.F("sterile", strconv.FormatBool(l.Sterile)), audit.F("forms", FormsText(l.Forms)), audit.F("status", string(l.Status)),
		audit.F("capacity_per_hour", strconv.Itoa(l.CapacityPerHour))}
}

// AuditFields lists the equipment's fields for the audit trail.
func (e *Equipment) AuditFields() []audit.Field {
	return []audit.Field{audit.F("code", e.Code), audit.F("name", e.Name), audit.F("kind", e.Kind), audit.F("line_id", e.LineID),
		audit.F("status", string(e.Status)), audit.F("qualification_due", e.QualificationDue.Format("2006-01-02")),
		audit.F("qualification_report", e.QualificationReport)}
}

// AuditFields lists the shift's fields for the audit trail.
func (s *Shift) AuditFields() []audit.Field {
	return []audit.Field{audit.F("code", s.Code), audit.F("name", s.Name), audit.F("kind", string(s.Kind)), audit.F("start", s.Start), audit.F("end", s.End)}
}

// AuditFields lists the team's fields for the audit trail.
func (t *Team) AuditFields() []audit.Field {
	return []audit.Field{audit.F("code", t.Code), audit.F("name", t.Name), audit.F("building_id", t.BuildingID), audit.F("shift_id", t.ShiftID)}
}

// AuditFields lists the person's fields for the audit trail.
func (p *Person) AuditFields() []audit.Field {
	return []audit.Field{audit.F("badge", p.Badge), audit.F("name", p.Name), audit.F("job", p.Job), audit.F("team_id", p.TeamID), audit.F("account_id", p.AccountID)}
}

// AuditFields lists the site's fields for the audit trail.
func (s *Site) AuditFields() []audit.Field {
	return []audit.Field{audit.F("code", s.Code), audit.F("name", s.Name), audit.F("timezone", s.Timezone), audit.F("address", s.Address)}
}
