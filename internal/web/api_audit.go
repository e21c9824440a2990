package web

// routesAuditExtras registers the audit trail's exports and proofs.
func (s *Server) routesAuditExtras() {
}
