package tap

import (
	"time"

	"github.com/switchtap/switchtap/device"
	"github.com/switchtap/switchtap/sip"
)

// AlarmPolicy is the four-ring alarm (device.Policy): fed call events and
// the capture clock, it returns the edges they cause.
type AlarmPolicy interface {
	Event(e sip.Event) []device.Edge
	Advance(now time.Time) []device.Edge
	Mute(at time.Time) []device.Edge
	Panel() device.PanelState
}

// WithAlarm runs the alarm policy on the pipeline's events and capture
// clock; onEdges gets every batch of edges with the panel state after them.
func WithAlarm(a AlarmPolicy, onEdges func([]device.Edge, device.PanelState)) PipelineOption {
	return func(p *Pipeline) {
		p.alarm, p.onAlarm = a, onEdges
	}
}

func (p *Pipeline) alarmEdges(edges []device.Edge) {
	if len(edges) > 0 && p.onAlarm != nil {
		p.onAlarm(edges, p.alarm.Panel())
	}
}

// Mute silences the buzzer for the calls ringing now (the silence button).
func (p *Pipeline) Mute() {
	if p.alarm != nil {
		p.alarmEdges(p.alarm.Mute(p.now))
	}
}

// AlarmPanel returns the alarm panel's state (idle when there is no alarm).
func (p *Pipeline) AlarmPanel() device.PanelState {
	if p.alarm == nil {
		return device.PanelState{}
	}
	return p.alarm.Panel()
}
