package central

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestProtocol walks one box through the answers of the wire protocol.
func TestProtocol(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil, nil)
	b := e.addBox("caja-1", "Oficina Central")
	b.writeN(10)
	if r := b.cursor(); r.status != 200 || r.acked != 0 {
		t.Fatalf("new box cursor: %+v", r)
	}
	steps := []struct {
		name        string
		first, last uint64
		status      int
		acked       uint64
		logRows     int // ingest_log rows after the step
	}{
		{"first batch", 1, 3, 200, 3, 1},
		{"replay", 1, 3, 200, 3, 1},
		{"replay of a part", 2, 3, 200, 3, 1},
		{"gap", 5, 6, 409, 3, 1},
		{"overlap", 2, 5, 200, 5, 2},
		{"old replay", 1, 1, 200, 5, 2},
		{"next", 6, 6, 200, 6, 3},
		{"gap far away", 9, 10, 409, 6, 3},
		{"rest", 7, uint64(len(b.outbox)), 200, uint64(len(b.outbox)), 4},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			r := b.send(st.first, st.last)
			if r.status != st.status || r.acked != st.acked {
				t.Fatalf("%d..%d: got %d acked %d, want %d acked %d", st.first, st.last, r.status, r.acked, st.status, st.acked)
			}
			if n := e.count("SELECT count(*) FROM ingest_log"); n != st.logRows {
				t.Fatalf("ingest_log has %d rows, want %d", n, st.logRows)
			}
			if r := b.cursor(); r.acked != st.acked {
				t.Fatalf("cursor %d, want %d", r.acked, st.acked)
			}
		})
	}
	// The overlap applied only the entries after the cursor.
	if n := e.count("SELECT applied FROM ingest_log WHERE first_seq = 2"); n != 2 {
		t.Errorf("overlap applied %d entries, want 2", n)
	}
	b.checkExactlyOnce()
}

// TestRevisions: the highest revision wins, whatever the order it comes
// in, within a batch and across batches.
func TestRevisions(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil, nil)
	b := e.addBox("caja-rev", "Oficina")
	id := "leg-transfer"
	entry := func(rev int64) Entry {
		return Entry{Seq: uint64(len(b.outbox) + 1), RecordID: id, Revision: rev, Record: record(id, rev, t0)}
	}
	add := func(revs ...int64) {
		for _, r := range revs {
			b.outbox = append(b.outbox, entry(r))
		}
	}
	stored := func() (rev int64, note string) {
		t.Helper()
		err := e.s.pool.QueryRow(context.Background(), "SELECT revision, record->>'note' FROM calls WHERE box_id = $1 AND record_id = $2",
			b.id, id).Scan(&rev, &note)
		if err != nil {
			t.Fatal(err)
		}
		return rev, note
	}
	cases := []struct {
		name string
		revs []int64
		want int64
	}{
		{"first write", []int64{1}, 1},
		{"trailing NOTIFY, newer", []int64{2}, 2},
		{"lower revision never overwrites", []int64{1}, 2},
		{"same revision again", []int64{2}, 2},
		{"twice in one batch, higher first", []int64{5, 4}, 5},
		{"twice in one batch, higher last", []int64{6, 7}, 7},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			first := uint64(len(b.outbox) + 1)
			add(tc.revs...)
			if r := b.send(first, uint64(len(b.outbox))); r.status != 200 {
				t.Fatalf("status %d", r.status)
			}
			rev, note := stored()
			if rev != tc.want || note != fmt.Sprintf("rev %d", tc.want) {
				t.Fatalf("stored revision %d (%s), want %d", rev, note, tc.want)
			}
		})
	}
}

// TestDuplicatedAndReordered sends every batch twice in a random order,
// then lets the box catch up: each entry is applied once, the records
// are the newest revisions.
func TestDuplicatedAndReordered(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil, nil)
	b := e.addBox("caja-dup", "Oficina")
	b.writeN(300)
	rng := rand.New(rand.NewPCG(1, 2))
	type span struct{ first, last uint64 }
	var spans []span
	for first := uint64(1); first <= uint64(len(b.outbox)); {
		last := min(first+uint64(rng.IntN(40)), uint64(len(b.outbox)))
		spans = append(spans, span{first, last}, span{first, last})
		first = last + 1
	}
	rng.Shuffle(len(spans), func(i, j int) { spans[i], spans[j] = spans[j], spans[i] })
	var cursor uint64
	for _, sp := range spans {
		r := b.send(sp.first, sp.last)
		switch {
		case sp.first > cursor+1:
			if r.status != 409 || r.acked != cursor {
				t.Fatalf("%v after cursor %d: %+v, want 409", sp, cursor, r)
			}
		case sp.last <= cursor:
			if r.status != 200 || r.acked != cursor {
				t.Fatalf("replay %v at cursor %d: %+v", sp, cursor, r)
			}
		default:
			if r.status != 200 || r.acked != sp.last {
				t.Fatalf("%v at cursor %d: %+v", sp, cursor, r)
			}
			cursor = sp.last
		}
	}
	b.drain(50)
	b.checkExactlyOnce()
}

