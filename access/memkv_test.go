package access

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// memKV is an in-memory KV for the unit tests: sorted snapshot scans,
// all-or-nothing batches, and a hook to make writes fail.
type memKV struct {
	mu   sync.Mutex
	m    map[string][]byte
	sets int
	// fail, when set, is returned by the next writes instead of writing.
	fail error
}

func newMemKV() *memKV { return &memKV{m: make(map[string][]byte)} }

func (m *memKV) Get(ctx context.Context, key []byte) ([]byte, bool, error) {
	if err := ctx.Err(); err != nil {
		return nil, false, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	v, ok := m.m[string(key)]
	return slices.Clone(v), ok, nil
}

func (m *memKV) Set(ctx context.Context, key, val []byte) error {
	return m.Batch(ctx, [][2][]byte{{key, val}}, nil)
}

func (m *memKV) Delete(ctx context.Context, key []byte) error {
	return m.Batch(ctx, nil, [][]byte{key})
}

func (m *memKV) Batch(ctx context.Context, set [][2][]byte, del [][]byte) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.fail != nil {
		return m.fail
	}
	for _, kv := range set {
		if len(kv[0]) == 0 {
			return errors.New("empty key")
		}
	}
	for _, kv := range set {
		m.m[string(kv[0])] = slices.Clone(kv[1])
		m.sets++
	}
	for _, k := range del {
		delete(m.m, string(k))
	}
	return nil
}

func (m *memKV) Scan(ctx context.Context, prefix []byte, fn func(key, val []byte) error) error {
	m.mu.Lock()
	var keys []string
	snap := make(map[string][]byte)
	for k, v := range m.m {
		if strings.HasPrefix(k, string(prefix)) {
			keys = append(keys, k)
			snap[k] = slices.Clone(v)
		}
	}
	m.mu.Unlock()
	slices.Sort(keys)
	for _, k := range keys {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := fn([]byte(k), snap[k]); err != nil {
			return err
		}
	}
	return nil
}

// raw returns the stored value of key, for tests that tamper with it.
func (m *memKV) raw(key string) ([]byte, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	v, ok := m.m[key]
	return slices.Clone(v), ok
}

func (m *memKV) put(key string, v []byte) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.m[key] = v
}

func (m *memKV) drop(key string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.m, key)
}

func (m *memKV) setFail(err error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.fail = err
}

func (m *memKV) setCount() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.sets
}

// dump returns every key and value as one string each.
func (m *memKV) dump() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []string
	for k, v := range m.m {
		out = append(out, k, string(v))
	}
	return out
}

// fakeClock is a settable clock.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func (c *fakeClock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

// sleeps records the waits asked of Config.Sleep.
type sleeps struct {
	mu sync.Mutex
	d  []time.Duration
}

func (s *sleeps) Sleep(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.d = append(s.d, d)
}

func (s *sleeps) take() []time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	d := s.d
	s.d = nil
	return d
}

// tinyArgon keeps unit tests fast; the benchmark measures the defaults.
var tinyArgon = ArgonParams{Time: 1, MemoryKiB: 8, Threads: 1, KeyLen: 16, SaltLen: 8}

// t0 is the tests' start of time.
var t0 = time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)

// fixture is a service over a memKV with a fake clock and recorded sleeps.
type fixture struct {
	s     *Service
	kv    *memKV
	clock *fakeClock
	slept *sleeps
}

func discard() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func newFixture(t testing.TB, mod func(*Config)) *fixture {
	t.Helper()
	f := &fixture{kv: newMemKV(), clock: &fakeClock{t: t0}, slept: &sleeps{}}
	cfg := Config{Now: f.clock.Now, Sleep: f.slept.Sleep, Argon: tinyArgon}
	if mod != nil {
		mod(&cfg)
	}
	s, err := New(f.kv, cfg, discard())
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	f.s = s
	return f
}

// reopen makes a new service over the same store, as after a restart.
func (f *fixture) reopen(t testing.TB) {
	t.Helper()
	s, err := New(f.kv, f.s.cfg, discard())
	if err != nil {
		t.Fatalf("New again: %v", err)
	}
	f.s = s
}

var admin = Actor{Name: "root", Remote: "192.0.2.1"}

const pw = "correct horse battery"

// addUser adds a user or fails the test.
func (f *fixture) addUser(t testing.TB, name string, role Role) {
	t.Helper()
	if err := f.s.AddUser(context.Background(), admin, name, role, pw); err != nil {
		t.Fatalf("AddUser(%s): %v", name, err)
	}
}

// entries returns every audit entry.
func (f *fixture) entries(t testing.TB) []Entry {
	t.Helper()
	var es []Entry
	err := f.s.AuditRange(context.Background(), time.Time{}, time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC), func(e Entry) error {
		es = append(es, e)
		return nil
	})
	if err != nil {
		t.Fatalf("AuditRange: %v", err)
	}
	return es
}

// actions returns the actions of the entries after the first skip.
func actions(es []Entry, skip int) []string {
	var a []string
	for _, e := range es[skip:] {
		a = append(a, e.Action)
	}
	return a
}
