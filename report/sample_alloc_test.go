package report

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
)

func TestAllocate(t *testing.T) {
	tests := []struct {
		name  string
		n     int
		sizes []int
		floor int
		want  []int
	}{
		// domain.md §6.2: N = 2 000 split 700/600/400/300, n = 323.
		{"domain example", 323, []int{700, 600, 400, 300}, 10, []int{113, 97, 65, 48}},
		{"exact shares", 10, []int{50, 30, 20}, 0, []int{5, 3, 2}},
		{"equal remainders go to the first", 4, []int{3, 3, 3}, 0, []int{2, 1, 1}},
		{"largest remainder", 7, []int{50, 30, 20}, 0, []int{4, 2, 1}},
		{"tie goes to the larger stratum", 5, []int{6, 3, 1}, 0, []int{3, 2, 0}},
		{"floor lifts a small stratum", 20, []int{190, 10}, 5, []int{15, 5}},
		{"stratum smaller than floor gives all", 20, []int{195, 3, 2}, 5, []int{15, 3, 2}},
		{"floors exceed n", 8, []int{100, 100, 100}, 5, []int{5, 5, 5}},
		{"n above frame takes all", 500, []int{10, 20}, 5, []int{10, 20}},
		{"cascade of floors", 30, []int{1000, 40, 30, 20}, 5, []int{15, 5, 5, 5}},
		{"large frame (int64 products)", 370, []int{60000, 40000}, 5, []int{222, 148}},
		{"empty", 10, nil, 5, []int{}},
		{"zero n", 0, []int{10, 10}, 0, []int{0, 0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Allocate(tt.n, tt.sizes, tt.floor)
			if !slices.Equal(got, tt.want) {
				t.Errorf("Allocate(%d, %v, %d) = %v, want %v", tt.n, tt.sizes, tt.floor, got, tt.want)
			}
		})
	}
}

// TestAllocateProperties checks the rules of Allocate over random strata
// (deterministic seeds): Σ = max(min(n, N), Σ lower bounds); every stratum
// between its lower bound and its size; a larger stratum never gets more
// than one call fewer than a smaller one; and the free strata within one
// call of their proportional quota of what the floors left.
func TestAllocateProperties(t *testing.T) {
	r := rand.New(rand.NewPCG(10, 2))
	for trial := range 5000 {
		k := 1 + r.IntN(12)
		sizes := make([]int, k)
		total := 0
		for i := range sizes {
			switch r.IntN(4) {
			case 0:
				sizes[i] = r.IntN(8) // around the floor
			default:
				sizes[i] = r.IntN(2000)
			}
			total += sizes[i]
		}
		n := r.IntN(total + 50)
		floor := r.IntN(15)
		got := Allocate(n, sizes, floor)
		name := fmt.Sprintf("trial %d: Allocate(%d, %v, %d) = %v", trial, n, sizes, floor, got)
		sum, sumLower := 0, 0
		for i, s := range sizes {
			lo := min(floor, s)
			sumLower += lo
			sum += got[i]
			if got[i] < lo || got[i] > s {
				t.Fatalf("%s: stratum %d out of [%d, %d]", name, i, lo, s)
			}
		}
		if want := max(min(n, total), sumLower); sum != want {
			t.Fatalf("%s: sum %d, want %d", name, sum, want)
		}
		for i := range sizes {
			for j := range sizes {
				if sizes[i] >= sizes[j] && got[i] < got[j]-1 {
					t.Fatalf("%s: stratum %d (%d) got %d, smaller %d (%d) got %d", name, i, sizes[i], got[i], j, sizes[j], got[j])
				}
			}
		}
		// Free strata: those above their lower bound.
		freeN, freeFrame := sum, total
		for i, s := range sizes {
			if got[i] == min(floor, s) {
				freeN -= got[i]
				freeFrame -= s
			}
		}
		for i, s := range sizes {
			if got[i] == min(floor, s) || freeFrame == 0 {
				continue
			}
			q := float64(freeN) * float64(s) / float64(freeFrame)
			if d := float64(got[i]) - q; d <= -1 || d >= 1 {
				t.Fatalf("%s: stratum %d got %d, quota %.3f", name, i, got[i], q)
			}
		}
	}
}

func BenchmarkAllocate(b *testing.B) {
	sizes := []int{700, 600, 400, 300, 12, 3}
	b.ReportAllocs()
	for b.Loop() {
		Allocate(323, sizes, 10)
	}
}
