package storage

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/dgraph-io/badger/v4"

	"github.com/switchtap/switchtap/sip"
)

// scanAll returns "key=val" for every key of b under prefix.
func scanAll(t *testing.T, b *Bucket, prefix string) []string {
	t.Helper()
	var got []string
	err := b.Scan(context.Background(), []byte(prefix), func(k, v []byte) error {
		got = append(got, string(k)+"="+string(v))
		return nil
	})
	if err != nil {
		t.Fatalf("Scan(%q): %v", prefix, err)
	}
	return got
}

func TestBucketGetSetDelete(t *testing.T) {
	ctx := context.Background()
	b := openStore(t, t.TempDir()).KV("access")
	if _, ok, err := b.Get(ctx, []byte("user/ana")); err != nil || ok {
		t.Fatalf("Get before Set = ok %v, %v", ok, err)
	}
	buf := []byte("v1")
	if err := b.Set(ctx, []byte("user/ana"), buf); err != nil {
		t.Fatal(err)
	}
	buf[0] = 'X' // the store must not keep the caller's buffer
	v, ok, err := b.Get(ctx, []byte("user/ana"))
	if err != nil || !ok || string(v) != "v1" {
		t.Fatalf("Get = %q, %v, %v; want v1", v, ok, err)
	}
	v[0] = 'Y' // nor hand out its own
	if v, _, _ := b.Get(ctx, []byte("user/ana")); string(v) != "v1" {
		t.Fatalf("Get after editing the copy = %q", v)
	}
	if err := b.Set(ctx, []byte("empty"), nil); err != nil {
		t.Fatal(err)
	}
	if v, ok, err := b.Get(ctx, []byte("empty")); err != nil || !ok || v == nil || len(v) != 0 {
		t.Fatalf("Get(empty) = %q (nil %v), %v, %v; want an empty value", v, v == nil, ok, err)
	}
	if err := b.Delete(ctx, []byte("user/ana")); err != nil {
		t.Fatal(err)
	}
	if _, ok, err := b.Get(ctx, []byte("user/ana")); err != nil || ok {
		t.Fatalf("Get after Delete = ok %v, %v", ok, err)
	}
	if err := b.Delete(ctx, []byte("never")); err != nil {
		t.Fatalf("Delete of a missing key: %v", err)
	}
}

func TestBucketInvalid(t *testing.T) {
	ctx := context.Background()
	s := openStore(t, t.TempDir())
	long := bytes.Repeat([]byte("k"), maxKVKeyLen+1)
	noop := func(k, v []byte) error { return nil }
	for _, tc := range []struct {
		name string
		ns   string
		key  []byte
		want error
	}{
		{"empty namespace", "", []byte("k"), ErrNamespace},
		{"slash in namespace", "a/b", []byte("k"), ErrNamespace},
		{"upper case namespace", "Access", []byte("k"), ErrNamespace},
		{"long namespace", strings.Repeat("a", maxNamespaceLen+1), []byte("k"), ErrNamespace},
		{"empty key", "access", nil, ErrKey},
		{"long key", "access", long, ErrKey},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := s.KV(tc.ns)
			if _, _, err := b.Get(ctx, tc.key); !errors.Is(err, tc.want) {
				t.Errorf("Get: %v, want %v", err, tc.want)
			}
			if err := b.Set(ctx, tc.key, []byte("v")); !errors.Is(err, tc.want) {
				t.Errorf("Set: %v, want %v", err, tc.want)
			}
			if err := b.Delete(ctx, tc.key); !errors.Is(err, tc.want) {
				t.Errorf("Delete: %v, want %v", err, tc.want)
			}
			if err := b.Batch(ctx, [][2][]byte{{tc.key, []byte("v")}}, nil); !errors.Is(err, tc.want) {
				t.Errorf("Batch: %v, want %v", err, tc.want)
			}
			if tc.want == ErrNamespace {
				if err := b.Scan(ctx, nil, noop); !errors.Is(err, tc.want) {
					t.Errorf("Scan: %v, want %v", err, tc.want)
				}
			}
		})
	}
	if err := s.KV("access").Scan(ctx, long, noop); !errors.Is(err, ErrKey) {
		t.Errorf("Scan with a long prefix: %v, want ErrKey", err)
	}
	// Nothing of the above reached the store.
	if got := scanAll(t, s.KV("access"), ""); len(got) != 0 {
		t.Errorf("store holds %v after invalid writes", got)
	}
}

