package gpio_test

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// buttonLine is the PL061 pin QEMU's virt board drives: system_powerdown
// holds it high for 100 ms.
const buttonLine = 3

// lineNames are written into the device tree (QEMU's has none) so that the
// guest can be configured by line name too.
var lineNames = [8]string{"BUZZER", "P9_14", "P9_15", "SILENCE", "P9_23", "LAMP_AMBER", "LAMP_RED", "LAMP_STATUS"}

// wire is one role's line: its offset on the chip, for the expectation,
// and how the guest's command line names it.
type wire struct {
	off int
	arg string
}

// byOffset is a bare offset, on the guest's default chip (-chip).
func byOffset(off int) wire { return wire{off, strconv.Itoa(off)} }

// onChip is an offset on a chip given by name or path.
func onChip(chip string, off int) wire { return wire{off, chip + ":" + strconv.Itoa(off)} }

// byName is a line name searched on every chip.
func byName(off int) wire { return wire{off, lineNames[off]} }

// nameOnChip is a line name searched on gpiochip0 only.
func nameOnChip(off int) wire { return wire{off, "gpiochip0:" + lineNames[off]} }

// outputs are the guest's output roles.
var outputs = []string{"amber", "red", "status", "buzzer", "op-amber", "op-red"}

// selfTestScript is what device.SelfTest shows: each output alone, in this
// order, then all dark.
var selfTestScript = [][]string{{"amber"}, {"red"}, {"buzzer"}, {"status"}, {"op-amber"}, {"op-red"}, {}}

// guestRun is one run of the guest program inside the booted machine.
type guestRun struct {
	name      string
	lines     map[string]wire // role (outputs and "button") -> line
	activeLow []string
	script    [][]string // each step: the roles that are on
	selftest  bool       // run device.SelfTest, whose steps are selfTestScript
	pulses    int        // silence button presses the host sends
	// wantFail is a text the guest's "RESULT fail" line must hold; such a
	// run must leave every line as it found it.
	wantFail string
}

// guestRuns run in this order in one boot; line states carry over between
// them, as they do in the kernel.
var guestRuns = []guestRun{
	{
		name: "by-offset",
		lines: map[string]wire{
			"amber": byOffset(0), "red": onChip("/dev/gpiochip0", 1), "status": byOffset(2),
			"buzzer": onChip("gpiochip0", 4), "op-amber": byOffset(5), "op-red": byOffset(6),
			"button": byOffset(buttonLine),
		},
		activeLow: []string{"buzzer", "op-red"},
		script: [][]string{
			{"status"}, {"status", "amber", "op-amber"}, {"status", "amber", "buzzer", "op-amber"},
			{"status", "red", "buzzer", "op-red"}, {"status", "red", "op-red"}, {},
			{"amber", "red", "status", "buzzer", "op-amber", "op-red"}, {"status"},
		},
		pulses: 3,
	},
	{
		// Line 0 was the amber lamp above, released low; as an active-low
		// buzzer it must go high (inactive) as soon as it is requested.
		name: "by-name",
		lines: map[string]wire{
			"amber": byName(5), "red": nameOnChip(6), "status": byName(7), "buzzer": byName(0),
			"op-amber": byName(1), "op-red": nameOnChip(2), "button": byName(buttonLine),
		},
		// An active-low button: a press is the end of QEMU's high pulse.
		activeLow: []string{"red", "buzzer", "button"},
		script: [][]string{
			{"amber"}, {"amber", "red"}, {"red", "op-amber"}, {"red", "buzzer", "op-red"},
			{"status", "buzzer"}, {"amber", "red", "status", "buzzer", "op-amber", "op-red"}, {"amber"},
		},
		pulses: 2,
	},
	{
		name: "selftest",
		lines: map[string]wire{
			"amber": byOffset(0), "red": byOffset(1), "status": byOffset(2), "buzzer": byOffset(4),
			"op-amber": byOffset(5), "op-red": byOffset(6), "button": byOffset(buttonLine),
		},
		activeLow: []string{"buzzer"},
		script:    selfTestScript,
		selftest:  true,
		pulses:    2,
	},
	{
		// Every line named here is low and active-high, so requesting and
		// releasing them before the failure changes nothing either.
		name:     "missing-line",
		lines:    map[string]wire{"amber": byOffset(5), "red": byOffset(7), "status": {off: -1, arg: "NO_SUCH_LINE"}},
		script:   [][]string{{"amber", "red", "status"}},
		wantFail: "NO_SUCH_LINE",
	},
}

