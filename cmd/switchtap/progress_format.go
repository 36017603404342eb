package main

import (
	"fmt"
	"strings"
	"time"

	"github.com/switchtap/switchtap/capture"
)

// progressSample is what one redraw of the progress line shows.
type progressSample struct {
	in    capture.Progress
	calls uint64
	// unit names what calls counts: "calls" (replay, by record id) or
	// "records" (run --pcap: the daemon's records stored, a call being
	// stored again when a trailing message changes it).
	unit string
	// elapsed is the wall time since the line started.
	elapsed  time.Duration
	realtime bool
}

// formatProgress is the line redrawn while the work goes on, kept within
// 80 columns for a capture of up to 999 GB:
//
//	42% 61.2/144.5 MB, 1.23M pkts, 812 calls, 412.3k pkt/s, 48.2 MB/s, 0:07 left
//
// The rates are averages since the line started; the percentage and the
// time left come from bytes (packets differ in size, bytes do not).
func formatProgress(s progressSample) string {
	var b strings.Builder
	if s.in.Total > 0 {
		fmt.Fprintf(&b, "%d%% %s, ", progPercent(s.in), progBytesOf(s.in.Bytes, s.in.Total))
	} else {
		fmt.Fprintf(&b, "%s, ", progBytes(float64(s.in.Bytes)))
	}
	fmt.Fprintf(&b, "%s pkts, %d %s", progCount(float64(s.in.Frames)), s.calls, s.unitName())
	if sec := s.elapsed.Seconds(); sec > 0 {
		fmt.Fprintf(&b, ", %s pkt/s, %s/s", progCount(float64(s.in.Frames)/sec), progBytes(float64(s.in.Bytes)/sec))
	}
	if left, ok := progETA(s); ok {
		fmt.Fprintf(&b, ", %s left", progClock(left))
	} else if s.in.Total > 0 {
		b.WriteString(", --:-- left")
	}
	return b.String()
}

// formatFinal is the line left on the terminal when the work ends (or is
// stopped before the end of the files).
func formatFinal(s progressSample) string {
	var b strings.Builder
	switch {
	case s.in.Done || s.in.Total == 0:
		fmt.Fprintf(&b, "switchtap: read %s", progBytes(float64(s.in.Bytes)))
	default:
		fmt.Fprintf(&b, "switchtap: stopped at %d%%, read %s", progPercent(s.in), progBytesOf(s.in.Bytes, s.in.Total))
	}
	fmt.Fprintf(&b, ", %s packets in %s", progCount(float64(s.in.Frames)), progElapsed(s.elapsed))
	if sec := s.elapsed.Seconds(); sec > 0 {
		fmt.Fprintf(&b, " (%s pkt/s, %s/s)", progCount(float64(s.in.Frames)/sec), progBytes(float64(s.in.Bytes)/sec))
	}
	fmt.Fprintf(&b, ", %d %s", s.calls, s.unitName())
	return b.String()
}

// unitName is what the count is of, "calls" unless told.
func (s progressSample) unitName() string {
	if s.unit == "" {
		return "calls"
	}
	return s.unit
}

// progPercent is the whole percentage of the files read, rounded down so that
// 100% means every byte.
func progPercent(p capture.Progress) int64 {
	if p.Total <= 0 {
		return 0
	}
	return min(100, max(0, p.Bytes*100/p.Total))
}

// progETA estimates the time left from the bytes left. Read as fast as it
// goes, the bytes left take as long per byte as those read so far (wall
// time since the start). Paced at capture speed (--realtime), reading
// speed says nothing: the bytes left take as long per byte as the capture
// time the bytes read spanned (newest frame's capture time minus the
// first's), i.e. the capture's own density carried to its end.
func progETA(s progressSample) (time.Duration, bool) {
	in := s.in
	if in.Total <= 0 || in.Bytes <= 0 {
		return 0, false
	}
	if in.Bytes >= in.Total {
		return 0, true
	}
	per := s.elapsed
	if s.realtime {
		per = in.Last.Sub(in.First)
	}
	if per <= 0 {
		return 0, false
	}
	return time.Duration(float64(per) * float64(in.Total-in.Bytes) / float64(in.Bytes)), true
}

// progCount writes a count or a rate in at most six characters: 9999, 12.3k,
// 1.23M, 1.23G.
func progCount(n float64) string {
	switch {
	case n < 1e4:
		return fmt.Sprintf("%.0f", n)
	case n < 1e6:
		return fmt.Sprintf("%.1fk", n/1e3)
	case n < 1e9:
		return fmt.Sprintf("%.2fM", n/1e6)
	}
	return fmt.Sprintf("%.2fG", n/1e9)
}

// progUnit picks the decimal unit for n bytes (as `ls -h --si` and the
// figures of the issue: 74 MB is 74·10⁶ bytes).
func progUnit(n float64) (div float64, name string) {
	switch {
	case n < 1e3:
		return 1, "B"
	case n < 1e6:
		return 1e3, "kB"
	case n < 1e9:
		return 1e6, "MB"
	}
	return 1e9, "GB"
}

// progBytes writes n bytes: 512 B, 12.3 kB, 144.5 MB, 1.2 GB.
func progBytes(n float64) string {
	div, name := progUnit(n)
	if div == 1 {
		return fmt.Sprintf("%.0f B", n)
	}
	return fmt.Sprintf("%.1f %s", n/div, name)
}

// progBytesOf writes n of total bytes in total's unit: 61.2/144.5 MB.
func progBytesOf(n, total int64) string {
	div, name := progUnit(float64(total))
	if div == 1 {
		return fmt.Sprintf("%d/%d B", n, total)
	}
	return fmt.Sprintf("%.1f/%.1f %s", float64(n)/div, float64(total)/div, name)
}

// progClock writes a time left as m:ss, or h:mm:ss from an hour, rounded up
// so that 0:00 shows only at the end.
func progClock(d time.Duration) string {
	s := int64((d + time.Second - 1) / time.Second)
	if s < 3600 {
		return fmt.Sprintf("%d:%02d", s/60, s%60)
	}
	return fmt.Sprintf("%d:%02d:%02d", s/3600, s/60%60, s%60)
}

// progElapsed writes a wall time taken: 0.3s under a minute, else as clock.
func progElapsed(d time.Duration) string {
	if d < time.Minute {
		return fmt.Sprintf("%.1fs", d.Seconds())
	}
	return progClock(d.Truncate(time.Second))
}
