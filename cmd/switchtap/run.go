package main

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/switchtap/switchtap/capture"
	"github.com/switchtap/switchtap/config"
	"github.com/switchtap/switchtap/device"
	"github.com/switchtap/switchtap/metrics"
	"github.com/switchtap/switchtap/recorder"
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

	opts := []tap.PipelineOption{
		tap.WithClosed(m.ObserveCall),
		tap.WithAlarm(policy, onEdges),
	}
	var rec *recorder.Recorder
	if cfg.Recording.Enabled {
		if rec, err = openRecorder(cfg, log.With("component", "recorder")); err != nil {
			_ = src.Close()
			return err
		}
		opts = append(opts, tap.WithRecorder(rec))
	}

	d := tap.NewDaemon(tap.DaemonConfig{
		Tracker:    cfg.TrackerConfig(),
		StatsEvery: 5 * time.Minute,
		Pipeline:   opts,
	}, src, store, log.With("component", "tap"))
	st := &daemonState{d: d, store: store, rec: rec, cfg: cfg}
	m.SetSnapshot(st.snapshot)

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
		watchPanel(bgCtx, st, driver, button)
	}()
	if rec != nil {
		wg.Add(1)
		go func() {
			defer wg.Done()
			st.sweepLoop(bgCtx, log.With("component", "retention"))
		}()
	}
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
	if rec != nil {
		// After the daemon's flush has ended every open recording.
		if cerr := rec.Close(); cerr != nil {
			log.Error("close recorder", "err", cerr)
		}
	}
	stopBG()
	wg.Wait()
	log.Info("capture stopped", "calls_stored", d.Stored())
	return err
}

// openRecorder repairs what a crash left half-written, then opens the
// recorder.
func openRecorder(cfg config.Config, log *slog.Logger) (*recorder.Recorder, error) {
	dir := cfg.RecordingDir()
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("recordings: %w", err)
	}
	n, err := recorder.Repair(dir)
	if err != nil {
		log.Error("repair recordings", "dir", dir, "err", err)
	}
	if n > 0 {
		log.Warn("recordings left open by a crash were repaired", "count", n)
	}
	return recorder.New(recorder.Config{
		Dir:           dir,
		PCM:           cfg.Recording.PCM,
		MinFreeBytes:  uint64(cfg.Recording.MinFree),
		MaxTotalBytes: uint64(cfg.Recording.MaxTotal),
		MaxAge:        cfg.Recording.MaxAge,
	}, log)
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
func watchPanel(ctx context.Context, st *daemonState, driver *device.Driver, button device.Button) {
	var presses <-chan time.Time
	if button != nil {
		presses = button.Events()
		defer button.Close()
	}
	t := time.NewTicker(time.Second)
	defer t.Stop()
	driver.SetStatus(st.status())
	for {
		select {
		case <-ctx.Done():
			return
		case <-presses:
			st.d.Mute()
		case <-t.C:
			driver.SetStatus(st.status())
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

// daemonState reads the running daemon's parts for the status lamp and
// the metrics.
type daemonState struct {
	d     *tap.Daemon
	store *storage.Store
	rec   *recorder.Recorder
	cfg   config.Config
	// recBytes and recFiles are the recordings' size, measured by the
	// retention sweep (a walk too slow for every scrape).
	recBytes, recFiles atomic.Uint64
}

// health is the daemon's health plus the recorder's disk floor.
func (st *daemonState) health() device.Health {
	h := st.d.Health()
	if h.Fault == "" && st.rec != nil && st.rec.Stats().FloorReached {
		h.Fault = "disk floor reached"
	}
	return h
}

func (st *daemonState) status() device.Status {
	return st.health().Status(st.d.Now(), st.cfg.Device.NoSIPAfter)
}

// sweepLoop applies recordings retention every sweep_every, never deleting
// a recording the store protects, and logs each deletion in the store.
func (st *daemonState) sweepLoop(ctx context.Context, log *slog.Logger) {
	protected := func(id string) bool {
		reason, err := st.store.Kept(ctx, id)
		return err != nil || reason != "" // in doubt, keep
	}
	t := time.NewTicker(st.cfg.Recording.SweepEvery)
	defer t.Stop()
	for {
		st.measureRecordings()
		deleted, err := st.rec.Sweep(ctx, protected)
		if err != nil && ctx.Err() == nil {
			log.Error("retention sweep", "err", err)
		}
		if len(deleted) > 0 {
			now := time.Now().UTC()
			ds := make([]storage.Deletion, 0, len(deleted))
			for _, x := range deleted {
				ds = append(ds, storage.Deletion{At: now, RecordID: x.RecordID, Path: x.Path, Bytes: x.Bytes, Reason: x.Reason})
			}
			if err := st.store.PutDeletions(context.Background(), ds); err != nil {
				log.Error("log deletions", "err", err)
			}
			log.Info("recordings deleted by retention", "count", len(deleted))
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (st *daemonState) measureRecordings() {
	var size, files uint64
	_ = filepath.WalkDir(st.cfg.RecordingDir(), func(_ string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return nil
		}
		if info, err := e.Info(); err == nil {
			size += uint64(max(info.Size(), 0))
			files++
		}
		return nil
	})
	st.recBytes.Store(size)
	st.recFiles.Store(files)
}

// snapshot gathers the daemon's counters for a metrics scrape.
func (st *daemonState) snapshot() metrics.Snapshot {
	d := st.d
	ts := d.Stats()
	s := metrics.Snapshot{
		Frames:           ts.Decoder.Frames,
		Datagrams:        ts.Decoder.Datagrams,
		Undecodable:      ts.Decoder.Undecodable,
		SIPMessages:      ts.SIPMessages,
		SIPErrors:        ts.SIPErrors,
		CallsOpen:        ts.Tracker.Open,
		CallsDroppedFull: ts.Tracker.DroppedFull,
		CallsTimedOut:    ts.Tracker.TimedOut,
		CaptureUp:        d.Capturing(),
		RecordingsBytes:  st.recBytes.Load(),
		RecordingsFiles:  st.recFiles.Load(),
	}
	if k, err := d.KernelStats(); err == nil {
		s.KernelReceived, s.KernelDropped = k.Received, k.Dropped
	}
	if !ts.LastSIP.IsZero() {
		s.LastSIPSeconds = d.Now().Sub(ts.LastSIP).Seconds()
	}
	ps := d.AlarmPanel()
	s.CallsRinging = ps.Ringing
	s.AlarmState = ps.Level.String()
	s.Muted = ps.Level == device.LevelAlarm && !ps.Buzzer
	switch st.status() {
	case device.StatusFault:
		s.StatusLamp = metrics.LampFault
	case device.StatusNoSIP:
		s.StatusLamp = metrics.LampNoSIP
	default:
		s.StatusLamp = metrics.LampHealthy
	}
	ss := st.store.Stats()
	s.StoreBytes = uint64(max(ss.LSMBytes+ss.VLogBytes+ss.WALBytes, 0))
	if st.rec != nil {
		rs := st.rec.Stats()
		s.RTPPackets, s.RTPLost, s.RTPLate, s.RTPDuplicates = rs.Packets, rs.Lost, rs.Late, rs.Duplicates
		s.StreamsOpen = rs.StreamsOpen
		s.DiskFloorReached = rs.FloorReached
	}
	var fsst unix.Statfs_t
	if err := unix.Statfs(st.cfg.DataDir, &fsst); err == nil {
		s.DiskFreeBytes = fsst.Bavail * uint64(fsst.Bsize) //nolint:gosec // G115: block size is positive
	}
	return s
}
