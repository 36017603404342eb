package uplink

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"
)

func TestEncode(t *testing.T) {
	es := []Entry{
		{Seq: 7, RecordID: "a\"b\\c\u2028\x01é", Revision: 3, Record: json.RawMessage(`{"id":"x","n":1}`)},
		{Seq: 8, RecordID: "b", Revision: 1, Record: json.RawMessage(`{"id":"b"}`)},
	}
	b, err := newEncoder().encode(es)
	if err != nil {
		t.Fatal(err)
	}
	zr, err := gzip.NewReader(bytes.NewReader(b.body))
	if err != nil {
		t.Fatal(err)
	}
	raw, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	var got wireBatch
	if err := json.Unmarshal(raw, &got); err != nil {
		t.Fatalf("%s: %v", raw, err)
	}
	if got.FirstSeq != 7 || got.LastSeq != 8 || len(got.Entries) != 2 || b.first != 7 || b.last != 8 || b.n != 2 || b.raw != len(raw) {
		t.Fatalf("batch %+v from %s", got, raw)
	}
	for i, e := range got.Entries {
		w := es[i]
		if e.Seq != w.Seq || e.RecordID != w.RecordID || e.Revision != w.Revision || string(e.Record) != string(w.Record) {
			t.Errorf("entry %d = %+v, want %+v", i, e, w)
		}
	}
	tests := []struct {
		name string
		es   []Entry
	}{
		{"empty", nil},
		{"not contiguous", []Entry{{Seq: 1, Record: json.RawMessage(`{}`)}, {Seq: 3, Record: json.RawMessage(`{}`)}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := newEncoder().encode(tt.es); !errors.Is(err, ErrProtocol) {
				t.Fatalf("err %v", err)
			}
		})
	}
}

// FuzzJSONString: appendJSONString decodes to what encoding/json would
// have produced.
func FuzzJSONString(f *testing.F) {
	for _, s := range []string{"", "abc", "a\"b", "\\", "\x00\x1f", "\u2028\u2029", "é", "\xff\xfe", "<>&"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var b bytes.Buffer
		appendJSONString(&b, s)
		var got string
		if err := json.Unmarshal(b.Bytes(), &got); err != nil {
			t.Fatalf("%q -> %s: %v", s, b.Bytes(), err)
		}
		std, _ := json.Marshal(s)
		var want string
		_ = json.Unmarshal(std, &want)
		if got != want {
			t.Fatalf("%q -> %q, encoding/json %q", s, got, want)
		}
	})
}

func TestParseAck(t *testing.T) {
	tests := []struct {
		in   string
		want uint64
		err  error
	}{
		{`{"acked":12}`, 12, nil},
		{`{"acked":0}`, 0, nil},
		{`{"acked":18446744073709551615}`, 1<<64 - 1, nil},
		{`{}`, 0, ErrProtocol},
		{`{"acked":-1}`, 0, ErrProtocol},
		{`{"acked":"3"}`, 0, ErrProtocol},
		{`bad credential`, 0, ErrProtocol},
		{``, 0, ErrProtocol},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := parseAck([]byte(tt.in))
			if !errors.Is(err, tt.err) || got != tt.want {
				t.Fatalf("parseAck(%s) = %d, %v; want %d, %v", tt.in, got, err, tt.want, tt.err)
			}
		})
	}
}

func FuzzParseAck(f *testing.F) {
	for _, s := range []string{`{"acked":1}`, `{}`, `null`, `{"acked":1e3}`, strings.Repeat("[", 1000)} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		k, err := parseAck(b)
		if err == nil {
			var a struct{ Acked uint64 }
			if json.Unmarshal(b, &a) != nil || a.Acked != k {
				t.Fatalf("parseAck(%q) = %d", b, k)
			}
		} else if !errors.Is(err, ErrProtocol) {
			t.Fatalf("error %v not ErrProtocol", err)
		}
	})
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)
	tests := []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"", 0, false},
		{"0", 0, true},
		{"7", 7 * time.Second, true},
		{" 120 ", 120 * time.Second, true},
		{"99999999999999999999", 0, false},
		{"9999999", maxRetryAfter, true},
		{"-3", 0, false},
		{"soon", 0, false},
		{"Mon, 02 Mar 2026 08:00:30 GMT", 30 * time.Second, true},
		{"Mon, 02 Mar 2026 07:00:00 GMT", 0, true},
		{"Tue, 03 Mar 2026 08:00:00 GMT", maxRetryAfter, true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, ok := parseRetryAfter(tt.in, now)
			if got != tt.want || ok != tt.ok {
				t.Fatalf("parseRetryAfter(%q) = %v, %v; want %v, %v", tt.in, got, ok, tt.want, tt.ok)
			}
		})
	}
}

func FuzzParseRetryAfter(f *testing.F) {
	for _, s := range []string{"1", "Mon, 02 Mar 2026 08:00:30 GMT", "", "x"} {
		f.Add(s)
	}
	now := time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, s string) {
		d, ok := parseRetryAfter(s, now)
		if d < 0 || d > maxRetryAfter || (!ok && d != 0) {
			t.Fatalf("parseRetryAfter(%q) = %v, %v", s, d, ok)
		}
	})
}

