package store

import (
	"context"
	"strings"

	"galenix/internal/identity"
)

// scopeSettings is the statement that tells PostgreSQL's row-level
// security policies, for one transaction only, what its actor may see: the
// second wall behind the query filters. SQLite has no such policies; the
// filters stand alone. The transaction runs it as it begins
// (beginPostgres).
func scopeSettings(a identity.Actor) (string, []any) {
	scope := a.ClientScope()
	return `SELECT set_config('galenix.all', $1, true), set_config('galenix.staff', $2, true),
		set_config('galenix.clients', $3, true), set_config('galenix.directory', $4, true), set_config('galenix.accounts', $5, true)`,
		[]any{onOff(scope.All), onOff(isStaff(a)), strings.Join(scope.Clients, ","),
			onOff(a.DirectoryScope().All), onOff(a.Can(identity.PermAccountsView))}
}

func onOff(b bool) string {
	if b {
		return "on"
	}
	return "off"
}

// isStaff reports whether the actor is site staff (or galenix itself), as
// opposed to a client laboratory's user or nobody.
func isStaff(a identity.Actor) bool {
	return a.IsSystem() || (a.UserID != "" && !a.IsClient() && len(a.Roles) > 0)
}

// actorOf returns the actor in the context, or nobody.
func actorOf(ctx context.Context) identity.Actor {
	a, _ := identity.ActorFrom(ctx)
	return a
}

// inScope returns a condition on column col, with its arguments, that keeps
// the rows of the clients in scope ("1 = 1" for all, "1 = 0" for none).
func inScope(col string, s identity.Scope) (string, []any) {
	if s.All {
		return "1 = 1", nil
	}
	if len(s.Clients) == 0 {
		return "1 = 0", nil
	}
	args := make([]any, len(s.Clients))
	for i, c := range s.Clients {
		args[i] = c
	}
	return col + " IN (?" + strings.Repeat(", ?", len(s.Clients)-1) + ")", args
}
