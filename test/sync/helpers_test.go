package sync_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/switchtap/switchtap/access"
	"github.com/switchtap/switchtap/central"
	"github.com/switchtap/switchtap/internal/pgtest"
	"github.com/switchtap/switchtap/sip"
	"github.com/switchtap/switchtap/storage"
)

// testArgon keeps the accounts' password hashing cheap in tests.
func testArgon() access.ArgonParams {
	return access.ArgonParams{Time: 1, MemoryKiB: 64, Threads: 1, KeyLen: 32, SaltLen: 16}
}

// allTime bounds a query holding every record.
func allTime() (from, to time.Time) {
	return time.Unix(0, 0), time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC)
}

// tlsPair loads a certificate and a client config trusting it.
func tlsPair(t *testing.T, certFile, keyFile string) (server *tls.Config, client *tls.Config) {
	t.Helper()
	kp, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		t.Fatal(err)
	}
	pemBytes, err := os.ReadFile(certFile)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pemBytes)
	// HTTP/1.1 only: the fault proxies hijack connections.
	return &tls.Config{Certificates: []tls.Certificate{kp}, NextProtos: []string{"http/1.1"}, MinVersion: tls.VersionTLS12},
		&tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
}

// centralCfg is an in-process central server's configuration.
func centralCfg(db, certFile, keyFile string) central.Config {
	return central.Config{Database: db, Listen: "127.0.0.1:0", TLSCert: certFile, TLSKey: keyFile,
		Access: access.Config{Argon: testArgon()}}
}

// served is an in-process central server serving on a listener.
type served struct {
	srv    *central.Server
	addr   string
	cancel context.CancelFunc
	done   chan error
}

// serveCentral starts a central server on addr ("127.0.0.1:0" for any
// port), retrying the bind briefly: a restarted server takes its old port.
func serveCentral(t *testing.T, cfg central.Config, addr string) *served {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	srv, err := central.New(ctx, cfg, discard())
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	ln := listenRetry(t, addr)
	s := &served{srv: srv, addr: ln.Addr().String(), cancel: cancel, done: make(chan error, 1)}
	go func() { s.done <- srv.Serve(ctx, ln) }()
	t.Cleanup(s.stop)
	return s
}

// stop cancels Serve's context (its listener closes, connections end)
// and releases the pool. Stopping twice does nothing.
func (s *served) stop() {
	if s.cancel == nil {
		return
	}
	s.cancel()
	<-s.done
	s.srv.Close()
	s.cancel = nil
}

