package web

import "net/http"

// consoleRoutes registers the console's pages (owned by the console work).
func (s *Server) consoleRoutes(mux *http.ServeMux) {}
