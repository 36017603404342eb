// Package daemon is switchtap's lifecycle: it opens the store, the capture,
// the recorder, the alarm panel, accounts, the web console and the metrics,
// and runs every long-running part as a service under one supervisor. The
// first part that fails stops the daemon with an error naming it (systemd
// restarts it); on SIGTERM the capture and the servers stop first, the
// legs still open are stored, and the alarm panel is switched off last.
package daemon

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/switchtap/switchtap/access"
	"github.com/switchtap/switchtap/capture"
	"github.com/switchtap/switchtap/config"
	"github.com/switchtap/switchtap/device"
	"github.com/switchtap/switchtap/export"
	"github.com/switchtap/switchtap/hep"
	"github.com/switchtap/switchtap/internal/clocksync"
	"github.com/switchtap/switchtap/metrics"
	"github.com/switchtap/switchtap/recorder"
	"github.com/switchtap/switchtap/storage"
	"github.com/switchtap/switchtap/tap"
	"github.com/switchtap/switchtap/web"
	"github.com/switchtap/switchtap/webauth"
)

// AdminPasswordFile is the file in the data directory that receives the
// first admin's generated password (mode 0600).
const AdminPasswordFile = "admin-password.txt"

// Options say what to run.
type Options struct {
	Config config.Config
	// Pcaps, when set, are read instead of the interface (`run --pcap`):
	// the whole daemon runs on them and keeps serving after they end.
	Pcaps []string
	// Realtime paces the capture files at the speed they were captured.
	Realtime bool
	Version  string
	Log      *slog.Logger
	// Now is the wall clock (tests inject it); events never use it.
	Now func() time.Time
	// Argon overrides the password hashing cost (tests).
	Argon *access.ArgonParams
	// DropPrivileges drops every capability once New has opened what
	// needs one (`switchtap run` sets it; tests that run New in their own
	// process must keep theirs). See privileges.go.
	DropPrivileges bool
}

// Daemon is a configured, not yet running switchtap.
type Daemon struct {
	cfg   config.Config
	log   *slog.Logger
	sup   *Supervisor
	store *storage.Store
	rec   *recorder.Recorder
	tap   *tap.Daemon
	acc   *access.Service
	// files is the capture files' source of run --pcap, nil when live.
	files *fileSource

	source                   string
	webLn, sockLn, metricsLn net.Listener
	closers                  []func() error
	closeOnce                sync.Once

	// socketAPI is what the local socket serves: every route behind the
	// peer-credential check (web.LocalHandler).
	socketAPI http.Handler
}

// New opens every part of the daemon. Nothing runs until Run; on error
// everything opened is closed again.
func New(ctx context.Context, o Options) (*Daemon, error) {
	var d *Daemon
	d, err := newDaemon(ctx, o, &d)
	if err != nil {
		if d != nil {
			_ = d.close()
		}
		return nil, err
	}
	return d, nil
}

