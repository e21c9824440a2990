package store

import (
	"context"

	"galenix/internal/errs"
	"galenix/internal/identity"
)

// MachineTokenPrefix starts every machine (API) token, so that a token says
// what it is before any lookup.
const MachineTokenPrefix = "gxm_"

// authenticateMachine returns the actor of a machine token.
func (s *IdentityStore) authenticateMachine(ctx context.Context, token string) (identity.Actor, error) {
	return identity.Actor{}, errs.E(errs.Unauthorized, "This API token is not valid.", "Ce jeton d'API n'est pas valide.")
}
