package outbox

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"galenix/internal/mail"
	"galenix/internal/text"
)

// AlarmMail e-mails each escalated environmental alarm (AlarmEscalated)
// of the site to its recipients, in French then English: the sensor, the
// alarm's coded message in words, its level, when it was raised (in the
// site's zone and in UTC), and the page that acknowledges it. Deliver is a
// durable subscriber's: an error (the relay did not take the message)
// makes the dispatcher deliver the event again after its backoff, so a
// recipient may get a message twice — with the same Message-ID, built
// from the event's seq and the alarm's id, which mail clients deduplicate
// on (the alarm's id too, so that a seq numbered again after a restore
// from a backup never makes a new alarm look like one already received).
type AlarmMail struct {
	// Send delivers a message (a mail.Relay's Send).
	Send func(ctx context.Context, m mail.Message) error
	To   []string
	// BaseURL, when set, makes the alarm's link absolute
	// (https://galenix.site.example).
	BaseURL string
	// Zone is the site's time zone, for the time raised; nil: UTC.
	Zone *time.Location
}

// Deliver sends ev if it is an escalation of the site's.
func (a *AlarmMail) Deliver(ctx context.Context, ev Event) error {
	if ev.Topic != AlarmEscalated || ev.ClientID != "" || len(a.To) == 0 {
		return nil
	}
	var p struct {
		Sensor  string    `json:"sensor"`
		Level   string    `json:"level"`
		Raised  time.Time `json:"raised"`
		Message string    `json:"message"`
	}
	// The payload is the store's own; should it not read, the mail still
	// goes, naming the alarm.
	_ = json.Unmarshal(ev.Payload, &p)
	if p.Sensor == "" {
		p.Sensor = ev.EntityID
	}
	zone := a.Zone
	if zone == nil {
		zone = time.UTC
	}
	link := strings.TrimRight(a.BaseURL, "/") + "/alarms/" + ev.EntityID
	var subject, body []string
	for _, lang := range []string{"fr", "en"} {
		raised := "—"
		switch {
		case p.Raised.IsZero():
		case zone == time.UTC || zone.String() == "UTC":
			raised = text.Render(lang, "mail.alarm.raised_utc", text.FormatDateTime(lang, p.Raised, time.UTC))
		default:
			raised = text.Render(lang, "mail.alarm.raised_zone", text.FormatDateTime(lang, p.Raised, zone), zone.String(),
				text.FormatDateTime(lang, p.Raised, time.UTC))
		}
		// Silence and gap alarms' messages do not name their level.
		level := "—"
		if k := "stored.environment.level." + p.Level; p.Level != "" && text.Render(lang, k) != k {
			level = text.Render(lang, k)
		}
		subject = append(subject, text.Render(lang, "mail.alarm.subject", p.Sensor))
		body = append(body, text.Render(lang, "mail.alarm.body", p.Sensor, text.RenderStored(lang, p.Message), level, raised, link))
	}
	return a.Send(ctx, mail.Message{To: a.To, Subject: strings.Join(subject, " / "),
		Text: strings.Join(body, "\n\n-- \n\n"), ID: fmt.Sprintf("galenix-event-%d-alarm-%s", ev.Seq, IDPart(ev.EntityID))})
}

// IDPart keeps of s what a Message-ID may hold.
func IDPart(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 128 && (r == '-' || r == '.' || r == '_' || 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9') {
			return r
		}
		return '_'
	}, s)
}
