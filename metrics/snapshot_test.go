package metrics

import (
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"
)

func TestSnapshotAbsentUntilSet(t *testing.T) {
	m, reg := newTestMetrics(t, testConfig())
	if family(t, reg, "switchtap_capture_up") != nil {
		t.Fatal("snapshot metrics exported before SetSnapshot")
	}
	calls := 0
	m.SetSnapshot(func() Snapshot { calls++; return fixtureSnapshot() })
	if family(t, reg, "switchtap_capture_up") == nil {
		t.Fatal("snapshot metrics missing after SetSnapshot")
	}
	if calls != 1 {
		t.Errorf("snapshot read %d times in one scrape, want 1", calls)
	}
}

func TestSnapshotEnums(t *testing.T) {
	tests := []struct {
		name        string
		alarm, lamp string
		want        string
	}{
		{"idle healthy", AlarmIdle, LampHealthy, `
switchtap_alarm_state{state="alarm"} 0
switchtap_alarm_state{state="idle"} 1
switchtap_alarm_state{state="warning"} 0
switchtap_status_lamp{state="fault"} 0
switchtap_status_lamp{state="healthy"} 1
switchtap_status_lamp{state="no_sip"} 0
`},
		{"alarm no_sip", AlarmAlarm, LampNoSIP, `
switchtap_alarm_state{state="alarm"} 1
switchtap_alarm_state{state="idle"} 0
switchtap_alarm_state{state="warning"} 0
switchtap_status_lamp{state="fault"} 0
switchtap_status_lamp{state="healthy"} 0
switchtap_status_lamp{state="no_sip"} 1
`},
		{"unknown states set nothing", "", "blinking", `
switchtap_alarm_state{state="alarm"} 0
switchtap_alarm_state{state="idle"} 0
switchtap_alarm_state{state="warning"} 0
switchtap_status_lamp{state="fault"} 0
switchtap_status_lamp{state="healthy"} 0
switchtap_status_lamp{state="no_sip"} 0
`},
	}
	const head = `# HELP switchtap_alarm_state Alarm panel state: 1 for the current state (idle, warning, alarm), 0 for the others.
# TYPE switchtap_alarm_state gauge
# HELP switchtap_status_lamp Status lamp state: 1 for the current state (healthy, no_sip, fault), 0 for the others.
# TYPE switchtap_status_lamp gauge`
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, reg := newTestMetrics(t, testConfig())
			m.SetSnapshot(func() Snapshot {
				s := fixtureSnapshot()
				s.AlarmState, s.StatusLamp = tt.alarm, tt.lamp
				return s
			})
			err := testutil.GatherAndCompare(reg, strings.NewReader(head+tt.want),
				"switchtap_alarm_state", "switchtap_status_lamp")
			if err != nil {
				t.Error(err)
			}
		})
	}
}

// TestSnapshotReasons checks that configured reasons exist at zero and
// that a reason the config did not list is still exported.
func TestSnapshotReasons(t *testing.T) {
	m, reg := newTestMetrics(t, testConfig())
	m.SetSnapshot(func() Snapshot {
		return Snapshot{
			Undecodable: map[string]uint64{"truncated": 3, "vlan_depth": 1},
			SIPErrors:   nil,
		}
	})
	want := `# HELP switchtap_capture_undecodable_frames_total Frames that could not be decoded, by reason.
# TYPE switchtap_capture_undecodable_frames_total counter
switchtap_capture_undecodable_frames_total{reason="malformed"} 0
switchtap_capture_undecodable_frames_total{reason="truncated"} 3
switchtap_capture_undecodable_frames_total{reason="unsupported_link"} 0
switchtap_capture_undecodable_frames_total{reason="vlan_depth"} 1
# HELP switchtap_sip_errors_total SIP messages rejected by the parser, by reason.
# TYPE switchtap_sip_errors_total counter
switchtap_sip_errors_total{reason="malformed"} 0
switchtap_sip_errors_total{reason="missing_header"} 0
switchtap_sip_errors_total{reason="not_sip"} 0
switchtap_sip_errors_total{reason="other"} 0
`
	err := testutil.GatherAndCompare(reg, strings.NewReader(want),
		"switchtap_capture_undecodable_frames_total", "switchtap_sip_errors_total")
	if err != nil {
		t.Error(err)
	}
}

func TestSnapshotScalars(t *testing.T) {
	tests := []struct {
		name  string
		set   func(*Snapshot)
		want  string
		value float64
	}{
		{"bool true", func(s *Snapshot) { s.CaptureUp = true }, "switchtap_capture_up", 1},
		{"bool false", func(s *Snapshot) { s.DiskFloorReached = false }, "switchtap_disk_floor_reached", 0},
		{"muted", func(s *Snapshot) { s.Muted = true }, "switchtap_alarm_muted", 1},
		{"kernel drops", func(s *Snapshot) { s.KernelDropped = 1 << 40 }, "switchtap_capture_kernel_dropped_packets_total", 1 << 40},
		{"ringing", func(s *Snapshot) { s.CallsRinging = 3 }, "switchtap_calls_ringing", 3},
		{"not tracked", func(s *Snapshot) { s.CallsDroppedFull = 9 }, "switchtap_calls_not_tracked_total", 9},
		{"flood", func(s *Snapshot) { s.SIPFloodSources = 2 }, "switchtap_sip_flood_sources", 2},
		{"evicted", func(s *Snapshot) { s.CallsEvicted = 20000 }, "switchtap_calls_evicted_total", 20000},
		{"aggregated", func(s *Snapshot) { s.CallsAggregated = 53595 }, "switchtap_calls_aggregated_total", 53595},
		{"sip age", func(s *Snapshot) { s.LastSIPSeconds = 61.5 }, "switchtap_capture_last_sip_age_seconds", 61.5},
		{"capture lag", func(s *Snapshot) { s.CaptureLagSeconds = 0.012 }, "switchtap_capture_lag_seconds", 0.012},
		{"capture lag max", func(s *Snapshot) { s.CaptureLagMaxSeconds = 0.4 }, "switchtap_capture_lag_max_seconds", 0.4},
		{"disk free", func(s *Snapshot) { s.DiskFreeBytes = 5 << 30 }, "switchtap_disk_free_bytes", 5 << 30},
		{"rtp lost", func(s *Snapshot) { s.RTPLost = 17 }, "switchtap_rtp_lost_packets_total", 17},
		{"recorder waits", func(s *Snapshot) { s.RecorderWaits = 41 }, "switchtap_recorder_waits_total", 41},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, reg := newTestMetrics(t, testConfig())
			var s Snapshot
			tt.set(&s)
			m.SetSnapshot(func() Snapshot { return s })
			mt := sample(t, reg, tt.want, map[string]string{})
			got := mt.GetGauge().GetValue() + mt.GetCounter().GetValue()
			if got != tt.value {
				t.Errorf("%s = %v, want %v", tt.want, got, tt.value)
			}
		})
	}
}

func BenchmarkScrape(b *testing.B) {
	m, reg := newTestMetrics(b, testConfig())
	m.SetSnapshot(fixtureSnapshot)
	for _, c := range fixtureCalls() {
		m.ObserveCall(c)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := reg.Gather(); err != nil {
			b.Fatal(err)
		}
	}
}
