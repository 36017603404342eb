package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/switchtap/switchtap/capture"
	"github.com/switchtap/switchtap/config"
	"github.com/switchtap/switchtap/device"
	"github.com/switchtap/switchtap/internal/clocksync"
)

type fakeLinks map[string]net.Flags

func (f fakeLinks) InterfaceByName(name string) (*net.Interface, error) {
	fl, ok := f[name]
	if !ok {
		return nil, errors.New("route ip+net: no such network interface")
	}
	return &net.Interface{Name: name, Flags: fl}, nil
}

type fakeSniffer struct {
	seen  sipSeen
	err   error
	calls []string
}

func (f *fakeSniffer) Sniff(_ context.Context, iface string, d time.Duration) (sipSeen, error) {
	f.calls = append(f.calls, fmt.Sprintf("%s %s", iface, d))
	return f.seen, f.err
}

type fakeClock struct {
	st  clocksync.State
	err error
}

func (f fakeClock) Read(context.Context) (clocksync.State, error) { return f.st, f.err }

type fakeGPIO struct {
	err    error
	probed int
}

func (f *fakeGPIO) Probe(device.Config) error { f.probed++; return f.err }

type fakeDisk map[string]uint64

func (f fakeDisk) Free(dir string) (uint64, error) {
	n, ok := f[dir]
	if !ok {
		return 0, fmt.Errorf("statfs %s: %w", dir, syscall.ENOENT)
	}
	return n, nil
}

const up = net.FlagUp | net.FlagRunning

func TestDoctorInterface(t *testing.T) {
	d := doctor{links: fakeLinks{"eth1": up, "eth2": net.FlagUp, "eth3": 0}}
	for _, tc := range []struct {
		name, level, msg string
		exists           bool
	}{
		{"eth1", levelOK, "eth1 is up, link detected", true},
		{"eth2", levelFail, "eth2 is up but has no link", true},
		{"eth3", levelFail, "eth3 is down: ip link set eth3 up", true},
		{"eth9", levelFail, "eth9: no such interface", false},
		{"", levelFail, "none configured", false},
	} {
		f, exists := d.checkInterface(tc.name)
		if f.level != tc.level || !strings.Contains(f.msg, tc.msg) || exists != tc.exists || f.check != "interface" {
			t.Errorf("%q: %+v exists=%v", tc.name, f, exists)
		}
	}
}

func TestDoctorSIP(t *testing.T) {
	for _, tc := range []struct {
		name       string
		seen       sipSeen
		err        error
		level, msg string
	}{
		{"sip seen", sipSeen{Frames: 90, Messages: 40, Sources: 3}, nil, levelOK, "40 SIP messages from 3 addresses on eth1 in 10s (90 frames)"},
		{"nothing", sipSeen{Frames: 12}, nil, levelWarn, "no SIP seen on eth1 in 10s (12 frames): is the switch mirroring"},
		{"malformed only", sipSeen{Frames: 5, Rejected: 5}, nil, levelWarn, "(5 frames, 5 malformed SIP)"},
		{"kernel drops", sipSeen{Frames: 9, Messages: 9, Sources: 1, Dropped: 4}, nil, levelWarn, "4 dropped by the kernel"},
		{"no capability", sipSeen{}, fmt.Errorf("%w: packet socket on eth1", capture.ErrPermission), levelFail, "cannot listen on eth1: not permitted to capture"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := &fakeSniffer{seen: tc.seen, err: tc.err}
			f := doctor{sniff: s}.checkSIP(context.Background(), "eth1", 10*time.Second)
			if f.level != tc.level || !strings.Contains(f.msg, tc.msg) {
				t.Fatalf("%+v", f)
			}
			if len(s.calls) != 1 || s.calls[0] != "eth1 10s" {
				t.Fatalf("sniffed %v", s.calls)
			}
		})
	}
}

func TestDoctorClock(t *testing.T) {
	for _, tc := range []struct {
		name       string
		st         clocksync.State
		err        error
		level, msg string
	}{
		{"synchronised", clocksync.State{Synchronised: true, MaxError: 12 * time.Millisecond, Source: clocksync.SourceAdjtimex}, nil, levelOK, "synchronised (adjtimex: STA_UNSYNC clear, max error 12ms"},
		{"unsynchronised", clocksync.State{Unsync: true, MaxError: 16 * time.Second, Source: clocksync.SourceAdjtimex}, nil, levelFail, "not synchronised (adjtimex: STA_UNSYNC set, max error 16s"},
		{"via timedatectl", clocksync.State{Source: clocksync.SourceTimedatectl}, nil, levelFail, "not synchronised (timedatectl): call times may be wrong"},
		{"unknown", clocksync.State{}, errors.New("adjtimex: operation not permitted"), levelWarn, "synchronisation unknown: adjtimex: operation not permitted"},
	} {
		f := doctor{clock: fakeClock{tc.st, tc.err}}.checkClock(context.Background())
		if f.level != tc.level || !strings.Contains(f.msg, tc.msg) {
			t.Errorf("%s: %+v", tc.name, f)
		}
	}
}

