package outbox

import (
	"context"
	"encoding/json"
	"io"
	"mime"
	"mime/quotedprintable"
	netmail "net/mail"
	"strings"
	"testing"
	"time"

	"galenix/internal/mail"
	"galenix/internal/testsmtp"
	"galenix/internal/text"
)

// TestAlarmMail: an escalated alarm of the site is e-mailed through a real
// SMTP conversation, in French then English, with its coded message in
// words, its level, the time raised in the site's zone and in UTC and the
// page's link, its Message-ID from the event's seq and the alarm's id; a relay
// refusing is an error (the dispatcher sends it again, same Message-ID);
// other topics and a client's events send nothing.
func TestAlarmMail(t *testing.T) {
	srv := testsmtp.Start(t, testsmtp.Options{})
	relay := &mail.Relay{Addr: srv.Addr, From: "galenix@site.example", Security: mail.Plain}
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Fatal(err)
	}
	a := &AlarmMail{Send: relay.Send, To: []string{"qa@site.example"}, BaseURL: "https://galenix.site.example/", Zone: paris}
	msg := text.Code("stored.environment.alarm.above", text.Code("stored.environment.level.action").Arg(), text.Num(26, 2), text.Str("°C")).String()
	payload, _ := json.Marshal(map[string]any{"sensor": "B30-B14-T1", "level": "action", "raised": time.Date(2026, 6, 1, 8, 0, 0, 0, time.UTC), "message": msg})
	ev := Event{Seq: 12, Topic: AlarmEscalated, Entity: "environment_alarm", EntityID: "0190-a1", Payload: payload}
	ctx := context.Background()
	for _, other := range []Event{{Seq: 1, Topic: StepDone, Payload: payload}, {Seq: 2, Topic: AlarmEscalated, ClientID: "c1", Payload: payload}} {
		if err := a.Deliver(ctx, other); err != nil {
			t.Fatal(err)
		}
	}
	srv.Refuse(true)
	if err := a.Deliver(ctx, ev); err == nil {
		t.Error("a relay's refusal is not an error")
	}
	srv.Refuse(false)
	if err := a.Deliver(ctx, ev); err != nil {
		t.Fatal(err)
	}
	got := srv.Messages()
	if len(got) != 1 || got[0].To[0] != "qa@site.example" {
		t.Fatalf("messages: %+v", got)
	}
	m, err := netmail.ReadMessage(strings.NewReader(got[0].Data))
	if err != nil {
		t.Fatal(err)
	}
	subject, _ := new(mime.WordDecoder).DecodeHeader(m.Header.Get("Subject"))
	b, _ := io.ReadAll(quotedprintable.NewReader(m.Body))
	body := string(b)
	for _, want := range []string{"Alarme non acquittée : capteur B30-B14-T1", "Alarm not acknowledged: sensor B30-B14-T1"} {
		if !strings.Contains(subject, want) {
			t.Errorf("subject %q lacks %q", subject, want)
		}
	}
	for _, want := range []string{"Niveau action : au-dessus de 26,00 °C", "action level: above 26.00 °C", "Niveau : action.", "Level: action.",
		"Levée le 01/06/2026 10:00 (Europe/Paris), soit 01/06/2026 08:00 UTC.", "Raised on 1 Jun 2026 10:00 (Europe/Paris), i.e. 1 Jun 2026 08:00 UTC.",
		"https://galenix.site.example/alarms/0190-a1"} {
		if !strings.Contains(body, want) {
			t.Errorf("body lacks %q:\n%s", want, body)
		}
	}
	if fr, en := strings.Index(body, "acquittée"), strings.Index(body, "acknowledged"); fr < 0 || en < fr {
		t.Errorf("French first, then English:\n%s", body)
	}
	if m.Header.Get("Message-Id") != "<galenix-event-12-alarm-0190-a1@site.example>" {
		t.Errorf("Message-ID %q", m.Header.Get("Message-Id"))
	}
	// A silence alarm's message names no level: the mail does; without
	// the site's zone the time is UTC's.
	a.Zone = nil
	silence, _ := json.Marshal(map[string]any{"sensor": "B30-B14-T1", "level": "action", "raised": time.Date(2026, 6, 1, 8, 0, 0, 0, time.UTC),
		"message": text.Code("stored.environment.alarm.silence", text.Num(15, 0)).String()})
	if err := a.Deliver(ctx, Event{Seq: 13, Topic: AlarmEscalated, Entity: "environment_alarm", EntityID: "0190-a2", Payload: silence}); err != nil {
		t.Fatal(err)
	}
	if got = srv.Messages(); len(got) != 2 {
		t.Fatalf("%d messages", len(got))
	}
	m, err = netmail.ReadMessage(strings.NewReader(got[1].Data))
	if err != nil {
		t.Fatal(err)
	}
	b, _ = io.ReadAll(quotedprintable.NewReader(m.Body))
	for _, want := range []string{"Aucune mesure depuis 15 min\nNiveau : action.\nLevée le 01/06/2026 08:00 UTC.", "Level: action.\nRaised on 1 Jun 2026 08:00 UTC."} {
		if !strings.Contains(strings.ReplaceAll(string(b), "\r\n", "\n"), want) {
			t.Errorf("body lacks %q:\n%s", want, b)
		}
	}
}
