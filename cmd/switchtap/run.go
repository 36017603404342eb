package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/switchtap/switchtap/capture"
	"github.com/switchtap/switchtap/config"
	"github.com/switchtap/switchtap/device"
	"github.com/switchtap/switchtap/metrics"
	"github.com/switchtap/switchtap/storage"
	"github.com/switchtap/switchtap/tap"
)

// loadConfig reads the file named by --config; with none, the default file
// if it exists, else the built-in defaults.
func loadConfig(path string) (config.Config, error) {
	if path == "" {
		if _, err := os.Stat(config.DefaultPath); err == nil {
			path = config.DefaultPath
		}
	}
	return config.Load(path)
}

func cmdRun(ctx context.Context, args []string, stderr io.Writer) error {
	fs := newFlagSet("run", stderr)
	iface := fs.String("i", "", "interface on the mirror port (overrides interface:)")
	cfgPath := fs.String("config", "", "configuration file (default "+config.DefaultPath+" if present)")
	dataDir := fs.String("data-dir", "", "data directory (overrides data_dir:)")
	logLevel := fs.String("log-level", "", "debug, info, warn or error (overrides log_level:)")
	listen := fs.String("metrics-listen", "", `metrics address (overrides metrics.listen:; "off" disables)`)
	if _, err := parseFlags(fs, args); err != nil {
		return err
	}
	cfg, err := loadConfig(*cfgPath)
	if err != nil {
		return err
	}
	if *iface != "" {
		cfg.Interface = *iface
	}
	if *dataDir != "" {
		cfg.DataDir = *dataDir
	}
	if *logLevel != "" {
		cfg.LogLevel = *logLevel
	}
	switch *listen {
	case "":
	case "off":
		cfg.Metrics.Listen = ""
	default:
		cfg.Metrics.Listen = *listen
	}
	if cfg.Interface == "" {
		return fmt.Errorf("%w: run needs -i IFACE (or interface: in the config)", errUsage)
	}
	log := newLogger(stderr, cfg.LogLevel)

	// capture's errors name the interface and, for ErrPermission, say how
	// to grant CAP_NET_RAW.
	src, err := capture.OpenLive(cfg.Interface)
	if err != nil {
		return err
	}
	store, err := storage.Open(cfg.DataDir, storage.WithLogger(log.With("component", "storage")))
	if err != nil {
		_ = src.Close()
		return err
	}
	defer func() {
		if err := store.Close(); err != nil {
			log.Error("close store", "err", err)
		}
	}()

	reg := prometheus.NewRegistry()
	m, err := metrics.New(reg, metrics.Config{
		Ring:               cfg.RingPolicy(),
		Version:            version,
		Operators:          operatorNames(cfg),
		UndecodableReasons: []string{capture.ReasonTruncated, capture.ReasonMalformed, capture.ReasonUnsupportedLink},
		SIPErrorReasons:    tap.SIPErrorReasons(),
	})
	if err != nil {
		_ = src.Close()
		return err
	}

	panel, button, err := device.Open(cfg.Device, log.With("component", "panel"))
	if err != nil {
		_ = src.Close()
		return fmt.Errorf("alarm panel: %w", err)
	}
	driver := device.NewDriver(panel, device.WithLogger(log.With("component", "panel")))
	policy := device.NewPolicy(alarmPolicyConfig(cfg))
	alarmLog := log.With("component", "alarm")
	onEdges := func(edges []device.Edge, ps device.PanelState) {
		for _, e := range edges {
			alarmLog.Info("alarm edge", "at", e.At, "call_id", e.CallID, "state", e.State,
				"panel", e.Panel, "buzzer", e.Buzzer, "operator", e.Operator)
		}
		driver.Show(ps)
	}

	d := tap.NewDaemon(tap.DaemonConfig{
		Tracker:    cfg.TrackerConfig(),
		StatsEvery: 5 * time.Minute,
		Pipeline: []tap.PipelineOption{
			tap.WithClosed(m.ObserveCall),
			tap.WithAlarm(policy, onEdges),
		},
	}, src, store, log.With("component", "tap"))
	m.SetSnapshot(func() metrics.Snapshot { return snapshot(d, store, cfg) })

	var wg sync.WaitGroup
	bgCtx, stopBG := context.WithCancel(context.Background())
	// The panel outlives the capture by a moment so that it is switched
	// off last, after the final records are stored.
	wg.Add(2)
	go func() {
		defer wg.Done()
		if err := driver.Run(bgCtx); err != nil {
			log.Error("alarm panel", "err", err)
		}
	}()
	go func() {
		defer wg.Done()
		watchPanel(bgCtx, d, driver, button, cfg.Device.NoSIPAfter)
	}()
	wg.Add(1)
	go func() {
		defer wg.Done()
		if err := store.Run(bgCtx); err != nil {
			log.Error("store maintenance", "err", err)
		}
	}()
	if cfg.Metrics.Listen != "" {
		srv := metrics.NewServer(cfg.Metrics.Listen, metrics.Handler(reg), log.With("component", "metrics"))
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := srv.Run(bgCtx); err != nil {
				// Metrics are for watching the tap: their failure is loud
				// but does not stop the recording of calls.
				log.Error("metrics endpoint failed", "addr", cfg.Metrics.Listen, "err", err)
			}
		}()
	}

	log.Info("capture started", "iface", cfg.Interface, "data_dir", cfg.DataDir, "metrics", cfg.Metrics.Listen,
		"max_rings", cfg.Ring.MaxRings, "ring_on", cfg.Ring.RingOn, "ring_off", cfg.Ring.RingOff)
	err = d.Run(ctx)
	stopBG()
	wg.Wait()
	log.Info("capture stopped", "calls_stored", d.Stored())
	return err
}