func TestDoctorGPIO(t *testing.T) {
	gpioCfg := device.DefaultConfig()
	gpioCfg.Panel = device.PanelGPIO
	gpioCfg.Amber, gpioCfg.Red, gpioCfg.Button = &device.Line{Offset: 17}, &device.Line{Offset: 27}, &device.Line{Offset: 24}
	gpioCfg.Operators = []device.OperatorLines{{Name: "Recepción 1", Red: &device.Line{Offset: 6}}}
	for _, tc := range []struct {
		name       string
		cfg        device.Config
		err        error
		level, msg string
		probed     int
	}{
		{"log panel", device.DefaultConfig(), nil, levelOK, "panel log: no GPIO lines to test", 0},
		{"lines answer", gpioCfg, nil, levelOK, "4 lines answer (amber, red, button, Recepción 1 red)", 1},
		{"held by the daemon", gpioCfg, fmt.Errorf("%w: %w", errLineBusy, syscall.EBUSY), levelWarn, "held by another program", 1},
		{"no permission", gpioCfg, fmt.Errorf("gpio panel: request amber: %w", syscall.EACCES), levelFail, "group switchtap", 1},
		{"no chip", gpioCfg, fmt.Errorf("gpio panel: %w", device.ErrNoGPIO), levelFail, "no", 1},
	} {
		g := &fakeGPIO{err: tc.err}
		f := doctor{gpio: g}.checkGPIO(tc.cfg)
		if f.level != tc.level || !strings.Contains(f.msg, tc.msg) || g.probed != tc.probed {
			t.Errorf("%s: %+v, probed %d", tc.name, f, g.probed)
		}
	}
}

func TestDoctorDisk(t *testing.T) {
	dir := t.TempDir()
	rec := dir + "/rec"
	if err := os.Mkdir(rec, 0o700); err != nil {
		t.Fatal(err)
	}
	cfg := config.Default()
	cfg.DataDir = dir + "/data" // not made yet: measured at dir
	cfg.Recording.Dir = rec
	cfg.Recording.MinFree = 1 << 30
	const gib = 1 << 30
	for _, tc := range []struct {
		name      string
		disk      fakeDisk
		recording bool
		want      []string // level and a piece of each line
	}{
		{"plenty", fakeDisk{dir: 10 * gib, rec: 10 * gib}, true, []string{
			"OK data " + cfg.DataDir + " (not made yet: measured at " + dir + "): 10.0 GiB free (store's floor 64.0 MiB)",
			"OK recordings " + rec + ": 10.0 GiB free (recording.min_free 1.0 GiB)"}},
		{"recordings near the floor", fakeDisk{dir: 10 * gib, rec: 1.5 * gib}, true, []string{"OK data", "WARN recordings " + rec + ": 1.5 GiB free (recording.min_free 1.0 GiB): close to the floor"}},
		{"store below its floor", fakeDisk{dir: 10 << 20, rec: 10 * gib}, true, []string{"FAIL data " + cfg.DataDir, "OK recordings"}},
		{"recording off", fakeDisk{dir: 10 * gib}, false, []string{"OK data"}},
		{"statfs fails", fakeDisk{rec: 10 * gib}, true, []string{"FAIL data " + cfg.DataDir + ": statfs", "OK recordings"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := cfg
			c.Recording.Enabled = tc.recording
			got := doctor{disk: tc.disk}.checkDisk(c)
			if len(got) != len(tc.want) {
				t.Fatalf("%d lines: %+v", len(got), got)
			}
			for i, f := range got {
				line := f.level + " " + f.msg
				if f.check != "disk" || !strings.HasPrefix(line, tc.want[i]) {
					t.Errorf("line %d: %q, want %q…", i, line, tc.want[i])
				}
			}
		})
	}
}

