package central

import (
	"encoding/json"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/switchtap/switchtap/sip"
)

// The fixture of the procedure's tests: two boxes in two offices whose
// records have the same record ids (ids are unique per box only), with
// every kind of leg the figures count, sent up the real way (batches
// through the receiver), and recordings uploaded and linked as a box does.

// month is the fixture's month; the server's clock (t0, 1 December 2026
// 09:00 UTC, 03:00 in El Salvador) is past its end.
const fixtureMonth = "2026-11"

var fixtureZone = func() *time.Location {
	loc, err := time.LoadLocation("America/El_Salvador")
	if err != nil {
		// El Salvador keeps UTC−6 all year: the same instants.
		return time.FixedZone("CST", -6*60*60)
	}
	return loc
}()

// fixtureBox is a box of the fixture: its enrolment and its records.
type fixtureBox struct {
	*box
	office string
	ops    []string
	calls  []sip.Call
}

// fixtureCalls are n legs of box, kinds by i%8 (plus the legs created by
// the transfers), spread over November in El Salvador and around its
// ends: the first legs start on 31 October late and the last on 1
// December early, local, so the month's bounds are in the zone.
func fixtureCalls(boxID string, ops []string, n int) []sip.Call {
	start := time.Date(2026, 10, 31, 22, 0, 0, 0, fixtureZone)
	span := time.Date(2026, 12, 1, 2, 0, 0, 0, fixtureZone).Sub(start)
	var out []sip.Call
	at := func(d time.Duration) *time.Time {
		t := start.Add(d)
		return &t
	}
	for i := 0; i < n; i++ {
		inv := start.Add(span * time.Duration(i) / time.Duration(n))
		op := ops[i%len(ops)]
		c := sip.Call{
			ID: fmt.Sprintf("leg-%04d", i), CallID: fmt.Sprintf("%s-%d@pbx", boxID, i),
			From: fmt.Sprintf("555%04d", i), To: "200", Direction: sip.DirectionInbound, Operator: op,
			InviteAt: inv, RingSource: "180", Transport: "udp",
		}
		off := inv.Sub(start)
		ring := func(secs float64, rings int) {
			c.RingingAt = at(off + 100*time.Millisecond)
			c.RingSeconds, c.Rings = secs, rings
		}
		answer := func(talk time.Duration) {
			c.AnsweredAt = at(off + time.Duration(c.RingSeconds*float64(time.Second)))
			c.EndedAt = at(off + time.Duration(c.RingSeconds*float64(time.Second)) + talk)
			c.EndReason, c.HangupBy = sip.EndCompleted, "caller"
		}
		record := func() {
			c.Recording = &sip.Recording{
				File:            fmt.Sprintf("%s/%s.wav", inv.UTC().Format("2006/01/02"), c.ID),
				DurationSeconds: 30,
				Caller:          &sip.StreamRecording{Codec: "PCMU", Packets: 1500},
				Callee:          &sip.StreamRecording{Codec: "PCMU", Packets: 1490},
			}
		}
		switch i % 8 {
		case 0:
			ring(3, 1)
			c.WithinLimit = true
			answer(45 * time.Second)
			record()
		case 1:
			ring(26, 5)
			answer(70 * time.Second)
			record()
		case 2:
			ring(3, 1)
			c.EndedAt, c.EndReason, c.HangupBy = at(off+3*time.Second), sip.EndAbandoned, "caller"
		case 3:
			ring(19, 4)
			c.EndedAt, c.EndReason, c.HangupBy = at(off+19*time.Second), sip.EndAbandoned, "caller"
		case 4:
			c.EndedAt, c.EndReason, c.EndDetail = at(off+time.Second), sip.EndBusy, "486"
		case 5:
			c.Direction, c.From, c.To = sip.DirectionOutbound, "200", fmt.Sprintf("2222%04d", i)
			ring(8, 2)
			answer(90 * time.Second)
			record()
		case 6:
			ring(9, 2)
			c.WithinLimit = true
			answer(20 * time.Second)
			record()
			tgt := fmt.Sprintf("%s-%d-xfer@pbx", boxID, i)
			c.Transfer = &sip.Transfer{Kind: "blind", RequestedAt: *at(off + 25*time.Second), Target: "300",
				AcceptedAt: at(off + 25500*time.Millisecond), CompletedAt: at(off + 27*time.Second),
				Result: "completed", TargetCallID: tgt}
			out = append(out, sip.Call{
				ID: fmt.Sprintf("leg-%04d-x", i), CallID: tgt, From: c.From, To: "300",
				Direction: sip.DirectionInternal, InviteAt: *at(off + 26*time.Second),
				AnsweredAt: at(off + 30*time.Second), EndedAt: at(off + 90*time.Second),
				EndReason: sip.EndCompleted, TransferredFrom: c.CallID, ReferredBy: "200", Transport: "udp",
			})
		case 7:
			ring(4, 1)
			c.WithinLimit = true
			answer(30 * time.Second)
			c.Recording = &sip.Recording{NotRecordable: "codec G729"}
		}
		out = append(out, c)
	}
	return out
}

