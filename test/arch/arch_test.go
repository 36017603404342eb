// Package arch_test proves that the monthly sample (issue 10 §2) is the
// same on the board's processors as on the server's: "the same seed and
// frame give the same sample on amd64 and arm64". The report package's own
// golden tests are cross-compiled for arm64 and armv7 and run under QEMU
// user emulation (qemu-aarch64, qemu-arm from Debian's qemu-user), and a
// small program that prints a draw is built for amd64, arm64 and armv7 and
// its outputs compared byte for byte.
//
// Without qemu-user the tests skip, unless SWITCHTAP_REQUIRE_ALL=1 (CI,
// whose .ci/run installs it), which makes that a failure.
package arch_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchtap/switchtap/internal/testenv"
)

// target is one processor the sample must agree on.
type target struct {
	name   string // as the board's release names it
	goarch string
	goarm  string
	qemu   string // the QEMU user emulator of that processor
}

var targets = []target{
	{name: "amd64", goarch: "amd64", qemu: "qemu-x86_64"},
	{name: "arm64", goarch: "arm64", qemu: "qemu-aarch64"},
	{name: "armv7", goarch: "arm", goarm: "7", qemu: "qemu-arm"},
}

// buildBudget bounds one cross build (a cold cache compiles the standard
// library and badger for the target).
const buildBudget = 3 * time.Minute

// runBudget bounds one run under emulation.
const runBudget = time.Minute

// goldenTests are the report tests that pin a draw, a generator's words,
// an allocation or the Cochran table to fixed values: each must run and
// pass on every target. Listing them by name means a renamed test fails
// here instead of silently matching nothing.
var goldenTests = []string{
	"TestDrawGolden",
	"TestDrawReference",
	"TestPCGKnownAnswer",
	"TestBound",
	"TestAllocate",
	"TestCochranTable",
	"TestCochranEdges",
	"TestZScore",
}

// TestReportGoldenUnderQEMU builds report's test binary for arm64 and
// armv7 and runs its golden tests under QEMU in report/, where
// testdata/sample_draw.golden.json is.
func TestReportGoldenUnderQEMU(t *testing.T) {
	root := moduleRoot(t)
	start := time.Now()
	for _, tg := range targets {
		if tg.goarch == runtime.GOARCH {
			// The ordinary `go test ./report` runs these natively.
			continue
		}
		t.Run(tg.name, func(t *testing.T) {
			t.Parallel()
			prefix, how := emulator(t, tg)
			bin := filepath.Join(t.TempDir(), "report.test")
			began := time.Now()
			goBuild(t, root, tg, "test", "-c", "-vet=off", "-o", bin, "./report")
			built := time.Since(began)

			began = time.Now()
			argv := append(prefix, bin, "-test.run", "^("+strings.Join(goldenTests, "|")+")$", "-test.v", "-test.count=1")
			out, err := runIn(t, filepath.Join(root, "report"), argv)
			ran := time.Since(began)
			if err != nil {
				t.Fatalf("report tests on %s: %v\n%s", tg.name, err, out)
			}
			for _, name := range goldenTests {
				if !bytes.Contains(out, []byte("--- PASS: "+name+" ")) {
					t.Errorf("%s did not pass on %s:\n%s", name, tg.name, out)
				}
			}
			for _, bad := range []string{"--- FAIL", "--- SKIP", "no tests to run"} {
				if bytes.Contains(out, []byte(bad)) {
					t.Errorf("%q in the %s run:\n%s", bad, tg.name, out)
				}
			}
			t.Logf("%s: report.test built in %v, %d golden tests passed %s in %v",
				tg.name, built.Round(time.Millisecond), len(goldenTests), how, ran.Round(time.Millisecond))
		})
	}
	t.Cleanup(func() { t.Logf("cross-built and emulated in %v", time.Since(start).Round(time.Millisecond)) })
}

// drawCase is one frame, design and seed given to drawmain.
type drawCase struct {
	name string
	args []string
}

// drawCases reach what could differ between processors: seeds past 2³²
// and 2⁶³ (the PCG state is 128-bit arithmetic on 64-bit words, emulated
// with 32-bit ones on armv7), a frame of tens of thousands of calls (a
// bound near 2¹⁶ and many rejections in Lemire's method), a stratum
// smaller than the floor, a fixed design, and Cochran at 99 % ± 5 %
// (float arithmetic that an arm64 compiler may fuse into FMA).
var drawCases = []drawCase{
	{"golden frame", []string{"-frame", "Ana:120,Beatriz:60,Carlos:7", "-seed", "20260301"}},
	{"seed 0", []string{"-frame", "Ana:120,Beatriz:60,Carlos:7", "-seed", "0"}},
	{"seed max", []string{"-frame", "A:40,B:13,C:2", "-seed", "18446744073709551615"}},
	{"seed 2^63", []string{"-frame", "A:40,B:13,C:2", "-seed", "9223372036854775808", "-fixed", "7"}},
	{"large frame", []string{"-frame", "Ana:31000,Beatriz:17000,Carlos:900,Diana:4", "-seed", "4294967297",
		"-confidence", "0.99", "-margin", "0.05", "-reserves", "25"}},
	{"90 % ± 7 %", []string{"-frame", "A:300,B:200,C:12", "-seed", "77", "-confidence", "0.9", "-margin", "0.07", "-p", "0.3"}},
	{"one call", []string{"-frame", "Solo:1", "-seed", "1"}},
}

