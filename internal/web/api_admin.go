package web

// routesAdmin registers the administration of accounts, roles, client
// assignments and machine tokens.
func (s *Server) routesAdmin() {
}
