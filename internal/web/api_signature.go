package web

// routesSignatures registers electronic signatures.
func (s *Server) routesSignatures() {
}
