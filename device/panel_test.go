package device

import (
	"bytes"
	"log/slog"
	"reflect"
	"strings"
	"testing"
)

func TestLampsFor(t *testing.T) {
	for _, tc := range []struct {
		name string
		ps   PanelState
		want Lamps
	}{
		{"idle", PanelState{}, Lamps{}},
		{"warning", PanelState{Level: LevelWarning}, Lamps{Amber: true}},
		{"alarm shows red only", PanelState{Level: LevelAlarm, Buzzer: true}, Lamps{Red: true}},
		{"operators", PanelState{Level: LevelAlarm, Operators: map[string]Level{"Ana": LevelWarning, "Beto": LevelAlarm, "Eva": LevelIdle}},
			Lamps{Red: true, Operators: map[string]OperatorLamps{"Ana": {Amber: true}, "Beto": {Red: true}}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := lampsFor(tc.ps); !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("%+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestLogPanel(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug, ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
		if a.Key == slog.TimeKey {
			return slog.Attr{}
		}
		return a
	}}))
	p := NewLogPanel(log)
	ops := map[string]OperatorLamps{"Ana": {Red: true}}
	for _, l := range []Lamps{
		{Status: true},
		{Status: true},
		{Red: true, Status: true, Operators: ops},
		{Red: true, Buzzer: true, Status: true, Operators: ops},
		{Red: true, Status: true, Operators: ops},
		{Red: true, Operators: ops},
	} {
		if err := p.Set(l); err != nil {
			t.Fatal(err)
		}
	}
	ops["Ana"] = OperatorLamps{} // the panel keeps its own copy
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	want := []string{
		"level=DEBUG msg=panel amber=false red=false buzzer=false status=true",
		"level=INFO msg=panel amber=false red=true buzzer=false status=true operator.name=Ana operator.amber=false operator.red=true",
		"level=DEBUG msg=panel amber=false red=true buzzer=true status=true operator.name=Ana operator.amber=false operator.red=true",
		"level=DEBUG msg=panel amber=false red=true buzzer=false status=true operator.name=Ana operator.amber=false operator.red=true",
		"level=DEBUG msg=panel amber=false red=true buzzer=false status=false operator.name=Ana operator.amber=false operator.red=true",
		"level=INFO msg=panel amber=false red=false buzzer=false status=false",
	}
	if got := strings.Split(strings.TrimSpace(buf.String()), "\n"); !reflect.DeepEqual(got, want) {
		t.Fatalf("log\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestOpenLogPanel(t *testing.T) {
	var buf bytes.Buffer
	panel, button, err := Open(DefaultConfig(), slog.New(slog.NewTextHandler(&buf, nil)))
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := panel.(*LogPanel); !ok || button != nil {
		t.Fatalf("panel %T, button %v: want a log panel and no button", panel, button)
	}
	if err := panel.Set(Lamps{Amber: true}); err != nil || !strings.Contains(buf.String(), "amber=true") {
		t.Fatalf("set: %v, log %q", err, buf.String())
	}
	bad := DefaultConfig()
	bad.Panel = "leds"
	if _, _, err := Open(bad, nil); err == nil {
		t.Fatal("bad config opened")
	}
}
