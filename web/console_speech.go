package web

import (
	"strconv"

	"github.com/switchtap/switchtap/report"
	"github.com/switchtap/switchtap/sip"
)

// What the recording shows without listening (issue 13), on the console:
// the speech segments drawn over the waveform, the greeting marked, the
// figures of the record's speech and quality objects in a table, and the
// same figures beside the evaluation form's Saludo and Tono as
// information (the evaluator's verdict; only inmediatez is measured).

// speechOverlay is the SVG over the waveform: one rectangle per speech
// segment, in seconds from the answer (where the recording starts) on x,
// the channel's band on y (0 the caller, top; 1 the receptionist).
type speechOverlay struct {
	// Width is the recording's length in seconds (the viewBox's width;
	// detail.js sets it to the player's length once known).
	Width     string
	Segments  []speechRect
	Truncated bool
}

// speechRect is one segment.
type speechRect struct {
	Side, X, Y, W, Title string
}

// speechFigures is the detail page's table of figures.
type speechFigures struct {
	Rows []figureRow
	// Truncated says the record kept only the first turns.
	Truncated bool
}

// figureRow is one line of the table: a figure per side, or Both for a
// figure of the call (shown across both columns).
type figureRow struct {
	Key, Label           string
	Caller, Callee, Both string
	Warn                 bool
}

// sideLabel names a segment's side.
func sideLabel(side string) string {
	if side == "caller" {
		return "Llamante"
	}
	return "Recepcionista"
}

// newSpeechOverlay lays out s's segments over a recording of dur seconds;
// nil when there is nothing to draw.
func newSpeechOverlay(s *sip.Speech, dur float64) *speechOverlay {
	if s == nil {
		return nil
	}
	if dur <= 0 {
		dur = s.AnalysedSeconds
	}
	if dur <= 0 {
		return nil
	}
	o := &speechOverlay{Width: js3(dur), Truncated: s.SegmentsTruncated}
	for _, g := range s.Segments {
		y := "1"
		if g.Side == "caller" {
			y = "0"
		}
		o.Segments = append(o.Segments, speechRect{
			Side: g.Side, X: js3(g.StartSeconds), Y: y, W: js3(max(0, g.EndSeconds-g.StartSeconds)),
			Title: sideLabel(g.Side) + ": " + formatDecimal(g.StartSeconds, 2) + "–" + formatDecimal(g.EndSeconds, 2) + nbsp + "s",
		})
	}
	return o
}

// js3 writes seconds for SVG and scripts: decimal point, 3 decimals.
func js3(x float64) string { return strconv.FormatFloat(x, 'f', 3, 64) }

// secondsText writes seconds with prec decimals: "1,23 s". The speech
// figures take two, the detector's 10 ms frames.
func secondsText(x float64, prec int) string { return formatDecimal(x, prec) + nbsp + "s" }

// optSeconds writes an optional time, or what its absence means.
func optSeconds(x *float64, none string) string {
	if x == nil {
		return none
	}
	return secondsText(*x, 2)
}

// newSpeechFigures builds the table from the record; nil when the record
// has neither object (not answered, not recorded).
func newSpeechFigures(call *sip.Call) *speechFigures {
	s, q := call.Speech, call.Quality
	if s == nil && q == nil {
		return nil
	}
	f := &speechFigures{}
	if s != nil {
		f.Truncated = s.SegmentsTruncated
		f.Rows = append(f.Rows,
			figureRow{Key: "first", Label: "Primera voz (desde la contestación)", Caller: optSeconds(s.CallerFirstSeconds, "no habló"), Callee: optSeconds(s.GreetingLatencySeconds, "no habló")},
			figureRow{Key: "talk", Label: "Habla", Caller: secondsText(s.TalkSeconds.Caller, 2), Callee: secondsText(s.TalkSeconds.Callee, 2)},
			figureRow{Key: "silence", Label: "Silencio (ninguno habla)", Both: secondsText(s.SilenceSeconds, 2) + " de " + secondsText(s.AnalysedSeconds, 2)},
			figureRow{Key: "overtalk", Label: "Habla simultánea", Both: secondsText(s.OvertalkSeconds, 2)},
			figureRow{Key: "longest-silence", Label: "Silencio más largo", Both: longestSilence(s)},
		)
	}
	if q != nil {
		f.Rows = append(f.Rows,
			figureRow{Key: "jitter", Label: "Jitter medio / máximo (RFC 3550)", Caller: streamFig(q.Caller, jitterText), Callee: streamFig(q.Callee, jitterText)},
			figureRow{Key: "loss", Label: "Pérdida", Caller: streamFig(q.Caller, lossText), Callee: streamFig(q.Callee, lossText)},
			figureRow{Key: "mos", Label: "MOS estimado (R, ITU-T G.107)", Caller: streamFig(q.Caller, mosText), Callee: streamFig(q.Callee, mosText)},
			figureRow{Key: "one-way", Label: "Audio en un solo sentido", Both: yesNo(q.OneWayAudio), Warn: q.OneWayAudio},
			figureRow{Key: "hold", Label: "En espera (señalización / audio)", Both: secondsText(q.HoldSeconds, 2) + " / " + secondsText(q.HoldAudioSeconds, 2)},
		)
	}
	return f
}