func TestBucketScan(t *testing.T) {
	ctx := context.Background()
	b := openStore(t, t.TempDir()).KV("access")
	for _, k := range []string{"user/bea", "session/2", "user/ana", "user-head", "session/1", "userx"} {
		if err := b.Set(ctx, []byte(k), []byte("v"+k)); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		prefix string
		want   []string
	}{
		{"user/", []string{"user/ana=vuser/ana", "user/bea=vuser/bea"}},
		{"user", []string{"user-head=vuser-head", "user/ana=vuser/ana", "user/bea=vuser/bea", "userx=vuserx"}},
		{"session/", []string{"session/1=vsession/1", "session/2=vsession/2"}},
		{"", []string{"session/1=vsession/1", "session/2=vsession/2", "user-head=vuser-head", "user/ana=vuser/ana", "user/bea=vuser/bea", "userx=vuserx"}},
		{"none/", nil},
	} {
		t.Run(tc.prefix, func(t *testing.T) {
			got := scanAll(t, b, tc.prefix)
			if fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Fatalf("Scan(%q) = %v, want %v", tc.prefix, got, tc.want)
			}
		})
	}

	t.Run("stops at fn error", func(t *testing.T) {
		stop := errors.New("stop")
		n := 0
		err := b.Scan(ctx, []byte("user"), func(k, v []byte) error {
			n++
			if n == 2 {
				return stop
			}
			return nil
		})
		if err != stop { //nolint:errorlint // Scan promises fn's error as is, not wrapped
			t.Fatalf("Scan = %v, want fn's error as is", err)
		}
		if n != 2 {
			t.Fatalf("fn called %d times after its error, want 2", n)
		}
	})

	t.Run("stops when ctx done", func(t *testing.T) {
		cctx, cancel := context.WithCancel(ctx)
		n := 0
		err := b.Scan(cctx, nil, func(k, v []byte) error {
			n++
			cancel()
			return nil
		})
		if !errors.Is(err, context.Canceled) || n != 1 {
			t.Fatalf("Scan = %v after %d calls, want context.Canceled after 1", err, n)
		}
	})

	t.Run("one snapshot", func(t *testing.T) {
		// A write made during the scan is not seen by it.
		var got []string
		err := b.Scan(ctx, []byte("session/"), func(k, v []byte) error {
			got = append(got, string(k))
			if string(k) == "session/1" {
				return b.Set(ctx, []byte("session/15"), []byte("late"))
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if fmt.Sprint(got) != "[session/1 session/2]" {
			t.Fatalf("scan saw %v, want the snapshot [session/1 session/2]", got)
		}
		if _, ok, _ := b.Get(ctx, []byte("session/15")); !ok {
			t.Fatal("write made during the scan is lost")
		}
	})
}

func TestBucketApply(t *testing.T) {
	ctx := context.Background()
	b := openStore(t, t.TempDir()).KV("access")
	if err := b.Set(ctx, []byte("a"), []byte("1")); err != nil {
		t.Fatal(err)
	}
	t.Run("all", func(t *testing.T) {
		err := b.Apply(ctx, []Op{
			{Key: []byte("b"), Val: []byte("2")},
			{Key: []byte("a"), Delete: true},
			{Key: []byte("c"), Val: []byte("3")},
			{Key: []byte("c"), Val: []byte("3b")}, // later op wins
		})
		if err != nil {
			t.Fatal(err)
		}
		if got := fmt.Sprint(scanAll(t, b, "")); got != "[b=2 c=3b]" {
			t.Fatalf("after Apply: %s", got)
		}
	})
	t.Run("nothing when one op is invalid", func(t *testing.T) {
		err := b.Apply(ctx, []Op{{Key: []byte("d"), Val: []byte("4")}, {Key: nil, Val: []byte("x")}})
		if !errors.Is(err, ErrKey) {
			t.Fatalf("Apply = %v, want ErrKey", err)
		}
		if got := fmt.Sprint(scanAll(t, b, "")); got != "[b=2 c=3b]" {
			t.Fatalf("a failed Apply wrote: %s", got)
		}
	})
	t.Run("nothing when too big", func(t *testing.T) {
		// badger bounds a transaction to 15 % of the 8 MB memtable; 30 000
		// inline values of 200 bytes are 6 MB.
		val := bytes.Repeat([]byte("x"), 200)
		var ops []Op
		for i := range 30000 {
			ops = append(ops, Op{Key: fmt.Appendf(nil, "big/%05d", i), Val: val})
		}
		if err := b.Apply(ctx, ops); !errors.Is(err, badger.ErrTxnTooBig) {
			t.Fatalf("Apply of 6 MB in one transaction = %v, want ErrTxnTooBig", err)
		}
		if got := scanAll(t, b, "big/"); len(got) != 0 {
			t.Fatalf("a failed Apply left %d keys", len(got))
		}
	})
	t.Run("batch", func(t *testing.T) {
		err := b.Batch(ctx, [][2][]byte{{[]byte("e"), []byte("5")}, {[]byte("b"), []byte("2b")}}, [][]byte{[]byte("c"), []byte("e")})
		if err != nil {
			t.Fatal(err)
		}
		// Deletes come after the sets: "e" set then removed.
		if got := fmt.Sprint(scanAll(t, b, "")); got != "[b=2b]" {
			t.Fatalf("after Batch: %s", got)
		}
	})
	t.Run("cancelled ctx writes nothing", func(t *testing.T) {
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		if err := b.Set(cctx, []byte("f"), []byte("6")); !errors.Is(err, context.Canceled) {
			t.Fatalf("Set = %v, want context.Canceled", err)
		}
		if _, ok, _ := b.Get(ctx, []byte("f")); ok {
			t.Fatal("Set with a cancelled ctx wrote")
		}
	})
}

func TestBucketSurvivesReopen(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s := openStore(t, dir)
	if err := s.KV("access").Batch(ctx, [][2][]byte{{[]byte("audit/1"), []byte("e1")}, {[]byte("audit-head"), []byte("h1")}}, nil); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.KV("access").Get(ctx, []byte("audit/1")); err == nil {
		t.Fatal("Get on a closed store succeeded")
	}
	s = openStore(t, dir)
	if got := fmt.Sprint(scanAll(t, s.KV("access"), "")); got != "[audit-head=h1 audit/1=e1]" {
		t.Fatalf("after reopen: %s", got)
	}
}

func TestBucketNamespacesApart(t *testing.T) {
	ctx := context.Background()
	s := openStore(t, t.TempDir())
	// "a" is a prefix of "ab": the "/" after the name keeps them apart.
	a, ab := s.KV("a"), s.KV("ab")
	if err := a.Set(ctx, []byte("k"), []byte("in a")); err != nil {
		t.Fatal(err)
	}
	if err := ab.Set(ctx, []byte("k"), []byte("in ab")); err != nil {
		t.Fatal(err)
	}
	if v, _, _ := a.Get(ctx, []byte("k")); string(v) != "in a" {
		t.Fatalf("a/k = %q", v)
	}
	if got := fmt.Sprint(scanAll(t, a, "")); got != "[k=in a]" {
		t.Fatalf("scan of a: %s", got)
	}
	if got := fmt.Sprint(scanAll(t, ab, "")); got != "[k=in ab]" {
		t.Fatalf("scan of ab: %s", got)
	}
	if err := a.Delete(ctx, []byte("k")); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := ab.Get(ctx, []byte("k")); !ok {
		t.Fatal("deleting a/k removed ab/k")
	}
}

func TestBucketApartFromCalls(t *testing.T) {
	ctx := context.Background()
	s := openStore(t, t.TempDir())
	at := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	if err := s.PutCall(ctx, fullCall("c1", at)); err != nil {
		t.Fatal(err)
	}
	if err := s.SetKeep(ctx, "c1", "sampled"); err != nil {
		t.Fatal(err)
	}
	b := s.KV("access")
	// Keys that would look like call records if the bucket leaked them.
	for _, k := range []string{"call/x", "callid/c1", "keep/c1", "deleted/x"} {
		if err := b.Set(ctx, []byte(k), []byte("not a call")); err != nil {
			t.Fatal(err)
		}
	}
	var ids []string
	err := s.Calls(ctx, time.Unix(0, 0), time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC), func(c sip.Call) error {
		ids = append(ids, c.ID)
		return nil
	})
	if err != nil {
		t.Fatalf("Calls with kv keys in the store: %v", err)
	}
	if fmt.Sprint(ids) != "[c1]" {
		t.Fatalf("Calls = %v, want [c1]", ids)
	}
	if c, err := s.Call(ctx, "c1"); err != nil || c.ID != "c1" {
		t.Fatalf("Call(c1) = %v, %v", c.ID, err)
	}
	if r, err := s.Kept(ctx, "c1"); err != nil || r != "sampled" {
		t.Fatalf("Kept(c1) = %q, %v", r, err)
	}
	if got := len(scanAll(t, b, "")); got != 4 {
		t.Fatalf("bucket holds %d keys, want its own 4 and no call record", got)
	}
	if _, ok, _ := b.Get(ctx, []byte("1")); ok {
		t.Fatal("bucket sees a store key")
	}
}

func BenchmarkBucketGet(b *testing.B) {
	ctx := context.Background()
	bk := openStore(b, b.TempDir()).KV("access")
	key := []byte("session/0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef")
	if err := bk.Set(ctx, key, bytes.Repeat([]byte("v"), 200)); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, ok, err := bk.Get(ctx, key); err != nil || !ok {
			b.Fatal(ok, err)
		}
	}
}
