package hep

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

// testPacket returns a distinct SIP packet numbered i.
func testPacket(i int) Packet {
	return Packet{
		Time:      time.Date(2026, 12, 3, 9, 0, i, 1000*i, time.UTC),
		Src:       netip.MustParseAddrPort("10.1.1.20:5060"),
		Dst:       netip.AddrPortFrom(netip.MustParseAddr("10.1.1.10"), uint16(5060+i)),
		Transport: UDP,
		CallID:    fmt.Sprintf("call-%d@10.1.1.20", i),
		Payload:   []byte(fmt.Sprintf("OPTIONS sip:%d@10.1.1.10 SIP/2.0\r\nCall-ID: call-%d@10.1.1.20\r\n\r\n", i, i)),
	}
}

// runSender starts s.Run and returns a stop function that cancels it
// and checks that it returned nil.
func runSender(t *testing.T, s *Sender) func() {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	return func() {
		t.Helper()
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Run returned %v, want nil", err)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("Run did not return after cancel")
		}
	}
}

// TestSenderUDP: a listener on 127.0.0.1 receives exactly what Send
// queued, one packet per datagram, decoded field by field.
func TestSenderUDP(t *testing.T) {
	ln, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	enc := Encoder{AgentID: 2001, Password: "clave"}
	s, err := New(Config{Address: ln.LocalAddr().String(), AgentID: enc.AgentID, Password: enc.Password, Queue: 64})
	if err != nil {
		t.Fatal(err)
	}
	stop := runSender(t, s)
	defer stop()
	const n = 20
	for i := range n {
		p := testPacket(i)
		if !s.Send(p) {
			t.Fatalf("Send %d refused", i)
		}
		// The caller's buffer may be reused at once: Send copied it.
		copy(p.Payload, "XXXXXXX")
	}
	buf := make([]byte, MaxSize)
	_ = ln.SetReadDeadline(time.Now().Add(5 * time.Second))
	for i := range n {
		m, _, err := ln.ReadFrom(buf)
		if err != nil {
			t.Fatalf("datagram %d: %v", i, err)
		}
		d, err := decode(buf[:m])
		if err != nil {
			t.Fatalf("datagram %d: %v", i, err)
		}
		checkDecoded(t, d, enc, testPacket(i))
	}
	waitFor(t, func() bool { return s.Stats().Sent == n })
	if st := s.Stats(); st.Dropped != 0 || st.Errors != 0 || !st.Connected {
		t.Errorf("stats %+v", st)
	}
}

// TestSenderFullQueue: with nobody draining the queue, Send returns at
// once and counts the drop; what was queued goes out once Run starts.
func TestSenderFullQueue(t *testing.T) {
	ln, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	s, err := New(Config{Address: ln.LocalAddr().String(), Queue: 4})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	queued := 0
	for i := range 1000 {
		if s.Send(testPacket(i)) {
			queued++
		}
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("1000 sends to a full queue took %v", d)
	}
	if st := s.Stats(); queued != 4 || st.Queued != 4 || st.Dropped != 996 || st.Sent != 0 {
		t.Fatalf("queued %d, stats %+v; want 4 queued, 996 dropped", queued, st)
	}
	stop := runSender(t, s)
	defer stop()
	buf := make([]byte, MaxSize)
	_ = ln.SetReadDeadline(time.Now().Add(5 * time.Second))
	for i := range 4 {
		m, _, err := ln.ReadFrom(buf)
		if err != nil {
			t.Fatalf("datagram %d: %v", i, err)
		}
		d, err := decode(buf[:m])
		if err != nil {
			t.Fatal(err)
		}
		// The first four were queued, in order.
		checkDecoded(t, d, Encoder{}, testPacket(i))
	}
	waitFor(t, func() bool { return s.Stats().Sent == 4 })
	if !s.Send(testPacket(5)) {
		t.Error("Send refused after the queue drained")
	}
}

// TestSenderEncodeError: a packet that cannot be encoded is counted as
// an error and gives its buffer back.
func TestSenderEncodeError(t *testing.T) {
	s, err := New(Config{Address: "127.0.0.1:9", Queue: 1})
	if err != nil {
		t.Fatal(err)
	}
	bad := testPacket(1)
	bad.Dst = netip.MustParseAddrPort("[2001:db8::1]:5060")
	for range 3 {
		if s.Send(bad) {
			t.Fatal("bad packet queued")
		}
	}
	if !s.Send(testPacket(2)) {
		t.Fatal("the one buffer was not given back")
	}
	if st := s.Stats(); st.Errors != 3 || st.Dropped != 0 || st.Queued != 1 {
		t.Errorf("stats %+v, want 3 errors, 1 queued", st)
	}
}

// readHEPStream splits a TCP stream into HEP packets by their length.
func readHEPStream(r io.Reader) ([]byte, error) {
	hdr := make([]byte, headerLen)
	if _, err := io.ReadFull(r, hdr); err != nil {
		return nil, err
	}
	n := int(binary.BigEndian.Uint16(hdr[4:]))
	if string(hdr[:4]) != "HEP3" || n < headerLen {
		return nil, fmt.Errorf("bad header %x", hdr)
	}
	b := make([]byte, n)
	copy(b, hdr)
	_, err := io.ReadFull(r, b[headerLen:])
	return b, err
}

