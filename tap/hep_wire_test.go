package tap_test

import (
	"context"
	"net"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/switchtap/switchtap/capture"
	"github.com/switchtap/switchtap/hep"
	"github.com/switchtap/switchtap/internal/pcapgen"
	"github.com/switchtap/switchtap/sip"
	"github.com/switchtap/switchtap/tap"
)

func TestHEPWire(t *testing.T) {
	for _, name := range []string{"answered", "tcp-split", "ipv6", "vlan", "fragmented-invite"} {
		t.Run(name, func(t *testing.T) {
			sc, _ := pcapgen.Lookup(name)
			path := filepath.Join(t.TempDir(), "x.pcap")
			if _, err := sc.WriteFile(path); err != nil {
				t.Fatal(err)
			}
			ln, _ := net.ListenPacket("udp", "127.0.0.1:0")
			defer ln.Close()
			s, err := hep.New(hep.Config{Address: ln.LocalAddr().String(), Queue: 4096})
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			go s.Run(ctx)
			type seen struct {
				at      time.Time
				tr      capture.Transport
				vlan    uint16
				payload []byte
			}
			var got []seen
			opt := tap.WithSIP(func(raw []byte, m *sip.Message, d *capture.Datagram) {
				got = append(got, seen{d.Time, d.Transport, d.VLAN, slices.Clone(raw)})
				tr := hep.UDP
				if d.Transport == capture.TCP {
					tr = hep.TCP
				}
				s.Send(hep.Packet{Time: d.Time, Src: d.Src, Dst: d.Dst, Transport: tr, VLAN: d.VLAN, CallID: m.CallID, Payload: raw})
			})
			src, _ := capture.OpenFile(path)
			defer src.Close()
			p := tap.NewPipeline(sip.DefaultTrackerConfig(), func(sip.Call) {}, discard(), opt)
			if err := tap.Replay(context.Background(), src, p); err != nil {
				t.Fatal(err)
			}
			if uint64(len(got)) != p.Stats().SIPMessages || len(got) == 0 {
				t.Fatalf("hook saw %d, pipeline parsed %d", len(got), p.Stats().SIPMessages)
			}
			buf := make([]byte, 65535)
			_ = ln.SetReadDeadline(time.Now().Add(5 * time.Second))
			for i, g := range got {
				n, _, err := ln.ReadFrom(buf)
				if err != nil {
					t.Fatal(err)
				}
				b := buf[:n]
				// Payload chunk is last: compare its tail.
				if !slices.Equal(b[n-len(g.payload):], g.payload) {
					t.Errorf("%d: payload differs", i)
				}
				t.Logf("%d %v %v vlan=%d %q", i, g.at.Format(time.RFC3339Nano), g.tr, g.vlan, g.payload[:min(20, len(g.payload))])
			}
		})
	}
}
