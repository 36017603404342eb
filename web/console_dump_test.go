package web

import (
	"os"
	"testing"
	"time"

	"github.com/switchtap/switchtap/sip"
)

func TestConsoleDumpTmp(t *testing.T) {
	e := newTestEnv(t)
	c := hostileCall(e, "h1")
	e.calls.add(c, sip.LegMessage{At: c.InviteAt, Src: "10.0.0.1:5060", Dst: "10.0.0.2:5060", Method: "INVITE", CSeq: 1, CSeqMethod: "INVITE", Raw: "INVITE sip:x SIP/2.0\r\n"},
		sip.LegMessage{At: c.InviteAt.Add(100 * time.Millisecond), Src: "10.0.0.2:5060", Dst: "10.0.0.1:5060", Status: 180, Reason: "Ringing", CSeq: 1, CSeqMethod: "INVITE", Raw: "SIP/2.0 180 Ringing\r\n"})
	for _, p := range []string{"/llamadas/h1", "/envivo", "/llamadas", "/estado", "/usuarios", "/auditoria"} {
		w := e.do("GET", p, nil, e.as("admin"))
		os.WriteFile("/tmp/dump"+sanitize(p)+".html", w.Body.Bytes(), 0o644)
	}
}

func sanitize(p string) string {
	b := []byte(p)
	for i := range b {
		if b[i] == '/' {
			b[i] = '_'
		}
	}
	return string(b)
}
