package quality

import (
	"context"
	"net/mail"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"galenix/internal/audit"
	"galenix/internal/errs"
	"galenix/internal/identity"
	"galenix/internal/text"
)

// The quality agreement signed with a client laboratory, as rules galenix
// enforces rather than people remember: how soon the client hears of a
// major or critical deviation on its batches and receives its
// investigation summary (counted down on both sides, escalated when late),
// what its own quality assurance must approve before the step proceeds,
// and which documents it receives for each batch.

// Agreement is a client's quality agreement.
type Agreement struct {
	ClientID string `json:"client_id"`
	// Reference names the signed agreement (its document's code).
	Reference string `json:"reference"`
	// NotifyHours is the time, from a deviation's classification as
	// major or critical on the client's batches, within which the client
	// is notified; by class.
	NotifyMajorHours    int `json:"notify_major_hours"`
	NotifyCriticalHours int `json:"notify_critical_hours"`
	// SummaryWorkingDays is the time, from the notification, within which
	// the investigation's summary is sent, in working days.
	SummaryWorkingDays int `json:"summary_working_days"`
	// ClientApprovesMasters: a change to the client's master batch
	// records needs the client's approval (e-signature) to take effect.
	ClientApprovesMasters bool `json:"client_approves_masters"`
	// ClientApprovesMajorClosure: closing a major or critical deviation
	// on the client's batches needs the client's approval.
	ClientApprovesMajorClosure bool `json:"client_approves_major_closure"`
	// ShareCAPA: the client reads the CAPA actions of the deviations on
	// its batches (what, corrective or preventive, due, done; never who).
	ShareCAPA bool `json:"share_capa"`
	// BatchDocuments are the documents the client receives for each
	// batch.
	BatchDocuments []BatchDocument `json:"batch_documents"`
	// NotifyTo are the e-mail addresses of the client's quality contacts
	// that galenix writes to when the client is notified (a deviation's
	// notification or summary, a certificate published, a deadline
	// escalated): the mailbox the agreement names, not a person's account.
	NotifyTo  []string  `json:"notify_to"`
	Version   int       `json:"version"`
	UpdatedAt time.Time `json:"updated_at"`
}

// BatchDocument is a kind of document the client receives for a batch.
type BatchDocument string

// The documents an agreement may name.
const (
	DocBatchRecord       BatchDocument = "batch_record"
	DocCertificate       BatchDocument = "certificate_of_analysis"
	DocConformity        BatchDocument = "certificate_of_conformity"
	DocDeviationSummary  BatchDocument = "deviation_summaries"
	DocEnvironmentReport BatchDocument = "environment_report"
)

// BatchDocuments lists them in the order pages show them.
var BatchDocuments = []BatchDocument{DocBatchRecord, DocCertificate, DocConformity, DocDeviationSummary, DocEnvironmentReport}

// The bounds of an agreement's deadlines.
const (
	MaxNotifyHours        = 7 * 24
	MaxSummaryWorkingDays = 60
	// MaxNotifyTo bounds the addresses an agreement names.
	MaxNotifyTo = 10
)

// MaySetAgreement says whether the actor may record a client's quality
// agreement: the site's quality assurance decides it, with the client.
func MaySetAgreement(a identity.Actor) error { return a.Require(identity.PermQualityDecide) }

// Validate checks an agreement's fields and puts its documents in order.
func (ag *Agreement) Validate() error {
	ag.Reference = strings.TrimSpace(ag.Reference)
	if ag.Reference == "" || utf8.RuneCountInString(ag.Reference) > 64 {
		return errs.Field("reference", "quality.agreement.reference")
	}
	for _, h := range []struct {
		field string
		v     int
	}{{"notify_major_hours", ag.NotifyMajorHours}, {"notify_critical_hours", ag.NotifyCriticalHours}} {
		if h.v < 1 || h.v > MaxNotifyHours {
			return errs.Field(h.field, "quality.agreement.notify_hours", MaxNotifyHours)
		}
	}
	if ag.NotifyCriticalHours > ag.NotifyMajorHours {
		return errs.Field("notify_critical_hours", "quality.agreement.critical_sooner")
	}
	if ag.SummaryWorkingDays < 1 || ag.SummaryWorkingDays > MaxSummaryWorkingDays {
		return errs.Field("summary_working_days", "quality.agreement.summary_days", MaxSummaryWorkingDays)
	}
	seen := map[BatchDocument]bool{}
	for _, d := range ag.BatchDocuments {
		if !slices.Contains(BatchDocuments, d) || seen[d] {
			return errs.Field("batch_documents", "quality.agreement.document", string(d))
		}
		seen[d] = true
	}
	ag.BatchDocuments = ag.BatchDocuments[:0:0]
	for _, d := range BatchDocuments {
		if seen[d] {
			ag.BatchDocuments = append(ag.BatchDocuments, d)
		}
	}
	return ag.validateNotifyTo()
}