// TestSenderTCP: packets go back to back on one connection; when the
// collector drops it, the sender connects again and carries on.
func TestSenderTCP(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	conns := make(chan net.Conn, 4)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			conns <- c
		}
	}()
	s, err := New(Config{Address: ln.Addr().String(), Transport: "tcp", AgentID: 9, Queue: 16},
		WithBackoff(5*time.Millisecond, 20*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	stop := runSender(t, s)
	defer stop()
	var c1 net.Conn
	select {
	case c1 = <-conns:
	case <-time.After(5 * time.Second):
		t.Fatal("no connection")
	}
	for i := range 5 {
		s.Send(testPacket(i))
	}
	_ = c1.SetReadDeadline(time.Now().Add(5 * time.Second))
	for i := range 5 {
		b, err := readHEPStream(c1)
		if err != nil {
			t.Fatalf("packet %d: %v", i, err)
		}
		d, err := decode(b)
		if err != nil {
			t.Fatal(err)
		}
		checkDecoded(t, d, Encoder{AgentID: 9}, testPacket(i))
	}
	// The collector goes away: writes fail (RST), the sender counts
	// them and dials again.
	_ = c1.Close()
	var c2 net.Conn
	deadline := time.After(10 * time.Second)
	for i := 100; c2 == nil; i++ {
		s.Send(testPacket(i))
		select {
		case c2 = <-conns:
		case <-time.After(10 * time.Millisecond):
		case <-deadline:
			t.Fatalf("no reconnection; stats %+v", s.Stats())
		}
	}
	defer c2.Close()
	waitFor(t, func() bool { return s.Stats().Connected })
	if s.Stats().Errors == 0 {
		t.Error("the lost connection was not counted")
	}
	mark := testPacket(7)
	mark.CallID = "after-reconnect"
	waitFor(t, func() bool { return s.Send(mark) })
	_ = c2.SetReadDeadline(time.Now().Add(5 * time.Second))
	for {
		b, err := readHEPStream(c2)
		if err != nil {
			t.Fatalf("second connection: %v", err)
		}
		if d, err := decode(b); err != nil {
			t.Fatal(err)
		} else if d.CallID == "after-reconnect" {
			break
		}
	}
}

// TestSenderRedial: a collector that refuses at first is dialled again
// with backoff, each failure counted, until it answers.
func TestSenderRedial(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	var attempts atomic.Int32
	dial := func(ctx context.Context, network, addr string) (net.Conn, error) {
		if attempts.Add(1) <= 3 {
			return nil, errors.New("connection refused")
		}
		return (&net.Dialer{}).DialContext(ctx, network, addr)
	}
	s, err := New(Config{Address: ln.Addr().String(), Transport: "tcp"},
		WithDialer(dial), WithBackoff(time.Millisecond, 4*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	stop := runSender(t, s)
	defer stop()
	c, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	waitFor(t, func() bool { return s.Stats().Connected })
	if st := s.Stats(); attempts.Load() != 4 || st.Errors != 3 {
		t.Errorf("attempts %d, stats %+v; want 4 attempts, 3 errors", attempts.Load(), st)
	}
}

func TestNewRefusesOff(t *testing.T) {
	if _, err := New(Config{}); !errors.Is(err, ErrInvalid) {
		t.Errorf("New(off) = %v, want ErrInvalid", err)
	}
	if _, err := New(Config{Address: "homer"}); !errors.Is(err, ErrInvalid) {
		t.Errorf("New(no port) = %v, want ErrInvalid", err)
	}
}

func TestCollector(t *testing.T) {
	s, err := New(Config{Address: "127.0.0.1:9", Queue: 2})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 5 {
		s.Send(testPacket(i))
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(NewCollector(s))
	want := `
# HELP switchtap_hep_connected 1 while the connection (TCP) or socket (UDP) to the HEP collector is up.
# TYPE switchtap_hep_connected gauge
switchtap_hep_connected 0
# HELP switchtap_hep_errors_total SIP messages that could not be encoded or written, and failed connection attempts.
# TYPE switchtap_hep_errors_total counter
switchtap_hep_errors_total 0
# HELP switchtap_hep_packets_dropped_total SIP messages not mirrored because the HEP queue was full.
# TYPE switchtap_hep_packets_dropped_total counter
switchtap_hep_packets_dropped_total 3
# HELP switchtap_hep_packets_sent_total SIP messages mirrored to the HEP collector.
# TYPE switchtap_hep_packets_sent_total counter
switchtap_hep_packets_sent_total 0
# HELP switchtap_hep_queue_packets SIP messages waiting for the HEP collector.
# TYPE switchtap_hep_queue_packets gauge
switchtap_hep_queue_packets 2
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want)); err != nil {
		t.Error(err)
	}
}

func BenchmarkSend(b *testing.B) {
	s, err := New(Config{Address: "127.0.0.1:9", Queue: 1})
	if err != nil {
		b.Fatal(err)
	}
	p := testPacket(1)
	b.ReportAllocs()
	for b.Loop() {
		s.Send(p)
		// Stand in for Run: take the packet and give the buffer back.
		s.release(<-s.queue)
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 5 s")
		}
		time.Sleep(time.Millisecond)
	}
}