// newDaemon builds the daemon; *partial holds what was opened so far, for
// New to close on error.
func newDaemon(ctx context.Context, o Options, partial **Daemon) (d *Daemon, err error) {
	cfg := o.Config
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	ring := &errorRing{}
	log := slog.New(errorTap{Handler: o.Log.Handler(), ring: ring})
	d = &Daemon{cfg: cfg, log: log, sup: NewSupervisor(log.With("component", "supervisor"))}
	*partial = d
	loc, err := cfg.Location()
	if err != nil {
		return nil, err
	}

	var src tap.LiveSource
	source := cfg.Interface
	if len(o.Pcaps) > 0 {
		fs, err := openFiles(o.Pcaps, o.Realtime, o.Now)
		if err != nil {
			return nil, err
		}
		// A file cut mid-packet ends at its last whole frame: its calls
		// are kept and the cut is logged (issue 9 §3).
		if t, ok := fs.src.(capture.Truncating); ok {
			t.OnTruncated(func(e *capture.TruncatedError) {
				log.Warn("capture file cut short: frames after the cut are lost", "file", e.Path,
					"offset", e.Offset, "size", e.Size, "frames", e.Frames, "err", e.Err)
			})
		}
		src, source, d.files = fs, "pcap", fs
	} else {
		if cfg.Interface == "" {
			return nil, fmt.Errorf("%w: run needs -i IFACE (or interface: in the config) or --pcap FILE", ErrUsage)
		}
		// capture's errors name the interface and, for ErrPermission, say
		// how to grant CAP_NET_RAW.
		live, err := capture.OpenLive(cfg.Interface, capture.WithRingBytes(int(cfg.Capture.RingSize))) //nolint:gosec // G115: validated, at most MaxRingSize
		if err != nil {
			return nil, err
		}
		src = live
	}
	d.closers = append(d.closers, src.Close)
	d.source = source

	// A data dir open to other users is tightened first (issue 9 §5).
	if err := secureDirs(log, cfg.DataDir, cfg.RecordingDir()); err != nil {
		return nil, err
	}
	if d.store, err = storage.Open(cfg.DataDir, storage.WithLogger(log.With("component", "storage"))); err != nil {
		return nil, err
	}
	d.closers = append(d.closers, d.store.Close)
	// Before the recorder opens and capture starts: the calls a crash
	// interrupted are closed as "crash", their recordings repaired and
	// attached (recover.go, issue 9 §4).
	recoverCrash(ctx, d.store, cfg, log.With("component", "recover"))

	acfg := access.Config{Now: o.Now}
	if o.Argon != nil {
		acfg.Argon = *o.Argon
	}
	if d.acc, err = access.New(d.store.KV("access"), acfg, log); err != nil {
		return nil, err
	}
	if err := d.firstAdmin(ctx); err != nil {
		return nil, err
	}

	reg := prometheus.NewRegistry()
	m, err := metrics.New(reg, metrics.Config{
		Ring:               cfg.RingPolicy(),
		Version:            o.Version,
		Operators:          operatorNames(cfg),
		UndecodableReasons: []string{capture.ReasonTruncated, capture.ReasonMalformed, capture.ReasonUnsupportedLink, capture.ReasonEncapDepth},
		SIPErrorReasons:    tap.SIPErrorReasons(),
	})
	if err != nil {
		return nil, err
	}

	panel, button, err := device.Open(cfg.Device, log.With("component", "panel"))
	if err != nil {
		return nil, fmt.Errorf("alarm panel: %w", err)
	}
	driver := device.NewDriver(panel, device.WithLogger(log.With("component", "panel")))
	policy := device.NewPolicy(AlarmPolicy(cfg))
	hub := web.NewHub(cfg.RingPolicy(), o.Now)
	alarmLog := log.With("component", "alarm")
	// lamp is the status lamp as last shown, kept by panelWatch: onEdges
	// runs under the pipeline's lock and must not ask the capture for it.
	lamp := &atomic.Value{}
	lamp.Store(lampName(device.StatusHealthy))
	onEdges := func(edges []device.Edge, ps device.PanelState) {
		for _, e := range edges {
			alarmLog.Info("alarm edge", "at", e.At, "call_id", e.CallID, "state", e.State,
				"panel", e.Panel, "buzzer", e.Buzzer, "operator", e.Operator)
		}
		driver.Show(ps)
		hub.SetLamp(lamp.Load().(string), alarmName(ps.Level))
	}
	// Legs that never rang (a flood's) are stored as aggregates per source
	// and reason, handed off without blocking the capture (issue 9 §2).
	aggs := storage.NewAggregateSink(d.store, 0, log.With("component", "aggregates"))
	opts := []tap.PipelineOption{
		tap.WithClosed(m.ObserveCall),
		tap.WithAlarm(policy, onEdges),
		tap.WithEvents(hub.Event),
		tap.WithTicker(hub.Advance),
		tap.WithAggregates(aggs.Add),
	}
	mirror, mirrorOpt, err := newHEP(cfg.Uplink.HEP, log.With("component", "hep"))
	if err != nil {
		return nil, fmt.Errorf("hep: %w", err)
	}
	if mirror != nil {
		opts = append(opts, mirrorOpt)
		if err := reg.Register(hep.NewCollector(mirror)); err != nil {
			return nil, fmt.Errorf("hep metrics: %w", err)
		}
	}
	if cfg.Recording.Enabled {
		if d.rec, err = openRecorder(cfg, false, len(o.Pcaps) > 0, log.With("component", "recorder")); err != nil {
			return nil, err
		}
		opts = append(opts, RecorderOptions(d.rec)...)
	}
	d.tap = tap.NewDaemon(tap.DaemonConfig{
		Tracker:    cfg.TrackerConfig(),
		StatsEvery: 5 * time.Minute,
		Pipeline:   opts,
		EndOfInput: len(o.Pcaps) > 0,
		// A record at ringing and at answer: a crash loses no call
		// that rang (issue 9 §4).
		Provisional: true,
	}, src, d.store, log.With("component", "tap"))
	st := &state{tap: d.tap, store: d.store, rec: d.rec, cfg: cfg, source: source, live: d.files == nil, version: o.Version, started: o.Now().UTC(), errs: ring}
	if d.rec == nil {
		// With recording on, the retention service measures them as it
		// starts: one walk of the recordings, not two, at start-up.
		st.measureRecordings()
	}
	m.SetSnapshot(st.snapshot)

	// The tap's own health, day by day, for the month's report (issue 10
	// §6), and ETAPA 2 of the procedure over the store.
	health := newHealthLog(d.store.KV(HealthBucket), tapHealthCounters(d.tap), loc, o.Now, log.With("component", "health"))
	proc, err := newProcedure(d.store, cfg, loc, o.Now, health, log.With("component", "report"))
	if err != nil {
		return nil, err
	}

	ws, err := web.New(web.Config{
		Calls:        storeCalls{d.store},
		Auth:         webauth.New(d.acc, webauth.Fixed(operatorNames(cfg))),
		Status:       st.info,
		Live:         hub,
		RecordingDir: cfg.RecordingDir(),
		Location:     loc,
		Ring:         cfg.RingPolicy(),
		Operators:    operatorNames(cfg),
		Figures:      newFigures(d.store, cfg, loc, o.Now),
		Aggregates:   d.store,
		Sample:       proc.sampler,
		Evaluations:  proc.evals,
		Review:       proc.review,
		Documents:    proc,
		Exports:      export.Exporter{},
		Secure:       cfg.Web.TLSCert != "",
		Version:      o.Version,
		Now:          o.Now,
		Log:          log.With("component", "web"),

		// The chain's check serves `switchtap audit verify`, on the
		// socket only and behind its peer check like the rest of it.
		LocalRoutes: []web.LocalRoute{{Pattern: "GET /audit/verify", Handler: verifyHandler(d.acc)}},
	})
	if err != nil {
		return nil, err
	}

	// The front tier: capture and everything that answers people.
	snd, err := newUplink(d.store, cfg.Uplink, cfg.RecordingDir(), log.With("component", "uplink"), o.Now)
	if err != nil {
		return nil, fmt.Errorf("uplink: %w", err)
	}
	if snd != nil {
		st.uplink = snd
		if err := reg.Register(newUplinkCollector(snd)); err != nil {
			return nil, fmt.Errorf("uplink metrics: %w", err)
		}
	}

	d.sup.Add("capture", Front, d.tap)
	if snd != nil {
		d.sup.Add("uplink", Front, snd)
	}
	if mirror != nil {
		d.sup.Add("hep", Front, mirror)
	}
	d.sup.Add("access", Front, d.acc)
	if d.rec != nil {
		d.sup.Add("retention", Front, &retention{st: st, log: log.With("component", "retention"), now: o.Now})
	}
	if cfg.Metrics.Listen != "" {
		if d.metricsLn, err = net.Listen("tcp", cfg.Metrics.Listen); err != nil {
			return nil, fmt.Errorf("metrics: %w", err)
		}
		d.closers = append(d.closers, d.metricsLn.Close)
		mux := http.NewServeMux()
		mux.Handle(metrics.MetricsPath, metrics.Handler(reg))
		mux.Handle("/healthz", healthz(st))
		d.sup.Add("metrics", Front, newHTTPService("metrics", d.metricsLn, mux, nil, nil, log.With("component", "metrics")))
	}
	if cfg.Web.Listen != "" {
		if err := d.listenWeb(ws, st); err != nil {
			return nil, err
		}
	}
	if d.sockLn, err = listenSocket(cfg.SocketPath(), log.With("component", "api")); err != nil {
		return nil, err
	}
	d.closers = append(d.closers, d.sockLn.Close)
	d.socketAPI = ws.LocalHandler()
	d.sup.Add("api socket", Front, newHTTPService("api socket", d.sockLn, d.socketAPI, nil, peerContext, log.With("component", "api")))

	// The back tier outlives the capture: the panel is switched off after
	// the last records are stored.
	d.sup.Add("alarm panel", Back, driver)
	d.sup.Add("status lamp", Back, &panelWatch{st: st, driver: driver, button: button, hub: hub, lamp: lamp})
	d.sup.Add("store maintenance", Back, d.store)
	d.sup.Add("aggregates", Back, aggs)
	// Timestamps come from the system clock while capturing live: an
	// unsynchronised one is a fault on the lamp (issue 12).
	if cfg.ClockCheck && len(o.Pcaps) == 0 {
		st.clock = clocksync.NewWatch(nil, clocksync.WithLogger(log.With("component", "clock")))
		d.sup.Add("clock watch", Back, st.clock)
	}
	// Its last beat reads the capture's final counters; the store is still
	// open then.
	d.sup.Add("health log", Back, health)
	d.sup.Add("sample retention", Back, &keepRelease{review: proc.review, samples: proc.sampler, keep: d.store, every: time.Hour, log: log.With("component", "report")})
	// A full disk is a fault with a metric, not a crash (issue 9 §1).
	if err := d.watchDisk(reg, log.With("component", "disk")); err != nil {
		return nil, err
	}

	if o.DropPrivileges {
		// Everything privileged is open: capture socket, listeners, GPIO.
		dropPrivileges(log, needsDAC(cfg.DataDir, cfg.RecordingDir()))
	}
	log.Info("switchtap ready", "source", source, "data_dir", cfg.DataDir, "metrics", addrOf(d.metricsLn),
		"web", addrOf(d.webLn), "socket", cfg.SocketPath(),
		"max_rings", cfg.Ring.MaxRings, "ring_on", cfg.Ring.RingOn, "ring_off", cfg.Ring.RingOff)
	return d, nil
}

