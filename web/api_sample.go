package web

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/switchtap/switchtap/report"
)

// Sampler is the month's random sample of calls to evaluate (package
// report, issue 10 §2); nil in Config leaves its routes out.
type Sampler interface {
	Draw(ctx context.Context, req report.DrawRequest) (report.Sample, error)
	Get(ctx context.Context, month string) (report.Sample, error)
	Verify(ctx context.Context, month string) (report.Verification, error)
	Replace(ctx context.Context, req report.ReplaceRequest) (report.Sample, report.Replacement, error)
}

// Audit actions of the sample.
const (
	ActionSampleDraw    = "sample_draw"
	ActionSampleRedraw  = "sample_redraw"
	ActionSampleReplace = "sample_replace"
)

// sampleRoutes registers the sample's API. Everyone reads a sample and its
// verification; the técnico and the jefe draw and replace (and the local
// socket, which stands for the técnico at the board's own terminal, as the
// CLI on the store does).
func (a *api) sampleRoutes(mux *router) {
	s := a.s
	if s.cfg.Sample == nil {
		return
	}
	all := func(h http.HandlerFunc) http.Handler { return s.need(h, everyone...) }
	mux.Handle("POST /api/v1/months/{month}/sample", all(s.handleSampleDraw))
	mux.Handle("GET /api/v1/months/{month}/sample", all(s.handleSample))
	mux.Handle("GET /api/v1/months/{month}/sample/verify", all(s.handleSampleVerify))
	mux.Handle("POST /api/v1/months/{month}/sample/replace", all(s.handleSampleReplace))
}

// maySample reports whether p may draw or amend a sample.
func maySample(p Principal) bool { return allowed(p, RoleTecnico, RoleJefe) || p.Via == "socket" }

// seedValue is a seed given as a JSON string ("123", what a browser can
// carry without losing bits) or a JSON number.
type seedValue struct{ v *uint64 }

// UnmarshalJSON reads a seed from a string or a number.
func (s *seedValue) UnmarshalJSON(b []byte) error {
	str := strings.Trim(string(b), `"`)
	if str == "null" || str == "" {
		return nil
	}
	v, err := strconv.ParseUint(str, 10, 64)
	if err != nil {
		return fmt.Errorf("%w: semilla inválida", ErrInvalid)
	}
	s.v = &v
	return nil
}

// sampleDrawRequest is the body of POST /api/v1/months/{month}/sample.
type sampleDrawRequest struct {
	Seed   seedValue `json:"seed"`
	Redraw bool      `json:"redraw"`
	Reason string    `json:"reason"`
}

// handleSampleDraw is POST /api/v1/months/{month}/sample: 201 with the
// sample; 409 when the month has one and no redraw was asked.
func (s *Server) handleSampleDraw(w http.ResponseWriter, r *http.Request) {
	p, _ := principalFrom(r.Context())
	if !maySample(p) {
		s.writeError(w, r, fmt.Errorf("%w: %s may not draw a sample", errForbidden, p.Role))
		return
	}
	var req sampleDrawRequest
	if r.ContentLength != 0 {
		if err := decodeJSON(r, &req); err != nil {
			s.writeError(w, r, err)
			return
		}
	}
	smp, err := s.drawSample(r, p, r.PathValue("month"), req)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, smp)
}

// drawSample draws and audits; the API and the console share it. The
// audit entry is written after the draw (it names the seed and n), and a
// draw that cannot be audited is reported as such (503).
func (s *Server) drawSample(r *http.Request, p Principal, month string, req sampleDrawRequest) (report.Sample, error) {
	smp, err := s.cfg.Sample.Draw(r.Context(), report.DrawRequest{
		Month: month, Seed: req.Seed.v, By: p.Name, Redraw: req.Redraw, Reason: req.Reason,
	})
	if err != nil {
		return report.Sample{}, sampleError(err)
	}
	action, detail := ActionSampleDraw, fmt.Sprintf("n=%d marco=%d hash=%s semilla=%d generador=%s", smp.N, smp.FrameSize, smp.FrameHash, smp.Seed, smp.Generator)
	if smp.Redraw != "" {
		action, detail = ActionSampleRedraw, detail+" motivo="+smp.Redraw
	}
	if err := s.audit(r, p, action, "muestra "+month, detail); err != nil {
		return report.Sample{}, err
	}
	return smp, nil
}

