package demo

import (
	"fmt"
	"time"

	"galenix/internal/errs"
	"galenix/internal/identity"
)

// attempt is a sign-in the demo's history saw refused: days and minutes
// before the day of the load (UTC), who typed what, from which address.
type attempt struct {
	daysAgo  int
	at       time.Duration // after midnight UTC
	username string
	password string
	address  string
}

// pastAttempts are the refused sign-ins of the days before the load, so
// that the security role's page shows work: a username nobody has tried at
// night from an office, a shift's first sign-in mistyped on a floor tablet,
// an analyst who locked their account after a password change (unlocked
// by the administrator below), and a run of guessed names the night before.
var pastAttempts = []attempt{
	{6, 21*time.Hour + 47*time.Minute, "jmoreau", "Moreau2026!", "10.90.2.15"},
	{3, 4*time.Hour + 52*time.Minute, "operator2", "galenix-dmeo", "10.30.4.17"},
	{2, 12*time.Hour + 58*time.Minute, "lab", "ancien-mot-de-passe", "10.25.1.31"},
	{2, 12*time.Hour + 59*time.Minute, "lab", "ancien-mot-de-passe", "10.25.1.31"},
	{2, 12*time.Hour + 59*time.Minute + 40*time.Second, "lab", "Ancien-mot-de-passe", "10.25.1.31"},
	{2, 13*time.Hour + 0*time.Minute + 30*time.Second, "lab", "ancien-mot-de-passe!", "10.25.1.31"},
	{2, 13*time.Hour + 1*time.Minute, "lab", "ancien-mot-de-passe", "10.25.1.31"},
	{1, 22*time.Hour + 12*time.Minute, "administrateur", "admin", "10.90.2.200"},
	{1, 22*time.Hour + 12*time.Minute + 20*time.Second, "root", "root", "10.90.2.200"},
	{1, 22*time.Hour + 13*time.Minute, "administrator", "password", "10.90.2.200"},
}

// unlock is the administrator's unlock of the analyst's account, after
// the lock, with who asked and how they were recognised.
var unlock = struct {
	daysAgo  int
	at       time.Duration
	username string
	reason   string
}{2, 13*time.Hour + 9*time.Minute, "lab",
	"Sébastien Nguyen a appelé depuis le laboratoire B25, reconnu par sa responsable ; il avait changé son mot de passe la veille."}

// acknowledgedBefore: the security guard acknowledged, the morning after,
// the events older than this many days; the later ones wait for them.
const acknowledgedBefore = 3

// security records the refused sign-ins of the days before the load
// through the sign-in itself (audit trail, security events, the lock),
// the administrator's unlock, and the guard's acknowledgement of the
// oldest, each dated when it happened (store.History).
func (l *loader) security() error {
	now := l.h.Now()
	defer func() { l.h.Backdate(now) }()
	day := time.Now().UTC().Truncate(24 * time.Hour)
	for _, a := range pastAttempts {
		if err := l.h.Backdate(day.AddDate(0, 0, -a.daysAgo).Add(a.at)); err != nil {
			return err
		}
		_, _, err := l.ids.SignIn(l.ctx, identity.Credentials{Username: a.username, Password: a.password, Address: a.address, Device: identity.DeviceBrowser})
		if err == nil {
			return fmt.Errorf("the demo's refused sign-in of %s was accepted", a.username)
		}
		if !errs.Is(err, errs.Unauthorized) {
			return fmt.Errorf("refused sign-in of %s: %w", a.username, err)
		}
	}
	admin, err := l.person("admin")
	if err != nil {
		return err
	}
	id, err := l.id("account:" + unlock.username)
	if err != nil {
		return err
	}
	if err := l.h.Backdate(day.AddDate(0, 0, -unlock.daysAgo).Add(unlock.at)); err != nil {
		return err
	}
	if err := l.ids.Admin().Unlock(l.h.As(l.ctx, admin), id, unlock.reason); err != nil {
		return fmt.Errorf("unlock %s: %w", unlock.username, err)
	}
	guard, err := l.person("security")
	if err != nil {
		return err
	}
	gctx := l.h.As(l.ctx, guard)
	events, err := l.ids.SecurityEvents(gctx, identity.EventFilter{})
	if err != nil {
		return err
	}
	cut := day.AddDate(0, 0, -acknowledgedBefore+1)
	for _, e := range events {
		if !e.At.Before(cut) {
			continue
		}
		if err := l.h.Backdate(e.At.Truncate(24*time.Hour).AddDate(0, 0, 1).Add(5*time.Hour + 40*time.Minute)); err != nil {
			return err
		}
		if _, err := l.ids.AcknowledgeEvent(gctx, e.ID, ""); err != nil {
			return fmt.Errorf("acknowledge %s: %w", e.Kind, err)
		}
	}
	return nil
}
