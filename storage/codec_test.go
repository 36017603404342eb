package storage

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/dgraph-io/badger/v4"

	"github.com/switchtap/switchtap/sip"
)

func newCodec(tb testing.TB) *valueCodec {
	tb.Helper()
	c, err := newValueCodec()
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(c.close)
	return c
}

func readTestdata(tb testing.TB, name string) []byte {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

func TestValueCodec(t *testing.T) {
	c := newCodec(t)
	noise := make([]byte, 4096)
	_, _ = rand.Read(noise)
	for _, tc := range []struct {
		name   string
		v      []byte
		packed bool
		// under: the packed value must fit in the LSM tree.
		under int
	}{
		{name: "empty", v: nil},
		{name: "short", v: []byte(`{"id":"a"}`)},
		{name: "record", v: readTestdata(t, "record.json"), packed: true, under: valueThreshold},
		{name: "ladder", v: readTestdata(t, "ladder.json"), packed: true, under: valueThreshold},
		{name: "incompressible", v: noise},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := c.pack(tc.v)
			if got := packed(p); got != tc.packed {
				t.Fatalf("packed %v, want %v (%d → %d bytes)", got, tc.packed, len(tc.v), len(p))
			}
			if tc.under > 0 && len(p) >= tc.under {
				t.Errorf("%d bytes packed to %d, not under %d", len(tc.v), len(p), tc.under)
			}
			for _, unpack := range []func([]byte) ([]byte, error){c.unpack, c.unpackCopy} {
				got, err := unpack(p)
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(got, tc.v) {
					t.Fatalf("unpacked %d bytes, want %d", len(got), len(tc.v))
				}
			}
		})
	}
}

func TestValueCodecCorrupt(t *testing.T) {
	c := newCodec(t)
	p := c.pack(readTestdata(t, "ladder.json"))
	for _, tc := range []struct {
		name string
		v    []byte
	}{
		{"magic only", []byte(zstdMagic)},
		{"truncated", p[:len(p)/2]},
		{"flipped", func() []byte { q := bytes.Clone(p); q[len(q)/2] ^= 0x40; return q }()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := c.unpack(tc.v); !errors.Is(err, ErrCorrupt) {
				t.Fatalf("unpack = %v, want ErrCorrupt", err)
			}
		})
	}
}

// TestStoreReadsUnpackedValues: a store written before values were packed
// holds plain JSON; every read path takes it as it is.
func TestStoreReadsUnpackedValues(t *testing.T) {
	ctx := context.Background()
	s, want := storeLadderCall(t, "plain", 7)
	rec, err := json.Marshal(&want)
	if err != nil {
		t.Fatal(err)
	}
	msgs, err := json.Marshal(want.Messages)
	if err != nil {
		t.Fatal(err)
	}
	// As the store was: the same keys, the values unpacked.
	plain := map[string][]byte{string(callKey(want.InviteAt, want.ID)): rec, string(msgsKey(want.ID)): msgs}
	rewriteValues(t, s, [][]byte{callKey(want.InviteAt, want.ID), msgsKey(want.ID)}, func(k, old []byte) []byte {
		if !packed(old) {
			t.Errorf("%s was stored unpacked", k)
		}
		return plain[string(k)]
	})
	got, err := s.Call(ctx, want.ID)
	if err != nil {
		t.Fatal(err)
	}
	gotMsgs, err := s.Messages(ctx, want.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(gotMsgs, want.Messages) {
		t.Errorf("Messages: %d messages, want %d", len(gotMsgs), len(want.Messages))
	}
	want.Messages = nil
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Call = %+v, want %+v", got, want)
	}
	byCID, err := s.CallByCallID(ctx, want.CallID)
	if err != nil || byCID.ID != want.ID {
		t.Errorf("CallByCallID = %q, %v", byCID.ID, err)
	}
	var outRec []byte
	if err := s.OutboxAfter(ctx, 0, 10, func(e OutboxEntry) error { outRec = e.Record; return nil }); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(outRec, rec) {
		t.Errorf("outbox record %.80q…, want %.80q…", outRec, rec)
	}
	// Upserting over the plain record reads its call_id (oldCIDKey) and
	// packs the new one.
	moved := want
	moved.CallID = "moved@192.0.2.10"
	if err := s.PutCall(ctx, moved); err != nil {
		t.Fatal(err)
	}
	if _, err := s.CallByCallID(ctx, want.CallID); !errors.Is(err, ErrNotFound) {
		t.Errorf("old Call-ID still indexed: %v", err)
	}
	if got, err := s.CallByCallID(ctx, moved.CallID); err != nil || got.ID != want.ID {
		t.Errorf("CallByCallID(moved) = %q, %v", got.ID, err)
	}
}

