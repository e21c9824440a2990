package portal

import (
	"encoding/json"
	"time"

	"galenix/internal/outbox"
)

// The client's notices: what happened to its records, from the outbox's
// events of its own scope (the same events its live pages and its systems
// receive), each as a coded text with its parameters, rendered in the
// reader's language, and a link to the record. A notice never names a
// person: the events carry codes, lots and states only.

// NoticeTopics are the events a client is told of.
var NoticeTopics = []string{outbox.BatchMoved, outbox.DeviationOpened, outbox.CertificatePublished, outbox.ClientNotified,
	outbox.ObligationEscalated, outbox.ProjectChanged, outbox.ProjectEntryAdded}

// Notice is one thing the client is told.
type Notice struct {
	Seq int64     `json:"seq"`
	At  time.Time `json:"at"`
	// Key is the catalogue key of its words, Args their parameters; a
	// parameter written "state:<s>" is a batch's state, "phase:<p>" a
	// project's phase, rendered as its label.
	Key  string   `json:"key"`
	Args []string `json:"args"`
	// Href is the page of the record.
	Href string `json:"href"`
}

// obligationNotices are the words of what a quality agreement had sent or
// escalated, by topic and kind: with the deviation's lot, and without one.
var obligationNotices = map[[2]string][2]string{
	{outbox.ClientNotified, "notify"}:       {"notice.client_notified.notify", "notice.client_notified.notify.no_lot"},
	{outbox.ClientNotified, "summary"}:      {"notice.client_notified.summary", "notice.client_notified.summary.no_lot"},
	{outbox.ObligationEscalated, "notify"}:  {"notice.obligation_escalated.notify", "notice.obligation_escalated.notify.no_lot"},
	{outbox.ObligationEscalated, "summary"}: {"notice.obligation_escalated.summary", "notice.obligation_escalated.summary.no_lot"},
}

// projectNotices are the words of an entry recorded in a project, by kind
// and side.
var projectNotices = map[[2]string]string{
	{"decision", "site"}: "notice.project.decision.site", {"decision", "client"}: "notice.project.decision.client",
	{"message", "site"}: "notice.project.message.site", {"message", "client"}: "notice.project.message.client",
	{"task", "site"}: "notice.project.task.site", {"task", "client"}: "notice.project.task.client",
	{"milestone", "site"}: "notice.project.milestone", {"objective", "site"}: "notice.project.objective",
}

// Notices turns events into notices, in the order given; an event of
// another topic, or whose payload cannot be read, is left out.
func Notices(events []outbox.Event) []Notice {
	out := []Notice{}
	for _, ev := range events {
		var raw map[string]any
		if json.Unmarshal(ev.Payload, &raw) != nil {
			continue
		}
		str := func(k string) string { s, _ := raw[k].(string); return s }
		lot := str("lot")
		n := Notice{Seq: ev.Seq, At: ev.At}
		switch ev.Topic {
		case outbox.BatchMoved:
			n.Key, n.Args, n.Href = "notice.batch_moved", []string{lot, "state:" + str("to")}, "/batches/"+ev.EntityID
		case outbox.DeviationOpened:
			n.Key, n.Args, n.Href = "notice.deviation_opened", []string{str("code")}, "/deviations/"+ev.EntityID
		case outbox.CertificatePublished:
			n.Key, n.Args, n.Href = "notice.certificate_published", []string{lot}, "/certificates"
		case outbox.ProjectChanged:
			n.Key, n.Args, n.Href = "notice.project_changed", []string{str("code"), "phase:" + str("phase")}, "/projects/"+ev.EntityID
		case outbox.ProjectEntryAdded:
			key, ok := projectNotices[[2]string{str("kind"), str("side")}]
			if !ok {
				continue
			}
			n.Key, n.Args, n.Href = key, []string{str("code")}, "/projects/"+str("project_id")
		case outbox.ClientNotified, outbox.ObligationEscalated:
			keys, ok := obligationNotices[[2]string{ev.Topic, str("kind")}]
			if !ok {
				continue
			}
			n.Key, n.Args = keys[0], []string{str("deviation"), lot}
			if lot == "" {
				// A deviation reported by hand, on no batch.
				n.Key, n.Args = keys[1], []string{str("deviation")}
			}
			if id := str("deviation_id"); id != "" {
				n.Href = "/deviations/" + id
			}
		default:
			continue
		}
		out = append(out, n)
	}
	return out
}
