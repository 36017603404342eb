package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/switchtap/switchtap/recorder"
	"github.com/switchtap/switchtap/storage"
)

// cmdRecording runs `switchtap recording export ID [--pcm] [-o FILE]`.
func cmdRecording(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "export" {
		return fmt.Errorf("%w: recording export ID [--pcm] [-o FILE]", errUsage)
	}
	fs := newFlagSet("recording export", stderr)
	pcm := fs.Bool("pcm", false, "convert to 16-bit PCM WAV (plays in every browser)")
	out := fs.String("o", "", `output file (default ID.wav; "-" for standard output)`)
	cfgPath := fs.String("config", "", "configuration file (default "+configDefaultHint+")")
	dataDir := fs.String("data-dir", "", "data directory (overrides data_dir:)")
	pos, err := parseFlags(fs, args[1:])
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return fmt.Errorf("%w: recording export needs one record id", errUsage)
	}
	id := pos[0]
	cfg, err := loadConfig(*cfgPath)
	if err != nil {
		return err
	}
	if *dataDir != "" {
		cfg.DataDir = *dataDir
	}
	store, err := storage.Open(cfg.DataDir, storage.WithLogger(newLogger(stderr, "warn")))
	if err != nil {
		return err
	}
	c, err := store.Call(ctx, id)
	store.Close()
	if err != nil {
		return fmt.Errorf("record %s: %w", id, err)
	}
	if c.Recording == nil || c.Recording.File == "" {
		why := "no recording"
		if c.Recording != nil && c.Recording.NotRecordable != "" {
			why = "not recordable: " + c.Recording.NotRecordable
		}
		return fmt.Errorf("record %s: %s", id, why)
	}
	src := filepath.Join(cfg.RecordingDir(), filepath.FromSlash(c.Recording.File))
	w := stdout
	if *out != "-" {
		name := *out
		if name == "" {
			name = id + ".wav"
		}
		f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
		if err != nil {
			return fmt.Errorf("export: %w", err)
		}
		defer f.Close()
		w = f
	}
	if *pcm {
		return recorder.ExportPCM(src, w)
	}
	f, err := os.Open(src)
	if err != nil {
		return fmt.Errorf("export: %w", err)
	}
	defer f.Close()
	if _, err := io.Copy(w, f); err != nil {
		return fmt.Errorf("export: %w", err)
	}
	return nil
}