// TestDrawSameOnEveryArch builds drawmain for every target and requires
// each case's output to be the same bytes on all of them.
func TestDrawSameOnEveryArch(t *testing.T) {
	root := moduleRoot(t)
	start := time.Now()
	outs := make([][][]byte, len(targets)) // target → case → output
	var mu sync.Mutex
	var timings []string
	t.Run("run", func(t *testing.T) {
		for i, tg := range targets {
			t.Run(tg.name, func(t *testing.T) {
				t.Parallel()
				prefix, how := emulator(t, tg)
				bin := filepath.Join(t.TempDir(), "drawmain")
				began := time.Now()
				goBuild(t, root, tg, "build", "-o", bin, "./test/arch/testdata/drawmain")
				built := time.Since(began)
				began = time.Now()
				var res [][]byte
				for _, c := range drawCases {
					argv := append(append(slices.Clone(prefix), bin), c.args...)
					out, err := runIn(t, root, argv)
					if err != nil {
						t.Fatalf("drawmain %s on %s: %v\n%s", strings.Join(c.args, " "), tg.name, err, out)
					}
					res = append(res, out)
				}
				mu.Lock()
				defer mu.Unlock()
				outs[i] = res
				timings = append(timings, fmt.Sprintf("%s: built in %v, %d draws in %v %s", tg.name,
					built.Round(time.Millisecond), len(drawCases), time.Since(began).Round(time.Millisecond), how))
			})
		}
	})
	for _, s := range timings {
		t.Log(s)
	}
	if t.Failed() {
		return
	}
	// A target whose emulator is missing skipped (not in CI): the others
	// are still compared, if there are two.
	var ran []int
	for ti := range targets {
		if outs[ti] != nil {
			ran = append(ran, ti)
		}
	}
	if len(ran) < 2 {
		testenv.SkipOrFail(t, "fewer than two processors to compare")
	}
	ref := targets[ran[0]]
	for ci, c := range drawCases {
		want := outs[ran[0]][ci]
		checkDrawOutput(t, c, want)
		for _, ti := range ran[1:] {
			if got := outs[ti][ci]; !bytes.Equal(got, want) {
				t.Errorf("%s: %s and %s draw differently\n%s:\n%s\n%s:\n%s", c.name, ref.name, targets[ti].name,
					ref.name, want, targets[ti].name, got)
			}
		}
	}
	t.Logf("%d draws compared across %d processors in %v", len(drawCases), len(targets), time.Since(start).Round(time.Millisecond))
}

// checkDrawOutput requires an output to be a real draw, so that three
// equal outputs cannot be three equal failures: n items drawn, n matching
// the allocation, ids unique.
func checkDrawOutput(t *testing.T, c drawCase, out []byte) {
	t.Helper()
	var got struct {
		FrameSize int    `json:"frame_size"`
		FrameHash string `json:"frame_hash"`
		Draw      struct {
			N          int `json:"n"`
			Allocation []struct {
				N int `json:"n"`
			} `json:"allocation"`
			Items []struct {
				ID string `json:"id"`
			} `json:"items"`
			Reserves []struct {
				ID string `json:"id"`
			} `json:"reserves"`
		} `json:"draw"`
	}
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("%s: drawmain's output is not JSON: %v\n%s", c.name, err, out)
	}
	sum := 0
	for _, a := range got.Draw.Allocation {
		sum += a.N
	}
	seen := map[string]bool{}
	for _, it := range append(got.Draw.Items, got.Draw.Reserves...) {
		if seen[it.ID] {
			t.Errorf("%s: %s drawn twice", c.name, it.ID)
		}
		seen[it.ID] = true
	}
	if got.FrameSize == 0 || len(got.FrameHash) != 64 || got.Draw.N == 0 || len(got.Draw.Items) != got.Draw.N || sum != got.Draw.N {
		t.Errorf("%s: not a draw (frame %d, hash %q, n %d, %d items, allocation sums to %d)",
			c.name, got.FrameSize, got.FrameHash, got.Draw.N, len(got.Draw.Items), sum)
	}
}

// emulator returns what runs a binary of tg here, put before the binary's
// path: nothing for the machine's own processor, else its QEMU user
// emulator (skip or fail when it is not installed); and how, for the log.
func emulator(t *testing.T, tg target) (prefix []string, how string) {
	t.Helper()
	if tg.goarch == runtime.GOARCH {
		return nil, "natively"
	}
	path, err := exec.LookPath(tg.qemu)
	if err != nil {
		testenv.SkipOrFail(t, tg.qemu+" is not installed (Debian package qemu-user)")
	}
	return []string{path}, "under " + tg.qemu
}

// goBuild runs the go command for tg with cgo off, as the board's binaries
// are built (Makefile cross).
func goBuild(t *testing.T, root string, tg target, args ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), buildBudget)
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+tg.goarch)
	if tg.goarm != "" {
		cmd.Env = append(cmd.Env, "GOARM="+tg.goarm)
	}
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("GOARCH=%s GOARM=%s go %s: %v\n%s", tg.goarch, tg.goarm, strings.Join(args, " "), err, out)
	}
}

// runIn runs argv in dir and returns its output, with its stderr after
// it on a failure.
func runIn(t *testing.T, dir string, argv []string) ([]byte, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), runBudget)
	defer cancel()
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Dir = dir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return append(out, stderr.Bytes()...), err
	}
	return out, nil
}

// moduleRoot returns the folder with go.mod.
func moduleRoot(t *testing.T) string {
	t.Helper()
	dir, err := testenv.ModuleRoot()
	if err != nil {
		t.Fatalf("no go.mod above the working directory: %v", err)
	}
	return dir
}
