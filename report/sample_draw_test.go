package report

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// updateSample rewrites the sample's golden files; -update (if the
// package's other tests define it) does too.
var updateSample = flag.Bool("update-sample", false, "rewrite testdata/sample* golden files")

func smpUpdate() bool {
	if *updateSample {
		return true
	}
	f := flag.Lookup("update")
	return f != nil && f.Value.String() == "true"
}

// smpFrame is a frame of three receptionists with 120, 60 and 7 calls, ids
// interleaved as a month's records would be.
func smpFrame() []FrameEntry {
	var f []FrameEntry
	ops := []string{"Ana", "Beatriz", "Carlos"}
	counts := map[string]int{}
	want := map[string]int{"Ana": 120, "Beatriz": 60, "Carlos": 7}
	for i := 0; len(f) < 187; i++ {
		op := ops[i%3]
		if counts[op] == want[op] {
			continue
		}
		counts[op]++
		f = append(f, FrameEntry{ID: fmt.Sprintf("r-202603-%05d", i), Operator: op})
	}
	return f
}

// TestDrawGolden: the same seed and frame give the same sample, the one in
// testdata/sample_draw.golden.json, on every platform (the test binary is
// also run for arm64 under qemu-aarch64 against the same file).
func TestDrawGolden(t *testing.T) {
	d := SampleOptions{}.design()
	dr, err := DrawFrame(smpFrame(), d, GeneratorPCGv1, 20260301)
	if err != nil {
		t.Fatal(err)
	}
	got, err := json.MarshalIndent(struct {
		FrameHash string `json:"frame_hash"`
		Design    Design `json:"design"`
		Draw      Draw   `json:"draw"`
	}{FrameHash(smpFrame()), d, dr}, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	got = append(got, '\n')
	path := filepath.Join("testdata", "sample_draw.golden.json")
	if smpUpdate() {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("draw differs from %s (-update-sample to rewrite):\n%s", path, got)
	}
	// Sanity of the golden itself: Cochran over 187 at ±10 % is
	// ⌈96.04/(1+95.04/187)⌉ = ⌈63.68⌉ = 64; Carlos (7 calls, quota 2.4)
	// is lifted to the floor of 5, Ana and Beatriz share 59 as 39.33 and
	// 19.67, the remainder going to Beatriz.
	if dr.NCochran != 64 || dr.N != 64 {
		t.Errorf("n_cochran %d, n %d, want 64, 64", dr.NCochran, dr.N)
	}
	wantAlloc := []Stratum{{"Ana", 120, 39, 10}, {"Beatriz", 60, 20, 10}, {"Carlos", 7, 5, 2}}
	if !slices.Equal(dr.Allocation, wantAlloc) {
		t.Errorf("allocation %+v, want %+v", dr.Allocation, wantAlloc)
	}
}

// TestDrawReference compares pcg-v1 with an independent Python
// implementation of its specification (rng.go): PCG-DXSM words, Lemire's
// bound, partial Fisher–Yates per stratum in one stream.
func TestDrawReference(t *testing.T) {
	var frame []FrameEntry
	for i := range 10 {
		frame = append(frame, FrameEntry{ID: fmt.Sprintf("a%02d", i), Operator: "x"})
	}
	for i := range 4 {
		frame = append(frame, FrameEntry{ID: fmt.Sprintf("b%02d", i), Operator: "y"})
	}
	dr, err := DrawFrame(frame, Design{Method: MethodFixed, PerOperator: 3, Reserves: 2}, GeneratorPCGv1, 1)
	if err != nil {
		t.Fatal(err)
	}
	ids := func(items []Item) []string {
		var s []string
		for _, it := range items {
			s = append(s, it.ID)
		}
		return s
	}
	wantItems := []string{"a05", "a01", "a07", "b02", "b03", "b01"}
	wantReserves := []string{"a03", "a08", "b00"}
	if !slices.Equal(ids(dr.Items), wantItems) || !slices.Equal(ids(dr.Reserves), wantReserves) {
		t.Errorf("items %v reserves %v, want %v %v", ids(dr.Items), ids(dr.Reserves), wantItems, wantReserves)
	}
}

func TestDrawDeterministicAndDistinct(t *testing.T) {
	frame := smpFrame()
	d := SampleOptions{}.design()
	a, _ := DrawFrame(frame, d, GeneratorPCGv1, 42)
	b, _ := DrawFrame(frame, d, GeneratorPCGv1, 42)
	c, _ := DrawFrame(frame, d, GeneratorPCGv1, 43)
	if !slices.Equal(a.Items, b.Items) || !slices.Equal(a.Reserves, b.Reserves) {
		t.Fatal("same seed, different draw")
	}
	if slices.Equal(a.Items, c.Items) {
		t.Fatal("seeds 42 and 43 drew the same sample")
	}
	// Without replacement: no id twice across items and reserves, each in
	// its own stratum.
	op := map[string]string{}
	for _, e := range frame {
		op[e.ID] = e.Operator
	}
	seen := map[string]bool{}
	for _, it := range append(slices.Clone(a.Items), a.Reserves...) {
		if seen[it.ID] {
			t.Fatalf("%s drawn twice", it.ID)
		}
		seen[it.ID] = true
		if op[it.ID] != it.Operator {
			t.Fatalf("%s drawn for %s, belongs to %s", it.ID, it.Operator, op[it.ID])
		}
	}
}

// TestDrawUnbiased draws 2 000 samples (seeds 1…2000, so it cannot flake)
// over a fixed frame and tests, per stratum, that every call is sampled
// equally often, and that every call is equally often the first reserve.
// Selection counts of a without-replacement draw of n_h of N_h have
// variance D·π(1−π), π = n_h/N_h, and sum to D·n_h, so Σ(O−E)²/(E(1−π))
// follows χ² with N_h−1 degrees of freedom. p must exceed 0.001.
func TestDrawUnbiased(t *testing.T) {
	frame := smpFrame()
	d := SampleOptions{}.design()
	const draws = 2000
	picked := map[string]int{}
	first := map[string]int{}
	var alloc []Stratum
	for seed := uint64(1); seed <= draws; seed++ {
		dr, err := DrawFrame(frame, d, GeneratorPCGv1, seed)
		if err != nil {
			t.Fatal(err)
		}
		alloc = dr.Allocation
		for _, it := range dr.Items {
			picked[it.ID]++
		}
		for _, it := range dr.Reserves {
			if it.Rank == 1 {
				first[it.ID]++
			}
		}
	}
	for _, st := range stratify(frame) {
		var nh int
		for _, a := range alloc {
			if a.Operator == st.operator {
				nh = a.N
			}
		}
		t.Run(st.operator, func(t *testing.T) {
			N := float64(len(st.ids))
			if nh == len(st.ids) {
				t.Skip("stratum taken whole")
			}
			pi := float64(nh) / N
			e := draws * pi
			var chi float64
			for _, id := range st.ids {
				o := float64(picked[id])
				chi += (o - e) * (o - e) / (e * (1 - pi))
			}
			p := chiSquareSurvival(chi, N-1)
			t.Logf("sample: n_h %d of %d, χ² %.2f, df %.0f, p %.4f", nh, len(st.ids), chi, N-1, p)
			if p <= 0.001 {
				t.Errorf("selection biased: χ² %.2f, df %.0f, p %.6f", chi, N-1, p)
			}
			// First reserve: uniform over the N_h calls (a multinomial
			// count over draws: plain Pearson χ²).
			e1 := draws / N
			chi = 0
			for _, id := range st.ids {
				o := float64(first[id])
				chi += (o - e1) * (o - e1) / e1
			}
			p = chiSquareSurvival(chi, N-1)
			t.Logf("first reserve: χ² %.2f, p %.4f", chi, p)
			if p <= 0.001 {
				t.Errorf("first reserve biased: χ² %.2f, df %.0f, p %.6f", chi, N-1, p)
			}
		})
	}
}

// chiSquareSurvival returns P(X ≥ x) for X ~ χ²(k): the regularized upper
// incomplete gamma Q(k/2, x/2), by its series below a+1 and its continued
// fraction above (Numerical Recipes, 3rd ed., §6.2).
func chiSquareSurvival(x, k float64) float64 {
	a, z := k/2, x/2
	if z <= 0 {
		return 1
	}
	lg, _ := math.Lgamma(a)
	if z < a+1 {
		sum, term := 1/a, 1/a
		for n := 1.0; n < 1000; n++ {
			term *= z / (a + n)
			sum += term
			if math.Abs(term) < math.Abs(sum)*1e-15 {
				break
			}
		}
		return 1 - sum*math.Exp(-z+a*math.Log(z)-lg)
	}
	const tiny = 1e-300
	b := z + 1 - a
	c := 1 / tiny
	dd := 1 / b
	h := dd
	for i := 1.0; i < 1000; i++ {
		an := -i * (i - a)
		b += 2
		dd = an*dd + b
		if math.Abs(dd) < tiny {
			dd = tiny
		}
		c = b + an/c
		if math.Abs(c) < tiny {
			c = tiny
		}
		dd = 1 / dd
		del := dd * c
		h *= del
		if math.Abs(del-1) < 1e-15 {
			break
		}
	}
	return math.Exp(-z+a*math.Log(z)-lg) * h
}

func TestChiSquareSurvival(t *testing.T) {
	// Reference values: the 5 % critical values of χ²(1) and χ²(10),
	// R's pchisq(5, 5, lower.tail = FALSE), and for even k the closed form
	// Q = e^(−x/2)·Σ_{i<k/2} (x/2)^i/i! computed apart.
	tests := []struct{ x, k, want float64 }{
		{3.841459, 1, 0.05},
		{18.30704, 10, 0.05},
		{5, 5, 0.4158802},
		{30, 10, 0.0008566412},
		{10, 2, 0.006737947},
		{60, 60, 0.4757170},
		{130, 120, 0.2510624},
	}
	for _, tt := range tests {
		if got := chiSquareSurvival(tt.x, tt.k); math.Abs(got-tt.want) > 1e-4 {
			t.Errorf("Q(%v; %v) = %v, want %v", tt.x, tt.k, got, tt.want)
		}
	}
}

func BenchmarkDrawFrame(b *testing.B) {
	frame := smpFrame()
	d := SampleOptions{}.design()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := DrawFrame(frame, d, GeneratorPCGv1, 1); err != nil {
			b.Fatal(err)
		}
	}
}
