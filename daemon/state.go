package daemon

import (
	"context"
	"io/fs"
	"path/filepath"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"

	"github.com/switchtap/switchtap/config"
	"github.com/switchtap/switchtap/device"
	"github.com/switchtap/switchtap/internal/clocksync"
	"github.com/switchtap/switchtap/metrics"
	"github.com/switchtap/switchtap/recorder"
	"github.com/switchtap/switchtap/storage"
	"github.com/switchtap/switchtap/tap"
	"github.com/switchtap/switchtap/uplink"
	"github.com/switchtap/switchtap/web"
)

// state reads the running daemon's parts for the status lamp, the metrics,
// /healthz and the console's Estado page.
type state struct {
	tap    *tap.Daemon
	store  *storage.Store
	rec    *recorder.Recorder
	cfg    config.Config
	source string
	// live is true for an interface, false for run --pcap's files, whose
	// timestamps make no capture lag.
	live    bool
	version string
	started time.Time
	errs    *errorRing
	// uplink is the central server's sender, nil when none is configured.
	uplink *uplink.Sender
	// clock watches the system clock's synchronisation (clock_check, live
	// capture only); nil when off.
	clock *clocksync.Watch
	// recBytes and recFiles are the recordings' size, measured by the
	// retention sweep (a walk too slow for every scrape).
	recBytes, recFiles atomic.Uint64
}

// health is the capture's health plus the recorder's disk floor.
func (st *state) health() device.Health {
	h := st.tap.Health()
	h.Fault = st.storeFault(h.Fault)
	if h.Fault == "" && st.rec != nil && st.rec.Stats().FloorReached {
		h.Fault = "disk floor reached"
	}
	if h.Fault == "" && st.clock != nil {
		h.Fault = st.clock.Fault()
	}
	if h.Fault == "" && st.uplink != nil && st.uplink.Unreachable(offlineAfter(st.cfg.Uplink)) {
		h.Fault = "sin conexión con el servidor central"
	}
	return h
}

// storeFault is why records cannot be stored now, "" when they can: the
// capture's writer failing (tapFault, from tap.Daemon.Health), or the
// store refusing writes on a full disk — shown at once, before a record
// has had to wait. /healthz and the status's write_failing read this, not
// the lamp's text, which also carries faults that lose no record.
func (st *state) storeFault(tapFault string) string {
	if tapFault != "" {
		return tapFault
	}
	if st.store != nil && st.store.Disk(false).Full {
		return "store: disk full"
	}
	return ""
}

func (st *state) status() device.Status {
	return st.health().Status(st.tap.Now(), st.cfg.Device.NoSIPAfter)
}

// lampName is the status lamp as the API and the console name it (the
// contract of /api/v1/status and the En vivo page): "ok", "no_sip", "fault".
func lampName(s device.Status) string {
	switch s {
	case device.StatusFault:
		return "fault"
	case device.StatusNoSIP:
		return "no_sip"
	}
	return "ok"
}

// metricsLamp is the status lamp as the metrics name it.
func metricsLamp(s device.Status) string {
	switch s {
	case device.StatusFault:
		return metrics.LampFault
	case device.StatusNoSIP:
		return metrics.LampNoSIP
	}
	return metrics.LampHealthy
}

// alarmName is the four-ring panel as the API names it: "off",
// "warning", "alarm".
func alarmName(l device.Level) string {
	switch l {
	case device.LevelWarning:
		return "warning"
	case device.LevelAlarm:
		return "alarm"
	}
	return "off"
}

func (st *state) measureRecordings() {
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

func (st *state) diskFree() uint64 {
	var fsst unix.Statfs_t
	if err := unix.Statfs(st.cfg.DataDir, &fsst); err != nil {
		return 0
	}
	return fsst.Bavail * uint64(fsst.Bsize) //nolint:gosec // G115: block size is positive
}

// snapshot gathers the daemon's counters for a metrics scrape.
func (st *state) snapshot() metrics.Snapshot {
	d := st.tap
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
		SIPFloodSources:  ts.Tracker.FloodSources,
		CallsEvicted:     ts.Tracker.Evicted,
		CallsAggregated:  ts.Tracker.Aggregated,
		CaptureUp:        d.Capturing(),
		RecordingsBytes:  st.recBytes.Load(),
		RecordingsFiles:  st.recFiles.Load(),
		RecorderWaits:    ts.RecorderWaits,
	}
	if k, err := d.KernelStats(); err == nil {
		s.KernelReceived, s.KernelDropped = k.Received, k.Dropped
	}
	if st.live {
		last, longest := d.CaptureLag()
		s.CaptureLagSeconds, s.CaptureLagMaxSeconds = last.Seconds(), longest.Seconds()
	}
	if !ts.LastSIP.IsZero() {
		s.LastSIPSeconds = d.Now().Sub(ts.LastSIP).Seconds()
	}
	ps := d.AlarmPanel()
	s.CallsRinging = ps.Ringing
	s.AlarmState = ps.Level.String()
	s.Muted = ps.Level == device.LevelAlarm && !ps.Buzzer
	s.StatusLamp = metricsLamp(st.status())
	ss := st.store.Stats()
	s.StoreBytes = uint64(max(ss.LSMBytes+ss.VLogBytes+ss.WALBytes, 0))
	if st.rec != nil {
		rs := st.rec.Stats()
		s.RTPPackets, s.RTPLost, s.RTPLate, s.RTPDuplicates = rs.Packets, rs.Lost, rs.Late, rs.Duplicates
		s.StreamsOpen = rs.StreamsOpen
		s.DiskFloorReached = rs.FloorReached
	}
	s.DiskFreeBytes = st.diskFree()
	return s
}

