package identity

// HomeOrder is the order in which a person's roles choose the page they
// land on after signing in (their home): the first role of this list they
// hold. The roles whose work is the narrowest and the most pressing come
// first, so that a qualified person who is also QA lands on the release
// queue, a supervisor who also executes batches on the day's lines, and an
// administrator who holds a trade role on that trade's page; the
// administration of accounts comes last.
var HomeOrder = []Role{RoleQP, RoleQA, RoleSupervisor, RoleOperator, RoleLab, RoleMaintenance, RoleSecurity, RoleIT,
	RoleClientManager, RoleClientUser, RoleAdmin}

// HomeRole is the role whose home the actor lands on: the first role of
// HomeOrder it holds; "" for an actor without a role (galenix itself, a
// machine).
func (a Actor) HomeRole() Role {
	for _, r := range HomeOrder {
		if a.Has(r) {
			return r
		}
	}
	return ""
}