// listenWeb opens the console's listener, with TLS when a certificate is
// configured.
func (d *Daemon) listenWeb(ws *web.Server, st *state) error {
	cfg := d.cfg
	var tlsCfg *tls.Config
	if cfg.Web.TLSCert != "" {
		cert, err := tls.LoadX509KeyPair(cfg.Web.TLSCert, cfg.Web.TLSKey)
		if err != nil {
			return fmt.Errorf("web tls: %w", err)
		}
		tlsCfg = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	} else {
		d.log.Warn("web console served over plain HTTP: passwords and recordings cross the LAN unencrypted; set web.tls_cert and web.tls_key", "listen", cfg.Web.Listen)
	}
	ln, err := net.Listen("tcp", cfg.Web.Listen)
	if err != nil {
		return fmt.Errorf("web: %w", err)
	}
	d.webLn = ln
	d.closers = append(d.closers, ln.Close)
	mux := http.NewServeMux()
	mux.Handle("/healthz", healthz(st))
	mux.Handle("/", ws.Handler())
	d.sup.Add("web", Front, newHTTPService("web", ln, mux, tlsCfg, nil, d.log.With("component", "web")))
	return nil
}

// firstAdmin creates the admin account on the first start with no users,
// its password written once to the log and to a 0600 file.
func (d *Daemon) firstAdmin(ctx context.Context) error {
	pw, created, err := d.acc.EnsureAdmin(ctx)
	if err != nil || !created {
		return err
	}
	path := filepath.Join(d.cfg.DataDir, AdminPasswordFile)
	body := "usuario: admin\ncontraseña: " + pw + "\n(cámbiela al primer ingreso; borre este archivo)\n"
	if err := writePrivate(path, []byte(body)); err != nil {
		d.log.Error("first admin: cannot write the password file", "path", path, "err", err)
	}
	d.log.Warn("first start: account admin created; change its password at the first login",
		"user", "admin", "password", pw, "file", path)
	return nil
}

