package app

import (
	"context"
	"time"

	"galenix/internal/errs"
	"galenix/internal/identity"
	"galenix/internal/outbox"
	"galenix/internal/portal"
)

// OutboxKeep is how long an event stays in the outbox once every durable
// consumer has had it: long enough to look into what was delivered.
const OutboxKeep = 7 * 24 * time.Hour

// subscribe makes the node's outbox dispatcher and registers its
// subscribers, by name. A new consumer of what the commands did after
// their commit is one more entry here: Durable for what must happen once
// for the site (a notification; delivered by the leading node, its cursor
// stored), node-local for what each node does for its own clients (its
// live streams).
func (m *Main) subscribe(zone *time.Location) {
	d := outbox.New(m.DB.Outbox(), m.Log)
	d.Leading = m.Leading
	d.Subscribe(outbox.Subscriber{Name: "web.live", Deliver: m.Web.Live})
	// An environmental alarm escalated reaches the site's receiver once
	// at least, from the leading node, retried until it answers 2xx.
	if m.Config.AlarmWebhookURL != "" {
		wh := &outbox.Webhook{URL: m.Config.AlarmWebhookURL, Secret: m.Config.AlarmWebhookSecret, Topics: []string{outbox.AlarmEscalated}}
		d.Subscribe(outbox.Subscriber{Name: "environment.webhook", Durable: true, Deliver: wh.Deliver})
	}
	// And e-mailed through the site's relay, in the site's time zone.
	if m.Config.SMTP.Addr != "" && len(m.Config.AlarmMailTo) > 0 {
		am := &outbox.AlarmMail{Send: m.Config.SMTP.Send, To: m.Config.AlarmMailTo, BaseURL: m.Config.PublicURL, Zone: zone}
		d.Subscribe(outbox.Subscriber{Name: "environment.mail", Durable: true, Deliver: am.Deliver})
	}
	// A client's notices reach the quality contacts its agreement names,
	// by e-mail, once, from the leading node.
	if m.Config.SMTP.Addr != "" {
		pm := &portal.Mail{Send: m.Config.SMTP.Send, BaseURL: m.Config.PublicURL, Recipients: m.agreementRecipients}
		d.Subscribe(outbox.Subscriber{Name: "portal.mail", Durable: true, Deliver: pm.Deliver})
	}
	// This node's own commits wake the consumers at once; the others'
	// reach them at the next poll.
	m.DB.Outbox().OnAppend(d.Nudge)
	m.outbox = d
}

// agreementRecipients reads the addresses a client's quality agreement
// names for its notices; none without an agreement.
func (m *Main) agreementRecipients(ctx context.Context, clientID string) ([]string, error) {
	ag, err := m.DB.Agreements().Agreement(identity.WithActor(ctx, identity.System), clientID)
	if errs.Is(err, errs.NotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return ag.NotifyTo, nil
}

// pruneOutbox deletes the events older than OutboxKeep that every durable
// consumer has had; the dispatcher's work, the system's.
func (m *Main) pruneOutbox(ctx context.Context) error {
	n, err := m.DB.Outbox().Prune(identity.WithActor(ctx, identity.System), m.DB.Now().Add(-OutboxKeep))
	if err == nil && n > 0 {
		m.Log.Info("outbox events pruned", "count", n)
	}
	return err
}
