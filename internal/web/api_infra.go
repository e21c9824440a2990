package web

// routesInfra registers the infrastructure's JSON API.
func (s *Server) routesInfra() {}