// writePrivate writes b to path, mode 0600 even when the file already
// existed with another mode (the mode of os.WriteFile's open applies only
// to a new file): the mode is set before the first byte is written, so
// the password is never in a file others may read.
func writePrivate(path string, b []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	if err := f.Chmod(0o600); err != nil {
		_ = f.Close()
		return err
	}
	if _, err := f.Write(b); err != nil {
		_ = f.Close()
		return err
	}
	return f.Close()
}

// Run runs the daemon until ctx is done or a part fails, then closes the
// store. It may be called once.
func (d *Daemon) Run(ctx context.Context) error {
	d.log.Info("capture started", "source", d.source, "data_dir", d.cfg.DataDir)
	err := d.sup.Run(ctx)
	d.log.Info("switchtap stopped", "calls_stored", d.tap.Stored())
	if cerr := d.close(); cerr != nil {
		err = errors.Join(err, cerr)
	}
	return err
}

// close releases what New opened, in reverse order, once.
func (d *Daemon) close() error {
	var errs []error
	d.closeOnce.Do(func() {
		if d.rec != nil {
			// After the capture's flush has ended every open recording.
			if err := d.rec.Close(); err != nil {
				errs = append(errs, fmt.Errorf("close recorder: %w", err))
			}
		}
		for i := len(d.closers) - 1; i >= 0; i-- {
			if err := d.closers[i](); err != nil && !errors.Is(err, net.ErrClosed) && !errors.Is(err, errClosed) && !errors.Is(err, os.ErrClosed) {
				errs = append(errs, err)
			}
		}
	})
	return errors.Join(errs...)
}