// validateNotifyTo checks the addresses: each a bare address
// (qa@client.example, no name nor brackets), none twice, MaxNotifyTo at
// most; they are kept trimmed, in the order given.
func (ag *Agreement) validateNotifyTo() error {
	if len(ag.NotifyTo) > MaxNotifyTo {
		return errs.Field("notify_to", "quality.agreement.notify_to_many", MaxNotifyTo)
	}
	out := make([]string, 0, len(ag.NotifyTo))
	for _, a := range ag.NotifyTo {
		a = strings.TrimSpace(a)
		if a == "" {
			continue
		}
		parsed, err := mail.ParseAddress(a)
		if err != nil || parsed.Name != "" || parsed.Address != a || len(a) > 254 || strings.ContainsAny(a, ",;") {
			return errs.Field("notify_to", "quality.agreement.notify_to", a)
		}
		if slices.ContainsFunc(out, func(o string) bool { return strings.EqualFold(o, a) }) {
			return errs.Field("notify_to", "quality.agreement.notify_to_twice", a)
		}
		out = append(out, a)
	}
	ag.NotifyTo = out
	return nil
}

// VersionRef is the agreement's version, for the store's versioned
// writes.
func (ag *Agreement) VersionRef() *int { return &ag.Version }

// NotifyWithin is the time within which the client hears of a deviation
// of class c; 0 when the agreement asks no notification for it.
func (ag *Agreement) NotifyWithin(c Class) time.Duration {
	switch c {
	case Critical:
		return time.Duration(ag.NotifyCriticalHours) * time.Hour
	case Major:
		return time.Duration(ag.NotifyMajorHours) * time.Hour
	}
	return 0
}

// ClientApprovesClosure says whether closing d needs the client's
// approval.
func (ag *Agreement) ClientApprovesClosure(d *Deviation) bool {
	return ag != nil && ag.ClientApprovesMajorClosure && (d.Class == Major || d.Class == Critical)
}

// AuditFields lists the agreement's fields for the audit trail.
func (ag *Agreement) AuditFields() []audit.Field {
	docs := make([]string, len(ag.BatchDocuments))
	for i, d := range ag.BatchDocuments {
		docs[i] = string(d)
	}
	return []audit.Field{audit.F("reference", ag.Reference), audit.F("notify_major_hours", strconv.Itoa(ag.NotifyMajorHours)),
		audit.F("notify_critical_hours", strconv.Itoa(ag.NotifyCriticalHours)), audit.F("summary_working_days", strconv.Itoa(ag.SummaryWorkingDays)),
		audit.F("client_approves_masters", strconv.FormatBool(ag.ClientApprovesMasters)),
		audit.F("client_approves_major_closure", strconv.FormatBool(ag.ClientApprovesMajorClosure)),
		audit.F("share_capa", strconv.FormatBool(ag.ShareCAPA)),
		audit.F("batch_documents", strings.Join(docs, ",")), audit.F("notify_to", strings.Join(ag.NotifyTo, ","))}
}

// ObligationKind is what the site owes the client under the agreement.
type ObligationKind string

// The obligations.
const (
	// ObligeNotify: tell the client of a major or critical deviation.
	ObligeNotify ObligationKind = "notify"
	// ObligeSummary: send the client the investigation's summary.
	ObligeSummary ObligationKind = "summary"
)

