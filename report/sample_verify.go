package report

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"strconv"
	"time"
)

// Verification is what Verify found: whether the month's frame, read again
// from the store, is the one the sample was drawn from, and whether the
// draw recomputed from the recorded design, generator and seed is the
// stored one.
type Verification struct {
	Month      string    `json:"month"`
	CheckedAt  time.Time `json:"checked_at"`
	Match      bool      `json:"match"`
	FrameMatch bool      `json:"frame_match"`
	DrawMatch  bool      `json:"draw_match"`
	// FrameHash* and FrameSize* are the recorded and recomputed frame.
	FrameHashStored string `json:"frame_hash_stored"`
	FrameHashNow    string `json:"frame_hash_now"`
	FrameSizeStored int    `json:"frame_size_stored"`
	FrameSizeNow    int    `json:"frame_size_now"`
	// Added and Removed are the record ids that entered or left the frame
	// since the draw; Reclassified those whose receptionist changed.
	Added        []string `json:"added"`
	Removed      []string `json:"removed"`
	Reclassified []string `json:"reclassified"`
	// Differences says in words what does not match.
	Differences []string `json:"differences"`
}

// Verify recomputes the month's frame and draw and compares them with the
// stored sample (domain.md §6.3). The draw is recomputed over the frame as
// it was at the draw (kept with the sample, and itself checked against
// the recorded hash), so a changed frame and a changed seed or design are
// told apart.
func (s *Sampler) Verify(ctx context.Context, month string) (Verification, error) {
	from, to, err := MonthRange(month, s.loc)
	if err != nil {
		return Verification{}, err
	}
	smp, err := s.Get(ctx, month)
	if err != nil {
		return Verification{}, err
	}
	v := Verification{
		Month: month, CheckedAt: s.now().UTC(),
		FrameHashStored: smp.FrameHash, FrameSizeStored: smp.FrameSize,
		Added: []string{}, Removed: []string{}, Reclassified: []string{}, Differences: []string{},
	}
	now, err := BuildFrame(ctx, s.calls, from, to)
	if err != nil {
		return Verification{}, fmt.Errorf("verify %s: %w", month, err)
	}
	v.FrameHashNow, v.FrameSizeNow = FrameHash(now), len(now)
	if smp.FrameEncoding != FrameEncodingV1 {
		v.Differences = append(v.Differences, fmt.Sprintf("frame encoding %q is not %q", smp.FrameEncoding, FrameEncodingV1))
	}
	if v.FrameHashNow != smp.FrameHash {
		v.Differences = append(v.Differences, fmt.Sprintf("frame hash %s, recorded %s", v.FrameHashNow, smp.FrameHash))
	}
	if v.FrameSizeNow != smp.FrameSize {
		v.Differences = append(v.Differences, fmt.Sprintf("frame size %d, recorded %d", v.FrameSizeNow, smp.FrameSize))
	}
	// The frame kept at the draw tells what changed, and lets the draw be
	// recomputed even when the store changed since.
	kept := now
	raw, ok, err := s.kv.Get(ctx, frameKey(month))
	if err != nil {
		return Verification{}, fmt.Errorf("verify %s: %w", month, err)
	}
	switch {
	case !ok:
		v.Differences = append(v.Differences, "the frame kept at the draw is missing")
	default:
		sum := sha256.Sum256(raw)
		dec, derr := DecodeFrame(raw)
		switch {
		case hex.EncodeToString(sum[:]) != smp.FrameHash:
			v.Differences = append(v.Differences, "the frame kept at the draw does not match the recorded hash")
		case derr != nil:
			v.Differences = append(v.Differences, "the frame kept at the draw cannot be read: "+derr.Error())
		default:
			kept = dec
			v.Added, v.Removed, v.Reclassified = diffFrames(dec, now)
		}
	}
	v.FrameMatch = len(v.Differences) == 0
	drawDiffs := compareDraw(smp, kept)
	v.DrawMatch = len(drawDiffs) == 0
	v.Differences = append(v.Differences, drawDiffs...)
	v.Match = v.FrameMatch && v.DrawMatch
	return v, nil
}

