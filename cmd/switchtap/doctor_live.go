package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"syscall"
	"time"

	"github.com/switchtap/switchtap/capture"
	"github.com/switchtap/switchtap/device"
	"github.com/switchtap/switchtap/sip"
)

// The doctor's checks on the real machine.
type (
	netLinks    struct{}
	liveSniffer struct{}
	panelProber struct{}
	statfsSpace struct{}
	sipCounter  struct {
		parser  *sip.Parser
		framers map[[2]netip.AddrPort]*sip.Framer
		sources map[netip.Addr]bool
		seen    sipSeen
	}
)

func (netLinks) InterfaceByName(name string) (*net.Interface, error) {
	return net.InterfaceByName(name)
}

// Sniff opens the capture as the daemon does (capture.OpenLive: the same
// ring, kernel filter and promiscuous mode) and counts the SIP messages
// of d: over UDP by datagram, over TCP through the same framer.
func (liveSniffer) Sniff(ctx context.Context, iface string, d time.Duration) (sipSeen, error) {
	live, err := capture.OpenLive(iface)
	if err != nil {
		return sipSeen{}, err
	}
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	var once sync.Once
	closeLive := func() { once.Do(func() { _ = live.Close() }) }
	// ReadFrame blocks: closing the capture is what ends the listen.
	stop := context.AfterFunc(ctx, closeLive)
	defer stop()
	defer closeLive()
	c := newSIPCounter()
	dec := capture.NewDecoder()
	for {
		fr, err := live.ReadFrame()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return c.seen, fmt.Errorf("read %s: %w", iface, err)
		}
		c.seen.Frames++
		_ = dec.Decode(fr.LinkType, fr.Data, fr.Info, c.datagram) // undecodable frames are not SIP
	}
	if st, err := live.Stats(); err == nil {
		c.seen.Dropped = st.Dropped
	}
	c.seen.Sources = len(c.sources)
	return c.seen, nil
}

func newSIPCounter() *sipCounter {
	return &sipCounter{parser: sip.NewParser(), framers: map[[2]netip.AddrPort]*sip.Framer{}, sources: map[netip.Addr]bool{}}
}

// datagram counts what the pipeline would take for SIP (tap.Pipeline:
// LooksLikeSIP, then the parser).
func (c *sipCounter) datagram(d *capture.Datagram) {
	if d.Transport != capture.TCP {
		if sip.LooksLikeSIP(d.Payload) {
			c.message(d.Payload, d.Src)
		}
		return
	}
	k := [2]netip.AddrPort{d.Src, d.Dst}
	f := c.framers[k]
	if f == nil {
		if !sip.LooksLikeSIP(d.Payload) {
			return
		}
		f = &sip.Framer{}
		c.framers[k] = f
	}
	if d.StreamStart {
		f.Reset()
	}
	_, _ = f.Write(d.Payload, func(msg []byte) { c.message(msg, d.Src) })
}

func (c *sipCounter) message(b []byte, src netip.AddrPort) {
	if _, err := c.parser.Parse(b); err != nil {
		c.seen.Rejected++
		return
	}
	c.seen.Messages++
	c.sources[src.Addr()] = true
}

// Probe requests every configured line as the daemon does (device.Open),
// sets them all inactive and releases them. A line another process holds
// is errLineBusy.
func (panelProber) Probe(cfg device.Config) error {
	panel, button, err := device.Open(cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		if errors.Is(err, syscall.EBUSY) {
			return fmt.Errorf("%w: %w", errLineBusy, err)
		}
		return err
	}
	err = panel.Set(device.Lamps{})
	if button != nil {
		err = errors.Join(err, button.Close())
	}
	return errors.Join(err, panel.Close())
}
