//go:build linux

package clocksync

import (
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

func TestFromTimex(t *testing.T) {
	for _, tc := range []struct {
		name     string
		status   int32
		maxerr   int // µs
		want     bool
		wantUnsy bool
	}{
		{"synchronised", unix.STA_PLL, 12_000, true, false},
		{"STA_UNSYNC set", unix.STA_PLL | unix.STA_UNSYNC, 12_000, false, true},
		{"never set: kernel's limit", unix.STA_UNSYNC, 16_000_000, false, true},
		{"source lost long ago: bound at the limit", 0, 16_000_000, false, false},
		{"just under the limit", 0, 15_999_999, true, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var tx unix.Timex
			tx.Status = tc.status
			tx.Maxerror = asField(tx.Maxerror, tc.maxerr)
			tx.Esterror = 7
			st := fromTimex(&tx)
			if st.Synchronised != tc.want || st.Unsync != tc.wantUnsy {
				t.Fatalf("%+v: synchronised %v unsync %v, want %v %v", st, st.Synchronised, st.Unsync, tc.want, tc.wantUnsy)
			}
			if st.MaxError != time.Duration(tc.maxerr)*time.Microsecond || st.EstError != 7*time.Microsecond || st.Source != SourceAdjtimex {
				t.Fatalf("%+v", st)
			}
		})
	}
}

// TestReadKernel reads this machine's clock: adjtimex with no mode bits
// needs no privilege, so it must answer (whatever the answer is).
func TestReadKernel(t *testing.T) {
	st, err := readKernel()
	if err != nil {
		t.Fatal(err)
	}
	if st.Source != SourceAdjtimex || st.MaxError < 0 {
		t.Fatalf("%+v", st)
	}
	if st.Synchronised == (st.Unsync || st.MaxError >= MaxErrorLimit) {
		t.Fatalf("rule not applied: %+v", st)
	}
	t.Logf("this machine: %s", st)
}

// asField converts v to the type of a Timex field, which is int64 on 64-bit
// Linux and int32 on 32-bit (armhf).
func asField[T int32 | int64](_ T, v int) T { return T(v) }
