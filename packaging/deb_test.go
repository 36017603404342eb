package packaging

import (
	"bufio"
	"bytes"
	"debug/elf"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/switchtap/switchtap/internal/testenv"
)

// testVersion is given to build-deb.sh as `git describe` would print it.
const (
	testVersion    = "v1.2.3-4-gabcdef0"
	testDebVersion = "1.2.3+4+gabcdef0"
)

// goArch is how each Debian architecture is built (as make cross does).
var goArch = map[string][]string{
	"amd64": {"GOARCH=amd64"},
	"arm64": {"GOARCH=arm64"},
	"armhf": {"GOARCH=arm", "GOARM=7"},
}

// elfMachine is the machine each package's binary must be for.
var elfMachine = map[string]elf.Machine{"amd64": elf.EM_X86_64, "arm64": elf.EM_AARCH64, "armhf": elf.EM_ARM}

// hostDeb is the Debian architecture of this machine, "" if none of ours.
func hostDeb() string {
	switch runtime.GOARCH {
	case "amd64", "arm64":
		return runtime.GOARCH
	case "arm":
		return "armhf"
	}
	return ""
}

func needTool(t *testing.T, tools ...string) {
	t.Helper()
	for _, tool := range tools {
		if _, err := exec.LookPath(tool); err != nil {
			testenv.SkipOrFail(t, tool+" not installed (Debian's dpkg)")
		}
	}
}

func moduleRoot(t *testing.T) string {
	t.Helper()
	root, err := testenv.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	return root
}

// buildDeb builds the static binary for arch and packages it, returning
// the .deb's path.
func buildDeb(t *testing.T, arch string) string {
	t.Helper()
	root := moduleRoot(t)
	dir := t.TempDir()
	bin := filepath.Join(dir, "switchtap")
	cmd := exec.Command("go", "build", "-trimpath", "-ldflags", "-s -w -X main.version="+testVersion, "-o", bin, "./cmd/switchtap")
	cmd.Dir = root
	cmd.Env = append(append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux"), goArch[arch]...)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build %s: %v\n%s", arch, err, out)
	}
	out, err := exec.Command(filepath.Join(root, "packaging", "build-deb.sh"), testVersion, arch, bin, dir).Output()
	if err != nil {
		t.Fatalf("build-deb.sh %s: %v", arch, err)
	}
	deb := strings.TrimSpace(string(out))
	if want := filepath.Join(dir, "switchtap_"+testDebVersion+"_"+arch+".deb"); deb != want {
		t.Fatalf("package %s, want %s", deb, want)
	}
	return deb
}

func run(t *testing.T, name string, args ...string) string {
	t.Helper()
	var stderr bytes.Buffer
	cmd := exec.Command(name, args...)
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s%s", name, strings.Join(args, " "), err, out, stderr.String())
	}
	return string(out)
}

// wantContents is every path of the package with its mode and owner
// (dpkg-deb --contents), directories with a trailing slash.
var wantContents = []string{
	"drwxr-xr-x root/root ./",
	"drwxr-xr-x root/root ./etc/",
	"drwxr-xr-x root/root ./etc/switchtap/",
	"-rw-r----- root/root ./etc/switchtap/switchtap.yaml",
	"drwxr-xr-x root/root ./usr/",
	"drwxr-xr-x root/root ./usr/bin/",
	"-rwxr-xr-x root/root ./usr/bin/switchtap",
	"drwxr-xr-x root/root ./usr/lib/",
	"drwxr-xr-x root/root ./usr/lib/systemd/",
	"drwxr-xr-x root/root ./usr/lib/systemd/system/",
	"-rw-r--r-- root/root ./usr/lib/systemd/system/switchtap.service",
	"drwxr-xr-x root/root ./usr/lib/sysusers.d/",
	"-rw-r--r-- root/root ./usr/lib/sysusers.d/switchtap.conf",
	"drwxr-xr-x root/root ./usr/lib/udev/",
	"drwxr-xr-x root/root ./usr/lib/udev/rules.d/",
	"-rw-r--r-- root/root ./usr/lib/udev/rules.d/60-switchtap-gpio.rules",
	"drwxr-xr-x root/root ./usr/share/",
	"drwxr-xr-x root/root ./usr/share/doc/",
	"drwxr-xr-x root/root ./usr/share/doc/switchtap/",
	"-rw-r--r-- root/root ./usr/share/doc/switchtap/README.md",
	"-rw-r--r-- root/root ./usr/share/doc/switchtap/changelog.gz",
	"-rw-r--r-- root/root ./usr/share/doc/switchtap/copyright",
	"drwxr-xr-x root/root ./usr/share/lintian/",
	"drwxr-xr-x root/root ./usr/share/lintian/overrides/",
	"-rw-r--r-- root/root ./usr/share/lintian/overrides/switchtap",
}