// addFixtureBox enrols a box and sends its records up through the
// receiver, in batches of 7.
func (e *env) addFixtureBox(id, office string, ops []string, n int) *fixtureBox {
	e.t.Helper()
	fb := &fixtureBox{box: e.addBox(id, office), office: office, ops: ops, calls: fixtureCalls(id, ops, n)}
	for _, c := range fb.calls {
		raw, err := json.Marshal(c)
		if err != nil {
			e.t.Fatal(err)
		}
		rev := fb.latest[c.ID] + 1
		fb.latest[c.ID] = rev
		fb.outbox = append(fb.outbox, Entry{Seq: uint64(len(fb.outbox) + 1), RecordID: c.ID, Revision: rev, Record: raw})
	}
	fb.drain(7)
	if n := e.count("SELECT count(*) FROM calls WHERE box_id = $1", id); n != len(fb.calls) {
		e.t.Fatalf("box %s: %d records on the server, %d sent", id, n, len(fb.calls))
	}
	return fb
}

// upload sends a recording and links it to each of records, as the
// box's uploader does.
func (fb *fixtureBox) upload(wav []byte, records ...string) {
	fb.e.t.Helper()
	sha := hexSHA(wav)
	if a := fb.putRange(sha, wav, 0, len(wav), len(wav)); a.status != http.StatusNoContent {
		fb.e.t.Fatalf("upload %s: %+v", sha, a)
	}
	for _, id := range records {
		if a := fb.rec("POST", sha+"/link", fmt.Appendf(nil, `{"record_id":%q}`, id)); a.status != http.StatusNoContent {
			fb.e.t.Fatalf("link %s to %s: %+v", sha, id, a)
		}
	}
}

// call is the box's leg id.
func (fb *fixtureBox) call(id string) sip.Call {
	fb.e.t.Helper()
	for _, c := range fb.calls {
		if c.ID == id {
			return c
		}
	}
	fb.e.t.Fatalf("no leg %s in the fixture", id)
	return sip.Call{}
}

// twoOffices is a server taking recordings with box-a in Oficina Norte
// (Ana, Beto) and box-b in Oficina Sur (Ana, Carla: one name in both
// offices), 40 legs each before transfers.
func twoOffices(t *testing.T) (*env, *fixtureBox, *fixtureBox) {
	t.Helper()
	dir := t.TempDir()
	e := newEnv(t, nil, func(c *Config) {
		c.RecordingsDir = dir
		c.MaxRecording = 1 << 20
		c.Timezone = "America/El_Salvador"
	})
	a := e.addFixtureBox("box-a", "Oficina Norte", []string{"Ana", "Beto"}, 40)
	b := e.addFixtureBox("box-b", "Oficina Sur", []string{"Carla", "Ana"}, 40)
	return e, a, b
}
