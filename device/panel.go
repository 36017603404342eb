package device

import (
	"context"
	"log/slog"
	"maps"
	"slices"
	"sync"
)

// Panel is what shows the state: lamps and buzzer. Set is called on every
// change (including each step of a blink or buzzer pattern); Close releases
// the panel and leaves every output inactive.
type Panel interface {
	Set(l Lamps) error
	Close() error
}

// Lamps is the level of every output, true meaning active (lit, sounding);
// active-low wiring is the panel's business.
type Lamps struct {
	Amber, Red, Buzzer, Status bool
	// Operators holds the lamps of each receptionist by name; a
	// receptionist not listed is dark.
	Operators map[string]OperatorLamps
}

// OperatorLamps are one receptionist's own lamps.
type OperatorLamps struct {
	Amber, Red bool
}

// Equal says both show the same thing (an operator listed dark equals one
// not listed).
func (l Lamps) Equal(o Lamps) bool {
	if l.Amber != o.Amber || l.Red != o.Red || l.Buzzer != o.Buzzer || l.Status != o.Status {
		return false
	}
	for k, v := range l.Operators {
		if o.Operators[k] != v {
			return false
		}
	}
	for k, v := range o.Operators {
		if l.Operators[k] != v {
			return false
		}
	}
	return true
}

// lampsFor returns the steady lamps of a panel state: amber for a warning,
// red for an alarm (the worst shows). Buzzer and status are left to the
// driver's patterns.
func lampsFor(ps PanelState) Lamps {
	l := Lamps{Amber: ps.Level == LevelWarning, Red: ps.Level == LevelAlarm}
	for name, lv := range ps.Operators {
		if lv == LevelIdle {
			continue
		}
		if l.Operators == nil {
			l.Operators = make(map[string]OperatorLamps, len(ps.Operators))
		}
		l.Operators[name] = OperatorLamps{Amber: lv == LevelWarning, Red: lv == LevelAlarm}
	}
	return l
}

// LogPanel shows the panel in the log, for a machine without GPIO. Lamp
// changes are logged at info; buzzer and status steps, which follow their
// patterns several times a second, at debug.
type LogPanel struct {
	log  *slog.Logger
	mu   sync.Mutex
	last Lamps
}

// NewLogPanel returns a panel that logs through log.
func NewLogPanel(log *slog.Logger) *LogPanel {
	return &LogPanel{log: log}
}

// Set logs the change from the last state.
func (p *LogPanel) Set(l Lamps) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if l.Equal(p.last) {
		return nil
	}
	level := slog.LevelDebug
	if l.Amber != p.last.Amber || l.Red != p.last.Red || !l.Equal(Lamps{Amber: l.Amber, Red: l.Red, Buzzer: l.Buzzer, Status: l.Status, Operators: p.last.Operators}) {
		level = slog.LevelInfo
	}
	attrs := []any{"amber", l.Amber, "red", l.Red, "buzzer", l.Buzzer, "status", l.Status}
	for _, name := range slices.Sorted(maps.Keys(l.Operators)) {
		o := l.Operators[name]
		if o.Amber || o.Red {
			attrs = append(attrs, slog.Group("operator", "name", name, "amber", o.Amber, "red", o.Red))
		}
	}
	p.log.Log(context.Background(), level, "panel", attrs...)
	p.last = Lamps{Amber: l.Amber, Red: l.Red, Buzzer: l.Buzzer, Status: l.Status, Operators: maps.Clone(l.Operators)}
	return nil
}

// Close logs the panel going dark.
func (p *LogPanel) Close() error {
	return p.Set(Lamps{})
}
