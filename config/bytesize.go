package config

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// ByteSize is a size in bytes, written in the file as a plain number or
// with a unit: "512MiB", "20GiB", "1.5GB" (powers of 1024 for KiB/MiB/GiB/
// TiB, of 1000 for kB/MB/GB/TB).
type ByteSize uint64

// maxByteSize is 2^64 as a float64: the first value a uint64 cannot hold.
const maxByteSize = float64(1 << 64)

var byteUnits = []struct {
	suffix string
	mult   float64
}{
	{"TiB", 1 << 40}, {"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10},
	{"TB", 1e12}, {"GB", 1e9}, {"MB", 1e6}, {"kB", 1e3}, {"KB", 1e3}, {"B", 1},
}

// ParseByteSize reads a size such as "20GiB".
func ParseByteSize(s string) (ByteSize, error) {
	s = strings.TrimSpace(s)
	for _, u := range byteUnits {
		if num, ok := strings.CutSuffix(s, u.suffix); ok {
			f, err := strconv.ParseFloat(strings.TrimSpace(num), 64)
			if err != nil || f < 0 {
				return 0, fmt.Errorf("%w: size %q: want a number and a unit such as 20GiB", ErrInvalid, s)
			}
			// NaN, Inf and anything from 2^64 up have no uint64: Go's
			// conversion of them is CPU-dependent (issue 9 §6: NaNGiB
			// became 2^63 on amd64).
			v := f * u.mult
			if math.IsNaN(v) || v >= maxByteSize {
				return 0, fmt.Errorf("%w: size %q: want a finite size below 16EiB", ErrInvalid, s)
			}
			return ByteSize(v), nil
		}
	}
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%w: size %q: want a number of bytes or a unit such as 20GiB", ErrInvalid, s)
	}
	return ByteSize(n), nil
}

// UnmarshalYAML reads a number or a string with a unit.
func (b *ByteSize) UnmarshalYAML(n *yaml.Node) error {
	v, err := ParseByteSize(n.Value)
	if err != nil {
		return err
	}
	*b = v
	return nil
}

// String writes the size with the largest binary unit that divides it.
func (b ByteSize) String() string {
	for _, u := range byteUnits[:4] {
		if m := uint64(u.mult); uint64(b) >= m && uint64(b)%m == 0 {
			return fmt.Sprintf("%d%s", uint64(b)/m, u.suffix)
		}
	}
	return strconv.FormatUint(uint64(b), 10)
}
