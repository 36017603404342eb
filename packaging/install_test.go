package packaging

import (
	"crypto/md5"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/switchtap/switchtap/internal/testenv"
)

// scratchRoot makes an empty system for dpkg --root: a dpkg database and
// the passwd and group files of a root-only system.
func scratchRoot(t *testing.T) string {
	t.Helper()
	r := t.TempDir()
	for _, d := range []string{"var/lib/dpkg/info", "var/lib/dpkg/updates", "var/lib/dpkg/triggers", "etc"} {
		if err := os.MkdirAll(filepath.Join(r, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for f, body := range map[string]string{
		"var/lib/dpkg/status": "", "var/lib/dpkg/available": "",
		"etc/passwd": "root:x:0:0:root:/root:/bin/sh\n", "etc/group": "root:x:0:\n",
		"etc/shadow": "root:*:20000:0:99999:7:::\n", "etc/gshadow": "root:*::\n",
	} {
		if err := os.WriteFile(filepath.Join(r, f), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return r
}

// dpkgIn runs dpkg on the scratch root with the maintainer scripts run
// outside a chroot (they see the root as DPKG_ROOT), and returns what it
// printed.
func dpkgIn(t *testing.T, root string, args ...string) string {
	t.Helper()
	all := append([]string{"--root=" + root, "--force-script-chrootless", "--force-depends"}, args...)
	out, err := exec.Command("dpkg", all...).CombinedOutput()
	if err != nil {
		t.Fatalf("dpkg %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

func statOf(t *testing.T, path string) (os.FileMode, uint32, uint32) {
	t.Helper()
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	sys := st.Sys().(*syscall.Stat_t)
	return st.Mode(), sys.Uid, sys.Gid
}

var passwdRe = regexp.MustCompile(`(?m)^switchtap:x:(\d+):(\d+):[^:]*:/var/lib/switchtap:/usr/sbin/nologin$`)

// testInstall installs the package into a scratch root with dpkg, runs its
// postinst there, and checks what an installed system holds: the system
// user and group, the private data directory, the configuration readable
// by the group only and registered as a conffile, a unit systemd-analyze
// verifies; then an upgrade in place, a remove (the configuration and the
// data stay) and a purge (the configuration goes, the data stays).
func testInstall(t *testing.T, deb string) {
	if os.Geteuid() != 0 {
		testenv.SkipOrFail(t, "needs root: dpkg gives the files to root, the postinst chowns")
	}
	for _, tool := range []string{"dpkg", "dpkg-query", "systemd-sysusers"} {
		if _, err := exec.LookPath(tool); err != nil {
			testenv.SkipOrFail(t, tool+" not installed")
		}
	}
	r := scratchRoot(t)
	dpkgIn(t, r, "--install", deb)

	pw, _ := os.ReadFile(filepath.Join(r, "etc/passwd"))
	m := passwdRe.FindStringSubmatch(string(pw))
	if m == nil {
		t.Fatalf("no switchtap system user:\n%s", pw)
	}
	uid, _ := strconv.Atoi(m[1])
	gid, _ := strconv.Atoi(m[2])
	if uid == 0 || uid >= 1000 {
		t.Fatalf("uid %d is not a system uid", uid)
	}
	if gr, _ := os.ReadFile(filepath.Join(r, "etc/group")); !strings.Contains(string(gr), "\nswitchtap:x:"+m[2]+":") {
		t.Fatalf("no group switchtap %s:\n%s", m[2], gr)
	}
	checkMode := func(path string, mode os.FileMode, wantUID, wantGID int) {
		t.Helper()
		got, u, g := statOf(t, filepath.Join(r, path))
		if got.Perm() != mode || int(u) != wantUID || int(g) != wantGID {
			t.Errorf("%s: %v %d:%d, want %v %d:%d", path, got.Perm(), u, g, mode, wantUID, wantGID)
		}
	}
	checkMode("var/lib/switchtap", 0o700, uid, gid)
	checkMode("etc/switchtap/switchtap.yaml", 0o640, 0, gid)
	checkMode("usr/bin/switchtap", 0o755, 0, 0)

	src, err := os.ReadFile(filepath.Join(moduleRoot(t), "deploy", "switchtap.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	sum := md5.Sum(src)
	q, err := exec.Command("dpkg-query", "--root="+r, "-W", "-f=${Status}|${Conffiles}", "switchtap").Output()
	if err != nil {
		t.Fatal(err)
	}
	if want := "install ok installed| /etc/switchtap/switchtap.yaml " + hex.EncodeToString(sum[:]); strings.TrimRight(string(q), "\n") != want {
		t.Fatalf("dpkg-query: %q, want %q", q, want)
	}
	verifyUnit(t, r)

	// An upgrade in place (postinst configure with the old version) keeps
	// the user, the modes, and an edited configuration.
	edited := append(src, []byte("# edited by the installer\n")...)
	if err := os.WriteFile(filepath.Join(r, "etc/switchtap/switchtap.yaml"), edited, 0o640); err != nil {
		t.Fatal(err)
	}
	dpkgIn(t, r, "--install", deb)
	if pw2, _ := os.ReadFile(filepath.Join(r, "etc/passwd")); strings.Count(string(pw2), "\nswitchtap:") != 1 {
		t.Fatalf("passwd after upgrade:\n%s", pw2)
	}
	checkMode("var/lib/switchtap", 0o700, uid, gid)
	checkMode("etc/switchtap/switchtap.yaml", 0o640, 0, gid)
	if b, _ := os.ReadFile(filepath.Join(r, "etc/switchtap/switchtap.yaml")); string(b) != string(edited) {
		t.Fatal("the upgrade replaced an edited configuration")
	}

	// Remove: the program and unit go; the configuration and the data stay.
	if err := os.WriteFile(filepath.Join(r, "var/lib/switchtap/records"), []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	dpkgIn(t, r, "--remove", "switchtap")
	q, _ = exec.Command("dpkg-query", "--root="+r, "-W", "-f=${Status}", "switchtap").Output()
	if string(q) != "deinstall ok config-files" {
		t.Fatalf("status after remove %q", q)
	}
	for path, want := range map[string]bool{"usr/bin/switchtap": false, "usr/lib/systemd/system/switchtap.service": false,
		"usr/lib/udev/rules.d/60-switchtap-gpio.rules": false, "etc/switchtap/switchtap.yaml": true, "var/lib/switchtap/records": true} {
		if _, err := os.Stat(filepath.Join(r, path)); (err == nil) != want {
			t.Errorf("after remove %s: exists %v, want %v", path, err == nil, want)
		}
	}
	// Purge: the configuration goes too; the call records stay, and the
	// purge says so.
	out := dpkgIn(t, r, "--purge", "switchtap")
	if !strings.Contains(out, "/var/lib/switchtap (call records and recordings) is kept") {
		t.Errorf("purge did not say the data is kept:\n%s", out)
	}
	for path, want := range map[string]bool{"etc/switchtap": false, "var/lib/switchtap/records": true} {
		if _, err := os.Stat(filepath.Join(r, path)); (err == nil) != want {
			t.Errorf("after purge %s: exists %v, want %v", path, err == nil, want)
		}
	}
}

// verifyUnit runs systemd-analyze verify and security on the unit as
// installed in root. verify needs the targets the unit refers to: the
// host's are copied into root's /etc/systemd/system.
func verifyUnit(t *testing.T, r string) {
	t.Helper()
	if _, err := exec.LookPath("systemd-analyze"); err != nil {
		testenv.SkipOrFail(t, "systemd-analyze not installed")
	}
	units := filepath.Join(r, "etc/systemd/system")
	if err := os.MkdirAll(units, 0o755); err != nil {
		t.Fatal(err)
	}
	targets, _ := filepath.Glob("/usr/lib/systemd/system/*.target")
	slices, _ := filepath.Glob("/usr/lib/systemd/system/*.slice")
	for _, f := range append(targets, slices...) {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(units, filepath.Base(f)), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	out, err := exec.Command("systemd-analyze", "verify", "--root="+r, "--man=no", "switchtap.service").CombinedOutput()
	if err != nil || len(out) != 0 {
		t.Fatalf("systemd-analyze verify: %v\n%s", err, out)
	}
	score := exposure(t, "--root="+r, "switchtap.service")
	if score > maxExposure {
		t.Fatalf("installed unit's exposure %.1f > %.1f", score, maxExposure)
	}
	if err := os.RemoveAll(units); err != nil {
		t.Fatal(err)
	}
}
