package uplink

import (
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"sync"
	"testing"
	"time"
)

// receiver is a fake central server implementing the wire protocol over
// maps, with injectable faults. It is the contract as the box sees it;
// package central is tested on PostgreSQL by its own tests.
type receiver struct {
	token string

	mu      sync.Mutex
	cursor  uint64
	recs    map[string]stored
	applied map[uint64]int // seq -> times applied (must end at 1)
	replays int            // batches answered as replays
	bodies  map[uint64][][]byte
	history [][]byte // every batch body received, in order

	// Faults.
	down        bool          // drop every connection unanswered
	dropCommits int           // commit, then drop the connection, this many times
	answers     []fault       // answer these (without applying) first
	cursorLie   []uint64      // GET cursor answers these first
	slowCommits int           // commit, then stall past the box's timeout
	stall       time.Duration // how long a stall lasts
	slowOver    int           // a batch of more entries stalls unapplied (a slow link)
	maxBody     int           // 413 above this many bytes of JSON (0: none)
	staleReplay bool          // before each batch, apply the one two back again
	hold        chan struct{} // when set, a batch waits on it (after commit if holdAfter)
	holdAfter   bool
	held        chan struct{} // signalled when a batch is held
}

type stored struct {
	rev    uint64
	record json.RawMessage
}

type fault struct {
	status     int
	retryAfter string
	body       string // when set, answered as JSON
}

type wireBatch struct {
	FirstSeq uint64      `json:"first_seq"`
	LastSeq  uint64      `json:"last_seq"`
	Entries  []wireEntry `json:"entries"`
}

type wireEntry struct {
	Seq      uint64          `json:"seq"`
	RecordID string          `json:"record_id"`
	Revision uint64          `json:"revision"`
	Record   json.RawMessage `json:"record"`
}

func newReceiver(token string) *receiver {
	return &receiver{token: token, recs: map[string]stored{}, applied: map[uint64]int{}, bodies: map[uint64][][]byte{}}
}

// serve starts the receiver behind TLS and writes its certificate to a CA
// file for Config.CA.
func (r *receiver) serve(t *testing.T) (url, caFile string) {
	t.Helper()
	srv := httptest.NewTLSServer(r)
	t.Cleanup(srv.Close)
	caFile = filepath.Join(t.TempDir(), "ca.pem")
	p := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	if err := os.WriteFile(caFile, p, 0o600); err != nil {
		t.Fatal(err)
	}
	return srv.URL, caFile
}

func (r *receiver) set(f func(r *receiver)) {
	r.mu.Lock()
	defer r.mu.Unlock()
	f(r)
}

func drop(w http.ResponseWriter) {
	if hj, ok := w.(http.Hijacker); ok {
		if c, _, err := hj.Hijack(); err == nil {
			c.Close()
			return
		}
	}
	panic(http.ErrAbortHandler)
}

func answer(w http.ResponseWriter, status int, acked uint64) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	fmt.Fprintf(w, `{"acked":%d}`, acked)
}

func (r *receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	r.mu.Lock()
	if r.down {
		r.mu.Unlock()
		drop(w)
		return
	}
	r.mu.Unlock()
	if req.Header.Get("Authorization") != "Bearer "+r.token {
		http.Error(w, "bad credential", http.StatusUnauthorized)
		return
	}
	switch {
	case req.Method == http.MethodGet && req.URL.Path == CursorPath:
		r.mu.Lock()
		k := r.cursor
		if len(r.cursorLie) > 0 {
			k, r.cursorLie = r.cursorLie[0], r.cursorLie[1:]
		}
		r.mu.Unlock()
		answer(w, http.StatusOK, k)
	case req.Method == http.MethodPost && req.URL.Path == BatchesPath:
		r.batch(w, req)
	default:
		http.NotFound(w, req)
	}
}

