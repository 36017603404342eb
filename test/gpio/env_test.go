package gpio_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/switchtap/switchtap/internal/testenv"
)

// defaultCache is where setup.sh puts kernels and busybox.
const defaultCache = "/var/cache/switchtap-gpio"

// machine is one emulated board and the guest binary built for it.
type machine struct {
	name   string   // subtest name and cache subdirectory (Debian arch)
	goarch string   // GOARCH of the guest
	goarm  string   // GOARM of the guest, for 32-bit ARM
	qemu   string   // emulator binary
	args   []string // machine and CPU
	// dropKeys removes /gpio-keys from the device tree: armhf kernels have
	// gpio-keys built in, and it would hold pin 3 (the silence button).
	dropKeys bool
}

var machines = []machine{
	{
		name: "arm64", goarch: "arm64", qemu: "qemu-system-aarch64",
		// The virt board's default CPU is 32-bit.
		args: []string{"-M", "virt", "-cpu", "cortex-a57"},
	},
	{
		name: "armhf", goarch: "arm", goarm: "7", qemu: "qemu-system-arm",
		args: []string{"-M", "virt"}, dropKeys: true,
	},
}

// cacheDir is where setup.sh left the kernels.
func cacheDir() string {
	if d := os.Getenv("SWITCHTAP_GPIO_CACHE"); d != "" {
		return d
	}
	return defaultCache
}

// requireMachine skips the test when m cannot be booted here, or fails it
// when SWITCHTAP_REQUIRE_ALL=1 says it must run (CI), so that a missing
// kernel never turns the check into a silent skip.
func requireMachine(t *testing.T, m machine) {
	t.Helper()
	var missing []string
	for _, tool := range []string{m.qemu, "fdtput", "fdtget", "timeout"} {
		if _, err := exec.LookPath(tool); err != nil {
			missing = append(missing, tool)
		}
	}
	for _, f := range []string{"vmlinuz", "busybox"} {
		p := filepath.Join(cacheDir(), m.name, f)
		if fi, err := os.Stat(p); err != nil || fi.Size() == 0 {
			missing = append(missing, p)
		}
	}
	if len(missing) == 0 {
		return
	}
	msg := "missing " + strings.Join(missing, ", ") + " (run test/gpio/setup.sh)"
	testenv.SkipOrFail(t, msg)
}

// moduleRoot returns the folder with go.mod (see testenv.ModuleRoot).
func moduleRoot(t *testing.T) string {
	t.Helper()
	dir, err := testenv.ModuleRoot()
	if err != nil {
		t.Fatalf("go.mod not found above the working directory: %v", err)
	}
	return dir
}

// buildGuest cross-compiles ./guest for m, statically.
func buildGuest(t *testing.T, m machine, out string) {
	t.Helper()
	// go test puts its own GOROOT/bin first in PATH.
	cmd := exec.Command("go", "build", "-trimpath", "-o", out, "./test/gpio/guest")
	cmd.Dir = moduleRoot(t)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+m.goarch, "GOARM="+m.goarm)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building the guest for %s: %v\n%s", m.name, err, b)
	}
}
