package gpio_test

import (
	"bufio"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// traceEvent is one level change QEMU's PL061 model traced.
type traceEvent struct {
	input bool // pl061_input_change (driven by the board) or pl061_set_output
	line  int
	level int
}

// traceTail takes the last two numbers of a trace line: the line and its new
// level. Only the event name and these are relied on: the device path before
// them differs between QEMU versions.
var traceTail = regexp.MustCompile(`(\d+)\D+(\d+)\s*$`)

// parseTrace reads QEMU's -D log, keeping the PL061 level changes in order.
func parseTrace(r io.Reader) ([]traceEvent, error) {
	var events []traceEvent
	sc := bufio.NewScanner(r)
	for n := 1; sc.Scan(); n++ {
		text := sc.Text()
		var input bool
		switch {
		case strings.Contains(text, "pl061_set_output"):
		case strings.Contains(text, "pl061_input_change"):
			input = true
		default:
			continue
		}
		m := traceTail.FindStringSubmatch(text)
		if m == nil {
			return nil, fmt.Errorf("trace line %d: no line and level in %q", n, text)
		}
		line, _ := strconv.Atoi(m[1])
		level, _ := strconv.Atoi(m[2])
		if line > 7 || level > 1 {
			return nil, fmt.Errorf("trace line %d: line %d level %d out of range in %q", n, line, level, text)
		}
		events = append(events, traceEvent{input: input, line: line, level: level})
	}
	return events, sc.Err()
}

// levels is the history of one line: its successive distinct levels.
type levels []int

// add appends level unless the line is already there.
func (h levels) add(level int) levels {
	if len(h) > 0 && h[len(h)-1] == level {
		return h
	}
	return append(h, level)
}

// histories rebuilds every line's output history from the trace, starting
// from the levels the lines had before it (QEMU's reset traces every pin
// to 0).
func histories(events []traceEvent, start [8]int) [8]levels {
	var h [8]levels
	for i := range h {
		h[i] = levels{start[i]}
	}
	for _, e := range events {
		if !e.input {
			h[e.line] = h[e.line].add(e.level)
		}
	}
	return h
}

// last is the level each line ends at.
func (h levels) last() int { return h[len(h)-1] }

// pulses counts the rising edges the board drove on an input line.
func pulses(events []traceEvent, line int) int {
	n, level := 0, 0
	for _, e := range events {
		if e.input && e.line == line {
			if e.level == 1 && level == 0 {
				n++
			}
			level = e.level
		}
	}
	return n
}

func TestParseTrace(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    []traceEvent
		wantErr bool
	}{
		{
			name: "qemu 7.2 log backend",
			in: "pl061_set_output /machine/unattached/device[6] setting output 0 to 0\n" +
				"pl061_set_output /machine/unattached/device[6] setting output 4 to 1\n" +
				"pl061_input_change /machine/unattached/device[6] input 3 changed to 1\n",
			want: []traceEvent{{line: 0, level: 0}, {line: 4, level: 1}, {input: true, line: 3, level: 1}},
		},
		{
			name: "with pid and timestamp prefix, other events skipped",
			in: "1234@1700000000.000001:pl061_update /machine/x dir 0x1 data 0x1 pullups 0x0\n" +
				"1234@1700000000.000002:pl061_set_output /machine/x setting output 7 to 1\n",
			want: []traceEvent{{line: 7, level: 1}},
		},
		{
			name:    "line out of range",
			in:      "pl061_set_output x setting output 9 to 1\n",
			wantErr: true,
		},
		{
			name:    "no numbers",
			in:      "pl061_set_output garbled\n",
			wantErr: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseTrace(strings.NewReader(tt.in))
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, want error %v", err, tt.wantErr)
			}
			if fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestHistories(t *testing.T) {
	events := []traceEvent{
		{line: 0, level: 0}, {line: 1, level: 1}, {input: true, line: 3, level: 1},
		{line: 1, level: 1}, {line: 1, level: 0}, {input: true, line: 3, level: 0},
		{input: true, line: 3, level: 1}, {input: true, line: 3, level: 0},
	}
	h := histories(events, [8]int{2: 1})
	if fmt.Sprint(h[0]) != "[0]" || fmt.Sprint(h[1]) != "[0 1 0]" || fmt.Sprint(h[2]) != "[1]" || fmt.Sprint(h[3]) != "[0]" {
		t.Errorf("histories = %v", h)
	}
	if n := pulses(events, 3); n != 2 {
		t.Errorf("pulses = %d, want 2", n)
	}
}
