package packaging

import (
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"

	"github.com/switchtap/switchtap/internal/testenv"
)

// sandboxScript installs, checks and removes the package with the host's
// own dpkg, as on a real system, inside a private mount namespace whose /
// is an overlay of the host's: every change lands in a tmpfs and vanishes
// with the namespace. Each fact is printed as KEY=value for the test.
const sandboxScript = `set -eu
mount -t tmpfs tmpfs "$W"
mkdir -p "$W/u" "$W/w" "$W/m"
mount -t overlay overlay -o "lowerdir=/,upperdir=$W/u,workdir=$W/w" "$W/m"
for d in proc dev sys; do mount --rbind "/$d" "$W/m/$d"; done
cp "$DEB" "$W/m/tmp/switchtap.deb"
if [ "$NO_SYSUSERS" = 1 ]; then rm -f "$W/m/usr/bin/systemd-sysusers" "$W/m/bin/systemd-sysusers"; fi
chroot "$W/m" /bin/sh -c '
set -u
echo "BEFORE=$(getent passwd switchtap || echo none)"
dpkg -i /tmp/switchtap.deb >/tmp/dpkg.log 2>&1; echo "INSTALL=$?"
cat /tmp/dpkg.log
echo "PASSWD=$(getent passwd switchtap)"
echo "GROUP=$(getent group switchtap | cut -d: -f1)"
echo "DATA=$(stat -c "%a %U %G" /var/lib/switchtap)"
echo "CONF=$(stat -c "%a %U %G" /etc/switchtap/switchtap.yaml)"
out=$(systemd-analyze verify /usr/lib/systemd/system/switchtap.service 2>&1); echo "VERIFY=$?${out:+ $out}"
echo "SECURITY=$(systemd-analyze security --offline=true /usr/lib/systemd/system/switchtap.service 2>&1 | tail -n 1)"
echo "CHECK=$(switchtap config check 2>&1)"
echo "VERSION=$(switchtap version)"
dpkg -r switchtap >/dev/null 2>&1; echo "REMOVE=$?"
echo "KEPT=$(test -f /etc/switchtap/switchtap.yaml && test -d /var/lib/switchtap && echo yes)"
dpkg -P switchtap >/dev/null 2>&1; echo "PURGE=$?"
echo "STATUS=$(dpkg-query -W -f="\${Status}" switchtap 2>&1)"
echo "LEFT=$(ls -d /usr/bin/switchtap /etc/switchtap /usr/lib/systemd/system/switchtap.service /usr/lib/udev/rules.d/60-switchtap-gpio.rules 2>/dev/null | tr "\n" " ")"
'
`

// testSandboxInstall is the issue's `dpkg -i` / `dpkg -r` on a real
// system, made safe to run anywhere: the host's /etc/passwd and dpkg
// database are never touched (see sandboxScript). withSysusers false
// removes systemd-sysusers first, so the postinst's adduser branch runs.
func testSandboxInstall(t *testing.T, deb string, withSysusers bool) {
	if os.Geteuid() != 0 {
		testenv.SkipOrFail(t, "needs root: a mount namespace with an overlay of /")
	}
	for _, tool := range []string{"unshare", "chroot", "dpkg", "systemd-analyze", "adduser"} {
		if _, err := exec.LookPath(tool); err != nil {
			testenv.SkipOrFail(t, tool+" not installed")
		}
	}
	noSysusers := "1"
	if withSysusers {
		noSysusers = "0"
	}
	work := t.TempDir()
	cmd := exec.Command("unshare", "--mount", "--propagation", "private", "sh", "-c", sandboxScript)
	cmd.Env = append(os.Environ(), "W="+work, "DEB="+deb, "NO_SYSUSERS="+noSysusers)
	out, err := cmd.CombinedOutput()
	s := string(out)
	if err != nil && !strings.Contains(s, "INSTALL=") {
		testenv.SkipOrFail(t, "no overlay sandbox here ("+err.Error()+"): "+s)
	}
	facts := map[string]string{}
	for _, l := range strings.Split(s, "\n") {
		if k, v, ok := strings.Cut(l, "="); ok && k == strings.ToUpper(k) && !strings.Contains(k, " ") {
			facts[k] = v
		}
	}
	t.Logf("sandbox:\n%s", s)
	if facts["BEFORE"] != "none" {
		t.Fatalf("the host already has a switchtap user (%s): the test would not show the postinst made it", facts["BEFORE"])
	}
	want := map[string]string{
		"INSTALL": "0",
		"GROUP":   "switchtap",
		"DATA":    "700 switchtap switchtap",
		"CONF":    "640 root switchtap",
		"VERIFY":  "0",
		"CHECK":   "OK /etc/switchtap/switchtap.yaml",
		"VERSION": "switchtap " + testVersion,
		"REMOVE":  "0",
		"KEPT":    "yes",
		"PURGE":   "0",
		"LEFT":    "",
	}
	for k, v := range want {
		if facts[k] != v {
			t.Errorf("%s=%q, want %q", k, facts[k], v)
		}
	}
	if !passwdRe.MatchString(facts["PASSWD"]) {
		t.Errorf("PASSWD=%q: not a system user with home /var/lib/switchtap and no login", facts["PASSWD"])
	}
	if m := exposureRe.FindStringSubmatch(facts["SECURITY"]); m == nil || parseFloat(m[1]) > maxExposure {
		t.Errorf("SECURITY=%q, want exposure ≤ %.1f", facts["SECURITY"], maxExposure)
	}
	if st := facts["STATUS"]; !strings.Contains(st, "no packages found") && !strings.Contains(st, "not-installed") {
		t.Errorf("STATUS=%q after purge", st)
	}
}

func parseFloat(s string) float64 {
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return 1e9
	}
	return v
}