func TestBackoff(t *testing.T) {
	tests := []struct {
		name string
		rand float64
		want []time.Duration
	}{
		{"low jitter", 0, []time.Duration{500 * time.Millisecond, time.Second, 2 * time.Second, 4 * time.Second, 5 * time.Second, 5 * time.Second}},
		{"high jitter", 0.999999999, []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second, 10 * time.Second, 10 * time.Second}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := backoff{min: time.Second, max: 10 * time.Second, rand: func() float64 { return tt.rand }}
			for i, w := range tt.want {
				if got := b.next(); (got - w).Abs() > time.Microsecond {
					t.Fatalf("step %d = %v, want %v", i, got, w)
				}
			}
			b.reset()
			if got := b.next(); got > time.Second {
				t.Fatalf("after reset %v", got)
			}
		})
	}
	// Many failures never overflow past the cap.
	b := backoff{min: time.Second, max: 5 * time.Minute, rand: func() float64 { return 0.5 }}
	for range 10_000 {
		if d := b.next(); d <= 0 || d > 5*time.Minute {
			t.Fatalf("backoff %v", d)
		}
	}
}

func TestConfig(t *testing.T) {
	ok := Config{URL: "https://central.example.gob.sv", Token: "stb_x"}
	tests := []struct {
		name string
		mod  func(c *Config)
		err  error
	}{
		{"ok", func(*Config) {}, nil},
		{"empty url", func(c *Config) { c.URL = "" }, ErrConfig},
		{"http", func(c *Config) { c.URL = "http://central" }, ErrConfig},
		{"no host", func(c *Config) { c.URL = "https://" }, ErrConfig},
		{"no credential", func(c *Config) { c.Token = "" }, ErrConfig},
		{"cert without key", func(c *Config) { c.Cert = "c.pem" }, ErrConfig},
		{"batch too big", func(c *Config) { c.BatchRecords = maxBatchRecords + 1 }, ErrConfig},
		{"negative bytes", func(c *Config) { c.BatchBytes = -1 }, ErrConfig},
		{"negative timeout", func(c *Config) { c.Timeout = -time.Second }, ErrConfig},
		{"max below min", func(c *Config) { c.BackoffMin, c.BackoffMax = time.Minute, time.Second }, ErrConfig},
		{"missing ca file", func(c *Config) { c.CA = "/nonexistent/ca.pem" }, ErrConfig},
		{"missing cert", func(c *Config) { c.Cert, c.Key = "/nonexistent/c.pem", "/nonexistent/k.pem" }, ErrConfig},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := ok
			tt.mod(&c)
			s, err := New(c, nil)
			if !errors.Is(err, tt.err) {
				t.Fatalf("New = %v, want %v", err, tt.err)
			}
			if err == nil && (s.cfg.BatchRecords != DefaultBatchRecords || s.cfg.BatchBytes != DefaultBatchBytes || s.cfg.BackoffMax != DefaultBackoffMax) {
				t.Fatalf("defaults not applied: %+v", s.cfg)
			}
		})
	}
}

func TestResultString(t *testing.T) {
	want := []string{"ok", "replay", "gap", "busy", "error"}
	for r := ResultOK; r < numResults; r++ {
		if r.String() != want[r] {
			t.Errorf("%d: %q", r, r.String())
		}
	}
	if s := Result(99).String(); s != "Result(99)" {
		t.Error(s)
	}
}

// benchEntries returns n entries of ~900-byte records, as on the box.
func benchEntries(n int) []Entry {
	es := make([]Entry, n)
	for i := range es {
		id := fmt.Sprintf("0193f3a2-7c1e-7000-8000-%012d", i)
		rec := fmt.Sprintf(`{"id":%q,"call_id":"a84b4c76e66710@pc33.example.gob.sv;%d","from":"22447700","to":"2244","from_name":"Ministerio de Hacienda, Ventanilla 3","direction":"inbound","operator":"Recepción 1","invite_at":"2026-03-02T08:00:%02d.123456789Z","ringing_at":"2026-03-02T08:00:00.243456789Z","answered_at":"2026-03-02T08:00:09.123456790Z","ended_at":"2026-03-02T08:03:09.123456796Z","end_reason":"completed","end_detail":"200","hangup_by":"caller","ring_source":"180","ring_seconds":8.880000001,"rings":2,"within_limit":true,"transfer":null,"recording":{"file":"2026/03/%s.wav","duration_seconds":171.02,"caller":{"codec":"PCMA","packets":8551,"lost":2}},"transport":"udp","src_ip":"192.0.2.10","dst_ip":"198.51.100.20","vlan":20,"retransmissions":3,"re_invites":1}`, id, i, i%60, id)
		es[i] = Entry{Seq: uint64(i + 1), RecordID: id, Revision: 1, Record: json.RawMessage(rec)}
	}
	return es
}

// BenchmarkEncode500 is one batch's build and gzip: 500 records.
func BenchmarkEncode500(b *testing.B) {
	es := benchEntries(500)
	enc := newEncoder()
	b.ReportAllocs()
	var raw, z int
	for b.Loop() {
		bt, err := enc.encode(es)
		if err != nil {
			b.Fatal(err)
		}
		raw, z = bt.raw, len(bt.body)
	}
	b.ReportMetric(float64(raw), "json_bytes")
	b.ReportMetric(float64(z), "gzip_bytes")
}