func alarmPolicyConfig(cfg config.Config) device.PolicyConfig {
	return device.PolicyConfig{
		Ring:       cfg.RingPolicy(),
		Watch:      device.WatchFor(len(cfg.Receptionists)),
		MaxRinging: cfg.Device.MaxRinging,
	}
}

// watchPanel keeps the status lamp current and turns silence-button
// presses into mutes, until ctx is done.
func watchPanel(ctx context.Context, d *tap.Daemon, driver *device.Driver, button device.Button, noSIPAfter time.Duration) {
	var presses <-chan time.Time
	if button != nil {
		presses = button.Events()
		defer button.Close()
	}
	t := time.NewTicker(time.Second)
	defer t.Stop()
	driver.SetStatus(d.Health().Status(d.Now(), noSIPAfter))
	for {
		select {
		case <-ctx.Done():
			return
		case <-presses:
			d.Mute()
		case <-t.C:
			driver.SetStatus(d.Health().Status(d.Now(), noSIPAfter))
		}
	}
}

func operatorNames(cfg config.Config) []string {
	names := make([]string, 0, len(cfg.Receptionists))
	for _, r := range cfg.Receptionists {
		names = append(names, r.Name)
	}
	return names
}

// snapshot gathers the daemon's counters for a metrics scrape.
func snapshot(d *tap.Daemon, store *storage.Store, cfg config.Config) metrics.Snapshot {
	st := d.Stats()
	s := metrics.Snapshot{
		Frames:           st.Decoder.Frames,
		Datagrams:        st.Decoder.Datagrams,
		Undecodable:      st.Decoder.Undecodable,
		SIPMessages:      st.SIPMessages,
		SIPErrors:        st.SIPErrors,
		CallsOpen:        st.Tracker.Open,
		CallsDroppedFull: st.Tracker.DroppedFull,
		CallsTimedOut:    st.Tracker.TimedOut,
		CaptureUp:        d.Capturing(),
	}
	ps := d.AlarmPanel()
	s.CallsRinging = ps.Ringing
	s.AlarmState = ps.Level.String()
	s.Muted = ps.Level == device.LevelAlarm && !ps.Buzzer
	switch d.Health().Status(d.Now(), cfg.Device.NoSIPAfter) {
	case device.StatusFault:
		s.StatusLamp = metrics.LampFault
	case device.StatusNoSIP:
		s.StatusLamp = metrics.LampNoSIP
	default:
		s.StatusLamp = metrics.LampHealthy
	}
	if k, err := d.KernelStats(); err == nil {
		s.KernelReceived, s.KernelDropped = k.Received, k.Dropped
	}
	if !st.LastSIP.IsZero() {
		s.LastSIPSeconds = d.Now().Sub(st.LastSIP).Seconds()
	}
	ss := store.Stats()
	s.StoreBytes = uint64(max(ss.LSMBytes+ss.VLogBytes+ss.WALBytes, 0))
	return s
}
