package main

import (
	"context"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"

	"github.com/switchtap/switchtap/access"
	"github.com/switchtap/switchtap/recorder"
)

// cmdRecording runs `switchtap recording export ID [--pcm] [-o FILE]`.
// Every export is written to the audit log: by the daemon when it runs,
// else here.
func cmdRecording(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "export" {
		return fmt.Errorf("%w: recording export ID [--pcm] [-o FILE]", errUsage)
	}
	fs := newFlagSet("recording export", stderr)
	cf := addCommonFlags(fs)
	pcm := fs.Bool("pcm", false, "convert to 16-bit PCM WAV (plays in every browser)")
	out := fs.String("o", "", `output file (default ID.wav; "-" for standard output)`)
	pos, err := parseFlags(fs, args[1:])
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return fmt.Errorf("%w: recording export needs one record id", errUsage)
	}
	id := pos[0]
	cfg, err := cf.load()
	if err != nil {
		return err
	}
	l, err := openLocal(cfg, stderr)
	if err != nil {
		return err
	}
	defer l.Close()

	var src string
	if l.store != nil {
		c, err := l.store.Call(ctx, id)
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
		src = filepath.Join(cfg.RecordingDir(), filepath.FromSlash(c.Recording.File))
		detail := "stored"
		if *pcm {
			detail = "pcm"
		}
		// Audited before a byte is written, as the daemon does.
		if _, err := l.access.Audit(ctx, access.Entry{Actor: localActor().Name, Action: "recording_download",
			Target: id, Detail: "cli export " + detail, Remote: "cli"}); err != nil {
			return fmt.Errorf("audit: %w", err)
		}
	}

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
	if l.client != nil {
		q := url.Values{"download": {"1"}}
		if !*pcm {
			q.Set("format", "stored")
		}
		return l.client.Copy(ctx, "/api/v1/calls/"+url.PathEscape(id)+"/recording?"+q.Encode(), w)
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
