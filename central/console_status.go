package central

import (
	"context"
	"fmt"
	"time"

	"github.com/switchtap/switchtap/web"
)

// staleContact is how long a box may go without a batch or a cursor
// request before the console's Estado says the office is not in contact:
// a box's sender asks the cursor at least every few minutes.
const staleContact = 15 * time.Minute

// statusTimeout bounds the status's query: web asks it with no context.
const statusTimeout = 5 * time.Second

// status is the Estado page of office's console: the boxes in place of a
// capture. Source names the boxes, Up and the lamp say whether all of
// them were in contact within staleContact, last_sip is the newest
// contact, calls_stored the office's records, and each box out of
// contact is an error line.
func (s *Server) status(office, version string, started time.Time) func() web.StatusInfo {
	return func() web.StatusInfo {
		var st web.StatusInfo
		st.Version, st.StartedAt, st.Now = version, started, s.now()
		st.Alarm = "off"
		ctx, cancel := context.WithTimeout(context.Background(), statusTimeout)
		defer cancel()
		boxes, err := s.Boxes(ctx)
		if err != nil {
			st.Lamp, st.Fault = "fault", "base de datos no disponible"
			s.log.Warn("console status", "err", err)
			return st
		}
		if s.rec != nil {
			st.Disk.Path = s.rec.dir
		}
		n, stale := 0, 0
		for _, b := range boxes {
			if office != AllOffices && b.Office != office {
				continue
			}
			n++
			st.Store.CallsStored += uint64(b.Records)
			if b.LastContact != nil && (st.Capture.LastSIP == nil || b.LastContact.After(*st.Capture.LastSIP)) {
				lc := *b.LastContact
				st.Capture.LastSIP = &lc
			}
			if b.LagSeconds != nil && *b.LagSeconds <= staleContact.Seconds() {
				continue
			}
			stale++
			msg := fmt.Sprintf("caja %s (%s): nunca se ha conectado", b.BoxID, b.Office)
			at := b.Created
			if b.LastContact != nil {
				at = *b.LastContact
				msg = fmt.Sprintf("caja %s (%s): sin contacto desde %s", b.BoxID, b.Office, at.In(s.loc).Format("2006-01-02 15:04"))
			}
			st.Errors = append(st.Errors, struct {
				At      time.Time `json:"at"`
				Message string    `json:"message"`
			}{At: at, Message: msg})
		}
		st.Capture.Source = fmt.Sprintf("servidor central: %d caja(s)", n)
		st.Capture.Up = n > 0 && stale == 0
		switch {
		case n == 0:
			st.Lamp, st.Fault = "no_sip", "ninguna caja inscrita"
		case stale > 0:
			st.Lamp, st.Fault = "fault", fmt.Sprintf("%d de %d caja(s) sin contacto con el servidor central", stale, n)
		default:
			st.Lamp = "ok"
		}
		return st
	}
}