// contents lists the package as "mode owner path".
func contents(t *testing.T, deb string) []string {
	t.Helper()
	var out []string
	sc := bufio.NewScanner(strings.NewReader(run(t, "dpkg-deb", "--contents", deb)))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 6 {
			t.Fatalf("contents line %q", sc.Text())
		}
		out = append(out, f[0]+" "+f[1]+" "+f[len(f)-1])
	}
	sort.Strings(out)
	return out
}

// control parses a control file's fields (continuation lines dropped).
func control(s string) map[string]string {
	m := map[string]string{}
	for _, l := range strings.Split(s, "\n") {
		if k, v, ok := strings.Cut(l, ":"); ok && !strings.HasPrefix(l, " ") {
			m[k] = strings.TrimSpace(v)
		}
	}
	return m
}

// TestDeb builds the package for every architecture (the host's only with
// -short) and checks each: the control fields, every file with its mode,
// the conffile, the maintainer scripts as in packaging/debian, and a
// static binary for the package's machine.
func TestDeb(t *testing.T) {
	needTool(t, "dpkg-deb", "go")
	archs := []string{"amd64", "arm64", "armhf"}
	if testing.Short() {
		archs = []string{hostDeb()}
	}
	root := moduleRoot(t)
	for _, arch := range archs {
		t.Run(arch, func(t *testing.T) {
			t.Parallel()
			deb := buildDeb(t, arch)
			c := control(run(t, "dpkg-deb", "--field", deb))
			for k, v := range map[string]string{"Package": "switchtap", "Version": testDebVersion, "Architecture": arch,
				"Depends": "adduser", "Section": "net"} {
				if c[k] != v {
					t.Errorf("control %s: %q, want %q", k, c[k], v)
				}
			}
			if n, err := strconv.Atoi(c["Installed-Size"]); err != nil || n < 1000 {
				t.Errorf("Installed-Size %q", c["Installed-Size"])
			}
			got := contents(t, deb)
			want := append([]string(nil), wantContents...)
			sort.Strings(want)
			if strings.Join(got, "\n") != strings.Join(want, "\n") {
				t.Errorf("contents:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
			info := run(t, "dpkg-deb", "--info", deb)
			for _, f := range []string{"conffiles", "postinst", "prerm", "postrm"} {
				if !regexp.MustCompile(`(?m)^\s+\d+ bytes,\s+\d+ lines\s+(\*\s+)?` + f + `\b`).MatchString(info) {
					t.Errorf("control archive has no %s:\n%s", f, info)
				}
			}
			ctl := t.TempDir()
			run(t, "dpkg-deb", "--control", deb, ctl)
			for _, f := range []string{"conffiles", "postinst", "prerm", "postrm"} {
				have, err := os.ReadFile(filepath.Join(ctl, f))
				if err != nil {
					t.Fatal(err)
				}
				src, err := os.ReadFile(filepath.Join(root, "packaging", "debian", f))
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(have, src) {
					t.Errorf("%s differs from packaging/debian/%s", f, f)
				}
				if st, _ := os.Stat(filepath.Join(ctl, f)); f != "conffiles" && st.Mode().Perm() != 0o755 {
					t.Errorf("%s mode %v", f, st.Mode())
				}
			}
			if cf, _ := os.ReadFile(filepath.Join(ctl, "conffiles")); string(cf) != "/etc/switchtap/switchtap.yaml\n" {
				t.Errorf("conffiles %q", cf)
			}
			// The shipped configuration and unit are deploy/'s.
			x := t.TempDir()
			run(t, "dpkg-deb", "--extract", deb, x)
			for pkg, src := range map[string]string{"etc/switchtap/switchtap.yaml": "deploy/switchtap.yaml",
				"usr/lib/systemd/system/switchtap.service": "deploy/switchtap.service"} {
				a, _ := os.ReadFile(filepath.Join(x, pkg))
				b, _ := os.ReadFile(filepath.Join(root, src))
				if len(a) == 0 || !bytes.Equal(a, b) {
					t.Errorf("%s is not %s", pkg, src)
				}
			}
			checkBinary(t, filepath.Join(x, "usr/bin/switchtap"), arch)
			if arch == hostDeb() {
				t.Run("install", func(t *testing.T) { testInstall(t, deb) })
				t.Run("system install with sysusers", func(t *testing.T) { testSandboxInstall(t, deb, true) })
				t.Run("system install with adduser", func(t *testing.T) { testSandboxInstall(t, deb, false) })
				t.Run("lintian", func(t *testing.T) { testLintian(t, deb) })
			}
		})
	}
}

// checkBinary: an executable for the package's machine with no
// interpreter (static, so it runs on any Debian release), and on the host
// it runs and says the version it was built with.
func checkBinary(t *testing.T, path, arch string) {
	t.Helper()
	f, err := elf.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if f.Machine != elfMachine[arch] || f.Type != elf.ET_EXEC {
		t.Errorf("%s: machine %v type %v, want %v executable", arch, f.Machine, f.Type, elfMachine[arch])
	}
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP || p.Type == elf.PT_DYNAMIC {
			t.Errorf("%s: dynamically linked (%v)", arch, p.Type)
		}
	}
	if arch == "armhf" && f.Class != elf.ELFCLASS32 {
		t.Errorf("armhf binary is %v", f.Class)
	}
	if arch == hostDeb() {
		if out := run(t, path, "version"); out != "switchtap "+testVersion+"\n" {
			t.Errorf("version %q", out)
		}
	}
}

// TestDebVersion: git describe's outputs become valid Debian versions.
func TestDebVersion(t *testing.T) {
	script := filepath.Join(moduleRoot(t), "packaging", "build-deb.sh")
	valid := regexp.MustCompile(`^[0-9][A-Za-z0-9.+~]*$`)
	for in, want := range map[string]string{
		"v1.2.3":            "1.2.3",
		"v1.2.3-4-gabcdef0": "1.2.3+4+gabcdef0",
		"1.2.3-dirty":       "1.2.3+dirty",
		"9ce2ca5-dirty":     "9ce2ca5+dirty",
		"dev":               "0~dev",
		"gabc/def ghi":      "0~gabc.def.ghi",
	} {
		got := strings.TrimSpace(run(t, script, "--version-only", in))
		if got != want || !valid.MatchString(got) {
			t.Errorf("%q: %q, want %q", in, got, want)
		}
	}
	if err := exec.Command(script, "1.0", "mips", "/nonexistent", t.TempDir()).Run(); err == nil {
		t.Error("an unknown architecture was packaged")
	}
}

// TestUdevRule: the rule gives the GPIO chips, and only them, to group
// switchtap, read-write for the group alone.
func TestUdevRule(t *testing.T) {
	b, err := os.ReadFile("udev/60-switchtap-gpio.rules")
	if err != nil {
		t.Fatal(err)
	}
	var rules []string
	for _, l := range strings.Split(string(b), "\n") {
		if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "#") {
			rules = append(rules, l)
		}
	}
	want := `SUBSYSTEM=="gpio", KERNEL=="gpiochip[0-9]*", GROUP="switchtap", MODE="0660"`
	if len(rules) != 1 || rules[0] != want {
		t.Fatalf("rules %q, want %q", rules, want)
	}
	if sys, _ := os.ReadFile("sysusers/switchtap.conf"); !regexp.MustCompile(`(?m)^u switchtap - "[^"]+" /var/lib/switchtap /usr/sbin/nologin$`).Match(sys) {
		t.Fatalf("sysusers entry:\n%s", sys)
	}
}

// testLintian runs lintian on the package (CI installs it; a laptop
// without it skips). Errors fail; warnings are logged.
func testLintian(t *testing.T, deb string) {
	if _, err := exec.LookPath("lintian"); err != nil {
		testenv.SkipOrFail(t, "lintian not installed")
	}
	out, _ := exec.Command("lintian", "--tag-display-limit", "0", deb).CombinedOutput()
	var errs []string
	for _, l := range strings.Split(string(out), "\n") {
		if strings.HasPrefix(l, "E: ") {
			errs = append(errs, l)
		}
	}
	t.Logf("lintian:\n%s", out)
	if len(errs) > 0 {
		t.Fatalf("lintian errors:\n%s", strings.Join(errs, "\n"))
	}
}
