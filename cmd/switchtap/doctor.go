package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/switchtap/switchtap/config"
	"github.com/switchtap/switchtap/device"
	"github.com/switchtap/switchtap/internal/clocksync"
	"github.com/switchtap/switchtap/storage"
)

// cmdDoctor runs `switchtap doctor`: what an installer needs to know
// before trusting the box, one plain line per check, OK, WARN or FAIL;
// exit status 1 when any check fails.
func cmdDoctor(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("doctor", stderr)
	var cfgPath string
	addConfigFlag(fs, &cfgPath)
	iface := fs.String("i", "", "mirror-port interface (overrides interface:)")
	listen := fs.Duration("listen", 10*time.Second, "how long to listen for SIP")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 || *listen <= 0 {
		return fmt.Errorf("%w: doctor [--config FILE] [-i IFACE] [--listen 10s]", errUsage)
	}
	cfg, err := loadConfig(cfgPath)
	if err != nil {
		return err
	}
	if *iface != "" {
		cfg.Interface = *iface
	}
	d := doctor{
		links: netLinks{},
		sniff: liveSniffer{},
		clock: clocksync.NewReader(),
		gpio:  panelProber{},
		disk:  statfsSpace{},
	}
	return d.run(ctx, cfg, *listen, stdout)
}

// The doctor's view of the machine, one small interface per check, so each
// can be tested with a fake.
type (
	// linkLookup finds a network interface (net.InterfaceByName).
	linkLookup interface {
		InterfaceByName(name string) (*net.Interface, error)
	}
	// sipSniffer listens on an interface as the daemon does and counts
	// what it sees.
	sipSniffer interface {
		Sniff(ctx context.Context, iface string, d time.Duration) (sipSeen, error)
	}
	// clockReader says whether the clock is synchronised.
	clockReader interface {
		Read(ctx context.Context) (clocksync.State, error)
	}
	// gpioProber requests the panel's lines and releases them.
	gpioProber interface {
		Probe(cfg device.Config) error
	}
	// diskSpace is the space left to an unprivileged writer under dir.
	diskSpace interface {
		Free(dir string) (uint64, error)
	}
)

// sipSeen is what a listen found.
type sipSeen struct {
	// Frames read, SIP messages parsed, SIP-looking ones the parser
	// refused, distinct source addresses of the messages, kernel drops.
	Frames, Messages, Rejected, Dropped uint64
	Sources                             int
}

// Levels of a finding.
const (
	levelOK   = "OK"
	levelWarn = "WARN"
	levelFail = "FAIL"
)

// finding is one line of the report.
type finding struct {
	level, check, msg string
}

// errDoctorFailed is returned when a check fails (exit status 1).
var errDoctorFailed = errors.New("doctor: checks failed")

type doctor struct {
	links linkLookup
	sniff sipSniffer
	clock clockReader
	gpio  gpioProber
	disk  diskSpace
}

// run makes every check, printing each line as it is known (the listen
// takes seconds), and fails when one of them failed.
func (d doctor) run(ctx context.Context, cfg config.Config, listen time.Duration, w io.Writer) error {
	failed := 0
	report := func(fs ...finding) {
		for _, f := range fs {
			fmt.Fprintf(w, "%-4s %s: %s\n", f.level, f.check, f.msg)
			if f.level == levelFail {
				failed++
			}
		}
	}
	up, exists := d.checkInterface(cfg.Interface)
	report(up)
	if exists {
		report(d.checkSIP(ctx, cfg.Interface, listen))
	}
	report(d.checkClock(ctx), d.checkGPIO(cfg.Device))
	report(d.checkDisk(cfg)...)
	if failed > 0 {
		return fmt.Errorf("%w: %d of them", errDoctorFailed, failed)
	}
	return nil
}

// checkInterface says whether the interface exists (the SIP check
// listens on it then, even when it is down: it will say it saw nothing).
func (d doctor) checkInterface(name string) (finding, bool) {
	f := finding{check: "interface"}
	if name == "" {
		f.level, f.msg = levelFail, "none configured: set interface: in the configuration, or give -i IFACE"
		return f, false
	}
	ifc, err := d.links.InterfaceByName(name)
	if err != nil {
		f.level, f.msg = levelFail, fmt.Sprintf("%s: no such interface (ip link lists them)", name)
		return f, false
	}
	switch {
	case ifc.Flags&net.FlagUp == 0:
		f.level, f.msg = levelFail, fmt.Sprintf("%s is down: ip link set %s up", name, name)
	case ifc.Flags&net.FlagRunning == 0:
		f.level, f.msg = levelFail, fmt.Sprintf("%s is up but has no link: check the cable to the switch's mirror port", name)
	default:
		f.level, f.msg = levelOK, fmt.Sprintf("%s is up, link detected", name)
	}
	return f, true
}

