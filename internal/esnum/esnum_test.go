package esnum

import (
	"math"
	"testing"
)

func TestFormat(t *testing.T) {
	for _, tc := range []struct {
		got, want string
	}{
		{Int(0), "0"},
		{Int(1234), "1234"},
		{Int(12345), "12" + NBSP + "345"},
		{Int(-1234567), "-1" + NBSP + "234" + NBSP + "567"},
		{Int(math.MinInt64), "-9" + NBSP + "223" + NBSP + "372" + NBSP + "036" + NBSP + "854" + NBSP + "775" + NBSP + "808"},
		{Decimal(75.8621, 2), "75,86"},
		{Decimal(-0.5, 1), "-0,5"},
		{Decimal(12345.678, 1), "12" + NBSP + "345,7"},
		{Decimal(3, 0), "3"},
	} {
		if tc.got != tc.want {
			t.Errorf("%q, want %q", tc.got, tc.want)
		}
	}
}
