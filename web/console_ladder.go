package web

import (
	"slices"
	"strconv"
	"time"

	"github.com/switchtap/switchtap/sip"
)

// The SIP ladder diagram of the detail page, laid out here and drawn by the
// "ladder" template as inline SVG: one vertical lane per distinct ip:port,
// in the order they first appear, and one horizontal arrow per message in
// capture order, so what the page shows is exactly what was captured
// (retransmissions included, dashed).

const (
	ladderLaneGap   = 210 // px between lanes: room for "183 Session Progress (INVITE)"
	ladderLeft      = 130 // time column
	ladderTop       = 52  // lane labels
	ladderRow       = 26
	ladderBottom    = 16
	ladderSelfLoop  = 34
	ladderLabelMax  = 30
	ladderLegMarker = "T"
)

// ladder is the layout of one diagram.
type ladder struct {
	Width, Height int
	// Bottom is where the lane lines end.
	Bottom int
	Lanes  []ladderLane
	Msgs   []ladderMsg
}

// ladderLane is one ip:port.
type ladderLane struct {
	X     int
	Label string
}

// ladderMsg is one arrow, and the raw text listed under the diagram.
type ladderMsg struct {
	Index int
	Y     int
	// Path is the SVG path of the arrow (a self-addressed message loops).
	Path           string
	LabelX, LabelY int
	// Anchor is the label's text-anchor.
	Anchor string
	// HitY and HitH are the row's band, which takes the clicks (SVG
	// gives events only to painted shapes: a thin arrow is a poor target).
	HitY, HitH int
	Label      string
	Offset     string
	// Leg is 0 for the call's own leg, n for its n-th linked leg.
	Leg       int
	LegTag    string
	Retrans   bool
	Src, Dst  string
	Transport string
	CSeq      string
	Raw       string
	Truncated bool
	Rightward bool
}

// buildLadder lays out the messages of a leg (legs[0]) and of its linked
// legs, with times relative to origin (the leg's INVITE).
func buildLadder(origin time.Time, legs ...[]sip.LegMessage) ladder {
	type item struct {
		leg int
		m   sip.LegMessage
	}
	var all []item
	for leg, msgs := range legs {
		for _, m := range msgs {
			all = append(all, item{leg, m})
		}
	}
	// Stable: messages of one instant keep their leg's capture order.
	slices.SortStableFunc(all, func(a, b item) int { return a.m.At.Compare(b.m.At) })

	if origin.IsZero() && len(all) > 0 {
		origin = all[0].m.At
	}
	lane := map[string]int{}
	var lanes []ladderLane
	laneOf := func(addr string) int {
		if i, ok := lane[addr]; ok {
			return i
		}
		i := len(lanes)
		lane[addr] = i
		lanes = append(lanes, ladderLane{X: ladderLeft + i*ladderLaneGap + ladderLaneGap/2, Label: addr})
		return i
	}
	for _, it := range all {
		laneOf(it.m.Src)
		laneOf(it.m.Dst)
	}

	l := ladder{Lanes: lanes}
	for i, it := range all {
		m := it.m
		y := ladderTop + ladderRow*i + ladderRow
		x1, x2 := lanes[lane[m.Src]].X, lanes[lane[m.Dst]].X
		msg := ladderMsg{
			Index:     i,
			Y:         y,
			LabelY:    y - 5,
			HitY:      y - ladderRow/2 - 4,
			HitH:      ladderRow,
			Anchor:    "middle",
			Label:     messageLabel(m),
			Offset:    formatOffset(m.At.Sub(origin), 3),
			Leg:       it.leg,
			Retrans:   m.Retransmission,
			Src:       m.Src,
			Dst:       m.Dst,
			Transport: m.Transport,
			CSeq:      strconv.FormatUint(uint64(m.CSeq), 10) + " " + m.CSeqMethod,
			Raw:       m.Raw,
			Truncated: m.Truncated,
			Rightward: x2 >= x1,
		}
		if it.leg > 0 {
			msg.LegTag = ladderLegMarker + strconv.Itoa(it.leg+1)
		}
		if x1 == x2 {
			// A message to its own address: a loop to the right of the lane.
			msg.Path = "M" + itoa(x1) + " " + itoa(y-6) + " H" + itoa(x1+ladderSelfLoop) +
				" V" + itoa(y+6) + " H" + itoa(x1+4)
			msg.LabelX, msg.LabelY, msg.Anchor = x1+ladderSelfLoop+4, y+4, "start"
		} else {
			// The arrowhead's tip stops 2 px short of the lane so it stays visible.
			end := x2 - 2
			if x2 < x1 {
				end = x2 + 2
			}
			msg.Path = "M" + itoa(x1) + " " + itoa(y) + " H" + itoa(end)
			msg.LabelX = (x1 + x2) / 2
		}
		l.Msgs = append(l.Msgs, msg)
	}
	l.Width = ladderLeft + max(len(lanes), 1)*ladderLaneGap
	l.Bottom = ladderTop + ladderRow*(len(all)+1)
	l.Height = l.Bottom + ladderBottom
	return l
}

// messageLabel is "INVITE", or "180 Ringing" and, for a response to other
// than INVITE, its method: "200 OK (BYE)".
func messageLabel(m sip.LegMessage) string {
	if m.Method != "" {
		return clipRunes(m.Method, ladderLabelMax)
	}
	s := strconv.Itoa(m.Status)
	if m.Reason != "" {
		s += " " + m.Reason
	}
	if m.CSeqMethod != "" && m.CSeqMethod != "INVITE" {
		s += " (" + m.CSeqMethod + ")"
	}
	return clipRunes(s, ladderLabelMax)
}

// clipRunes shortens s to n runes with an ellipsis.
func clipRunes(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

func itoa(n int) string { return strconv.Itoa(n) }