// handleSample is GET /api/v1/months/{month}/sample.
func (s *Server) handleSample(w http.ResponseWriter, r *http.Request) {
	smp, err := s.cfg.Sample.Get(r.Context(), r.PathValue("month"))
	if err != nil {
		s.writeError(w, r, sampleError(err))
		return
	}
	writeJSON(w, http.StatusOK, smp)
}

// handleSampleVerify is GET /api/v1/months/{month}/sample/verify: 200 with
// the verification, match true or false.
func (s *Server) handleSampleVerify(w http.ResponseWriter, r *http.Request) {
	v, err := s.cfg.Sample.Verify(r.Context(), r.PathValue("month"))
	if err != nil {
		s.writeError(w, r, sampleError(err))
		return
	}
	writeJSON(w, http.StatusOK, v)
}

// sampleReplaceRequest is the body of POST
// /api/v1/months/{month}/sample/replace.
type sampleReplaceRequest struct {
	ID     string `json:"id"`
	Reason string `json:"reason"`
}

// sampleReplaceResponse is its answer.
type sampleReplaceResponse struct {
	Replacement report.Replacement `json:"replacement"`
	Sample      report.Sample      `json:"sample"`
}

// handleSampleReplace is POST /api/v1/months/{month}/sample/replace: 200 with
// the replacement and the sample.
func (s *Server) handleSampleReplace(w http.ResponseWriter, r *http.Request) {
	p, _ := principalFrom(r.Context())
	if !maySample(p) {
		s.writeError(w, r, fmt.Errorf("%w: %s may not replace a sampled call", errForbidden, p.Role))
		return
	}
	var req sampleReplaceRequest
	if err := decodeJSON(r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	smp, rep, err := s.replaceSample(r, p, r.PathValue("month"), req)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, sampleReplaceResponse{Replacement: rep, Sample: smp})
}

// replaceSample replaces and audits; the API and the console share it.
func (s *Server) replaceSample(r *http.Request, p Principal, month string, req sampleReplaceRequest) (report.Sample, report.Replacement, error) {
	smp, rep, err := s.cfg.Sample.Replace(r.Context(), report.ReplaceRequest{Month: month, ID: req.ID, By: p.Name, Reason: req.Reason})
	if err != nil {
		return report.Sample{}, report.Replacement{}, sampleError(err)
	}
	detail := fmt.Sprintf("%s → %s (%s, reserva %d) motivo=%s", rep.OldID, rep.NewID, rep.Operator, rep.ReserveRank, rep.Reason)
	if err := s.audit(r, p, ActionSampleReplace, "muestra "+month, detail); err != nil {
		return report.Sample{}, report.Replacement{}, err
	}
	return smp, rep, nil
}

// sampleError maps the report's errors onto the API's, with the fact in
// Spanish.
func sampleError(err error) error {
	var msg string
	switch {
	case errors.Is(err, report.ErrNoSample):
		return fmt.Errorf("%w: %w", ErrNotFound, err)
	case errors.Is(err, report.ErrSampleExists):
		return fmt.Errorf("%w: %w", ErrExists, err)
	case errors.Is(err, report.ErrBadMonth):
		msg = "mes inválido (AAAA-MM)"
	case errors.Is(err, report.ErrReason):
		msg = "falta el motivo"
	case errors.Is(err, report.ErrEmptyFrame):
		msg = "el mes no tiene llamadas contestadas con grabación"
	case errors.Is(err, report.ErrNotSampled):
		msg = "la llamada no está en la muestra"
	case errors.Is(err, report.ErrNoReserve):
		msg = "no quedan reservas para esa recepcionista"
	default:
		return err
	}
	return fmt.Errorf("%w: %s", ErrInvalid, msg)
}