// Obligation is one deadline the agreement sets for one deviation.
type Obligation struct {
	ID            string         `json:"id"`
	ClientID      string         `json:"client_id"`
	DeviationID   string         `json:"deviation_id"`
	DeviationCode string         `json:"deviation_code"`
	Kind          ObligationKind `json:"kind"`
	// From is when the clock started, Due when it runs out.
	From time.Time `json:"from"`
	Due  time.Time `json:"due"`
	// DoneAt is when the site met it; EscalatedAt when it was escalated
	// for being late.
	DoneAt      *time.Time `json:"done_at,omitempty"`
	EscalatedAt *time.Time `json:"escalated_at,omitempty"`
	Version     int        `json:"version"`
}

// ObligationState is where an obligation is.
type ObligationState string

// The states.
const (
	ObligationRunning  ObligationState = "running"
	ObligationLate     ObligationState = "late"
	ObligationMet      ObligationState = "met"
	ObligationMetLate  ObligationState = "met_late"
	ObligationReplaced ObligationState = "replaced"
)

// State is the obligation's state at now.
func (o *Obligation) State(now time.Time) ObligationState {
	switch {
	case o.DoneAt != nil && o.DoneAt.After(o.Due):
		return ObligationMetLate
	case o.DoneAt != nil:
		return ObligationMet
	case now.After(o.Due):
		return ObligationLate
	}
	return ObligationRunning
}

// Left is the time left at now before the obligation is late: negative
// once late, by how much; 0 once met.
func (o *Obligation) Left(now time.Time) time.Duration {
	if o.DoneAt != nil {
		return 0
	}
	return o.Due.Sub(now)
}

// ToEscalate says whether the obligation is late at now and not escalated
// yet: escalated once.
func (o *Obligation) ToEscalate(now time.Time) bool {
	return o.DoneAt == nil && o.EscalatedAt == nil && now.After(o.Due)
}

// AuditFields lists the obligation's fields for the audit trail.
func (o *Obligation) AuditFields() []audit.Field {
	return []audit.Field{audit.F("deviation", o.DeviationCode), audit.F("kind", string(o.Kind)),
		audit.F("from", auditTime(&o.From)), audit.F("due", auditTime(&o.Due)), audit.F("done_at", auditTime(o.DoneAt)),
		audit.F("escalated_at", auditTime(o.EscalatedAt))}
}

// NotifyObligation is the obligation to notify the client that d's
// classification starts under ag, or nil when there is none: no
// agreement, or a minor deviation.
func NotifyObligation(ag *Agreement, d *Deviation, classifiedAt time.Time) *Obligation {
	if ag == nil || d.ClientID == "" || d.ClientID != ag.ClientID {
		return nil
	}
	within := ag.NotifyWithin(d.Class)
	if within == 0 {
		return nil
	}
	return &Obligation{ClientID: d.ClientID, DeviationID: d.ID, DeviationCode: d.Code, Kind: ObligeNotify,
		From: classifiedAt, Due: classifiedAt.Add(within)}
}

// SummaryObligation is the obligation to send the investigation's summary
// that the notification of d starts under ag.
func SummaryObligation(ag *Agreement, d *Deviation, notifiedAt time.Time) *Obligation {
	return &Obligation{ClientID: d.ClientID, DeviationID: d.ID, DeviationCode: d.Code, Kind: ObligeSummary,
		From: notifiedAt, Due: AddWorkingDays(notifiedAt, ag.SummaryWorkingDays)}
}

// Notification is what the site tells its client of a deviation: the
// message is the site's words to the client (shown to the client, never
// a staff member's name).
type Notification struct {
	Message string `json:"message"`
}

// CheckNotification checks the words of a notification or a summary sent
// to the client.
func CheckNotification(field, s string) (string, error) {
	return words(field, s, 10, 4000)
}

// MayNotifyClient says whether the actor may meet an obligation to the
// client: quality assurance.
func MayNotifyClient(a identity.Actor) error { return a.Require(identity.PermQualityDecide) }

