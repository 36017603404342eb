package uplink

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/switchtap/switchtap/sip"
	"github.com/switchtap/switchtap/storage"
)

// Environment of the box child process of TestBoxKill9.
const (
	envBoxDir = "SWITCHTAP_UPLINK_BOX_DIR"
	envBoxURL = "SWITCHTAP_UPLINK_BOX_URL"
	envBoxCA  = "SWITCHTAP_UPLINK_BOX_CA"
)

// TestBoxHelper is the box of TestBoxKill9: a store, a sender on the real
// clock, and calls written all along ("put <n>" printed once n records
// are durable), until it is killed.
func TestBoxHelper(t *testing.T) {
	dir := os.Getenv(envBoxDir)
	if dir == "" {
		t.Skip("box helper: only run by TestBoxKill9")
	}
	st, err := storage.Open(dir, storage.WithLogger(discard()))
	if err != nil {
		t.Fatal(err)
	}
	cfg := Config{URL: os.Getenv(envBoxURL), CA: os.Getenv(envBoxCA), Token: "stb_test", BatchRecords: 20,
		Poll: 5 * time.Millisecond, BackoffMin: 5 * time.Millisecond, BackoffMax: 50 * time.Millisecond}
	s, err := New(cfg, storeOutbox{st}, WithLogger(discard()))
	if err != nil {
		t.Fatal(err)
	}
	go s.Run(context.Background()) //nolint:errcheck // killed with the process
	w := bufio.NewWriter(os.Stdout)
	for i := 0; ; i++ {
		c := sip.Call{ID: fmt.Sprintf("c-%06d", i), CallID: fmt.Sprint(i), InviteAt: t0, EndDetail: "write 1"}
		if err := st.PutCall(context.Background(), c); err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(w, "put %d\n", i+1)
		w.Flush()
		time.Sleep(time.Millisecond)
	}
}

// TestBoxKill9 kills the box with SIGKILL while the server holds one of
// its batches, before or after committing it, then starts the box again
// on the same store: every record stored reaches the server once, and no
// seq is reused.
func TestBoxKill9(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns a child process")
	}
	for _, after := range []bool{false, true} {
		t.Run(fmt.Sprintf("committed=%v", after), func(t *testing.T) {
			h := newHarness(t)
			h.store.Close()
			h.store = nil
			url, ca := h.cfg.URL, h.cfg.CA
			hold, held := make(chan struct{}), make(chan struct{}, 1)
			cmd := exec.Command(os.Args[0], "-test.run=^TestBoxHelper$")
			cmd.Env = append(os.Environ(), envBoxDir+"="+h.dir, envBoxURL+"="+url, envBoxCA+"="+ca)
			out, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			confirmed := 0
			sc := bufio.NewScanner(out)
			for sc.Scan() && confirmed < 100 {
				if n, ok := strings.CutPrefix(sc.Text(), "put "); ok {
					fmt.Sscan(n, &confirmed)
				}
			}
			// Let a few batches through, then hold the next one.
			for h.rcvCursor() < 40 {
				time.Sleep(time.Millisecond)
			}
			h.rcv.set(func(r *receiver) { r.hold, r.held, r.holdAfter = hold, held, after })
			<-held
			if err := cmd.Process.Kill(); err != nil {
				t.Fatal(err)
			}
			_ = cmd.Wait()
			close(hold)
			h.rcv.set(func(r *receiver) { r.hold = nil })
			h.open()
			ctx := context.Background()
			st, err := h.store.OutboxStats(ctx)
			if err != nil {
				t.Fatal(err)
			}
			stored := int(st.Next - 1)
			if stored < confirmed {
				t.Fatalf("%d records in the outbox, %d confirmed", stored, confirmed)
			}
			for i := range stored {
				id := fmt.Sprintf("c-%06d", i)
				if _, err := h.store.Call(ctx, id); err != nil {
					t.Fatalf("record %d of %d: %v", i, stored, err)
				}
				h.writes[id] = 1
			}
			h.put(ids("after", 0, 10)...)
			if es := h.encodeRange(uint64(stored+1), uint64(stored+10)); !strings.Contains(string(es), fmt.Sprintf(`"first_seq":%d,`, stored+1)) {
				t.Fatalf("seq reused after the kill: %s", es[:60])
			}
			_, stop := h.start()
			defer stop()
			h.waitSynced()
		})
	}
}

func (h *harness) rcvCursor() uint64 {
	h.rcv.mu.Lock()
	defer h.rcv.mu.Unlock()
	return h.rcv.cursor
}
