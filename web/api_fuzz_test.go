package web

import (
	"bytes"
	"net/url"
	"testing"
	"time"
)

// FuzzParsePCMHeader: no input makes the header parser or the peaks fail
// other than with an error, and a data offset it returns lies inside the
// bytes it was given.
func FuzzParsePCMHeader(f *testing.F) {
	f.Add(ulawWAV(tone(4, 440, 100), tone(4, 440, 100)))
	f.Add([]byte("RIFF\x00\x00\x00\x00WAVEfmt \x10\x00\x00\x00\x01\x00\x02\x00\x40\x1f\x00\x00\x00\x7d\x00\x00\x04\x00\x10\x00data\x08\x00\x00\x00\x01\x00\x02\x00\x03\x00\x04\x00"))
	f.Add([]byte("RIFF\x00\x00\x00\x00WAVEJUNK\xff\xff\xff\xff"))
	f.Fuzz(func(t *testing.T, b []byte) {
		off, _, err := parsePCMHeader(b)
		if err == nil && (off < 12 || off > int64(len(b))) {
			t.Fatalf("offset %d outside %d bytes", off, len(b))
		}
		p, err := computePeaks(bytes.NewReader(b), int64(len(b)), 16)
		if err == nil && (len(p.Channels[0]) != 16 || p.DurationSeconds < 0) {
			t.Fatalf("peaks %+v", p)
		}
	})
}

// FuzzParseCallFilter: any query is either a filter whose range is ordered
// and bounded, or an error.
func FuzzParseCallFilter(f *testing.F) {
	for _, q := range []string{"from=2026-12-01&to=2026-12-31", "page=2&per_page=50&within_limit=true", "direction=inbound&end_reason=abandoned", "from=%00", "to=2026-02-30"} {
		f.Add(q)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		q, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		fl, err := parseCallFilter(q, testLocation)
		if err != nil {
			return
		}
		if fl.To.Before(fl.From) || fl.To.Sub(fl.From) > maxRangeDays*24*time.Hour || fl.PerPage > maxPerPage || fl.PerPage < 0 || (fl.PerPage > 0) != (fl.Page > 0) {
			t.Fatalf("filter %+v from %q", fl, raw)
		}
	})
}
