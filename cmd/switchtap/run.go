package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/switchtap/switchtap/capture"
	"github.com/switchtap/switchtap/config"
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

	d := tap.NewDaemon(tap.DaemonConfig{Tracker: cfg.TrackerConfig(), StatsEvery: 5 * time.Minute}, src, store, log.With("component", "tap"))
	gcCtx, stopGC := context.WithCancel(context.Background())
	gcDone := make(chan struct{})
	go func() {
		defer close(gcDone)
		_ = store.Run(gcCtx)
	}()
	log.Info("capture started", "iface", cfg.Interface, "data_dir", cfg.DataDir,
		"max_rings", cfg.Ring.MaxRings, "ring_on", cfg.Ring.RingOn, "ring_off", cfg.Ring.RingOff)
	err = d.Run(ctx)
	stopGC()
	<-gcDone
	log.Info("capture stopped", "calls_stored", d.Stored())
	return err
}