// args is the guest's command line for r.
func (r guestRun) args() []string {
	var a []string
	for _, role := range append(append([]string(nil), outputs...), "button") {
		if w, ok := r.lines[role]; ok {
			a = append(a, "-"+role, w.arg)
		}
	}
	if len(r.activeLow) > 0 {
		a = append(a, "-active-low", strings.Join(r.activeLow, ","))
	}
	if r.selftest {
		return append(a, "-selftest", "300ms")
	}
	steps := make([]string, len(r.script))
	for i, s := range r.script {
		steps[i] = strings.Join(s, ",")
	}
	a = append(a, "-script", strings.Join(steps, ";"), "-step", "20ms")
	if r.pulses > 0 {
		a = append(a, "-events", strconv.Itoa(r.pulses), "-wait", "10s", "-settle", "400ms")
	}
	return a
}

// expect is what the trace must show on every line during run r, from the
// levels start: each output goes inactive when requested, follows the
// script, and is inactive again when the guest has exited. The physical
// level is the logical one XOR active-low. A run that fails must leave
// every line alone.
func expect(r guestRun, start [8]int) [8]levels {
	var h [8]levels
	for i := range h {
		h[i] = levels{start[i]}
	}
	if r.wantFail != "" {
		return h
	}
	low := map[string]int{}
	for _, role := range r.activeLow {
		low[role] = 1
	}
	var wired []string
	for _, role := range outputs {
		if _, ok := r.lines[role]; ok {
			wired = append(wired, role)
		}
	}
	drive := func(on map[string]int) {
		for _, role := range wired {
			off := r.lines[role].off
			h[off] = h[off].add(on[role] ^ low[role])
		}
	}
	drive(nil)
	for _, step := range r.script {
		on := map[string]int{}
		for _, role := range step {
			on[role] = 1
		}
		drive(on)
	}
	drive(nil)
	return h
}

func TestGPIOUnderQEMU(t *testing.T) {
	if testing.Short() {
		t.Skip("boots two emulated machines (about 30 s)")
	}
	for _, m := range machines {
		t.Run(m.name, func(t *testing.T) {
			requireMachine(t, m)
			dir := t.TempDir()
			start := time.Now()
			guest := filepath.Join(dir, "guest")
			buildGuest(t, m, guest)
			dtb := deviceTree(t, m, dir)
			initrd := filepath.Join(dir, "initrd.gz")
			packInitramfs(t, m, guest, initrd, guestRuns)
			t.Logf("guest, device tree and initramfs ready in %s", time.Since(start).Round(time.Millisecond))

			b := boot(t, m, dir, dtb, initrd, guestRuns)
			t.Logf("qemu: kernel to first run %s, start to power-off %s",
				b.firstRun.Round(time.Millisecond), b.total.Round(time.Millisecond))
			if t.Failed() {
				t.Logf("console:\n%s", b.console)
				return
			}
			checkConsole(t, b.console, guestRuns)
			checkTrace(t, filepath.Join(dir, "trace.log"), b.marks, guestRuns)
			if t.Failed() {
				t.Logf("console:\n%s", b.console)
			}
		})
	}
}

// deviceTree dumps the virt board's device tree, names its GPIO lines and,
// where the kernel has gpio-keys built in, frees pin 3 for the guest.
func deviceTree(t *testing.T, m machine, dir string) string {
	t.Helper()
	dtb := filepath.Join(dir, "virt.dtb")
	args := append(machineArgs(m, ",dumpdtb="+dtb), "-nographic", "-nic", "none")
	if out, err := exec.Command(m.qemu, args...).CombinedOutput(); err != nil {
		t.Fatalf("dumping the device tree: %v\n%s", err, out)
	}
	out, err := exec.Command("fdtget", "-l", dtb, "/").Output()
	if err != nil {
		t.Fatalf("fdtget -l: %v", err)
	}
	var pl061 string
	for _, node := range strings.Fields(string(out)) {
		if strings.HasPrefix(node, "pl061@") {
			pl061 = "/" + node
		}
	}
	if pl061 == "" {
		t.Fatalf("no pl061 node in the device tree: %s", out)
	}
	run(t, "fdtput", append([]string{"-t", "s", dtb, pl061, "gpio-line-names"}, lineNames[:]...)...)
	if m.dropKeys {
		run(t, "fdtput", "-r", dtb, "/gpio-keys")
	}
	return dtb
}

// machineArgs is m's -M/-cpu, with extra appended to the machine option.
func machineArgs(m machine, extra string) []string {
	args := append([]string(nil), m.args...)
	args[1] += extra
	return append(args, "-m", "512", "-smp", "1")
}