// TestDoctorRun: every check in order, one line each, exit status 1 only
// when one fails; no listen on an interface that does not exist.
func TestDoctorRun(t *testing.T) {
	dir := t.TempDir()
	cfg := config.Default()
	cfg.DataDir, cfg.Recording.Enabled = dir, false
	ok := func() doctor {
		return doctor{
			links: fakeLinks{"eth1": up},
			sniff: &fakeSniffer{seen: sipSeen{Frames: 3, Messages: 2, Sources: 1}},
			clock: fakeClock{st: clocksync.State{Synchronised: true, Source: clocksync.SourceTimedatectl}},
			gpio:  &fakeGPIO{},
			disk:  fakeDisk{dir: 1 << 40},
		}
	}
	t.Run("healthy", func(t *testing.T) {
		var out bytes.Buffer
		c := cfg
		c.Interface = "eth1"
		if err := ok().run(context.Background(), c, time.Second, &out); err != nil {
			t.Fatal(err)
		}
		want := "OK   interface: eth1 is up, link detected\n" +
			"OK   sip: 2 SIP messages from 1 addresses on eth1 in 1s (3 frames)\n" +
			"OK   clock: synchronised (timedatectl)\n" +
			"OK   gpio: panel log: no GPIO lines to test\n" +
			"OK   disk: data " + dir + ": 1.0 TiB free (store's floor 64.0 MiB)\n"
		if out.String() != want {
			t.Fatalf("got:\n%s\nwant:\n%s", out.String(), want)
		}
	})
	t.Run("a warning is not a failure", func(t *testing.T) {
		d := ok()
		d.sniff = &fakeSniffer{}
		c := cfg
		c.Interface = "eth1"
		var out bytes.Buffer
		if err := d.run(context.Background(), c, time.Second, &out); err != nil || !strings.Contains(out.String(), "WARN sip: no SIP seen") {
			t.Fatalf("%v\n%s", err, out.String())
		}
	})
	t.Run("failures", func(t *testing.T) {
		d := ok()
		s := &fakeSniffer{}
		d.sniff = s
		d.clock = fakeClock{st: clocksync.State{Unsync: true, Source: clocksync.SourceAdjtimex}}
		c := cfg
		c.Interface = "eth9"
		var out bytes.Buffer
		err := d.run(context.Background(), c, time.Second, &out)
		if !errors.Is(err, errDoctorFailed) || exitStatus(err) != exitError || !strings.Contains(err.Error(), "2 of them") {
			t.Fatalf("err %v", err)
		}
		if len(s.calls) != 0 {
			t.Fatalf("listened on a missing interface: %v", s.calls)
		}
		lines := strings.Split(strings.TrimSpace(out.String()), "\n")
		if len(lines) != 4 || !strings.HasPrefix(lines[0], "FAIL interface: eth9") || !strings.HasPrefix(lines[1], "FAIL clock") {
			t.Fatalf("%q", lines)
		}
	})
}

func TestDoctorUsage(t *testing.T) {
	for _, args := range [][]string{{"doctor", "extra"}, {"doctor", "--listen", "0s"}, {"doctor", "--listen", "soon"}} {
		err := run(context.Background(), args, nil, &bytes.Buffer{}, &bytes.Buffer{})
		if exitStatus(err) != exitUsage {
			t.Errorf("%v: %v", args, err)
		}
	}
}

func TestHumanBytes(t *testing.T) {
	for n, want := range map[uint64]string{0: "0 B", 1023: "1023 B", 1024: "1.0 KiB", 64 << 20: "64.0 MiB", 1536 << 20: "1.5 GiB", 1 << 62: "4.0 EiB"} {
		if got := humanBytes(n); got != want {
			t.Errorf("%d: %q, want %q", n, got, want)
		}
	}
}

// sipDatagram is a datagram as the decoder hands it over.
func sipDatagram(tr capture.Transport, src string, payload string, start bool) *capture.Datagram {
	return &capture.Datagram{
		Transport: tr, Src: netip.MustParseAddrPort(src), Dst: netip.MustParseAddrPort("192.0.2.1:5060"),
		Payload: []byte(payload), StreamStart: start,
	}
}

const optionsMsg = "OPTIONS sip:probe@192.0.2.1 SIP/2.0\r\n" +
	"Via: SIP/2.0/UDP 192.0.2.9:5060;branch=z9hG4bK776asdhds\r\n" +
	"Max-Forwards: 70\r\nTo: <sip:probe@192.0.2.1>\r\nFrom: <sip:doctor@192.0.2.9>;tag=1928301774\r\n" +
	"Call-ID: a84b4c76e66710@192.0.2.9\r\nCSeq: 63104 OPTIONS\r\nContent-Length: 0\r\n\r\n"

// TestSIPCounter: the counter takes for SIP what the pipeline takes: UDP
// datagrams that parse, TCP messages cut by the framer across segments;
// not RTP, and a SIP-looking datagram the parser refuses is counted apart.
func TestSIPCounter(t *testing.T) {
	c := newSIPCounter()
	c.datagram(sipDatagram(capture.UDP, "192.0.2.9:5060", optionsMsg, false))
	c.datagram(sipDatagram(capture.UDP, "192.0.2.10:5060", optionsMsg, false))
	c.datagram(sipDatagram(capture.UDP, "192.0.2.9:16384", "\x80\x00\x01\x02rtp payload bytes", false))
	c.datagram(sipDatagram(capture.UDP, "192.0.2.9:5060", "INVITE sip:x SIP/2.0\r\nbroken\r\n\r\n", false))
	half := len(optionsMsg) / 2
	c.datagram(sipDatagram(capture.TCP, "192.0.2.11:40000", optionsMsg[:half], true))
	c.datagram(sipDatagram(capture.TCP, "192.0.2.11:40000", optionsMsg[half:]+optionsMsg, false))
	c.datagram(sipDatagram(capture.TCP, "192.0.2.12:40000", "GET / HTTP/1.1\r\n\r\n", true))
	if c.seen.Messages != 4 || c.seen.Rejected != 1 || len(c.sources) != 3 {
		t.Fatalf("%+v, sources %v", c.seen, c.sources)
	}
}
