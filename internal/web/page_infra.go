package web

// routesInfraPages registers the infrastructure's pages.
func (s *Server) routesInfraPages() {}