// compareDraw recomputes the draw over frame and lists what differs from
// the stored sample, including replacements that did not take the next
// reserve.
func compareDraw(smp Sample, frame []FrameEntry) []string {
	var diffs []string
	dr, err := DrawFrame(frame, smp.Design, smp.Generator, smp.Seed)
	if err != nil {
		return []string{"draw cannot be recomputed: " + err.Error()}
	}
	if dr.NCochran != smp.NCochran {
		diffs = append(diffs, fmt.Sprintf("draw: n_cochran %d, recorded %d", dr.NCochran, smp.NCochran))
	}
	if dr.N != smp.N {
		diffs = append(diffs, fmt.Sprintf("draw: n %d, recorded %d", dr.N, smp.N))
	}
	if !slices.Equal(dr.Allocation, smp.Allocation) {
		diffs = append(diffs, fmt.Sprintf("draw: allocation %v, recorded %v", dr.Allocation, smp.Allocation))
	}
	var drawn []Item
	for _, it := range smp.Items {
		if !it.Replacement {
			it.Replaced = false
			drawn = append(drawn, it)
		}
	}
	if i := firstDiff(dr.Items, drawn); i >= 0 {
		diffs = append(diffs, "draw: items differ from rank "+itemAt(drawn, i))
	}
	if i := firstDiff(dr.Reserves, smp.Reserves); i >= 0 {
		diffs = append(diffs, "draw: reserves differ from "+itemAt(smp.Reserves, i))
	}
	// Each replacement must have taken its receptionist's next reserve.
	next := map[string]int{}
	for _, r := range smp.Replacements {
		want := ""
		k := 0
		for _, res := range smp.Reserves {
			if res.Operator == r.Operator {
				if k == next[r.Operator] {
					want = res.ID
					break
				}
				k++
			}
		}
		next[r.Operator]++
		if r.NewID != want {
			diffs = append(diffs, fmt.Sprintf("replacement of %s took %s, the next reserve is %q", r.OldID, r.NewID, want))
		}
	}
	return diffs
}

// firstDiff returns the index of the first difference of a and b, -1 when
// they are equal.
func firstDiff(a, b []Item) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	if len(a) != len(b) {
		return min(len(a), len(b))
	}
	return -1
}

// itemAt names b[i] for a message.
func itemAt(b []Item, i int) string {
	if i >= len(b) {
		return "#" + strconv.Itoa(i+1) + " (missing)"
	}
	return fmt.Sprintf("%d of %q (%s)", b[i].Rank, b[i].Operator, b[i].ID)
}

// diffFrames lists the ids added to, removed from and reclassified in the
// frame between was and now (both sorted by id).
func diffFrames(was, now []FrameEntry) (added, removed, reclassified []string) {
	added, removed, reclassified = []string{}, []string{}, []string{}
	i, j := 0, 0
	for i < len(was) || j < len(now) {
		switch {
		case j == len(now) || (i < len(was) && was[i].ID < now[j].ID):
			removed = append(removed, was[i].ID)
			i++
		case i == len(was) || now[j].ID < was[i].ID:
			added = append(added, now[j].ID)
			j++
		default:
			if was[i].Operator != now[j].Operator {
				reclassified = append(reclassified, now[j].ID)
			}
			i++
			j++
		}
	}
	return added, removed, reclassified
}

// DecodeFrame reads a frame written by EncodeFrame.
func DecodeFrame(b []byte) ([]FrameEntry, error) {
	var out []FrameEntry
	for len(b) > 0 {
		id, rest, err := readNetstring(b)
		if err != nil {
			return nil, err
		}
		op, rest, err := readNetstring(rest)
		if err != nil {
			return nil, err
		}
		out = append(out, FrameEntry{ID: id, Operator: op})
		b = rest
	}
	return out, nil
}

// readNetstring reads one netstring off b. The length is plain decimal
// digits without a leading zero, so that one frame has one encoding only.
func readNetstring(b []byte) (string, []byte, error) {
	colon := slices.Index(b, ':')
	if colon <= 0 || colon > 9 || (colon > 1 && b[0] == '0') {
		return "", nil, fmt.Errorf("%w: frame: bad netstring length", ErrCorrupt)
	}
	n := 0
	for _, c := range b[:colon] {
		if c < '0' || c > '9' {
			return "", nil, fmt.Errorf("%w: frame: bad netstring length", ErrCorrupt)
		}
		n = n*10 + int(c-'0')
	}
	if colon+1+n >= len(b) || b[colon+1+n] != ',' {
		return "", nil, fmt.Errorf("%w: frame: bad netstring", ErrCorrupt)
	}
	return string(b[colon+1 : colon+1+n]), b[colon+2+n:], nil
}
