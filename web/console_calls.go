package web

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"

	"github.com/switchtap/switchtap/sip"
)

// callsPerPage is the Llamadas page size.
const callsPerPage = 50

// option is one <option> of a select.
type option struct {
	Value, Label string
	Selected     bool
}

// callsForm is the filter form as the user filled it.
type callsForm struct{ From, To, GreetingMin, GreetingMax string }

// callRow is one line of the calls table.
type callRow struct {
	ID, At, From, To, Operator, Direction, Rings, Wait, Result, Transfer string
	Over, Answered                                                       bool
	LimitText                                                            string
	// Greeting is the greeting latency in seconds ("Saludo (s)"), a dash
	// when the record has none.
	Greeting string
}

// callsBody is the Llamadas page's data.
type callsBody struct {
	Form        callsForm
	Operators   []option
	Directions  []option
	EndReasons  []option
	Limits      []option
	Transferred []option
	Summary     string
	ExportURL   string
	Rows        []callRow
	Pager       pager
}

// filterKeys are the query keys of a calls filter, the API's names, so the
// page's query and its CSV export link are the same filter.
func filterKeys() []string {
	return []string{"from", "to", "operator", "direction", "end_reason", "within_limit", "transferred", "greeting_min", "greeting_max"}
}

// calls is GET /llamadas: the filter form, one page of records in INVITE
// order (the order of the API and of the CSV export), and the pager.
func (c *console) calls(w http.ResponseWriter, r *http.Request, p Principal) {
	q := r.URL.Query()
	filters := url.Values{}
	for _, k := range filterKeys() {
		if v := q.Get(k); v != "" {
			filters.Set(k, v)
		}
	}
	pageNo := 1
	if v := q.Get("page"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > math32 {
			pageNo = 0
		} else {
			pageNo = n
		}
	}
	body := callsBody{Form: callsForm{From: filters.Get("from"), To: filters.Get("to")}}
	if body.Form.From == "" && body.Form.To == "" {
		today := c.s.now().In(c.s.cfg.Location).Format(layoutDay)
		body.Form.From, body.Form.To = today, today
	}
	body.Form.GreetingMin, body.Form.GreetingMax = filters.Get("greeting_min"), filters.Get("greeting_max")
	body.fillOptions(filters, c.s.cfg.Operators)
	body.ExportURL = "/api/v1/calls?" + withFormat(filters, "csv")

	pg := c.newPage(&p, "Llamadas", "llamadas", nil)
	status := http.StatusOK
	query := url.Values{}
	for k, v := range filters {
		query[k] = v
	}
	query.Set("page", strconv.Itoa(max(pageNo, 1)))
	query.Set("per_page", strconv.Itoa(callsPerPage))
	f, err := parseCallFilter(query, c.s.cfg.Location)
	if err == nil && pageNo == 0 {
		err = fmt.Errorf("%w: página inválida", ErrInvalid)
	}
	var calls []sip.Call
	total := 0
	if err == nil {
		// A receptionist sees only their own calls, whatever the filter.
		f.restrict(p)
		calls, total, err = c.s.queryCalls(r.Context(), f)
	}
	switch {
	case err == nil:
	case errors.Is(err, ErrInvalid):
		status = http.StatusBadRequest
		pg.Error = "Filtro inválido: " + detail(err, ErrInvalid, "revise las fechas y valores") + "."
	default:
		c.fail(w, r, &p, err)
		return
	}
	for i := range calls {
		body.Rows = append(body.Rows, c.callRow(&calls[i]))
	}
	body.Summary = callsSummary(total)
	body.Pager = newPager(max(pageNo, 1), total, callsPerPage, "/llamadas", filters)
	pg.Body = body
	c.render(w, r, status, "llamadas", pg)
}

// callRow formats one record for the table.
func (c *console) callRow(call *sip.Call) callRow {
	row := callRow{
		ID:        call.ID,
		At:        c.f.dateTime(call.InviteAt),
		From:      call.From,
		To:        call.To,
		Operator:  orDash(call.Operator),
		Direction: directionLabel(call.Direction),
		Rings:     strconv.Itoa(call.Rings),
		Wait:      formatSeconds(call.RingSeconds),
		Result:    endReasonLabel(call.EndReason),
		Transfer:  noValue,
		Over:      ringsOver(call, c.s.cfg.Ring),
		Answered:  call.AnsweredAt != nil,
		LimitText: noValue,
		Greeting:  noValue,
	}
	if l := greetingLatency(call); l != nil {
		// Two decimals: the detector's 10 ms frames.
		row.Greeting = formatDecimal(*l, 2)
	}
	if call.FromName != "" {
		row.From += " (" + call.FromName + ")"
	}
	if t := call.Transfer; t != nil {
		row.Transfer = transferKindLabel(t.Kind) + " → " + orDash(t.Target)
	}
	return row
}

func callsSummary(total int) string {
	switch total {
	case 0:
		return "Ninguna llamada"
	case 1:
		return "1 llamada"
	}
	return formatInt(int64(total)) + " llamadas"
}

// fillOptions builds the selects with the current choice marked.
func (b *callsBody) fillOptions(f url.Values, operators []string) {
	mk := func(key string, pairs ...string) []option {
		var out []option
		for i := 0; i+1 < len(pairs); i += 2 {
			out = append(out, option{Value: pairs[i], Label: pairs[i+1], Selected: f.Get(key) == pairs[i]})
		}
		return out
	}
	for _, op := range operators {
		b.Operators = append(b.Operators, option{Value: op, Label: op, Selected: f.Get("operator") == op})
	}
	if op := f.Get("operator"); op != "" && !containsOption(b.Operators, op) {
		// A receptionist no longer configured is still a valid filter.
		b.Operators = append(b.Operators, option{Value: op, Label: op, Selected: true})
	}
	b.Directions = mk("direction", "", "Todas",
		string(sip.DirectionInbound), directionLabel(sip.DirectionInbound),
		string(sip.DirectionOutbound), directionLabel(sip.DirectionOutbound),
		string(sip.DirectionInternal), directionLabel(sip.DirectionInternal),
		string(sip.DirectionUnknown), directionLabel(sip.DirectionUnknown))
	b.EndReasons = mk("end_reason", "", "Todos",
		string(sip.EndCompleted), endReasonLabel(sip.EndCompleted),
		string(sip.EndAbandoned), endReasonLabel(sip.EndAbandoned),
		string(sip.EndBusy), endReasonLabel(sip.EndBusy),
		string(sip.EndRejected), endReasonLabel(sip.EndRejected),
		string(sip.EndRedirected), endReasonLabel(sip.EndRedirected),
		string(sip.EndFailed), endReasonLabel(sip.EndFailed),
		string(sip.EndUnknown), endReasonLabel(sip.EndUnknown))
	// "Fuera de límite" is within_limit=false: the API's field, inverted.
	b.Limits = mk("within_limit", "", "Todas", "false", "Sí (fuera de límite)", "true", "No (dentro del límite)")
	b.Transferred = mk("transferred", "", "Todas", "true", "Sí", "false", "No")
}

func containsOption(opts []option, v string) bool {
	for _, o := range opts {
		if o.Value == v {
			return true
		}
	}
	return false
}

// withFormat returns q's encoding plus format=.
func withFormat(q url.Values, format string) string {
	out := url.Values{}
	for k, v := range q {
		out[k] = v
	}
	out.Set("format", format)
	return out.Encode()
}