func (d doctor) checkSIP(ctx context.Context, iface string, listen time.Duration) finding {
	f := finding{check: "sip"}
	seen, err := d.sniff.Sniff(ctx, iface, listen)
	if err != nil {
		f.level, f.msg = levelFail, fmt.Sprintf("cannot listen on %s: %v", iface, err)
		return f
	}
	counts := fmt.Sprintf("%d frames", seen.Frames)
	if seen.Rejected > 0 {
		counts += fmt.Sprintf(", %d malformed SIP", seen.Rejected)
	}
	if seen.Dropped > 0 {
		counts += fmt.Sprintf(", %d dropped by the kernel", seen.Dropped)
	}
	if seen.Messages == 0 {
		f.level, f.msg = levelWarn, fmt.Sprintf("no SIP seen on %s in %s (%s): is the switch mirroring the switchboard's ports to it?", iface, listen, counts)
		return f
	}
	f.level = levelOK
	if seen.Dropped > 0 {
		f.level = levelWarn
	}
	f.msg = fmt.Sprintf("%d SIP messages from %d addresses on %s in %s (%s)", seen.Messages, seen.Sources, iface, listen, counts)
	return f
}

func (d doctor) checkClock(ctx context.Context) finding {
	f := finding{check: "clock"}
	st, err := d.clock.Read(ctx)
	switch {
	case err != nil:
		f.level, f.msg = levelWarn, fmt.Sprintf("synchronisation unknown: %v", err)
	case st.Synchronised:
		f.level, f.msg = levelOK, st.String()
	default:
		f.level, f.msg = levelFail, st.String()+": call times may be wrong; run an NTP client (systemd-timesyncd or chrony)"
	}
	return f
}

func (d doctor) checkGPIO(cfg device.Config) finding {
	f := finding{check: "gpio"}
	if cfg.Panel != device.PanelGPIO {
		f.level, f.msg = levelOK, fmt.Sprintf("panel %s: no GPIO lines to test", cfg.Panel)
		return f
	}
	lines := panelLines(cfg)
	err := d.gpio.Probe(cfg)
	switch {
	case err == nil:
		f.level, f.msg = levelOK, fmt.Sprintf("%d lines answer (%s)", len(lines), strings.Join(lines, ", "))
	case errors.Is(err, errLineBusy):
		f.level, f.msg = levelWarn, fmt.Sprintf("lines held by another program, the running daemon? (%v)", err)
	case errors.Is(err, os.ErrPermission):
		f.level, f.msg = levelFail, fmt.Sprintf("%v: the package's udev rule gives /dev/gpiochip* to group switchtap; run as root or as a member", err)
	default:
		f.level, f.msg = levelFail, err.Error()
	}
	return f
}

// errLineBusy is a line another process holds (EBUSY).
var errLineBusy = errors.New("line busy")

// panelLines names the configured lines, in the panel's order.
func panelLines(cfg device.Config) []string {
	var out []string
	for _, l := range []struct {
		name string
		line *device.Line
	}{{"amber", cfg.Amber}, {"red", cfg.Red}, {"buzzer", cfg.Buzzer}, {"status", cfg.Status}, {"button", cfg.Button}} {
		if l.line != nil {
			out = append(out, l.name)
		}
	}
	for _, o := range cfg.Operators {
		if o.Amber != nil {
			out = append(out, o.Name+" amber")
		}
		if o.Red != nil {
			out = append(out, o.Name+" red")
		}
	}
	return out
}

// checkDisk compares the free space under the data and recordings
// directories with the floors the daemon applies: the store's own
// (storage.DefaultMinFree) and recording.min_free. Within twice a floor is
// a warning: the daemon will stop writing soon.
func (d doctor) checkDisk(cfg config.Config) []finding {
	type dir struct {
		what, path, floorName string
		floor                 uint64
	}
	dirs := []dir{{"data", cfg.DataDir, "store's floor", storage.DefaultMinFree}}
	if cfg.Recording.Enabled {
		dirs = append(dirs, dir{"recordings", cfg.RecordingDir(), "recording.min_free", uint64(cfg.Recording.MinFree)})
	}
	var out []finding
	for _, x := range dirs {
		f := finding{check: "disk"}
		at, note := existingDir(x.path)
		free, err := d.disk.Free(at)
		if err != nil {
			f.level, f.msg = levelFail, fmt.Sprintf("%s %s: %v", x.what, x.path, err)
			out = append(out, f)
			continue
		}
		f.msg = fmt.Sprintf("%s %s%s: %s free (%s %s)", x.what, x.path, note,
			humanBytes(free), x.floorName, humanBytes(x.floor))
		switch {
		case free < x.floor:
			f.level, f.msg = levelFail, f.msg+": below the floor, nothing more is written"
		case free < 2*x.floor:
			f.level, f.msg = levelWarn, f.msg+": close to the floor"
		default:
			f.level = levelOK
		}
		out = append(out, f)
	}
	return out
}

// existingDir returns dir, or its nearest existing parent with a note when
// dir is not made yet (the daemon creates it at start).
func existingDir(dir string) (string, string) {
	at := dir
	for {
		if st, err := os.Stat(at); err == nil && st.IsDir() {
			break
		}
		parent := filepath.Dir(at)
		if parent == at {
			break
		}
		at = parent
	}
	if at == dir {
		return at, ""
	}
	return at, fmt.Sprintf(" (not made yet: measured at %s)", at)
}

// humanBytes writes n with one decimal in the largest binary unit below it.
func humanBytes(n uint64) string {
	units := []string{"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"}
	v, i := float64(n), 0
	for v >= 1024 && i < len(units)-1 {
		v /= 1024
		i++
	}
	if i == 0 {
		return fmt.Sprintf("%d B", n)
	}
	return fmt.Sprintf("%.1f %s", v, units[i])
}
