package sip

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
	"unsafe"
)

// blob holds the strings of made-up messages the way sipgo's do: cut out
// of a larger string, here one for all of them.
type blob struct {
	s string
}

func newBlob(parts ...string) blob {
	// Built at run time, so it is on the heap and not a constant.
	return blob{s: strings.Join(parts, "|") + fmt.Sprint(len(parts))}
}

// cut returns v as a substring of the blob.
func (b blob) cut(v string) string {
	i := strings.Index(b.s, v)
	if i < 0 {
		panic("not in blob: " + v)
	}
	return b.s[i : i+len(v)]
}

// holds reports whether s points into the blob.
func (b blob) holds(s string) bool {
	if len(s) == 0 {
		return false
	}
	p, lo := uintptr(unsafe.Pointer(unsafe.StringData(s))), uintptr(unsafe.Pointer(unsafe.StringData(b.s)))
	return p >= lo && p < lo+uintptr(len(b.s))
}

// aliased returns the paths of the strings in v that point into b.
func (b blob) aliased(v reflect.Value, path string) []string {
	var out []string
	switch v.Kind() {
	case reflect.String:
		if b.holds(v.String()) {
			out = append(out, path)
		}
	case reflect.Pointer:
		if !v.IsNil() {
			out = append(out, b.aliased(v.Elem(), path)...)
		}
	case reflect.Struct:
		for i := range v.NumField() {
			out = append(out, b.aliased(v.Field(i), path+"."+v.Type().Field(i).Name)...)
		}
	case reflect.Slice:
		for i := range v.Len() {
			out = append(out, b.aliased(v.Index(i), fmt.Sprintf("%s[%d]", path, i))...)
		}
	}
	return out
}