func (r *receiver) batch(w http.ResponseWriter, req *http.Request) {
	if req.Header.Get("Content-Encoding") != "gzip" || req.Header.Get("Content-Type") != "application/json" {
		http.Error(w, "want gzip json", http.StatusBadRequest)
		return
	}
	zr, err := gzip.NewReader(req.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	raw, err := io.ReadAll(zr)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	r.mu.Lock()
	if r.hold != nil && !r.holdAfter {
		// Held before the commit: nothing applied, no answer.
		hold, held := r.hold, r.held
		r.mu.Unlock()
		held <- struct{}{}
		<-hold
		drop(w)
		return
	}
	if len(r.answers) > 0 {
		f := r.answers[0]
		r.answers = r.answers[1:]
		r.mu.Unlock()
		if f.retryAfter != "" {
			w.Header().Set("Retry-After", f.retryAfter)
		}
		if f.body != "" {
			w.WriteHeader(f.status)
			io.WriteString(w, f.body)
			return
		}
		http.Error(w, "busy", f.status)
		return
	}
	if r.slowOver > 0 {
		var b wireBatch
		if json.Unmarshal(raw, &b) == nil && len(b.Entries) > r.slowOver {
			// Too slow to arrive within the box's timeout: never applied.
			stall := r.stall
			r.mu.Unlock()
			time.Sleep(stall)
			drop(w)
			return
		}
	}
	if r.maxBody > 0 && len(raw) > r.maxBody {
		r.mu.Unlock()
		http.Error(w, "too large", http.StatusRequestEntityTooLarge)
		return
	}
	if r.staleReplay && len(r.history) >= 2 {
		// A copy of an older batch arrives late (a duplicate, out of
		// order): it must change nothing.
		if _, _, err := r.apply(r.history[len(r.history)-2]); err != nil {
			r.mu.Unlock()
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
	}
	status, acked, err := r.apply(raw)
	if err != nil {
		r.mu.Unlock()
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	r.history = append(r.history, raw)
	var b wireBatch
	_ = json.Unmarshal(raw, &b)
	r.bodies[b.FirstSeq] = append(r.bodies[b.FirstSeq], raw)
	dropIt := r.dropCommits > 0 && status == http.StatusOK
	if dropIt {
		r.dropCommits--
	}
	slow := r.slowCommits > 0 && status == http.StatusOK
	if slow {
		r.slowCommits--
	}
	hold, held, holdAfter := r.hold, r.held, r.holdAfter
	stall := r.stall
	r.mu.Unlock()
	if hold != nil && holdAfter {
		held <- struct{}{}
		<-hold
		drop(w)
		return
	}
	switch {
	case dropIt:
		drop(w)
	case slow:
		time.Sleep(stall)
		answer(w, status, acked)
	default:
		answer(w, status, acked)
	}
}

// apply runs the server's transaction over the maps (r.mu held).
func (r *receiver) apply(raw []byte) (status int, acked uint64, err error) {
	var b wireBatch
	if err := json.Unmarshal(raw, &b); err != nil {
		return 0, 0, err
	}
	if len(b.Entries) == 0 || b.Entries[0].Seq != b.FirstSeq || b.Entries[len(b.Entries)-1].Seq != b.LastSeq {
		return 0, 0, fmt.Errorf("bad range %d-%d", b.FirstSeq, b.LastSeq)
	}
	for i, e := range b.Entries {
		if e.Seq != b.FirstSeq+uint64(i) || e.Revision == 0 || e.RecordID == "" || len(e.Record) == 0 {
			return 0, 0, fmt.Errorf("bad entry %+v", e)
		}
	}
	switch {
	case b.LastSeq <= r.cursor:
		r.replays++
		return http.StatusOK, r.cursor, nil
	case b.FirstSeq > r.cursor+1:
		return http.StatusConflict, r.cursor, nil
	}
	for _, e := range b.Entries {
		if e.Seq <= r.cursor {
			continue
		}
		r.applied[e.Seq]++
		if old, ok := r.recs[e.RecordID]; !ok || e.Revision > old.rev {
			r.recs[e.RecordID] = stored{rev: e.Revision, record: e.Record}
		}
	}
	r.cursor = b.LastSeq
	return http.StatusOK, r.cursor, nil
}

// checksum is over the (id, revision) pairs kept.
func (r *receiver) checksum() (string, int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	m := map[string]uint64{}
	for id, s := range r.recs {
		m[id] = s.rev
	}
	return checksum(m), len(m)
}

func checksum(m map[string]uint64) string {
	ids := make([]string, 0, len(m))
	for id := range m {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	h := sha256.New()
	for _, id := range ids {
		io.WriteString(h, strconv.Quote(id)+" "+strconv.FormatUint(m[id], 10)+"\n")
	}
	return hex.EncodeToString(h.Sum(nil))
}