// TestBoxesConcurrently: two and five boxes at once, each also racing two
// copies of each batch against itself; the cursors stay independent.
func TestBoxesConcurrently(t *testing.T) {
	t.Parallel()
	for _, n := range []int{2, 5} {
		t.Run(fmt.Sprintf("%d boxes", n), func(t *testing.T) {
			e := newEnv(t, nil, nil)
			boxes := make([]*box, n)
			for i := range boxes {
				boxes[i] = e.addBox(fmt.Sprintf("caja-%d", i), fmt.Sprintf("Oficina %d", i%2))
				boxes[i].writeN(600 + 100*i)
			}
			var wg sync.WaitGroup
			for _, b := range boxes {
				wg.Go(func() {
					var cursor uint64
					for cursor < uint64(len(b.outbox)) {
						last := min(cursor+100, uint64(len(b.outbox)))
						var twin sync.WaitGroup
						replies := make([]reply, 2)
						for k := range replies {
							twin.Go(func() {
								r, err := b.post(b.body(cursor+1, last), b.token)
								if err != nil {
									t.Error(err)
								}
								replies[k] = r
							})
						}
						twin.Wait()
						for _, r := range replies {
							if r.status != 200 || r.acked != last {
								t.Errorf("box %s batch ..%d: %+v", b.id, last, r)
								return
							}
						}
						cursor = last
					}
				})
			}
			wg.Wait()
			for _, b := range boxes {
				b.checkExactlyOnce()
			}
		})
	}
}

func TestAuthentication(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil, nil)
	a := e.addBox("caja-a", "A")
	other := e.addBox("caja-b", "B")
	a.writeN(3)
	valid := a.body(1, 3)
	unknown := "stb_" + strings.Repeat("A", 43)
	cases := []struct {
		name, auth string
	}{
		{"none", ""},
		{"basic", "Basic Y2FqYTpzZWNyZXQ="},
		{"empty bearer", "Bearer "},
		{"not a box token", "Bearer stt_" + strings.Repeat("A", 43)},
		{"short", "Bearer stb_abc"},
		{"unknown", "Bearer " + unknown},
		{"token with a char changed", "Bearer " + a.token[:len(a.token)-1] + flip(a.token[len(a.token)-1])},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			for _, path := range []string{PathBatches, PathCursor} {
				method := "POST"
				if path == PathCursor {
					method = "GET"
				}
				req, _ := http.NewRequest(method, e.http.URL+path, strings.NewReader(string(valid)))
				if tc.auth != "" {
					req.Header.Set("Authorization", tc.auth)
				}
				req.Header.Set("Content-Encoding", "gzip")
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				if resp.StatusCode != 401 {
					t.Errorf("%s %s: %d, want 401", method, path, resp.StatusCode)
				}
			}
		})
	}
	if n := e.count("SELECT count(*) FROM calls"); n != 0 {
		t.Fatalf("%d records stored by bad credentials", n)
	}
	// The identity is the credential's: a's entries sent with b's token,
	// with a box_id in the body, are b's.
	raw, _ := json.Marshal(map[string]any{"box_id": a.id, "first_seq": 1, "last_seq": 3, "entries": a.outbox[:3]})
	if r, err := a.post(gz(raw), other.token); err != nil || r.status != 200 {
		t.Fatalf("%+v %v", r, err)
	}
	if n := e.count("SELECT count(*) FROM calls WHERE box_id = $1", other.id); n != 3 {
		t.Errorf("box b has %d records, want 3", n)
	}
	if r := a.cursor(); r.acked != 0 {
		t.Errorf("box a's cursor moved to %d", r.acked)
	}
}

func flip(c byte) string {
	if c == 'A' {
		return "B"
	}
	return "A"
}

func TestAddBox(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil, nil)
	ctx := context.Background()
	tok, err := e.s.AddBox(ctx, "caja-1", "Oficina 1")
	if err != nil {
		t.Fatal(err)
	}
	if !wellFormedToken(tok) || !strings.HasPrefix(tok, "stb_") || len(tok) != 4+43 {
		t.Fatalf("token %q", tok)
	}
	if n := e.count("SELECT count(*) FROM boxes WHERE token_sha256 = $1", TokenHash(tok)); n != 1 {
		t.Fatal("hash of the token not stored")
	}
	if n := e.count("SELECT count(*) FROM boxes b WHERE strpos(b::text, $1) > 0", tok[4:]); n != 0 {
		t.Fatal("the token itself is stored")
	}
	cases := []struct {
		name, id, office string
		want             error
	}{
		{"twice", "caja-1", "Otra", ErrExists},
		{"empty id", "", "O", ErrBoxID},
		{"space in id", "caja 2", "O", ErrBoxID},
		{"id too long", strings.Repeat("a", 65), "O", ErrBoxID},
		{"no office", "caja-3", "", ErrBoxID},
		{"control in office", "caja-4", "a\x00b", ErrBoxID},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := e.s.AddBox(ctx, tc.id, tc.office); !errors.Is(err, tc.want) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
		})
	}
	if _, err := e.s.AddBox(ctx, "caja-5", "Oficina 5"); err != nil {
		t.Fatal(err)
	}
	if n := e.count("SELECT count(DISTINCT token_sha256) FROM boxes"); n != 2 {
		t.Fatalf("%d distinct tokens for 2 boxes", n)
	}
}

// TestLastContactAndDelay: the boxes API's numbers come from the clock.
func TestLastContactAndDelay(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil, nil)
	b := e.addBox("caja-1", "O")
	b.writeN(1) // one record, ended at t0+31s
	e.clock.Advance(time.Minute)
	b.drain(10)
	e.clock.Advance(10 * time.Second)
	boxes, err := e.s.Boxes(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	got := boxes[0]
	if got.Acked != 1 || got.Records != 1 || got.LastContact == nil || !got.LastContact.Equal(t0.Add(time.Minute)) {
		t.Fatalf("%+v", got)
	}
	if *got.LagSeconds != 10 || *got.DelaySeconds != 29 {
		t.Fatalf("lag %v delay %v, want 10 and 29", *got.LagSeconds, *got.DelaySeconds)
	}
}
