package web

import (
	"net/http"
	"strconv"
	"strings"
	"time"
)

// statusBody is the Estado page's data.
type statusBody struct {
	S         StatusInfo
	SIPAgo    string
	Retention string
}

// status is GET /estado, from cfg.Status().
func (c *console) status(w http.ResponseWriter, r *http.Request, p Principal) {
	st := c.s.cfg.Status()
	b := statusBody{S: st, Retention: retentionText(st.Disk.RetentionDays, st.Disk.RetentionMaxB)}
	if st.Capture.LastSIP != nil {
		now := st.Now
		if now.IsZero() {
			now = c.s.now()
		}
		b.SIPAgo = agoText(now.Sub(*st.Capture.LastSIP))
	}
	c.render(w, r, http.StatusOK, "estado", c.newPage(&p, "Estado", "estado", b))
}

// retentionText says what the retention keeps: "30 días o 20,0 GiB (lo
// que llegue primero)".
func retentionText(days int, maxBytes uint64) string {
	var parts []string
	if days > 0 {
		d := strconv.Itoa(days) + " días"
		if days == 1 {
			d = "1 día"
		}
		parts = append(parts, d)
	}
	if maxBytes > 0 {
		parts = append(parts, formatBytes(maxBytes))
	}
	switch len(parts) {
	case 0:
		return "sin límite configurado"
	case 1:
		return "hasta " + parts[0]
	}
	return "hasta " + strings.Join(parts, " o ") + " (lo que llegue primero)"
}

// agoText writes a past interval: "4 s", "12 min", "3 h 5 min", "2 días".
func agoText(d time.Duration) string {
	switch {
	case d < 0:
		return "0 s"
	case d < time.Minute:
		return strconv.Itoa(int(d/time.Second)) + nbsp + "s"
	case d < time.Hour:
		return strconv.Itoa(int(d/time.Minute)) + nbsp + "min"
	case d < 48*time.Hour:
		h, m := int(d/time.Hour), int(d%time.Hour/time.Minute)
		return strconv.Itoa(h) + nbsp + "h " + strconv.Itoa(m) + nbsp + "min"
	}
	return strconv.Itoa(int(d/(24*time.Hour))) + nbsp + "días"
}