// info is the status the API and the console show.
func (st *state) info() web.StatusInfo {
	d := st.tap
	ts := d.Stats()
	var si web.StatusInfo
	si.Version = st.version
	si.StartedAt = st.started
	si.Now = d.Now()
	si.Capture.Source = st.source
	si.Capture.Up = d.Capturing()
	si.Capture.Frames = ts.Decoder.Frames
	if k, err := d.KernelStats(); err == nil {
		si.Capture.KernelReceived, si.Capture.KernelDropped = k.Received, k.Dropped
	}
	for _, n := range ts.Decoder.Undecodable {
		si.Capture.Undecodable += n
	}
	si.Capture.SIPMessages = ts.SIPMessages
	for _, n := range ts.SIPErrors {
		si.Capture.SIPErrors += n
	}
	if !ts.LastSIP.IsZero() {
		t := ts.LastSIP
		si.Capture.LastSIP = &t
	}
	si.Capture.CallsOpen = ts.Tracker.Open
	si.Capture.CallsDropped = ts.Tracker.DroppedFull
	si.Capture.FloodSources = ts.Tracker.FloodSources
	si.Capture.CallsEvicted = ts.Tracker.Evicted
	si.Capture.CallsAggregated = ts.Tracker.Aggregated
	ss := st.store.Stats()
	q := d.Queue()
	si.Store.Bytes = uint64(max(ss.LSMBytes+ss.VLogBytes+ss.WALBytes, 0))
	si.Store.CallsStored = d.Stored()
	si.Store.QueueLen = q.Queued
	si.Store.Dropped = q.Dropped
	si.Drops.KernelPackets = si.Capture.KernelDropped
	si.Drops.Calls = si.Capture.CallsDropped
	si.Drops.Records = q.Dropped
	si.Drops.ProvisionalRecords = q.InProgressDropped
	h := st.health()
	si.Store.WriteFailing = st.storeFault(st.tap.Health().Fault) != ""
	si.Disk.Path = st.cfg.DataDir
	si.Disk.FreeBytes = st.diskFree()
	si.Disk.FloorBytes = uint64(st.cfg.Recording.MinFree)
	si.Disk.RecordingsB = st.recBytes.Load()
	si.Disk.RecordingsN = st.recFiles.Load()
	si.Disk.RetentionMaxB = uint64(st.cfg.Recording.MaxTotal)
	si.Disk.RetentionDays = int(st.cfg.Recording.MaxAge / (24 * time.Hour))
	if st.rec != nil {
		si.Disk.FloorReached = st.rec.Stats().FloorReached
	}
	si.Lamp = lampName(h.Status(d.Now(), st.cfg.Device.NoSIPAfter))
	si.Fault = h.Fault
	si.Alarm = alarmName(d.AlarmPanel().Level)
	if st.uplink != nil {
		if us, err := st.uplink.Status(context.Background()); err == nil {
			si.Uplink = &web.UplinkInfo{URL: st.cfg.Uplink.URL, Connected: !us.Offline, Depth: us.Depth,
				OldestSeconds: us.OldestAge.Seconds(), Acked: us.Acked, LastError: us.LastError}
			if !us.LastAck.IsZero() {
				t := us.LastAck
				si.Uplink.LastAck = &t
			}
		}
	}
	for _, e := range st.errs.last() {
		si.Errors = append(si.Errors, struct {
			At      time.Time `json:"at"`
			Message string    `json:"message"`
		}{e.at, e.msg})
	}
	return si
}

// offlineAfter is the uplink's threshold for "sin conexión".
func offlineAfter(c uplink.Config) time.Duration {
	if c.OfflineAfter > 0 {
		return c.OfflineAfter
	}
	return uplink.DefaultOfflineAfter
}
