package report

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strconv"
	"time"
	_ "time/tzdata" // the default zone on a board without zoneinfo (issue 10 §1)

	"github.com/switchtap/switchtap/sip"
)

// DefaultTimeZone is the zone of the month when FiguresOptions.Location is
// nil (config key time_zone).
const DefaultTimeZone = "America/El_Salvador"

// DefaultShortAbandon is report.short_abandon: an abandon within it is a
// short abandon (domain.md §5: wrong numbers, immediate hang-ups).
const DefaultShortAbandon = 5 * time.Second

// lookBehind is how far before the month the walk starts, only to learn
// which legs of the month belong to a transfer requested on a leg that
// began before midnight of the 1st (a call across the month boundary).
const lookBehind = 24 * time.Hour

// lookAhead is how far past the month the walk goes, only to learn the
// outcome of a transfer requested in the month's last moments whose new
// leg began after midnight (found by the independent script of test/lab).
const lookAhead = 24 * time.Hour

// walkRange is the span of invite_at the month's walk reads: the month
// with lookBehind before and lookAhead after; only legs in the month
// count.
func walkRange(from, to time.Time) (time.Time, time.Time) {
	return from.Add(-lookBehind), to.Add(lookAhead)
}

// FiguresOptions configures Figures. The zero value is usable.
type FiguresOptions struct {
	// Location is the time zone of the month, its days and hours
	// (default America/El_Salvador, embedded tzdata).
	Location *time.Location
	// Receptionists are the configured names: each gets a by_operator
	// block even with no calls.
	Receptionists []string
	// ShortAbandon is report.short_abandon (default 5 s): an abandoned
	// call with ring_seconds ≤ ShortAbandon is a short abandon.
	ShortAbandon time.Duration
	// GreetingLimit is the greeting latency above which Voice counts a
	// call as late to greet (default DefaultGreetingLimit).
	GreetingLimit time.Duration
	// Now stamps generated_at (default time.Now).
	Now func() time.Time
}

