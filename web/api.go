package web

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"runtime/debug"
	"strconv"
	"strings"
	"time"
)

// liveHeartbeat is the interval of the SSE keep-alive comment: proxies and
// browsers drop an event stream that stays silent for long.
const liveHeartbeat = 15 * time.Second

// api is the state of one handler's API routes: the cache of converted
// recordings and the live heartbeat. Server itself stays stateless so that
// Handler and LocalHandler may be built at any time.
type api struct {
	s         *Server
	pcm       *pcmCache
	heartbeat time.Duration
}

// newAPI returns the API state over s.
func newAPI(s *Server) *api {
	return &api{s: s, pcm: newPCMCache(pcmCacheEntries, pcmCacheBytes), heartbeat: liveHeartbeat}
}

// apiRoutes registers /api/v1. Who may call what (web-shared rules): every
// logged-in role reads calls, recordings, live and status and changes its
// own password (a receptionist only their own calls and live calls); the
// office roles read the figures and the sample; jefe and admin read the
// audit; admin manages users; the procedure's routes follow procRules.
func (s *Server) apiRoutes(mux *router) { newAPI(s).routes(mux) }

func (a *api) routes(mux *router) {
	s := a.s
	all := func(h http.HandlerFunc) http.Handler { return s.need(h, everyone...) }
	// mine: a receptionist too, on their own data only.
	mine := func(h http.HandlerFunc) http.Handler { return s.need(h, withReceptionist...) }
	mux.HandleFunc("POST /api/v1/login", s.handleLogin)
	mux.Handle("POST /api/v1/logout", mine(s.handleLogout))
	mux.Handle("GET /api/v1/me", mine(s.handleMe))
	mux.Handle("POST /api/v1/account/password", mine(s.handlePassword))

	mux.Handle("GET /api/v1/calls", mine(s.handleCalls))
	mux.Handle("GET /api/v1/calls/{id}", mine(s.handleCall))
	mux.Handle("GET /api/v1/calls/{id}/recording", mine(a.handleRecording))
	mux.Handle("GET /api/v1/calls/{id}/peaks", mine(a.handlePeaks))
	mux.Handle("GET /api/v1/live", mine(a.handleLive))
	mux.Handle("GET /api/v1/status", mine(s.handleStatus))
	mux.Handle("GET /api/v1/months/{month}/figures", all(s.handleMonthFigures))
	a.aggregateRoutes(mux)
	a.sampleRoutes(mux)
	a.procedureRoutes(mux)

	mux.Handle("GET /api/v1/audit", s.need(s.handleAudit, RoleJefe, RoleAdmin))

	mux.Handle("GET /api/v1/users", s.need(s.handleUsers, RoleAdmin))
	mux.Handle("POST /api/v1/users", s.need(s.handleAddUser, RoleAdmin))
	mux.Handle("PATCH /api/v1/users/{name}", s.need(s.handlePatchUser, RoleAdmin))
	mux.Handle("POST /api/v1/users/{name}/token", s.need(s.handleToken, RoleAdmin))

	// Anything else under /api answers JSON too.
	mux.HandleFunc("/api/", func(w http.ResponseWriter, r *http.Request) {
		s.writeError(w, r, fmt.Errorf("%w: %s", ErrNotFound, r.URL.Path))
	})
}

// need lets through a principal with one of roles, and answers 403 to any
// other (401 without one: guard normally stops those first).
func (s *Server) need(h http.HandlerFunc, roles ...Role) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, ok := principalFrom(r.Context())
		if !ok {
			s.writeError(w, r, errUnauthenticated)
			return
		}
		if !allowed(p, roles...) {
			s.writeError(w, r, fmt.Errorf("%w: %s may not %s %s", errForbidden, p.Role, r.Method, r.URL.Path))
			return
		}
		h(w, r)
	})
}

// recoverPanics turns a panic in a handler into a logged 500, so that no
// request can take the daemon down.
func (s *Server) recoverPanics(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tw := &trackingWriter{ResponseWriter: w}
		defer func() {
			v := recover()
			if v == nil {
				return
			}
			if v == http.ErrAbortHandler { //nolint:errorlint // a sentinel value passed to panic, compared as net/http does
				return
			}
			s.log.Error("handler panicked", "method", r.Method, "path", r.URL.Path, "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
			if !tw.wrote {
				s.writeError(tw, r, fmt.Errorf("panic: %v", v))
			}
		}()
		next.ServeHTTP(tw, r)
	})
}

// trackingWriter remembers whether the response was started. Unwrap lets
// http.ResponseController reach Flush on the real writer (SSE).
type trackingWriter struct {
	http.ResponseWriter
	wrote bool
}

func (t *trackingWriter) WriteHeader(code int) {
	t.wrote = true
	t.ResponseWriter.WriteHeader(code)
}

