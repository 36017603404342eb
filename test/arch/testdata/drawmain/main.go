// Command drawmain prints, as JSON, everything the monthly sample
// (issue 10 §2) derives from a frame, a design and a seed: the frame hash,
// the design, Cochran's size and DrawFrame's draw. test/arch builds it for
// amd64, arm64 and armv7 and requires the three outputs to be the same
// bytes: the draw must not depend on the word size, the byte order of the
// machine or how its compiler fuses floating-point operations.
//
//	drawmain -frame Ana:120,Beatriz:60,Carlos:7 -seed 20260301
//	drawmain -frame A:40,B:3 -fixed 7 -seed 18446744073709551615
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/switchtap/switchtap/report"
)

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "drawmain:", err)
		os.Exit(2)
	}
}

// output is what one run prints.
type output struct {
	FrameSize int           `json:"frame_size"`
	FrameHash string        `json:"frame_hash"`
	Design    report.Design `json:"design"`
	Draw      report.Draw   `json:"draw"`
}

func run(args []string, w io.Writer) error {
	fs := flag.NewFlagSet("drawmain", flag.ContinueOnError)
	spec := fs.String("frame", "", "strata as name:size,… (ids interleaved across strata)")
	seed := fs.Uint64("seed", 0, "the draw's seed")
	fixed := fs.Int("fixed", 0, "calls per receptionist (a fixed design) instead of Cochran")
	confidence := fs.Float64("confidence", report.DefaultConfidence, "Cochran's confidence")
	margin := fs.Float64("margin", report.DefaultMargin, "Cochran's margin")
	p := fs.Float64("p", report.DefaultP, "Cochran's p")
	floor := fs.Int("floor", report.DefaultFloor, "least calls per receptionist")
	reserves := fs.Int("reserves", report.DefaultReserves, "reserve list per receptionist")
	if err := fs.Parse(args); err != nil {
		return err
	}
	frame, err := buildFrame(*spec)
	if err != nil {
		return err
	}
	// The design is written out field by field: SampleOptions' own
	// defaulting is unexported, and spelling it here also pins what a
	// stored design holds.
	d := report.Design{
		Method:     report.MethodCochran,
		Confidence: *confidence,
		Margin:     *margin,
		P:          *p,
		Z:          report.ZScore(*confidence),
		Floor:      *floor,
		Reserves:   *reserves,
		Strata:     "operator",
		Allocation: report.AllocationLargestRemainderV1,
	}
	if *fixed > 0 {
		d = report.Design{Method: report.MethodFixed, PerOperator: *fixed, Reserves: *reserves, Strata: "operator"}
	}
	dr, err := report.DrawFrame(frame, d, report.GeneratorPCGv1, *seed)
	if err != nil {
		return fmt.Errorf("draw: %w", err)
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", " ")
	return enc.Encode(output{FrameSize: len(frame), FrameHash: report.FrameHash(frame), Design: d, Draw: dr})
}

// buildFrame makes a frame from "name:size,…": ids r-NNNNNN dealt to the
// strata in turn, as a month's record ids interleave receptionists, and
// sorted by id as report.BuildFrame returns a frame.
func buildFrame(spec string) ([]report.FrameEntry, error) {
	type stratum struct {
		name string
		left int
	}
	var strata []stratum
	for part := range strings.SplitSeq(spec, ",") {
		name, size, ok := strings.Cut(part, ":")
		n, err := strconv.Atoi(size)
		if !ok || name == "" || err != nil || n < 0 {
			return nil, fmt.Errorf("-frame %q: want name:size,…", spec)
		}
		strata = append(strata, stratum{name, n})
	}
	var frame []report.FrameEntry
	for i := 0; ; i++ {
		dealt := false
		for j := range strata {
			if strata[j].left == 0 {
				continue
			}
			strata[j].left--
			dealt = true
			frame = append(frame, report.FrameEntry{ID: fmt.Sprintf("r-%06d-%d", i, j), Operator: strata[j].name})
		}
		if !dealt {
			break
		}
	}
	slices.SortFunc(frame, func(a, b report.FrameEntry) int { return strings.Compare(a.ID, b.ID) })
	return frame, nil
}
