package daemon

import (
	"context"
	"sync/atomic"
	"time"

	"github.com/switchtap/switchtap/device"
	"github.com/switchtap/switchtap/web"
)

// panelWatch keeps the status lamp (and the console's copy of it) current
// and turns silence-button presses into mutes.
type panelWatch struct {
	st     *state
	driver *device.Driver
	button device.Button
	hub    *web.Hub
	lamp   *atomic.Value
}

func (p *panelWatch) Run(ctx context.Context) error {
	var presses <-chan time.Time
	if p.button != nil {
		presses = p.button.Events()
		defer p.button.Close()
	}
	t := time.NewTicker(time.Second)
	defer t.Stop()
	p.update()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-presses:
			p.st.tap.Mute()
		case <-t.C:
			p.update()
		}
	}
}

func (p *panelWatch) update() {
	s := p.st.status()
	p.driver.SetStatus(s)
	p.lamp.Store(lampName(s))
	p.hub.SetLamp(lampName(s), alarmName(p.st.tap.AlarmPanel().Level))
}