func (t *trackingWriter) Write(b []byte) (int, error) {
	t.wrote = true
	return t.ResponseWriter.Write(b)
}

// Unwrap returns the underlying writer.
func (t *trackingWriter) Unwrap() http.ResponseWriter { return t.ResponseWriter }

// errorBody is the JSON of an API error.
type errorBody struct {
	Error         string `json:"error"`
	LockedUntil   string `json:"locked_until,omitempty"`
	NotRecordable string `json:"not_recordable,omitempty"`
}

// writeError answers err: the sentinels map to 400, 401, 403, 404, 409,
// 413, 429 (with Retry-After) and 503, anything else to a logged 500 whose
// cause is not shown. API paths get JSON {"error": "..."}; other paths a
// short Spanish text (the console renders its own error pages).
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	code, body := s.errorResponse(w, err)
	if code == http.StatusInternalServerError {
		if errors.Is(err, context.Canceled) {
			s.log.Debug("request canceled", "method", r.Method, "path", r.URL.Path, "err", err)
		} else {
			s.log.Error("request failed", "method", r.Method, "path", r.URL.Path, "err", err)
		}
	}
	if isAPI(r.URL.Path) {
		writeJSON(w, code, body)
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(code)
	_, _ = fmt.Fprintln(w, body.Error)
}

// errorResponse maps err to a status and a message fit for the client.
func (s *Server) errorResponse(w http.ResponseWriter, err error) (int, errorBody) {
	var tooBig *http.MaxBytesError
	var locked *LockedError
	switch {
	case errors.As(err, &locked):
		wait := math.Ceil(locked.Until.Sub(s.now()).Seconds())
		w.Header().Set("Retry-After", strconv.Itoa(int(max(1, wait))))
		return http.StatusTooManyRequests, errorBody{
			Error:       "cuenta bloqueada hasta " + locked.Until.In(s.cfg.Location).Format("15:04"),
			LockedUntil: locked.Until.UTC().Format(time.RFC3339),
		}
	case errors.Is(err, ErrLocked):
		w.Header().Set("Retry-After", "60")
		return http.StatusTooManyRequests, errorBody{Error: "cuenta bloqueada"}
	case errors.Is(err, ErrBadLogin):
		return http.StatusUnauthorized, errorBody{Error: "nombre o contraseña incorrectos"}
	case errors.Is(err, errUnauthenticated):
		return http.StatusUnauthorized, errorBody{Error: errUnauthenticated.Error()}
	case errors.Is(err, errMustChange):
		return http.StatusForbidden, errorBody{Error: errMustChange.Error()}
	case errors.Is(err, errCrossOrigin):
		return http.StatusForbidden, errorBody{Error: errCrossOrigin.Error()}
	case errors.Is(err, errForbidden):
		return http.StatusForbidden, errorBody{Error: detail(err, errForbidden, "acceso denegado")}
	case errors.As(err, &tooBig):
		return http.StatusRequestEntityTooLarge, errorBody{Error: "solicitud demasiado grande"}
	case errors.Is(err, ErrInvalid):
		return http.StatusBadRequest, errorBody{Error: detail(err, ErrInvalid, "solicitud inválida")}
	case errors.Is(err, ErrNotFound):
		return http.StatusNotFound, errorBody{Error: "no encontrado"}
	case errors.Is(err, errConflict):
		return http.StatusConflict, errorBody{Error: detail(err, errConflict, "no es posible en el estado actual")}
	case errors.Is(err, ErrExists):
		return http.StatusConflict, errorBody{Error: "ya existe"}
	case errors.Is(err, errAuditUnavailable):
		return http.StatusServiceUnavailable, errorBody{Error: "auditoría no disponible: acción rechazada"}
	}
	return http.StatusInternalServerError, errorBody{Error: "error interno"}
}

// detail returns what follows the sentinel's text in err ("invalid: fecha
// inválida" → "fecha inválida"), or def when nothing does: the fact the
// handler attached, without the wrapping layers' context.
func detail(err, sentinel error, def string) string {
	msg, prefix := err.Error(), sentinel.Error()+": "
	if i := strings.LastIndex(msg, prefix); i >= 0 {
		if d := msg[i+len(prefix):]; d != "" {
			return d
		}
	}
	return def
}

// writeJSON answers v as JSON.
func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(true)
	_ = enc.Encode(v)
}

// decodeJSON reads the request body (bounded by guard) into v.
func decodeJSON(r *http.Request, v any) error {
	if r.Body == nil {
		return fmt.Errorf("%w: falta el cuerpo JSON", ErrInvalid)
	}
	dec := json.NewDecoder(r.Body)
	if err := dec.Decode(v); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return fmt.Errorf("read body: %w", err)
		}
		return fmt.Errorf("%w: cuerpo JSON inválido", ErrInvalid)
	}
	return nil
}
