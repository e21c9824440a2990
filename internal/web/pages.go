package web

import (
	"net/http"
	"net/url"
)

// pages renders the server-rendered HTML pages.
type pages struct{}

func newPages() *pages { return &pages{} }

// routesPages registers the HTML pages.
func (s *Server) routesPages() {
	s.handle("GET", "/{$}", false, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write([]byte("<!doctype html><title>galenix</title><h1>galenix</h1>"))
	})
}

func urlQueryEscape(s string) string { return url.QueryEscape(s) }
