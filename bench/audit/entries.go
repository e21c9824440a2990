package main

import (
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/google/uuid"

	"galenix/internal/audit"
)

// entryGen makes audit entries like those galenix writes: people of the
// site changing fields of batches, rooms, lines and people, from sessions on
// the site's network, with a reason for most changes after creation, and a
// client laboratory owning most of the records.
type entryGen struct {
	rnd     *rand.Rand
	actors  []actor
	clients []string
	at      time.Time
}

type actor struct{ id, name, session, address string }

// change is a realistic change of one field: its command, entity, field
// and the values before and after.
type change struct{ command, entity, field, old, new string }

var changes = []change{
	{"batch.step.complete", "batch_step", "status", "in_progress", "completed"},
	{"batch.step.complete", "batch_step", "completed_by", "", "Sophie Marchand"},
	{"batch.step.record", "batch_step", "fill_weight_mg", "", "502.4"},
	{"batch.create", "batch", "lot", "", "L26-0427-B30-12"},
	{"batch.create", "batch", "product_id", "", "0195f1a2-7c4e-7b21-9d3e-5a2b8c1d0e4f"},
	{"batch.release", "batch", "status", "qa_review", "released"},
	{"room.limits.update", "room", "temp_max", "24.0", "23.5"},
	{"room.limits.update", "room", "humidity_max", "60", "55"},
	{"line.update", "line", "status", "idle", "running"},
	{"equipment.update", "equipment", "qualification_due", "2026-03-31", "2027-03-31"},
	{"person.create", "person", "name", "", "Claire Dubois"},
	{"person.update", "person", "team_id", "0195f1a2-0000-7000-8000-0000000b2040", "0195f1a2-0000-7000-8000-00000005011a"},
	{"sample.result.record", "sample", "result", "", "conforme (98.7 %)"},
	{"alarm.acknowledge", "alarm", "acknowledged_by", "", "Julien Moreau"},
}

var names = []string{"Sophie Marchand", "Julien Moreau", "Claire Dubois", "Jean-Baptiste Lefèvre", "Amélie Rousseau",
	"Karim Benali", "Nathalie Giraud", "Thomas Petit", "Émilie Fontaine", "Lucas Girard"}

var reasons = []string{"Correction d'une erreur de saisie", "Requalification annuelle", "Demande du client (CC-2026-041)", "Écart de pesée corrigé après revue"}

func newEntryGen(seed uint64) *entryGen {
	g := &entryGen{rnd: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), at: time.Date(2026, 3, 2, 6, 0, 0, 0, time.UTC)}
	for i := range 200 {
		g.actors = append(g.actors, actor{id: g.uuid(), name: names[i%len(names)], session: g.uuid(),
			address: fmt.Sprintf("10.30.%d.%d", i/50, 10+i%200)})
	}
	for range 3 {
		g.clients = append(g.clients, g.uuid())
	}
	return g
}

func (g *entryGen) uuid() string {
	var b [16]byte
	for i := range b {
		b[i] = byte(g.rnd.Uint32())
	}
	b[6] = b[6]&0x0f | 0x70
	b[8] = b[8]&0x3f | 0x80
	return uuid.UUID(b).String()
}

// next returns the next entry; seq and time increase.
func (g *entryGen) next(seq int64) audit.Entry {
	a := g.actors[g.rnd.IntN(len(g.actors))]
	c := changes[g.rnd.IntN(len(changes))]
	g.at = g.at.Add(time.Duration(g.rnd.IntN(200_000)) * time.Microsecond)
	e := audit.Entry{Seq: seq, At: g.at, ActorID: a.id, ActorName: a.name, SessionID: a.session, Address: a.address,
		Command: c.command, Entity: c.entity, EntityID: g.uuid(), Field: c.field, Old: c.old, New: c.new}
	if c.old != "" {
		e.Reason = reasons[g.rnd.IntN(len(reasons))]
	}
	if g.rnd.IntN(10) < 6 {
		e.ClientID = g.clients[g.rnd.IntN(len(g.clients))]
	}
	return e
}
