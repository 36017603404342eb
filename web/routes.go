package web

import "net/http"

// router is the ServeMux the API and the console register their routes
// on. It keeps each pattern as registered, so that the tests derive the
// routes from the code itself (every state-changing route refused
// cross-site, every route in the role table) rather than from a list
// written apart that a new route could miss.
type router struct {
	mux      *http.ServeMux
	patterns []string
}

func newRouter() *router { return &router{mux: http.NewServeMux()} }

// Handle registers h for pattern (http.ServeMux's syntax).
func (r *router) Handle(pattern string, h http.Handler) {
	r.patterns = append(r.patterns, pattern)
	r.mux.Handle(pattern, h)
}

// HandleFunc registers h for pattern.
func (r *router) HandleFunc(pattern string, h func(http.ResponseWriter, *http.Request)) {
	r.Handle(pattern, http.HandlerFunc(h))
}

// routes registers every route of the network handler (local false) or
// of the local socket's.
func (s *Server) routes(local bool) *router {
	rt := newRouter()
	s.apiRoutes(rt)
	if local {
		for _, lr := range s.cfg.LocalRoutes {
			rt.Handle(lr.Pattern, s.need(lr.Handler.ServeHTTP, RoleAdmin))
		}
	} else {
		s.consoleRoutes(rt)
	}
	return rt
}
