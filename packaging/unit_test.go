package packaging

import (
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/switchtap/switchtap/internal/testenv"
)

// maxExposure is the most `systemd-analyze security` may rate the unit
// (issue 12). Measured: 6.2 for the unit before the hardening, 1.9 after.
const maxExposure = 2.0

var exposureRe = regexp.MustCompile(`Overall exposure level for switchtap\.service: (\d+\.\d+)`)

// exposure runs systemd-analyze security offline (no running systemd
// needed: it reads the unit file) and returns the overall exposure.
func exposure(t *testing.T, args ...string) float64 {
	t.Helper()
	cmd := exec.Command("systemd-analyze", append([]string{"security", "--offline=true", "--no-pager"}, args...)...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("systemd-analyze security: %v\n%s", err, out)
	}
	m := exposureRe.FindSubmatch(out)
	if m == nil {
		t.Fatalf("no overall exposure in:\n%s", out)
	}
	v, err := strconv.ParseFloat(string(m[1]), 64)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("exposure %.1f", v)
	return v
}

// TestUnitExposure measures deploy/switchtap.service as shipped.
func TestUnitExposure(t *testing.T) {
	if _, err := exec.LookPath("systemd-analyze"); err != nil {
		testenv.SkipOrFail(t, "systemd-analyze not installed")
	}
	if v := exposure(t, "../deploy/switchtap.service"); v > maxExposure {
		t.Fatalf("exposure %.1f > %.1f", v, maxExposure)
	}
}

// unitSettings reads a unit file's [Service] settings; a key given twice
// keeps every value, in order.
func unitSettings(t *testing.T, path string) map[string][]string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	m := map[string][]string{}
	section := ""
	for _, l := range strings.Split(string(b), "\n") {
		l = strings.TrimSpace(l)
		switch {
		case l == "" || strings.HasPrefix(l, "#"):
		case strings.HasPrefix(l, "["):
			section = l
		case section == "[Service]":
			if k, v, ok := strings.Cut(l, "="); ok {
				m[k] = append(m[k], v)
			}
		}
	}
	return m
}

// TestUnitPrivileges: the unit grants what capture needs and nothing
// else (CAP_NET_RAW: the packet socket and promiscuous mode, see
// daemon/privileges.go), runs as the package's user, writes only its
// state directory, and keeps the two system calls the daemon makes that
// the filter would refuse.
func TestUnitPrivileges(t *testing.T) {
	s := unitSettings(t, "../deploy/switchtap.service")
	for k, want := range map[string]string{
		"User": "switchtap", "Group": "switchtap",
		"AmbientCapabilities": "CAP_NET_RAW", "CapabilityBoundingSet": "CAP_NET_RAW",
		"NoNewPrivileges": "yes", "ProtectSystem": "strict", "ProtectHome": "yes", "PrivateTmp": "yes",
		"StateDirectory": "switchtap", "ReadWritePaths": "/var/lib/switchtap",
		"ExecStart":               "/usr/bin/switchtap run --config /etc/switchtap/switchtap.yaml",
		"RestrictAddressFamilies": "AF_PACKET AF_INET AF_INET6 AF_UNIX AF_NETLINK",
		"DevicePolicy":            "closed", "DeviceAllow": "char-gpiochip rw",
		"SystemCallErrorNumber": "EPERM",
	} {
		if got := strings.Join(s[k], " | "); got != want {
			t.Errorf("%s=%q, want %q", k, got, want)
		}
	}
	if got := strings.Join(s["SystemCallFilter"], " | "); got != "@system-service | ~@privileged @resources | capset @chown" {
		t.Errorf("SystemCallFilter=%q", got)
	}
}
