package app_test

import (
	"context"
	"io"
	"mime/quotedprintable"
	netmail "net/mail"
	"strings"
	"testing"
	"time"

	"galenix/internal/app"
	"galenix/internal/environment"
	"galenix/internal/identity"
	"galenix/internal/mail"
	"galenix/internal/testsmtp"
)

// TestAlarmEscalationMailed: with a relay and recipients configured, an
// environmental alarm escalated reaches them by e-mail through the
// leading node's outbox, once, with its level and the link to its page.
func TestAlarmEscalationMailed(t *testing.T) {
	defer func(d time.Duration) { app.LeaderEvery = d }(app.LeaderEvery)
	app.LeaderEvery = 50 * time.Millisecond
	srv := testsmtp.Start(t, testsmtp.Options{})
	m := app.New(app.Config{Addr: "127.0.0.1:0", DataDir: t.TempDir(), DrainTimeout: -1,
		SMTP: mail.Relay{Addr: srv.Addr, From: "galenix@site.example", Security: mail.Plain}, AlarmMailTo: []string{"qa@site.example"},
		PublicURL: "https://galenix.site.example"}, nil)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := m.Open(ctx); err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	sys := identity.WithActor(ctx, identity.System)
	now := time.Now().UTC().Truncate(time.Second)
	s := oneSensor(t, m, now)
	env := m.DB.Environment()
	mc := environment.NewMachine(&s, now)
	if err := env.RecordAlarms(sys, mc, []environment.Event{{Kind: environment.Opened, Alarm: environment.Alarm{SensorID: s.ID,
		Kind: environment.AlarmSilence, Level: environment.Action, Start: now.Add(-time.Hour), Raised: now.Add(-time.Hour)}}}); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx) }()
	esc, err := env.EscalateAlarms(sys, 15*time.Minute, now)
	if err != nil || len(esc) != 1 {
		t.Fatalf("escalated: %v, %v", esc, err)
	}
	for deadline := time.Now().Add(15 * time.Second); len(srv.Messages()) == 0; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("no e-mail within 15 s of the escalation")
		}
	}
	got := srv.Messages()
	msg, err := netmail.ReadMessage(strings.NewReader(got[0].Data))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(quotedprintable.NewReader(msg.Body))
	if len(got) != 1 || got[0].To[0] != "qa@site.example" || !strings.Contains(string(body), "https://galenix.site.example/alarms/"+esc[0].ID) ||
		!strings.Contains(string(body), "Niveau : action.") || !strings.Contains(msg.Header.Get("Message-Id"), esc[0].ID) {
		t.Errorf("e-mails: %+v", got)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}
