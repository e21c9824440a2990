package portal

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"galenix/internal/mail"
	"galenix/internal/outbox"
	"galenix/internal/text"
)

// MailTopics are the notices a client is also told of by e-mail: what its
// quality agreement has the site send (a deviation's notification and its
// investigation summary), a deadline of the agreement escalated for being
// late, and a certificate of analysis published. A batch's moves stay in
// the portal.
var MailTopics = []string{outbox.ClientNotified, outbox.ObligationEscalated, outbox.CertificatePublished}

// Mail e-mails a client's notices to the addresses its quality agreement
// names (quality.Agreement.NotifyTo), in French then English: the notice in
// words and the link to its page in the client's space, never more (the
// record itself is read there, signed in; a mailbox is not the place for
// a client's confidential data). Deliver is a durable subscriber's: an
// error (the addresses could not be read, the relay did not take the
// message) makes the dispatcher deliver the event again after its backoff,
// with the same Message-ID, built from the event's seq and entity, which
// mail clients deduplicate on.
type Mail struct {
	// Send delivers a message (a mail.Relay's Send).
	Send func(ctx context.Context, m mail.Message) error
	// Recipients reads the addresses a client's agreement names; none
	// when it has no agreement.
	Recipients func(ctx context.Context, clientID string) ([]string, error)
	// BaseURL, when set, makes the links absolute.
	BaseURL string
}

// Deliver sends ev to its client's quality contacts if it is one of
// MailTopics.
func (m *Mail) Deliver(ctx context.Context, ev outbox.Event) error {
	if ev.ClientID == "" || !slices.Contains(MailTopics, ev.Topic) {
		return nil
	}
	ns := Notices([]outbox.Event{ev})
	if len(ns) == 0 {
		return nil
	}
	to, err := m.Recipients(ctx, ev.ClientID)
	if err != nil || len(to) == 0 {
		return err
	}
	n := ns[0]
	link := strings.TrimRight(m.BaseURL, "/") + n.Href
	args := make([]any, len(n.Args))
	for i, a := range n.Args {
		args[i] = a
	}
	var subject, body []string
	for _, lang := range []string{"fr", "en"} {
		what := text.Render(lang, n.Key, args...)
		subject = append(subject, what)
		body = append(body, text.Render(lang, "mail.notice.body", what, link))
	}
	return m.Send(ctx, mail.Message{To: to, Subject: "galenix — " + strings.Join(subject, " / "),
		Text: strings.Join(body, "\n\n-- \n\n"), ID: fmt.Sprintf("galenix-event-%d-%s-%s", ev.Seq, outbox.IDPart(ev.Entity), outbox.IDPart(ev.EntityID))})
}