// packInitramfs writes the initramfs: busybox, the guest, and an /init that
// runs every guest run, marking each on the console, then powers off.
func packInitramfs(t *testing.T, m machine, guest, out string, runs []guestRun) {
	t.Helper()
	bb, err := os.ReadFile(filepath.Join(cacheDir(), m.name, "busybox"))
	if err != nil {
		t.Fatal(err)
	}
	g, err := os.ReadFile(guest)
	if err != nil {
		t.Fatal(err)
	}
	// gpiocdev checks the chip through sysfs, and the kernel does not mount
	// devtmpfs by itself (DEVTMPFS_MOUNT is off).
	var init strings.Builder
	init.WriteString("#!/bin/sh\n" +
		"/bin/busybox mount -t proc proc /proc\n" +
		"/bin/busybox mount -t sysfs sysfs /sys\n" +
		"/bin/busybox mount -t devtmpfs devtmpfs /dev\n")
	for _, r := range runs {
		quoted := make([]string, 0, len(r.args()))
		for _, a := range r.args() {
			quoted = append(quoted, "'"+a+"'")
		}
		fmt.Fprintf(&init, "echo 'RUN %s'\n/guest %s\necho \"EXIT %s $?\"\n", r.name, strings.Join(quoted, " "), r.name)
	}
	init.WriteString("/bin/busybox poweroff -f\n")
	entries := []cpioEntry{
		{name: "bin", mode: modeDir | 0o755},
		{name: "dev", mode: modeDir | 0o755},
		{name: "dev/console", mode: modeChar | 0o600, major: 5, minor: 1},
		{name: "proc", mode: modeDir | 0o755},
		{name: "sys", mode: modeDir | 0o755},
		{name: "bin/busybox", mode: modeFile | 0o755, data: bb},
		{name: "bin/sh", mode: modeLink | 0o777, data: []byte("busybox")},
		{name: "guest", mode: modeFile | 0o755, data: g},
		{name: "init", mode: modeFile | 0o755, data: []byte(init.String())},
	}
	f, err := os.Create(out)
	if err != nil {
		t.Fatal(err)
	}
	if err := writeInitramfs(f, entries); err != nil {
		f.Close()
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

// booted is what one boot left behind.
type booted struct {
	console string
	// marks is the trace log's size when each run's "EXIT" line reached the
	// console. QEMU writes a trace line as the guest touches the chip, so
	// this splits the trace by run: a panel left lit at exit shows up in
	// its own run, not hidden by the next run's requests.
	marks    map[string]int64
	firstRun time.Duration // QEMU start to the first guest run
	total    time.Duration // QEMU start to exit
}

// boot runs QEMU until the guest powers off, pulsing the silence button
// each time a guest run says it is ready for it.
func boot(t *testing.T, m machine, dir, dtb, initrd string, runs []guestRun) booted {
	t.Helper()
	mon := filepath.Join(dir, "mon.sock")
	trace := filepath.Join(dir, "trace.log")
	args := append([]string{"60", m.qemu}, machineArgs(m, "")...)
	args = append(args,
		"-nographic", "-no-reboot", "-nic", "none",
		"-kernel", filepath.Join(cacheDir(), m.name, "vmlinuz"), "-dtb", dtb, "-initrd", initrd,
		"-append", "console=ttyAMA0 panic=-1 quiet",
		"-trace", "pl061_set_output", "-trace", "pl061_input_change", "-D", trace,
		// A socket in the test's own directory: no port to race for.
		"-monitor", "unix:"+mon+",server=on,wait=off")
	// timeout wraps QEMU itself, so a hung guest cannot hold the pipe open.
	cmd := exec.Command("timeout", args...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	start := time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}

	var (
		b       = booted{marks: map[string]int64{}}
		console strings.Builder
		wg      sync.WaitGroup
		mu      sync.Mutex
		errs    []error
		current guestRun
	)
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		line := strings.TrimRight(sc.Text(), "\r")
		console.WriteString(line + "\n")
		switch {
		case strings.HasPrefix(line, "EXIT "):
			name, _, _ := strings.Cut(strings.TrimPrefix(line, "EXIT "), " ")
			if fi, err := os.Stat(trace); err == nil {
				b.marks[name] = fi.Size()
			}
		case strings.HasPrefix(line, "RUN "):
			if b.firstRun == 0 {
				b.firstRun = time.Since(start)
			}
			for _, r := range runs {
				if r.name == strings.TrimPrefix(line, "RUN ") {
					current = r
				}
			}
		case line == "READY button", strings.HasPrefix(line, "press the silence button now"):
			wg.Add(1)
			go func(n int) {
				defer wg.Done()
				if err := pressButton(mon, n); err != nil {
					mu.Lock()
					errs = append(errs, err)
					mu.Unlock()
				}
			}(current.pulses)
		}
	}
	wg.Wait()
	werr := cmd.Wait()
	b.total = time.Since(start)
	b.console = console.String()
	for _, err := range errs {
		t.Errorf("pressing the button: %v", err)
	}
	if werr != nil {
		t.Errorf("qemu: %v (124 is the timeout)\n%s", werr, stderr.String())
	}
	return b
}

// pressButton pulses pin 3 n times through the QEMU monitor, 400 ms apart
// (QEMU holds the pin high for 100 ms each time).
func pressButton(sock string, n int) error {
	conn, err := net.Dial("unix", sock)
	if err != nil {
		return err
	}
	defer conn.Close()
	done := make(chan struct{})
	go func() {
		defer close(done)
		_, _ = io.Copy(io.Discard, conn) // the monitor's banner and prompts
	}()
	for i := 0; i < n; i++ {
		time.Sleep(400 * time.Millisecond)
		if _, err := io.WriteString(conn, "system_powerdown\n"); err != nil {
			return err
		}
	}
	time.Sleep(200 * time.Millisecond) // let the last command reach QEMU
	conn.Close()
	<-done
	return nil
}

// checkConsole checks each run's exit status, RESULT line and button events.
func checkConsole(t *testing.T, console string, runs []guestRun) {
	t.Helper()
	for _, r := range runs {
		section, ok := runSection(console, r.name)
		if !ok {
			t.Errorf("%s: no complete run on the console", r.name)
			continue
		}
		result := ""
		events := 0
		for _, line := range strings.Split(section, "\n") {
			if strings.HasPrefix(line, "RESULT ") {
				result = line
			}
			if strings.HasPrefix(line, "EVENT ") || strings.HasPrefix(line, "button pressed at ") {
				events++
			}
		}
		switch {
		case r.wantFail != "":
			if !strings.HasPrefix(result, "RESULT fail") || !strings.Contains(result, r.wantFail) {
				t.Errorf("%s: result %q, want a failure naming %s", r.name, result, r.wantFail)
			}
		case !strings.HasPrefix(result, "RESULT ok"):
			t.Errorf("%s: result %q, want ok", r.name, result)
		case events != r.pulses:
			// The driver promises one event per press: the release, and
			// the edges around it, must not count.
			t.Errorf("%s: guest saw %d button presses, host sent %d", r.name, events, r.pulses)
		default:
			t.Logf("%s: %s", r.name, result)
		}
	}
}

// runSection is the console between "RUN name" and "EXIT name".
func runSection(console, name string) (string, bool) {
	_, after, ok := strings.Cut(console, "RUN "+name+"\n")
	if !ok {
		return "", false
	}
	section, _, ok := strings.Cut(after, "EXIT "+name+" ")
	return section, ok
}

// checkTrace compares, run by run, every line's traced history with the
// expected one, and the button pulses QEMU drove with the presses sent.
func checkTrace(t *testing.T, path string, marks map[string]int64, runs []guestRun) {
	t.Helper()
	trace, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var (
		level [8]int // QEMU resets every pin to 0
		from  int64
		sent  int
		drove int
	)
	for _, r := range runs {
		to, ok := marks[r.name]
		if !ok || to < from || to > int64(len(trace)) {
			t.Errorf("%s: no trace mark (%d, previous %d, size %d)", r.name, to, from, len(trace))
			return
		}
		events, err := parseTrace(bytes.NewReader(trace[from:to]))
		if err != nil {
			t.Fatalf("%s: %v", r.name, err)
		}
		got, want := histories(events, level), expect(r, level)
		for line := range got {
			if fmt.Sprint(got[line]) != fmt.Sprint(want[line]) {
				t.Errorf("%s: line %d (%s): traced levels %v, want %v", r.name, line, lineNames[line], got[line], want[line])
			}
		}
		// Lamps and buzzer off on exit, said once more on its own so that
		// a failure reads plainly.
		for role, w := range r.lines {
			if w.off >= 0 && role != "button" && got[w.off].last() != want[w.off].last() {
				t.Errorf("%s: %s (line %d) left at level %d after exit, want %d (inactive)",
					r.name, role, w.off, got[w.off].last(), want[w.off].last())
			}
		}
		for i := range level {
			level[i] = got[i].last()
		}
		sent += r.pulses
		drove += pulses(events, buttonLine)
		from = to
	}
	if drove != sent {
		t.Errorf("QEMU drove pin %d high %d times, want %d", buttonLine, drove, sent)
	}
}

// run runs a helper tool, failing the test on error.
func run(t *testing.T, name string, args ...string) {
	t.Helper()
	if out, err := exec.Command(name, args...).CombinedOutput(); err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
}