// Meet records that the obligation was met at now, by the notification of
// d (for ObligeNotify) or its summary (ObligeSummary, once investigated).
func Meet(a identity.Actor, o Obligation, d *Deviation, now time.Time) (*Obligation, error) {
	if err := MayNotifyClient(a); err != nil {
		return nil, err
	}
	if o.DoneAt != nil {
		return nil, errs.E(errs.Conflict, "quality.obligation.met", o.DeviationCode)
	}
	if o.Kind == ObligeSummary && d.InvestigatedAt == nil {
		return nil, errs.E(errs.Conflict, "quality.obligation.summary_before_investigation", d.Code,
			text.Key("deviationstate."+string(d.State)))
	}
	o.DoneAt = &now
	return &o, nil
}

// Paris is where the site's working days are counted.
var Paris = func() *time.Location {
	l, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		return time.FixedZone("CET", 3600)
	}
	return l
}()

// WorkingDay says whether the day of t (in Paris) is a working day: not a
// Saturday, a Sunday, nor a French public holiday.
func WorkingDay(t time.Time) bool {
	t = t.In(Paris)
	if wd := t.Weekday(); wd == time.Saturday || wd == time.Sunday {
		return false
	}
	return !publicHoliday(t.Year(), t.Month(), t.Day())
}

// AddWorkingDays returns t moved on by n working days at the same time of
// day in Paris: a deadline of n working days from t. A t on a day that is
// not worked starts counting from the next working day's beginning.
func AddWorkingDays(t time.Time, n int) time.Time {
	l := t.In(Paris)
	if !WorkingDay(l) {
		for !WorkingDay(l) {
			l = time.Date(l.Year(), l.Month(), l.Day()+1, 0, 0, 0, 0, Paris)
		}
	}
	y, m, d := l.Date()
	h, mi, s := l.Clock()
	for n > 0 {
		d++
		if WorkingDay(time.Date(y, m, d, 12, 0, 0, 0, Paris)) {
			n--
		}
	}
	return time.Date(y, m, d, h, mi, s, l.Nanosecond(), Paris).UTC()
}

// publicHoliday says whether the day is a public holiday in France: the
// fixed ones and those that follow Easter (its Monday, Ascension, Whit
// Monday).
func publicHoliday(y int, m time.Month, d int) bool {
	switch {
	case m == time.January && d == 1, m == time.May && (d == 1 || d == 8), m == time.July && d == 14,
		m == time.August && d == 15, m == time.November && (d == 1 || d == 11), m == time.December && d == 25:
		return true
	}
	day := time.Date(y, m, d, 12, 0, 0, 0, time.UTC)
	easter := easterSunday(y)
	for _, after := range []int{1, 39, 50} {
		if day.Equal(easter.AddDate(0, 0, after)) {
			return true
		}
	}
	return false
}

// easterSunday is Easter Sunday of year y in the Gregorian calendar (the
// anonymous Gregorian algorithm), at noon UTC.
func easterSunday(y int) time.Time {
	a := y % 19
	b, c := y/100, y%100
	d, e := b/4, b%4
	f := (b + 8) / 25
	g := (b - f + 1) / 3
	h := (19*a + b - d - g + 15) % 30
	i, k := c/4, c%4
	l := (32 + 2*e + 2*i - h - k) % 7
	m := (a + 11*h + 22*l) / 451
	month := (h + l - 7*m + 114) / 31
	day := (h+l-7*m+114)%31 + 1
	return time.Date(y, time.Month(month), day, 12, 0, 0, 0, time.UTC)
}

// ObligationItem is an obligation with what was sent to meet it.
type ObligationItem struct {
	Obligation
	// Message is the site's words to the client (the notification, the
	// summary), once met.
	Message string `json:"message,omitempty"`
	// Lot is the lot of the deviation's batch.
	Lot string `json:"lot,omitempty"`
}

// ObligationFilter narrows the obligations listed.
type ObligationFilter struct {
	ClientID    string
	DeviationID string
	// Open keeps those not met.
	Open bool
}

// AgreementService reads and records the quality agreements and the
// obligations they set, scoped to the actor.
type AgreementService interface {
	Agreement(ctx context.Context, clientID string) (*Agreement, error)
	SetAgreement(ctx context.Context, ag Agreement, reason string) (*Agreement, error)
	Obligations(ctx context.Context, f ObligationFilter) ([]ObligationItem, error)
	MeetObligation(ctx context.Context, id string, version int, message string) (*ObligationItem, error)
}
