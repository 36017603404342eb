package central

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzDecodeBatch: any body is refused with ErrMalformed or ErrTooLarge,
// or accepted as a batch that keeps the protocol's invariants; nothing
// panics, and prepare takes what Validate accepted or says why not.
func FuzzDecodeBatch(f *testing.F) {
	f.Add([]byte(`{"first_seq":1,"last_seq":1,"entries":[{"seq":1,"record_id":"a","revision":1,"record":{"id":"a","invite_at":"2026-12-01T09:00:00Z"}}]}`))
	f.Add([]byte(`{"first_seq":1,"last_seq":2,"entries":[{"seq":1,"record_id":"a","revision":2,"record":{}},{"seq":2,"record_id":"a","revision":1,"record":{"rings":3}}]}`))
	f.Add([]byte(`{"first_seq":0}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, data []byte) {
		b, err := DecodeBatch(data, 50)
		if err != nil {
			if !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrTooLarge) {
				t.Fatalf("unclassified error: %v", err)
			}
			return
		}
		if b.FirstSeq == 0 || b.LastSeq < b.FirstSeq || uint64(len(b.Entries)) != b.LastSeq-b.FirstSeq+1 || len(b.Entries) > 50 {
			t.Fatalf("accepted %d..%d with %d entries", b.FirstSeq, b.LastSeq, len(b.Entries))
		}
		l, err := prepare(b.Entries)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("unclassified error: %v", err)
			}
			return
		}
		ids := map[string]bool{}
		for i, id := range l.recordID {
			if ids[id] {
				t.Fatalf("record %q twice in one upsert", id)
			}
			ids[id] = true
			if !json.Valid([]byte(l.record[i])) || strings.Contains(l.record[i], `\u0000`) && !escapedBackslash(l.record[i]) {
				t.Fatalf("record %q: %s", id, l.record[i])
			}
		}
	})
}

// escapedBackslash reports whether s holds `\\u0000` (text, not a NUL).
func escapedBackslash(s string) bool { return strings.Contains(s, `\\u0000`) }

// FuzzFixNUL: the rewrite keeps valid JSON valid, decodes to the same
// value with NUL replaced by U+FFFD, and keeps the length.
func FuzzFixNUL(f *testing.F) {
	f.Add([]byte(`{"a":"x\u0000y"}`))
	f.Add([]byte(`{"a":"x\\u0000y"}`))
	f.Add([]byte(`{"a":"\\\u0000"}`))
	f.Add([]byte(`"\u000`))
	f.Fuzz(func(t *testing.T, raw []byte) {
		out := fixNUL(raw)
		if len(out) != len(raw) {
			t.Fatalf("length %d, was %d", len(out), len(raw))
		}
		if !json.Valid(raw) || !utf8.Valid(raw) {
			return
		}
		var before, after any
		if err := json.Unmarshal(raw, &before); err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(out, &after); err != nil {
			t.Fatalf("valid JSON broken: %s -> %s: %v", raw, out, err)
		}
		want, _ := json.Marshal(replaceNUL(before))
		got, _ := json.Marshal(after)
		if !bytes.Equal(got, want) {
			t.Fatalf("%s -> %s", want, got)
		}
	})
}

// replaceNUL is fixNUL's meaning on a decoded value.
func replaceNUL(v any) any {
	switch x := v.(type) {
	case string:
		return strings.ReplaceAll(x, "\x00", "\uFFFD")
	case []any:
		for i := range x {
			x[i] = replaceNUL(x[i])
		}
	case map[string]any:
		m := make(map[string]any, len(x))
		for k, val := range x {
			m[strings.ReplaceAll(k, "\x00", "\uFFFD")] = replaceNUL(val)
		}
		return m
	}
	return v
}