// InputProgress returns how far the capture files have been read (run
// --pcap), waiting up to the given time for fresh figures; nil when the
// daemon captures live.
func (d *Daemon) InputProgress() func(time.Duration) capture.Progress {
	if d.files == nil {
		return nil
	}
	return d.files.Progress
}

// WebAddr is the console's address (nil when off).
func (d *Daemon) WebAddr() net.Addr { return addrOrNil(d.webLn) }

// MetricsAddr is the metrics endpoint's address (nil when off).
func (d *Daemon) MetricsAddr() net.Addr { return addrOrNil(d.metricsLn) }

// Stored returns how many records the daemon has stored.
func (d *Daemon) Stored() uint64 { return d.tap.Stored() }

// InputEnded reports whether `run --pcap` has read its files to the end.
func (d *Daemon) InputEnded() bool { return d.tap.InputEnded() }

// InputStored reports whether `run --pcap` has read its files to the end
// and stored every record they gave.
func (d *Daemon) InputStored() bool { return d.tap.InputStored() }

func addrOrNil(ln net.Listener) net.Addr {
	if ln == nil {
		return nil
	}
	return ln.Addr()
}

func addrOf(ln net.Listener) string {
	if ln == nil {
		return "off"
	}
	return ln.Addr().String()
}

// healthz is the open health check: 200 while capture runs (or its files
// were read) and the store takes records, else 503.
func healthz(st *state) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		fault := st.storeFault(st.tap.Health().Fault)
		ok := (st.tap.Capturing() || st.tap.InputEnded()) && fault == ""
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		if !ok {
			w.WriteHeader(http.StatusServiceUnavailable)
			if fault == "" {
				fault = "capture stopped"
			}
			fmt.Fprintf(w, "fault: %s\n", fault)
			return
		}
		fmt.Fprintln(w, "ok")
	})
}

// verifyHandler checks the audit chain for `switchtap audit verify` on the
// local socket (a web.LocalRoute: the socket's file mode and its peer's
// credentials are its access control).
func verifyHandler(a *access.Service) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rep, err := a.Verify(r.Context())
		w.Header().Set("Content-Type", "application/json")
		if err != nil {
			w.WriteHeader(http.StatusInternalServerError)
			_ = json.NewEncoder(w).Encode(map[string]string{"error": err.Error()})
			return
		}
		_ = json.NewEncoder(w).Encode(rep)
	})
}

// AlarmPolicy is the four-ring alarm's configuration (shared with replay
// --alarms, so both give the same edges).
func AlarmPolicy(cfg config.Config) device.PolicyConfig {
	return device.PolicyConfig{
		Ring:       cfg.RingPolicy(),
		Watch:      device.WatchFor(len(cfg.Receptionists)),
		MaxRinging: cfg.Device.MaxRinging,
	}
}

// OpenRecorder repairs what a crash left half-written, then opens the
// recorder (shared with replay --record-dir).
func OpenRecorder(cfg config.Config, log *slog.Logger) (*recorder.Recorder, error) {
	return openRecorder(cfg, false, false, log)
}

// RecorderOptions are the pipeline's options for rec: the recorder, on a
// goroutine of its own when the process may run on more than one core
// (GOMAXPROCS, which follows the CPUs it is allowed: a daemon pinned to
// one core records inline, where a second goroutine would only add its
// hand-offs). Records and recordings are the same either way.
func RecorderOptions(rec tap.MediaRecorder) []tap.PipelineOption {
	opts := []tap.PipelineOption{tap.WithRecorder(rec)}
	if runtime.GOMAXPROCS(0) > 1 {
		opts = append(opts, tap.WithRecorderGoroutine())
	}
	return opts
}

// OpenReplayRecorder is OpenRecorder for `replay`: the files are made
// durable once, when it closes, not round by round (issue 12).
func OpenReplayRecorder(cfg config.Config, log *slog.Logger) (*recorder.Recorder, error) {
	return openRecorder(cfg, true, true, log)
}

// openRecorder opens the recorder; waitForDisk makes the pipeline wait for
// a disk that falls behind instead of cutting the recordings, for capture
// files (nothing is lost by reading them slower), never for a live capture.
func openRecorder(cfg config.Config, syncOnClose, waitForDisk bool, log *slog.Logger) (*recorder.Recorder, error) {
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
		SyncOnClose:   syncOnClose,
		WaitForDisk:   waitForDisk,
		Speech:        cfg.Recording.Speech.Detector(),
	}, log)
}

func operatorNames(cfg config.Config) []string { return cfg.ReceptionistNames() }
