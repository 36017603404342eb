package web

import (
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/switchtap/switchtap/sip"
)

// detailBody is the call detail page's data.
type detailBody struct {
	ID        string
	Call      sip.Call
	RingsText string
	Over      bool
	Timeline  []timelineEvent
	Ladder    ladder
	Linked    []linkedRow
	Rec       recordingView
	// Figures are the record's speech and quality (nil without them).
	Figures *speechFigures
}

// linkedRow is a leg linked by a transfer or Replaces.
type linkedRow struct {
	ID, Tag, Relation, At, From, To, Result string
}

// recordingView is the player section.
type recordingView struct {
	Has bool
	// Partial marks a recording cut short (Reason says why).
	Partial                  bool
	Reason                   string
	PlayURL, StoredURL       string
	PCMURL, PeaksURL         string
	Duration                 string
	DurationText             string
	CallerStats, CalleeStats string
	Markers                  []waveMarker
	// Speech is the speech segments over the waveform, nil without.
	Speech *speechOverlay
}

// waveMarker is a mark on the waveform. Offset is seconds after the
// answer, with a decimal point (read by detail.js, not shown).
type waveMarker struct {
	Kind, Label, Short, Offset string
}

// detail is GET /llamadas/{id}.
func (c *console) detail(w http.ResponseWriter, r *http.Request, p Principal) {
	id := r.PathValue("id")
	d, err := c.s.callDetail(r.Context(), id)
	if err != nil {
		c.fail(w, r, &p, err)
		return
	}
	title := "Llamada de " + orDash(d.Call.From) + " a " + orDash(d.Call.To)
	pg := c.newPage(&p, title, "llamadas", c.detailBody(d))
	pg.Scripts = []string{"detail.js"}
	c.render(w, r, http.StatusOK, "detalle", pg)
}

// detailBody lays out a CallDetail.
func (c *console) detailBody(d CallDetail) detailBody {
	call := d.Call
	ring := c.s.cfg.Ring
	b := detailBody{
		ID:        call.ID,
		Call:      call,
		RingsText: strconv.Itoa(call.Rings) + " de " + strconv.Itoa(ring.MaxRings) + " timbres",
		Over:      ringsOver(&call, ring),
		Timeline:  buildTimeline(call, ring),
		Rec:       c.recordingView(&call),
		Figures:   newSpeechFigures(&call),
	}
	if call.Rings == 1 && ring.MaxRings == 1 {
		b.RingsText = "1 de 1 timbre"
	}
	legs := [][]sip.LegMessage{d.Messages}
	for i, l := range d.Linked {
		legs = append(legs, l.Messages)
		b.Linked = append(b.Linked, linkedRow{
			ID: l.Call.ID, Tag: ladderLegMarker + strconv.Itoa(i+2), Relation: relationLabel(l.Relation),
			At: c.f.dateTime(l.Call.InviteAt), From: l.Call.From, To: l.Call.To, Result: endReasonLabel(l.Call.EndReason),
		})
	}
	b.Ladder = buildLadder(call.InviteAt, legs...)
	return b
}

// recordingView says what the player shows: the recording and its
// markers, or why there is none.
func (c *console) recordingView(call *sip.Call) recordingView {
	rec := call.Recording
	if rec == nil || rec.File == "" {
		reason := ""
		if rec != nil {
			reason = rec.NotRecordable
			if reason == "" && rec.Pcap != "" {
				reason = "no audio stream"
			}
		}
		v := recordingView{Reason: notRecordableLabel(reason)}
		if rec != nil && rec.Pcap != "" {
			v.Reason += " El RTP se guardó como captura (pcap) para abrirla en Wireshark."
		}
		if rec == nil && call.AnsweredAt == nil {
			v.Reason = "No hay grabación: la llamada no fue contestada."
		}
		return v
	}
	base := "/api/v1/calls/" + url.PathEscape(call.ID)
	v := recordingView{
		Has:          true,
		PlayURL:      base + "/recording",
		StoredURL:    base + "/recording?format=stored&download=1",
		PCMURL:       base + "/recording?download=1",
		PeaksURL:     base + "/peaks",
		Duration:     strconv.FormatFloat(rec.DurationSeconds, 'f', 3, 64),
		DurationText: formatSeconds(rec.DurationSeconds),
		CallerStats:  streamStats(rec.Caller),
		CalleeStats:  streamStats(rec.Callee),
		Speech:       newSpeechOverlay(call.Speech, rec.DurationSeconds),
	}
	if rec.NotRecordable != "" {
		v.Partial, v.Reason = true, notRecordableLabel(rec.NotRecordable)
	}
	// The recording starts at the answer (recorder: the WAV opens on the
	// 200 OK), so marker offsets count from answered_at.
	if call.AnsweredAt != nil {
		ans := *call.AnsweredAt
		v.Markers = append(v.Markers, waveMarker{Kind: "answer", Label: "Contestación", Short: "Contestación", Offset: "0.000"})
		if m, ok := greetingMarker(call.Speech); ok {
			v.Markers = append(v.Markers, m)
		}
		if t := call.Transfer; t != nil && !t.RequestedAt.Before(ans) {
			v.Markers = append(v.Markers, waveMarker{
				Kind: "transfer", Label: "Traslado solicitado (" + formatOffset(t.RequestedAt.Sub(ans), 1) + " desde la contestación)",
				Short: "Traslado", Offset: secondsJS(t.RequestedAt.Sub(ans)),
			})
		}
	}
	return v
}

// secondsJS writes d in seconds for a script: decimal point, 3 decimals.
func secondsJS(d time.Duration) string { return strconv.FormatFloat(d.Seconds(), 'f', 3, 64) }

// streamStats summarises one direction: "PCMU · 1234 paquetes, 2 perdidos".
func streamStats(s *sip.StreamRecording) string {
	if s == nil {
		return "sin audio"
	}
	out := s.Codec
	if out != "" {
		out += " · "
	}
	out += formatInt(int64(s.Packets)) + " paquetes"
	if s.Lost > 0 {
		out += ", " + formatInt(int64(s.Lost)) + " perdidos"
	}
	return out
}