// longestSilence writes the dead air and where it started.
func longestSilence(s *sip.Speech) string {
	if s.LongestSilenceSeconds <= 0 {
		return noValue
	}
	return secondsText(s.LongestSilenceSeconds, 2) + ", desde el segundo " + formatDecimal(s.LongestSilenceAtSeconds, 2)
}

// streamFig writes one direction's figure, "sin audio" without the stream.
func streamFig(q *sip.StreamQuality, fn func(*sip.StreamQuality) string) string {
	if q == nil {
		return "sin audio"
	}
	return fn(q)
}

func jitterText(q *sip.StreamQuality) string {
	return formatDecimal(q.JitterMeanMs, 1) + " / " + formatDecimal(q.JitterMaxMs, 1) + nbsp + "ms"
}

func lossText(q *sip.StreamQuality) string {
	s := formatDecimal(q.LossPercent, 1) + nbsp + "%"
	if q.Late > 0 || q.Duplicates > 0 {
		s += " (" + strconv.Itoa(q.Late) + " tardíos, " + strconv.Itoa(q.Duplicates) + " duplicados)"
	}
	return s
}

func mosText(q *sip.StreamQuality) string {
	return formatDecimal(q.MOS, 2) + " (R " + formatDecimal(q.RFactor, 0) + ")"
}

func yesNo(b bool) string {
	if b {
		return "Sí"
	}
	return "No"
}

// greetingMarker marks the greeting on the waveform, when measured.
func greetingMarker(s *sip.Speech) (waveMarker, bool) {
	if s == nil || s.GreetingLatencySeconds == nil {
		return waveMarker{}, false
	}
	l := *s.GreetingLatencySeconds
	return waveMarker{
		Kind: "greeting", Label: "Saludo: la recepcionista empieza a hablar a los " + secondsText(l, 2) + " de contestar",
		Short: "Saludo", Offset: js3(l),
	}, true
}

// pointFigures are the figures shown beside the form's points, by point
// id: information for the evaluator, never the verdict.
func pointFigures(call *sip.Call) map[string]string {
	if call == nil || (call.Speech == nil && call.Quality == nil) {
		return nil
	}
	out := map[string]string{}
	if s := call.Speech; s != nil {
		if s.GreetingLatencySeconds != nil {
			out[report.PointSaludo] = "la recepcionista empieza a hablar " + secondsText(*s.GreetingLatencySeconds, 2) + " después de contestar"
		} else {
			out[report.PointSaludo] = "la recepcionista no habla en la grabación"
		}
		out[report.PointTono] = "habla: llamante " + secondsText(s.TalkSeconds.Caller, 2) + ", recepcionista " + secondsText(s.TalkSeconds.Callee, 2) +
			"; simultánea " + secondsText(s.OvertalkSeconds, 2) + "; silencio " + secondsText(s.SilenceSeconds, 2)
	}
	if q := call.Quality; q != nil {
		mos := "MOS estimado: llamante " + streamFig(q.Caller, mosOnly) + ", recepcionista " + streamFig(q.Callee, mosOnly)
		if t := out[report.PointTono]; t != "" {
			out[report.PointTono] = t + "; " + mos
		} else {
			out[report.PointTono] = mos
		}
	}
	return out
}

func mosOnly(q *sip.StreamQuality) string { return formatDecimal(q.MOS, 2) }
