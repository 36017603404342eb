package daemon

import (
	"log/slog"

	"github.com/switchtap/switchtap/capture"
	"github.com/switchtap/switchtap/hep"
	"github.com/switchtap/switchtap/sip"
	"github.com/switchtap/switchtap/tap"
)

// newHEP returns the HEP mirror (uplink.hep, issue 11) and the pipeline
// option that feeds it every SIP message with its capture time, or nil
// when no collector is configured. Send never blocks the capture.
func newHEP(cfg hep.Config, log *slog.Logger) (*hep.Sender, tap.PipelineOption, error) {
	if !cfg.Enabled() {
		return nil, nil, nil
	}
	s, err := hep.New(cfg, hep.WithLogger(log))
	if err != nil {
		return nil, nil, err
	}
	return s, tap.WithSIP(func(raw []byte, m *sip.Message, d *capture.Datagram) {
		s.Send(hep.Packet{
			Time:      d.Time,
			Src:       d.Src,
			Dst:       d.Dst,
			Transport: hepTransport(d.Transport),
			VLAN:      d.VLAN,
			CallID:    m.CallID,
			Payload:   raw,
		})
	}), nil
}

func hepTransport(t capture.Transport) hep.Transport {
	if t == capture.TCP {
		return hep.TCP
	}
	return hep.UDP
}