// TestTrackerOwnsItsStrings: no string of a record (nor of its ladder)
// points into the messages it was made from, so an open leg keeps none of
// what the parser made of its packets alive (issue 12).
func TestTrackerOwnsItsStrings(t *testing.T) {
	b := newBlob("INVITE", "REFER", "NOTIFY", "PING", "ACK", "BYE", "udp",
		"xfer-A@192.0.2.10", "xfer-B@192.0.2.10", "redir@192.0.2.10", "old-dialog@192.0.2.9",
		"5551234", "201", "2002", "2009", "Front Desk", "ft", "tt", "bA1", "bA2", "bB1", "bR1",
		"OK fine", "Ringing", "Moved", "refer", "application/sdp")
	c := b.cut
	mk := func(m Message) Message {
		m.Method, m.CallID, m.FromUser, m.FromName, m.FromTag = c(m.Method), c(m.CallID), c(m.FromUser), c(m.FromName), c(m.FromTag)
		if m.ToUser != "" {
			m.ToUser = c(m.ToUser)
		}
		if m.RequestUser != "" {
			m.RequestUser = c(m.RequestUser)
		}
		if m.ToTag != "" {
			m.ToTag = c(m.ToTag)
		}
		m.Branch = c(m.Branch)
		if m.Reason != "" {
			m.Reason = c(m.Reason)
		}
		return m
	}
	base := Message{FromUser: "5551234", FromName: "Front Desk", FromTag: "ft"}
	invA := base
	invA.IsRequest, invA.Method, invA.CallID, invA.CSeq, invA.ToUser, invA.RequestUser, invA.Branch = true, "INVITE", "xfer-A@192.0.2.10", 1, "201", "201", "bA1"
	invA = mk(invA)
	invA.Replaces = &Replaces{CallID: c("old-dialog@192.0.2.9"), ToTag: c("tt")}
	invA.ReferredByUser = c("2009")
	okA := mk(Message{StatusCode: 200, Reason: "OK fine", Method: "INVITE", CallID: "xfer-A@192.0.2.10", CSeq: 1, FromUser: "5551234", FromName: "Front Desk", FromTag: "ft", ToTag: "tt", Branch: "bA1"})
	ringA := mk(Message{StatusCode: 180, Reason: "Ringing", Method: "INVITE", CallID: "xfer-A@192.0.2.10", CSeq: 1, FromUser: "5551234", FromName: "Front Desk", FromTag: "ft", ToTag: "tt", Branch: "bA1"})
	ping := mk(Message{IsRequest: true, Method: "PING", CallID: "xfer-A@192.0.2.10", CSeq: 2, FromUser: "5551234", FromName: "Front Desk", FromTag: "ft", ToTag: "tt", Branch: "bA2"})
	refer := mk(Message{IsRequest: true, Method: "REFER", CallID: "xfer-A@192.0.2.10", CSeq: 3, FromUser: "201", FromName: "Front Desk", FromTag: "tt", ToTag: "ft", Branch: "bR1"})
	refer.ReferToUser = c("2002")
	refer.ReferReplaces = &Replaces{CallID: c("old-dialog@192.0.2.9")}
	invB := mk(Message{IsRequest: true, Method: "INVITE", CallID: "xfer-B@192.0.2.10", CSeq: 1, FromUser: "5551234", FromName: "Front Desk", FromTag: "ft", ToUser: "2002", RequestUser: "2002", Branch: "bB1"})
	invB.Replaces = &Replaces{CallID: c("old-dialog@192.0.2.9")}
	invR := mk(Message{IsRequest: true, Method: "INVITE", CallID: "redir@192.0.2.10", CSeq: 1, FromUser: "5551234", FromName: "Front Desk", FromTag: "ft", ToUser: "201", Branch: "bB1"})
	moved := mk(Message{StatusCode: 302, Reason: "Moved", Method: "INVITE", CallID: "redir@192.0.2.10", CSeq: 1, FromUser: "5551234", FromName: "Front Desk", FromTag: "ft", ToTag: "tt", Branch: "bB1"})
	moved.ContactUser = c("2002")

	var closed []Call
	tr := NewTracker(TrackerConfig{OnClosed: func(c Call) { closed = append(closed, c) }}, func(Call) {})
	for i, m := range []Message{invA, ringA, okA, ping, refer, invB, invR, moved} {
		p := pkt(10 * i)
		p.Transport = c("udp")
		p.Raw = []byte(b.s)
		tr.Handle(&m, p)
	}
	tr.Flush(at(1000), "end_of_capture")
	if len(closed) != 3 {
		t.Fatalf("%d records, want 3", len(closed))
	}
	for _, rec := range closed {
		if len(rec.Messages) == 0 {
			t.Errorf("%s: no messages kept", rec.CallID)
		}
		if got := b.aliased(reflect.ValueOf(rec), "Call"); len(got) > 0 {
			t.Errorf("%s: strings pointing into the messages: %v", rec.CallID, got)
		}
	}
	var a Call
	for _, rec := range closed {
		if rec.CallID == "xfer-A@192.0.2.10" {
			a = rec
		}
	}
	if a.Transfer == nil || a.Transfer.Target != "2002" || a.Transfer.ReplacesCallID != "old-dialog@192.0.2.9" ||
		a.ReplacesCallID != "old-dialog@192.0.2.9" || a.ReferredBy != "2009" || a.Messages[2].Reason != "OK fine" || a.Messages[3].Method != "PING" {
		t.Errorf("copies differ from the originals: %+v", a)
	}
}

func TestOwn(t *testing.T) {
	tests := []struct {
		name string
		in   []string
	}{
		{"none", nil},
		{"all empty", []string{"", ""}},
		{"some empty", []string{"call@x", "", "201", "Front Desk", ""}},
		{"one", []string{"tag"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := newBlob(tc.in...)
			ss := make([]string, len(tc.in))
			ps := make([]*string, len(tc.in))
			for i, s := range tc.in {
				if s != "" {
					ss[i] = b.cut(s)
				}
				ps[i] = &ss[i]
			}
			own(ps...)
			for i := range ss {
				if ss[i] != tc.in[i] || b.holds(ss[i]) {
					t.Errorf("string %d: %q (in the original: %v), want a copy of %q", i, ss[i], b.holds(ss[i]), tc.in[i])
				}
			}
		})
	}
}

// TestLadderEntryCost: what a ladder holds per entry is within what it is
// charged, and the leg packs into the allocator's 768-byte class (it took
// 1,024 before issue 12).
func TestLadderEntryCost(t *testing.T) {
	if n := unsafe.Sizeof(ladderEntry{}); n > legMessageSize {
		t.Errorf("ladderEntry is %d bytes, charged as %d", n, legMessageSize)
	}
	if n := unsafe.Sizeof(leg{}); n > 768 {
		t.Errorf("leg is %d bytes, more than the 768-byte size class", n)
	}
}
