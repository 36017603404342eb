package report

import (
	"errors"
	"fmt"
	"testing"
)

// TestCochranTable reproduces every cell of domain.md §6.1 (95 %, p = 0.5).
func TestCochranTable(t *testing.T) {
	margins := []float64{0.05, 0.07, 0.10}
	table := []struct {
		frame int
		want  [3]int
	}{
		{300, [3]int{169, 119, 73}},
		{500, [3]int{218, 142, 81}},
		{1000, [3]int{278, 165, 88}},
		{2000, [3]int{323, 179, 92}},
		{5000, [3]int{357, 189, 95}},
		{10000, [3]int{370, 193, 96}},
	}
	for _, row := range table {
		for i, e := range margins {
			t.Run(fmt.Sprintf("N=%d/e=%.2f", row.frame, e), func(t *testing.T) {
				got, err := CochranSize(row.frame, 0.95, e, 0.5)
				if err != nil {
					t.Fatal(err)
				}
				if got != row.want[i] {
					t.Errorf("CochranSize(%d, 0.95, %v, 0.5) = %d, want %d", row.frame, e, got, row.want[i])
				}
			})
		}
	}
}

func TestCochranEdges(t *testing.T) {
	tests := []struct {
		name                  string
		frame                 int
		confidence, margin, p float64
		want                  int
		err                   error
	}{
		{"empty frame", 0, 0.95, 0.1, 0.5, 0, nil},
		{"one call", 1, 0.95, 0.1, 0.5, 1, nil},
		{"tiny frame is taken whole", 10, 0.95, 0.05, 0.5, 10, nil},
		{"infinite-ish frame gives n0", 100000000, 0.95, 0.10, 0.5, 97, nil}, // n0 = 96.04
		{"99 %", 1000, 0.99, 0.05, 0.5, 400, nil},
		{"confidence 1", 100, 1, 0.1, 0.5, 0, ErrDesign},
		{"margin 0", 100, 0.95, 0, 0.5, 0, ErrDesign},
		{"p 0", 100, 0.95, 0.1, 0, 0, ErrDesign},
		{"negative frame", -1, 0.95, 0.1, 0.5, 0, ErrDesign},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := CochranSize(tt.frame, tt.confidence, tt.margin, tt.p)
			if !errors.Is(err, tt.err) {
				t.Fatalf("err = %v, want %v", err, tt.err)
			}
			if got != tt.want {
				t.Errorf("got %d, want %d", got, tt.want)
			}
		})
	}
}

func TestZScore(t *testing.T) {
	for c, want := range map[float64]float64{0.90: 1.645, 0.95: 1.96, 0.99: 2.576} {
		if got := ZScore(c); got != want {
			t.Errorf("ZScore(%v) = %v, want %v", c, got, want)
		}
	}
}
