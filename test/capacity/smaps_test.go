package capacity_test

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// residentSet is the daemon's resident set split by what the pages are
// (from /proc/PID/smaps), so that VmRSS can be read against issue 12's
// 64 MB: the Go heap and stacks are the daemon's own; the capture ring is
// kernel memory mapped into it; the binary's and the store's file pages
// are page cache the kernel may take back.
type residentSet struct {
	// anonKB is anonymous memory: the Go heap, stacks, runtime.
	anonKB float64
	// ringKB is the packet socket's mmapped ring (TPACKET_V3).
	ringKB float64
	// binaryKB is the executable's own pages.
	binaryKB float64
	// storeKB is files mapped from the data directory: badger's value
	// log and memtable files (it mmaps both).
	storeKB float64
	// otherKB is any other file mapped.
	otherKB float64
}

func (r residentSet) String() string {
	return fmt.Sprintf("anonymous %.1f MB, capture ring %.1f MB, binary %.1f MB, store's mmapped files %.1f MB, other files %.1f MB",
		r.anonKB/1024, r.ringKB/1024, r.binaryKB/1024, r.storeKB/1024, r.otherKB/1024)
}

// totalKB is the sum of the parts (VmRSS, as smaps counts it).
func (r residentSet) totalKB() float64 {
	return r.anonKB + r.ringKB + r.binaryKB + r.storeKB + r.otherKB
}

// exePath is the executable of pid, as its mappings name it.
func exePath(pid int) (string, error) {
	exe, err := os.Readlink(fmt.Sprintf("/proc/%d/exe", pid))
	if err != nil {
		return "", fmt.Errorf("executable of %d: %w", pid, err)
	}
	return exe, nil
}

// readResidentSet reads /proc/PID/smaps of pid, whose executable is exe
// and whose store is under dataDir.
func readResidentSet(pid int, exe, dataDir string) (residentSet, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/smaps", pid))
	if err != nil {
		return residentSet{}, fmt.Errorf("resident set of %d: %w", pid, err)
	}
	defer f.Close()
	rs, err := parseSmaps(f, exe, dataDir)
	if err != nil {
		return residentSet{}, fmt.Errorf("/proc/%d/smaps: %w", pid, err)
	}
	return rs, nil
}

// parseSmaps sums the Rss of each mapping of smaps (proc(5)) by kind;
// exe is the executable's path, as the mappings name it, dataDir the
// store's directory.
func parseSmaps(r io.Reader, exe, dataDir string) (residentSet, error) {
	storePrefix := filepath.Clean(dataDir) + string(filepath.Separator)
	var rs residentSet
	kind := (*float64)(nil)
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		line := sc.Text()
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		// A mapping's header: "start-end perms offset dev inode [path]".
		if len(f) >= 5 && strings.Contains(f[0], "-") && !strings.HasSuffix(f[0], ":") {
			path := ""
			if len(f) >= 6 {
				path = strings.Join(f[5:], " ")
			}
			switch {
			case path == "" || strings.HasPrefix(path, "["):
				kind = &rs.anonKB
			case strings.HasPrefix(path, "socket:"):
				kind = &rs.ringKB
			case path == exe:
				kind = &rs.binaryKB
			case strings.HasPrefix(path, storePrefix):
				kind = &rs.storeKB
			default:
				kind = &rs.otherKB
			}
			continue
		}
		if f[0] != "Rss:" {
			continue
		}
		if kind == nil || len(f) != 3 || f[2] != "kB" {
			return residentSet{}, fmt.Errorf("%w: %q", errFormat, line)
		}
		kb, err := strconv.ParseFloat(f[1], 64)
		if err != nil {
			return residentSet{}, fmt.Errorf("%w: %q: %w", errFormat, line, err)
		}
		*kind += kb
	}
	if err := sc.Err(); err != nil {
		return residentSet{}, err
	}
	return rs, nil
}

func TestParseSmaps(t *testing.T) {
	const exe, dataDir = "/usr/bin/switchtap", "/var/lib/switchtap/store/"
	tests := []struct {
		name  string
		smaps string
		want  residentSet
		bad   bool
	}{
		{
			name: "every kind",
			smaps: `00400000-010bb000 r-xp 00000000 fe:00 123 /usr/bin/switchtap
Size:              12988 kB
Rss:               10220 kB
180e01400000-180e06000000 rw-p 00000000 00:00 0 
Rss:               70172 kB
7fcbd7aa0000-7fcbd8aa0000 rw-s 00000000 00:09 19378                      socket:[19378]
Rss:               16384 kB
7fcbd5000000-7fcbd7000000 rw-s 00000000 fe:00 77 /var/lib/switchtap/store/000001.vlog
Rss:               12288 kB
7ffd1000-7ffd2000 rw-p 00000000 00:00 0                          [stack]
Rss:                 132 kB
7ffd3000-7ffd4000 r--p 00000000 fe:00 9 /var/lib/switchtap/store-old/x
Rss:                   4 kB
`,
			want: residentSet{anonKB: 70304, ringKB: 16384, binaryKB: 10220, storeKB: 12288, otherKB: 4},
		},
		{name: "empty", smaps: ""},
		{name: "Rss before any mapping", smaps: "Rss: 4 kB\n", bad: true},
		{name: "Rss not a number", smaps: "00400000-00401000 r-xp 00000000 fe:00 1 /usr/bin/switchtap\nRss: x kB\n", bad: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseSmaps(strings.NewReader(tc.smaps), exe, dataDir)
			if (err != nil) != tc.bad {
				t.Fatalf("parseSmaps: %v, want error %v", err, tc.bad)
			}
			if got != tc.want {
				t.Errorf("parseSmaps = %+v, want %+v", got, tc.want)
			}
		})
	}
}

// TestReadResidentSetSelf reads the test's own smaps: the parts add up to
// its VmRSS (within what changed between the two reads) and the binary's
// pages are found.
func TestReadResidentSetSelf(t *testing.T) {
	exe, err := exePath(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	rs, err := readResidentSet(os.Getpid(), exe, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	rss, err := statusKB(os.Getpid(), "VmRSS")
	if err != nil {
		t.Fatal(err)
	}
	if rs.binaryKB <= 0 || rs.anonKB <= 0 {
		t.Errorf("resident set %v: want the binary's pages and anonymous memory", rs)
	}
	if d := rs.totalKB() - rss; d > 0.25*rss || d < -0.25*rss {
		t.Errorf("smaps sums to %.0f kB, VmRSS %.0f kB", rs.totalKB(), rss)
	}
}