func (o FiguresOptions) withDefaults() (FiguresOptions, error) {
	if o.Location == nil {
		loc, err := time.LoadLocation(DefaultTimeZone)
		if err != nil {
			return o, fmt.Errorf("time zone %s: %w", DefaultTimeZone, err)
		}
		o.Location = loc
	}
	if o.ShortAbandon <= 0 {
		o.ShortAbandon = DefaultShortAbandon
	}
	if o.GreetingLimit <= 0 {
		o.GreetingLimit = DefaultGreetingLimit
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return o, nil
}

// MonthFigures are the month's service figures (issue 10 §1, step 01 of
// ETAPA 2). Their JSON keys are a contract.
//
// Which legs count. A call is one leg (one Call-ID) whose invite_at falls
// in the month in Location. Legs that a transfer creates are part of that
// transfer, not new calls, and are counted nowhere but in the transfer's
// outcome: a leg with transferred_from set (the leg a REFER or a 3xx
// caused), a leg with replaces_call_id set (the INVITE with Replaces of an
// attended transfer, RFC 3891), a leg named as the target_call_id of a
// transfer, and the consultation leg, that is a leg whose Call-ID a REFER's
// Refer-To Replaces names (RFC 3515, RFC 3891 §3). A receptionist's call
// to someone that no REFER names stays an ordinary outbound call. The walk
// starts lookBehind (24 h) before the month so that a consultation leg of
// the 1st whose REFER is on a call begun the evening before is still known
// as one.
//
// Transfers are counted on the inbound leg they were requested on (the
// receptionist's leg): a blind or attended transfer after the answer, a
// redirect instead of one. A redirected leg (unanswered, transfer kind
// redirect) is neither answered nor abandoned: its outcome is the
// redirect. Transfers requested on outbound legs are not counted.
//
// Figures of the current month are provisional: a leg still open is
// stored with end_reason unknown (counted in Unknown), and a consultation
// leg stored before the leg whose REFER names it counts as an outbound
// call until that leg is stored.
type MonthFigures struct {
	// Month is "YYYY-MM".
	Month string `json:"month"`
	// TimeZone is the IANA name of Location.
	TimeZone string `json:"time_zone"`
	// GeneratedAt is when the figures were computed.
	GeneratedAt time.Time `json:"generated_at"`
	// CallsTotal counts every call of the month (inbound, outbound,
	// between receptionists and unclassified), transfer legs excluded.
	CallsTotal int `json:"calls_total"`
	// Inbound are the calls to a receptionist.
	Inbound Inbound `json:"inbound"`
	// Outbound are the calls made by a receptionist.
	Outbound Outbound `json:"outbound"`
	// ByOperator is the Inbound block per receptionist, keyed by the
	// configured name; an inbound call whose operator is not configured
	// (renamed since) keeps its own key.
	ByOperator map[string]*Inbound `json:"by_operator"`
	// ByDay are the inbound figures per local day "YYYY-MM-DD" of
	// invite_at, every day of the month present.
	ByDay map[string]*Slot `json:"by_day"`
	// ByHour are the inbound figures per local hour "00"–"23" of
	// invite_at over the month, every hour present.
	ByHour map[string]*Slot `json:"by_hour"`

	// days and hours index ByDay and ByHour by day of the month − 1 and
	// by hour, so no key is formatted per call.
	days  []*Slot
	hours [24]*Slot
}

// Inbound are the figures of the calls offered to receptionists. For every
// block: Offered = Answered + Abandoned + Busy + Rejected + Failed +
// Unknown + Transferred.Redirect, and Answered = WithinLimit + Late.
type Inbound struct {
	// Offered counts the inbound calls.
	Offered int `json:"offered"`
	// Answered counts those with answered_at (a 2xx to the INVITE).
	Answered int `json:"answered"`
	// WithinLimit counts answered calls with within_limit (answered
	// before ring max_rings+1 started, measured by the tracker).
	WithinLimit int `json:"within_limit"`
	// Late counts answered calls not within the limit.
	Late int `json:"late"`
	// Abandoned counts unanswered calls the caller gave up while ringing
	// (end_reason abandoned: CANCEL or 487), redirects excepted.
	Abandoned int `json:"abandoned"`
	// ShortAbandoned counts abandoned calls with ring_seconds ≤
	// report.short_abandon; they are also in Abandoned.
	ShortAbandoned int `json:"short_abandoned"`
	// Busy, Rejected and Failed count unanswered calls by end_reason.
	Busy     int `json:"busy"`
	Rejected int `json:"rejected"`
	Failed   int `json:"failed"`
	// Unknown counts unanswered calls whose end is unknown (timeout,
	// shutdown, still open) or an unexpected end_reason.
	Unknown int `json:"unknown"`
	// ServiceLevelPct is WithinLimit ÷ (Offered − ShortAbandoned) × 100,
	// rounded to 0.01; null when the divisor is 0.
	ServiceLevelPct *float64 `json:"service_level_pct"`
	// ASASeconds is the mean ring_seconds of answered calls, rounded to
	// the millisecond; null with none.
	ASASeconds *float64 `json:"asa_seconds"`
	// AnswerP50Seconds and AnswerP90Seconds are the 50th and 90th
	// percentiles of the ring_seconds of answered calls by the
	// nearest-rank method (the value of rank ⌈p/100 × n⌉ in ascending
	// order); null with none.
	AnswerP50Seconds *float64 `json:"answer_p50_seconds"`
	AnswerP90Seconds *float64 `json:"answer_p90_seconds"`
	// Rings is the histogram of answered calls by ring.
	Rings Rings `json:"rings"`
	// Transferred counts the transfers requested on inbound calls.
	Transferred Transferred `json:"transferred"`
	// TalkSecondsTotal sums answered_at → ended_at of the receptionist's
	// leg over answered calls that ended, rounded to the millisecond.
	TalkSecondsTotal float64 `json:"talk_seconds_total"`
	// Recorded counts answered calls with a recording file.
	Recorded int `json:"recorded"`

	answers []float64
	talk    time.Duration
}

// Rings is the histogram of answered calls by the ring during which they
// were answered (domain.md §5 bins: 0–1, 1–2, 2–3, 3–4, >4 rings): "1"
// holds rings ≤ 1 (a call answered before any 18x has rings 0), "5+"
// rings ≥ 5.
type Rings struct {
	R1   int `json:"1"`
	R2   int `json:"2"`
	R3   int `json:"3"`
	R4   int `json:"4"`
	R5Up int `json:"5+"`
}

// Transferred counts the transfers requested on inbound calls by kind,
// and their outcomes. A blind or attended transfer is completed when its
// REFER's final NOTIFY (RFC 3515 §2.4.5 sipfrag) is 2xx and failed when it
// is ≥ 300 or the REFER was refused; with no final status seen, the leg it
// created decides: answered is completed, ended unanswered is failed. A
// redirect (3xx, kind redirect) is judged only by the leg it created.
// Completed + Failed ≤ Blind + Attended + Redirect: the rest had no
// outcome seen.
type Transferred struct {
	// Blind, Attended and Redirect count the transfers by kind.
	Blind    int `json:"blind"`
	Attended int `json:"attended"`
	Redirect int `json:"redirect"`
	// Completed and Failed count the transfers by outcome.
	Completed int `json:"completed"`
	Failed    int `json:"failed"`
}

// Outbound are the figures of the calls made by receptionists:
// Made ≥ Answered + Busy + Rejected + Failed + NoAnswer (the rest ended
// unknown or were redirected).
type Outbound struct {
	// Made counts the calls; Answered those with answered_at.
	Made     int `json:"made"`
	Answered int `json:"answered"`
	// Busy, Rejected and Failed count unanswered calls by end_reason.
	Busy     int `json:"busy"`
	Rejected int `json:"rejected"`
	Failed   int `json:"failed"`
	// NoAnswer counts calls the receptionist gave up while ringing
	// (end_reason abandoned).
	NoAnswer int `json:"no_answer"`
}

// Slot are the inbound figures of one day or hour, with the same
// definitions as in Inbound.
type Slot struct {
	// Offered, Answered, WithinLimit and Abandoned are as in Inbound.
	Offered     int `json:"offered"`
	Answered    int `json:"answered"`
	WithinLimit int `json:"within_limit"`
	Abandoned   int `json:"abandoned"`

	shortAbandoned int
}

// ServiceLevel returns the slot's within_limit ÷ (offered −
// short_abandoned) × 100, false when the divisor is 0 (for the charts;
// short abandons are not part of the JSON of a slot).
func (s Slot) ServiceLevel() (float64, bool) {
	d := s.Offered - s.shortAbandoned
	if d <= 0 {
		return 0, false
	}
	return float64(s.WithinLimit) / float64(d) * 100, true
}

// figLeg is what Figures keeps of a record between its two passes.
type figLeg struct {
	callID   string
	dir      sip.Direction
	operator string
	at       time.Time
	inMonth  bool
	derived  bool
	answered bool
	ended    bool
	reason   sip.EndReason
	ring     float64
	rings    int
	within   bool
	talk     time.Duration
	recorded bool
	xfer     *sip.Transfer
}

// Figures computes the month's figures ("YYYY-MM" in opts.Location) from
// the calls whose invite_at falls in it.
func Figures(ctx context.Context, calls Calls, month string, opts FiguresOptions) (*MonthFigures, error) {
	opts, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	from, to, err := MonthRange(month, opts.Location)
	if err != nil {
		return nil, err
	}
	var legs []figLeg
	// Transfer bookkeeping over the month and the look-behind: which
	// Call-IDs a transfer created or consulted, and the legs a transfer
	// created, by the Call-ID they came from.
	partOf := transferNamed{}
	created := map[string][]int{}
	wfrom, wto := walkRange(from, to)
	err = calls.Calls(ctx, wfrom, wto, func(c sip.Call) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		l := newFigLeg(c, from, to)
		partOf.note(c)
		if c.TransferredFrom != "" {
			created[c.TransferredFrom] = append(created[c.TransferredFrom], len(legs))
		}
		legs = append(legs, l)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("figures %s: read calls: %w", month, err)
	}
	f := newMonthFigures(month, from, to, opts)
	for i := range legs {
		l := &legs[i]
		if !l.inMonth || l.derived || partOf[l.callID] {
			continue
		}
		f.CallsTotal++
		switch l.dir {
		case sip.DirectionInbound:
			f.addInbound(l, legs, created[l.callID], opts)
		case sip.DirectionOutbound:
			f.Outbound.add(l)
		}
	}
	f.Inbound.finish()
	for _, b := range f.ByOperator {
		b.finish()
	}
	return f, nil
}

func newFigLeg(c sip.Call, from, to time.Time) figLeg {
	l := figLeg{
		callID:   c.CallID,
		dir:      c.Direction,
		operator: c.Operator,
		at:       c.InviteAt,
		inMonth:  !c.InviteAt.Before(from) && c.InviteAt.Before(to),
		derived:  c.TransferredFrom != "" || c.ReplacesCallID != "",
		answered: c.AnsweredAt != nil,
		ended:    c.EndedAt != nil,
		reason:   c.EndReason,
		ring:     c.RingSeconds,
		rings:    c.Rings,
		within:   c.WithinLimit,
		recorded: c.AnsweredAt != nil && c.Recording != nil && c.Recording.File != "",
		xfer:     c.Transfer,
	}
	if c.AnsweredAt != nil && c.EndedAt != nil && c.EndedAt.After(*c.AnsweredAt) {
		l.talk = c.EndedAt.Sub(*c.AnsweredAt)
	}
	return l
}

func newMonthFigures(month string, from, to time.Time, opts FiguresOptions) *MonthFigures {
	f := &MonthFigures{
		Month:       month,
		TimeZone:    opts.Location.String(),
		GeneratedAt: opts.Now().In(opts.Location),
		ByOperator:  make(map[string]*Inbound, len(opts.Receptionists)),
		ByDay:       map[string]*Slot{},
		ByHour:      make(map[string]*Slot, 24),
	}
	for _, r := range opts.Receptionists {
		f.ByOperator[r] = &Inbound{}
	}
	for d := from; d.Before(to); d = d.AddDate(0, 0, 1) {
		s := &Slot{}
		f.ByDay[d.Format(time.DateOnly)] = s
		f.days = append(f.days, s)
	}
	for h := range 24 {
		f.hours[h] = &Slot{}
		f.ByHour[figHourKey(h)] = f.hours[h]
	}
	return f
}

func figHourKey(h int) string {
	if h < 10 {
		return "0" + strconv.Itoa(h)
	}
	return strconv.Itoa(h)
}

func (f *MonthFigures) addInbound(l *figLeg, legs []figLeg, created []int, opts FiguresOptions) {
	short := !l.answered && !l.redirected() && l.reason == sip.EndAbandoned && l.ring <= opts.ShortAbandon.Seconds()
	outcome := transferOutcome(l.xfer, legs, created)
	f.Inbound.add(l, short, outcome)
	if l.operator != "" {
		b := f.ByOperator[l.operator]
		if b == nil {
			b = &Inbound{}
			f.ByOperator[l.operator] = b
		}
		b.add(l, short, outcome)
	}
	local := l.at.In(opts.Location)
	// The day exists: the leg is in the month, whose days are all keyed.
	f.days[local.Day()-1].add(l, short)
	f.hours[local.Hour()].add(l, short)
}

// xferOutcome of a transfer for Transferred.
type xferOutcome int

const (
	xferNone xferOutcome = iota
	xferCompleted
	xferFailed
)

func transferOutcome(t *sip.Transfer, legs []figLeg, created []int) xferOutcome {
	if t == nil {
		return xferNone
	}
	if t.Kind != "redirect" {
		// Result is the final sipfrag or REFER status code.
		if code, err := strconv.Atoi(t.Result); err == nil && code >= 200 {
			if code < 300 {
				return xferCompleted
			}
			return xferFailed
		}
	}
	o := xferNone
	for _, i := range created {
		switch {
		case legs[i].answered:
			return xferCompleted
		case legs[i].ended:
			o = xferFailed
		}
	}
	return o
}

func (b *Inbound) add(l *figLeg, short bool, o xferOutcome) {
	b.Offered++
	switch {
	case l.answered:
		b.Answered++
		if l.within {
			b.WithinLimit++
		} else {
			b.Late++
		}
		b.answers = append(b.answers, l.ring)
		b.talk += l.talk
		if l.recorded {
			b.Recorded++
		}
		switch {
		case l.rings <= 1:
			b.Rings.R1++
		case l.rings == 2:
			b.Rings.R2++
		case l.rings == 3:
			b.Rings.R3++
		case l.rings == 4:
			b.Rings.R4++
		default:
			b.Rings.R5Up++
		}
	case l.redirected():
		// Counted in Transferred.Redirect below.
	case l.reason == sip.EndAbandoned:
		b.Abandoned++
		if short {
			b.ShortAbandoned++
		}
	case l.reason == sip.EndBusy:
		b.Busy++
	case l.reason == sip.EndRejected:
		b.Rejected++
	case l.reason == sip.EndFailed:
		b.Failed++
	default:
		b.Unknown++
	}
	if l.xfer != nil {
		switch {
		case l.xfer.Kind == "blind":
			b.Transferred.Blind++
		case l.xfer.Kind == "attended":
			b.Transferred.Attended++
		case l.redirected():
			b.Transferred.Redirect++
		default:
			// A redirect on an answered leg cannot happen (a 3xx and a
			// 2xx are both final, RFC 3261 §13.2.2.4): a corrupt record,
			// counted as answered only.
			return
		}
		switch o {
		case xferCompleted:
			b.Transferred.Completed++
		case xferFailed:
			b.Transferred.Failed++
		}
	}
}

// finish fills the figures computed over the whole block.
func (b *Inbound) finish() {
	if d := b.Offered - b.ShortAbandoned; d > 0 {
		b.ServiceLevelPct = figPtr(roundTo(float64(b.WithinLimit)/float64(d)*100, 100))
	}
	b.TalkSecondsTotal = roundTo(b.talk.Seconds(), 1000)
	if len(b.answers) == 0 {
		return
	}
	sum := 0.0
	for _, a := range b.answers {
		sum += a
	}
	b.ASASeconds = figPtr(roundTo(sum/float64(len(b.answers)), 1000))
	slices.Sort(b.answers)
	b.AnswerP50Seconds = figPtr(roundTo(nearestRank(b.answers, 50), 1000))
	b.AnswerP90Seconds = figPtr(roundTo(nearestRank(b.answers, 90), 1000))
}

// nearestRank returns the p-th percentile of sorted (not empty) by the
// nearest-rank method: the value of rank ⌈p/100 × n⌉, 1-based.
func nearestRank(sorted []float64, p int) float64 {
	n := len(sorted)
	rank := (p*n + 99) / 100
	rank = max(rank, 1)
	return sorted[min(rank, n)-1]
}

// redirected says the leg was deflected by a 3xx before any answer: its
// outcome is the redirect (the tracker sets end_reason redirected too).
func (l *figLeg) redirected() bool {
	return !l.answered && l.xfer != nil && l.xfer.Kind == "redirect"
}

func (s *Slot) add(l *figLeg, short bool) {
	s.Offered++
	switch {
	case l.answered:
		s.Answered++
		if l.within {
			s.WithinLimit++
		}
	case l.redirected():
	case l.reason == sip.EndAbandoned:
		s.Abandoned++
		if short {
			s.shortAbandoned++
		}
	}
}

func (o *Outbound) add(l *figLeg) {
	o.Made++
	switch {
	case l.answered:
		o.Answered++
	case l.reason == sip.EndBusy:
		o.Busy++
	case l.reason == sip.EndRejected:
		o.Rejected++
	case l.reason == sip.EndFailed:
		o.Failed++
	case l.reason == sip.EndAbandoned:
		o.NoAnswer++
	}
}

func figPtr(v float64) *float64 { return &v }

// roundTo rounds v to 1/scale (half away from zero).
func roundTo(v, scale float64) float64 { return math.Round(v*scale) / scale }