func listenRetry(t *testing.T, addr string) net.Listener {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		ln, err := net.Listen("tcp", addr)
		if err == nil {
			return ln
		}
		if !errors.Is(err, syscall.EADDRINUSE) || time.Now().After(deadline) {
			t.Fatalf("listen %s: %v", addr, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// sums are one side's records: how many, and a SHA-256 over the sorted
// "id revision" lines.
type sums struct {
	n   int
	sum string
}

func (s sums) String() string { return fmt.Sprintf("%d records, sha256 %.16s", s.n, s.sum) }

func sumOf(revs map[string]uint64) sums {
	ids := make([]string, 0, len(revs))
	for id := range revs {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	h := sha256.New()
	for _, id := range ids {
		fmt.Fprintf(h, "%s %d\n", id, revs[id])
	}
	return sums{n: len(ids), sum: hex.EncodeToString(h.Sum(nil))}
}

// storeRevs reads every record id of an open store with its revision.
func storeRevs(t *testing.T, st *storage.Store) map[string]uint64 {
	t.Helper()
	ctx := context.Background()
	revs := map[string]uint64{}
	from, to := allTime()
	if err := st.Calls(ctx, from, to, func(c sip.Call) error {
		r, err := st.Revision(ctx, c.ID)
		if err != nil {
			return err
		}
		if _, dup := revs[c.ID]; dup {
			return fmt.Errorf("record %s listed twice", c.ID)
		}
		revs[c.ID] = r
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return revs
}

// dirRevs is storeRevs on a stopped box's data directory.
func dirRevs(t *testing.T, dir string) map[string]uint64 {
	t.Helper()
	st, err := storage.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	return storeRevs(t, st)
}

// centralRevs reads box's rows of the central's calls table straight from
// PostgreSQL (central has no read function for revisions).
func centralRevs(t *testing.T, db, box string) map[string]uint64 {
	t.Helper()
	revs, err := queryRevs(db, box)
	if err != nil {
		t.Fatal(err)
	}
	return revs
}

func queryRevs(db, box string) (map[string]uint64, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, db)
	if err != nil {
		return nil, err
	}
	defer conn.Close(ctx)
	rows, err := conn.Query(ctx, `SELECT record_id, revision FROM calls WHERE box_id = $1`, box)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	revs := map[string]uint64{}
	for rows.Next() {
		var id string
		var rev int64
		if err := rows.Scan(&id, &rev); err != nil {
			return nil, err
		}
		revs[id] = uint64(rev)
	}
	return revs, rows.Err()
}

// centralCursor is box's acknowledged cursor in the database (-1: no box).
func centralCursor(db, box string) (int64, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, db)
	if err != nil {
		return -1, err
	}
	defer conn.Close(ctx)
	var k int64
	err = conn.QueryRow(ctx, `SELECT acked_seq FROM boxes WHERE box_id = $1`, box).Scan(&k)
	if errors.Is(err, pgx.ErrNoRows) {
		return -1, nil
	}
	return k, err
}

// checkLedger proves no entry was applied twice: the central's ingest log
// of box holds disjoint, contiguous seq ranges from 1 to its cursor. It
// returns how many batches applied entries.
func checkLedger(t *testing.T, db, box string) int {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	rows, err := conn.Query(ctx, `SELECT first_seq, last_seq, applied FROM ingest_log WHERE box_id = $1 ORDER BY first_seq`, box)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var next int64 = 1
	n := 0
	for rows.Next() {
		var first, last int64
		var applied int
		if err := rows.Scan(&first, &last, &applied); err != nil {
			t.Fatal(err)
		}
		// An overlapping batch logs its whole range but applies only the
		// entries after the cursor: those must start at next.
		if last-int64(applied)+1 != next {
			t.Errorf("ingest log of %s: batch %d-%d applied %d entries, want them to start at seq %d", box, first, last, applied, next)
		}
		next = last + 1
		n++
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	k, err := centralCursor(db, box)
	if err != nil {
		t.Fatal(err)
	}
	if k != next-1 {
		t.Errorf("ingest log of %s ends at seq %d, cursor is %d", box, next-1, k)
	}
	return n
}

// socketURL rewrites a pgtest URL to reach the cluster through its unix
// socket (from another network namespace, where 127.0.0.1 is not it).
func socketURL(t *testing.T, cluster *pgtest.Cluster, db string) string {
	t.Helper()
	u, err := url.Parse(db)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("host", cluster.SocketDir())
	q.Set("port", fmt.Sprint(cluster.Port()))
	u.RawQuery = q.Encode()
	u.Host = ""
	return u.String()
}

// waitSame waits until the box's and the central's records agree and
// returns them; box and cen are read again at each look.
func waitSame(t *testing.T, timeout time.Duration, box, cen func() (map[string]uint64, error)) sums {
	t.Helper()
	deadline := time.Now().Add(timeout)
	var b, c sums
	for {
		br, err1 := box()
		cr, err2 := cen()
		if err1 == nil && err2 == nil {
			b, c = sumOf(br), sumOf(cr)
			if b == c {
				return b
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %v: box %v, central %v (errors %v, %v)", timeout, b, c, err1, err2)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// requireSame fails unless both sides hold want records with the same
// ids and revisions.
func requireSame(t *testing.T, boxRevs, cenRevs map[string]uint64, want int) sums {
	t.Helper()
	b, c := sumOf(boxRevs), sumOf(cenRevs)
	if b != c {
		for id, r := range boxRevs {
			if cr, ok := cenRevs[id]; !ok || cr != r {
				t.Errorf("record %s: revision %d on the box, %d on the central (present %v)", id, r, cr, ok)
				break
			}
		}
		t.Fatalf("box %v, central %v", b, c)
	}
	if want >= 0 && b.n != want {
		t.Fatalf("both sides hold %d records, want %d", b.n, want)
	}
	return b
}

// hijackClose drops the client's connection without an answer, as a
// network that loses the response does.
func hijackClose(w http.ResponseWriter) {
	if hj, ok := w.(http.Hijacker); ok {
		if c, _, err := hj.Hijack(); err == nil {
			_ = c.Close()
			return
		}
	}
	http.Error(w, "lost", http.StatusBadGateway)
}

// callAt is a minimal answered leg as the daemon writes it.
func callAt(id string, at time.Time, note string) sip.Call {
	end := at.Add(30 * time.Second)
	return sip.Call{ID: id, CallID: id + "@fault", InviteAt: at, EndedAt: &end, From: "2001", To: "3" + note}
}

// gunzip decompresses a batch body as sent.
func gunzip(t *testing.T, b []byte) []byte {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Errorf("batch body: %v", err)
		return nil
	}
	out, err := io.ReadAll(zr)
	if err != nil {
		t.Errorf("batch body: %v", err)
	}
	return out
}

// writeFile writes a test's file.
func writeFile(t *testing.T, path, body string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
}

// tail is the end of a child's output, for a failure message.
func tail(s string, n int) string {
	if len(s) > n {
		s = "…" + s[len(s)-n:]
	}
	return strings.TrimSpace(s)
}
