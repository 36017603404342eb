package web

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// auditPerPage is the Auditoría page size; auditDefaultDays the range
// shown when none is asked (the last week, today included).
const (
	auditPerPage     = 50
	auditDefaultDays = 7
)

// auditBody is the Auditoría page's data.
type auditBody struct {
	From, To  string
	Summary   string
	ExportURL string
	Entries   []AuditEntry
	Pager     pager
}

// audit is GET /auditoria (jefe, admin): newest first, paged. Viewing the
// log is not itself audited (the API does the same); exporting it is, by
// the API's CSV export the link points to.
func (c *console) audit(w http.ResponseWriter, r *http.Request, p Principal) {
	q := r.URL.Query()
	filters := url.Values{}
	for _, k := range []string{"from", "to"} {
		if v := q.Get(k); v != "" {
			filters.Set(k, v)
		}
	}
	pg := c.newPage(&p, "Auditoría", "auditoria", nil)
	status := http.StatusOK
	from, to, err := parseDateRange(filters, c.s.cfg.Location)
	if err != nil {
		status = http.StatusBadRequest
		pg.Error = "Filtro inválido: " + detail(err, ErrInvalid, "revise las fechas") + "."
	}
	if err != nil || from.IsZero() {
		n := c.s.now().In(c.s.cfg.Location)
		to = time.Date(n.Year(), n.Month(), n.Day(), 0, 0, 0, 0, c.s.cfg.Location)
		from = to.AddDate(0, 0, 1-auditDefaultDays)
	}
	pageNo, perr := strconv.Atoi(q.Get("page"))
	if perr != nil || pageNo < 1 || pageNo > math32 {
		pageNo = 1
	}
	b := auditBody{From: from.Format(layoutDay), To: to.Format(layoutDay)}
	filters.Set("from", b.From)
	filters.Set("to", b.To)
	b.ExportURL = "/api/v1/audit?" + withFormat(filters, "csv")

	entries, total, err := c.auditPage(r, from, to.AddDate(0, 0, 1), pageNo)
	if err != nil {
		c.fail(w, r, &p, err)
		return
	}
	b.Entries = entries
	b.Summary = formatInt(int64(total)) + " entradas"
	if total == 1 {
		b.Summary = "1 entrada"
	}
	b.Pager = newPager(pageNo, total, auditPerPage, "/auditoria", filters)
	pg.Body = b
	c.render(w, r, status, "auditoria", pg)
}

// auditPage returns page n (newest first) of the entries in [from, to) and
// their number. The log is read in sequence order, so it is read twice:
// once to count, once to keep the page; memory stays one page.
func (c *console) auditPage(r *http.Request, from, to time.Time, n int) ([]AuditEntry, int, error) {
	ctx := r.Context()
	total := 0
	if err := c.s.cfg.Auth.AuditEntries(ctx, from, to, func(AuditEntry) error { total++; return nil }); err != nil {
		return nil, 0, fmt.Errorf("count audit entries: %w", err)
	}
	// Newest first: page n holds ascending indexes [hi-per, hi).
	hi := total - (n-1)*auditPerPage
	lo := max(0, hi-auditPerPage)
	var page []AuditEntry
	i := 0
	err := c.s.cfg.Auth.AuditEntries(ctx, from, to, func(e AuditEntry) error {
		if i >= lo && i < hi {
			page = append(page, e)
		}
		i++
		return nil
	})
	if err != nil {
		return nil, 0, fmt.Errorf("read audit entries: %w", err)
	}
	for a, z := 0, len(page)-1; a < z; a, z = a+1, z-1 {
		page[a], page[z] = page[z], page[a]
	}
	return page, total, nil
}
