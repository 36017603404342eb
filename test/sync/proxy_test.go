package sync_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/switchtap/switchtap/config"
	"github.com/switchtap/switchtap/internal/pgtest"
	"github.com/switchtap/switchtap/internal/testcert"
	"github.com/switchtap/switchtap/uplink"
)

// faultProxy is a TLS front between a box and a central server that
// passes requests on, and lets a test do worse than a network would not.
type faultProxy struct {
	t        *testing.T
	upstream string // https://host:port of the central
	client   *http.Client
	addr     string
	// batch handles a batch request; nil forwards it.
	batch func(w http.ResponseWriter, r *http.Request, body []byte)
}

func startProxy(t *testing.T, upstream string, srvTLS, cliTLS *tls.Config) *faultProxy {
	t.Helper()
	p := &faultProxy{t: t, upstream: upstream,
		client: &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{TLSClientConfig: cliTLS, MaxIdleConnsPerHost: 8}}}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p.addr = ln.Addr().String()
	hs := &http.Server{Handler: http.HandlerFunc(p.serve), TLSConfig: srvTLS, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = hs.Serve(tls.NewListener(ln, srvTLS)) }()
	t.Cleanup(func() { _ = hs.Close() })
	return p
}

func (p *faultProxy) serve(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, "read", http.StatusBadRequest)
		return
	}
	if r.URL.Path == uplink.BatchesPath && p.batch != nil {
		p.batch(w, r, body)
		return
	}
	p.relay(w, r, body)
}

// send forwards one request with the box's headers and returns the
// central's status and body.
func (p *faultProxy) send(ctx context.Context, r *http.Request, body []byte) (int, http.Header, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, r.Method, p.upstream+r.URL.RequestURI(), bytes.NewReader(body))
	if err != nil {
		return 0, nil, nil, err
	}
	for _, h := range []string{"Authorization", "Content-Type", "Content-Encoding", "User-Agent"} {
		if v := r.Header.Get(h); v != "" {
			req.Header.Set(h, v)
		}
	}
	resp, err := p.client.Do(req)
	if err != nil {
		return 0, nil, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, b, err
}

// relay forwards r and writes the answer back.
func (p *faultProxy) relay(w http.ResponseWriter, r *http.Request, body []byte) {
	code, h, b, err := p.send(r.Context(), r, body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	write(w, code, h, b)
}

func write(w http.ResponseWriter, code int, h http.Header, b []byte) {
	for _, k := range []string{"Content-Type", "Retry-After"} {
		if v := h.Get(k); v != "" {
			w.Header().Set(k, v)
		}
	}
	w.WriteHeader(code)
	_, _ = w.Write(b)
}

// ackOf reads {"acked": K}.
func ackOf(b []byte) (uint64, error) {
	var a struct {
		Acked *uint64 `json:"acked"`
	}
	if err := json.Unmarshal(b, &a); err != nil {
		return 0, err
	}
	if a.Acked == nil {
		return 0, errors.New("no acked")
	}
	return *a.Acked, nil
}

// TestDuplicatedAndReorderedBatches puts a proxy between a daemon and the
// central server that, batch after batch in turn: forwards it; forwards
// it twice at once (a duplicate racing the original for the box's row
// lock); drops it before the server (the box resends the same bytes);
// and forwards it, then delivers two earlier batches again, among them
// dropped ones, late and out of order. Every late or duplicate copy must
// be answered 200 with a cursor at or past its last seq (a replay,
// applying nothing), the ingest log must show each seq applied once, and
// both sides end with the same records and revisions.
func TestDuplicatedAndReorderedBatches(t *testing.T) {
	const loadCalls, box = 300, "caja-dup"
	cluster := pgtest.New(t)
	db := cluster.DB(t)
	dir := t.TempDir()
	certFile, keyFile, _ := testcert.Write(t, dir, net.ParseIP("127.0.0.1"))
	cen := serveCentral(t, centralCfg(db, certFile, keyFile), "127.0.0.1:0")
	token, err := cen.srv.AddBox(context.Background(), box, "Oficina dup")
	if err != nil {
		t.Fatal(err)
	}
	srvTLS, cliTLS := tlsPair(t, certFile, keyFile)
	px := startProxy(t, "https://"+cen.addr, srvTLS, cliTLS)

	var (
		mu                                     sync.Mutex
		history                                [][]byte
		n, forwarded, dups, dropped, late, bad int
		rng                                    = rand.New(rand.NewPCG(4, 4))
	)
	type lastSeq struct {
		Last uint64 `json:"last_seq"`
	}
	// replayOK checks a copy's answer: a replay never applies, never gaps.
	replayOK := func(body []byte, code int, ans []byte) {
		k, err := ackOf(ans)
		var ls lastSeq
		_ = json.Unmarshal(gunzip(t, body), &ls)
		if code != http.StatusOK || err != nil || k < ls.Last {
			mu.Lock()
			bad++
			mu.Unlock()
			t.Errorf("copy of a batch up to seq %d answered %d %s", ls.Last, code, ans)
		}
	}
	px.batch = func(w http.ResponseWriter, r *http.Request, body []byte) {
		mu.Lock()
		i := n
		n++
		history = append(history, body)
		mu.Unlock()
		switch i % 4 {
		case 0:
			mu.Lock()
			forwarded++
			mu.Unlock()
			px.relay(w, r, body)
		case 1:
			var wg sync.WaitGroup
			wg.Add(1)
			go func() {
				defer wg.Done()
				code, _, ans, err := px.send(context.Background(), r, body)
				if err == nil {
					replayOK(body, code, ans)
				}
			}()
			mu.Lock()
			forwarded++
			dups++
			mu.Unlock()
			px.relay(w, r, body)
			wg.Wait()
		case 2:
			mu.Lock()
			dropped++
			mu.Unlock()
			hijackClose(w)
		default:
			code, h, ans, err := px.send(r.Context(), r, body)
			if err != nil {
				http.Error(w, err.Error(), http.StatusBadGateway)
				return
			}
			mu.Lock()
			forwarded++
			var olds [][]byte
			for range 2 {
				olds = append(olds, history[rng.IntN(len(history))])
			}
			mu.Unlock()
			for _, old := range olds {
				c, _, a, err := px.send(r.Context(), r, old)
				if err != nil {
					continue
				}
				replayOK(old, c, a)
				mu.Lock()
				late++
				mu.Unlock()
			}
			write(w, code, h, ans)
		}
	}

	pcap := loadPcap(t, dir, box, loadCalls)
	began := time.Now()
	b := startInBox(t, box, filepath.Join(dir, "box"), "https://"+px.addr, token, certFile, pcap, false,
		func(c *config.Config) { c.Uplink.BatchRecords = 25 })
	waitSent(t, 2*time.Minute, b.d.InputEnded, func() string { return b.d.MetricsAddr().String() }, db, box, loadCalls)
	took := time.Since(began)
	b.halt(t)
	got := requireSame(t, dirRevs(t, b.data), centralRevs(t, db, box), loadCalls)
	applied := checkLedger(t, db, box)
	mu.Lock()
	defer mu.Unlock()
	if dups == 0 || dropped == 0 || late == 0 || bad != 0 {
		t.Errorf("proxy: %d duplicates, %d dropped, %d late copies, %d bad answers", dups, dropped, late, bad)
	}
	t.Logf("duplicated and reordered: %v in %v; %d batch posts by the box, %d forwarded, %d raced by a duplicate, %d dropped and resent, %d late copies delivered (all replays); %d batches applied",
		got, took.Round(time.Millisecond), n, forwarded, dups, dropped, late, applied)
}