// TestStoreCorruptPackedValue: a damaged frame is ErrCorrupt on every
// read, not a panic or a different record.
func TestStoreCorruptPackedValue(t *testing.T) {
	ctx := context.Background()
	s, c := storeLadderCall(t, "broken", 3)
	rewriteValues(t, s, [][]byte{callKey(c.InviteAt, c.ID), msgsKey(c.ID)}, func(_, v []byte) []byte {
		v[len(v)-1] ^= 0xff // the frame's checksum
		return v
	})
	if _, err := s.Call(ctx, c.ID); !errors.Is(err, ErrCorrupt) {
		t.Errorf("Call = %v, want ErrCorrupt", err)
	}
	if _, err := s.Messages(ctx, c.ID); !errors.Is(err, ErrCorrupt) {
		t.Errorf("Messages = %v, want ErrCorrupt", err)
	}
	if err := s.OutboxAfter(ctx, 0, 10, func(OutboxEntry) error { return nil }); !errors.Is(err, ErrCorrupt) {
		t.Errorf("OutboxAfter = %v, want ErrCorrupt", err)
	}
	if err := s.Calls(ctx, march, march.Add(time.Hour), func(sip.Call) error { return nil }); !errors.Is(err, ErrCorrupt) {
		t.Errorf("Calls = %v, want ErrCorrupt", err)
	}
}

// storeLadderCall opens a store in a new folder and stores there record id
// with the i-th of benchLadder's ladders, packed as the store packs.
func storeLadderCall(t *testing.T, id string, i int) (*Store, sip.Call) {
	t.Helper()
	s := openStore(t, t.TempDir())
	c := withMessages(fullCall(id, march), benchLadder(t)(i))
	if err := s.PutCall(context.Background(), c); err != nil {
		t.Fatal(err)
	}
	return s, c
}

// rewriteValues replaces, in one transaction, the stored value of each key
// with what edit makes of a copy of it.
func rewriteValues(t *testing.T, s *Store, keys [][]byte, edit func(k, v []byte) []byte) {
	t.Helper()
	err := s.db.Update(func(txn *badger.Txn) error {
		for _, k := range keys {
			item, err := txn.Get(k)
			if err != nil {
				return err
			}
			v, err := item.ValueCopy(nil)
			if err != nil {
				return err
			}
			if err := txn.Set(k, edit(k, v)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// FuzzValueCodec: any stored bytes unpack to an answer or an error, and
// whatever is packed unpacks to itself.
func FuzzValueCodec(f *testing.F) {
	c := newCodec(f)
	f.Add(readTestdata(f, "record.json"))
	f.Add(c.pack(readTestdata(f, "ladder.json")))
	f.Add([]byte(zstdMagic + "\x00\x00\x00"))
	f.Fuzz(func(t *testing.T, v []byte) {
		out, err := c.unpack(v)
		if !packed(v) {
			if err != nil || !bytes.Equal(out, v) {
				t.Fatalf("plain value: %v", err)
			}
		} else if err != nil && !errors.Is(err, ErrCorrupt) {
			t.Fatalf("unpack = %v, want ErrCorrupt", err)
		}
		if packed(v) {
			return // not JSON: never packed
		}
		got, err := c.unpack(c.pack(v))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, v) {
			t.Fatalf("round trip: %d bytes became %d", len(v), len(got))
		}
	})
}

// BenchmarkValueCodec: the cost of packing and unpacking a record and an
// answered call's ladder, with the packed size.
func BenchmarkValueCodec(b *testing.B) {
	c := newCodec(b)
	for _, name := range []string{"record", "ladder"} {
		v := readTestdata(b, name+".json")
		p := c.pack(v)
		b.Run(name+"/pack", func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(v)))
			for b.Loop() {
				c.pack(v)
			}
			b.ReportMetric(float64(len(p)), "packed-bytes")
			b.ReportMetric(float64(len(v)), "json-bytes")
		})
		b.Run(name+"/unpack", func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(v)))
			for b.Loop() {
				if _, err := c.unpack(p); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
