package central

import (
	"context"
	"slices"
	"strings"
	"testing"
)

// TestKV: the kv table behaves as access.KV requires: byte order, prefix
// bounds (0xff included), namespaces apart, batches atomic.
func TestKV(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil, nil)
	ctx := context.Background()
	kv, other := NewKV(e.s.pool, "t"), NewKV(e.s.pool, "u")
	keys := []string{"a", "a/1", "a/2", "a\xff", "a\xff\xff", "b", "\xff", "\xff\xff"}
	for _, k := range keys {
		if err := kv.Set(ctx, []byte(k), []byte("v"+k)); err != nil {
			t.Fatal(err)
		}
	}
	if err := other.Set(ctx, []byte("a/1"), []byte("other")); err != nil {
		t.Fatal(err)
	}
	scan := func(prefix string) []string {
		var got []string
		err := kv.Scan(ctx, []byte(prefix), func(k, v []byte) error {
			if string(v) != "v"+string(k) {
				t.Errorf("key %q has %q", k, v)
			}
			got = append(got, string(k))
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	cases := []struct {
		prefix string
		want   []string
	}{
		{"", keys},
		{"a", keys[:5]},
		{"a/", keys[1:3]},
		{"a\xff", keys[3:5]},
		{"\xff", keys[6:]},
		{"c", nil},
	}
	for _, tc := range cases {
		t.Run(strings.ToValidUTF8(tc.prefix, "?"), func(t *testing.T) {
			if got := scan(tc.prefix); !slices.Equal(got, tc.want) {
				t.Fatalf("got %q, want %q", got, tc.want)
			}
		})
	}
	if v, ok, err := kv.Get(ctx, []byte("a/1")); err != nil || !ok || string(v) != "va/1" {
		t.Fatalf("get: %q %v %v", v, ok, err)
	}
	if err := kv.Batch(ctx, [][2][]byte{{[]byte("n"), []byte("vn")}, {[]byte("a"), []byte("va")}}, [][]byte{[]byte("b"), []byte("a/2")}); err != nil {
		t.Fatal(err)
	}
	if got := scan("a/"); !slices.Equal(got, []string{"a/1"}) {
		t.Fatalf("after batch: %q", got)
	}
	if _, ok, _ := kv.Get(ctx, []byte("n")); !ok {
		t.Fatal("batch's set lost")
	}
	// A batch whose second statement fails leaves nothing behind: the key
	// of the first set is not written (a nil key is NULL, refused).
	err := kv.Batch(ctx, [][2][]byte{{[]byte("z"), []byte("vz")}, {nil, []byte("x")}}, nil)
	if err == nil {
		t.Fatal("batch with a NULL key succeeded")
	}
	if _, ok, _ := kv.Get(ctx, []byte("z")); ok {
		t.Fatal("half a batch applied")
	}
	if err := kv.Delete(ctx, []byte("missing")); err != nil {
		t.Fatal(err)
	}
	if v, _, _ := other.Get(ctx, []byte("a/1")); string(v) != "other" {
		t.Fatalf("namespace u: %q", v)
	}
}
