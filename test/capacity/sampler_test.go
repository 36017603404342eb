package capacity_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os/exec"
	"sync"
	"time"
)

// sampler reads, each second while a step runs, the daemon's resident
// set, the packets its interface has received and the share of the
// daemon's core that other tasks took, for the peak of each.
type sampler struct {
	pid int
	ns  string
	// exe and dataDir name the daemon's binary and store in its smaps.
	exe, dataDir string
	stop         chan struct{}
	done         chan struct{}

	mu        sync.Mutex
	rssPeakKB float64
	// anonPeakKB is the highest RssAnon: the heap and stacks, without the
	// binary's pages (page cache) and the capture ring.
	anonPeakKB float64
	// peakSet is the resident set split by kind, read when VmRSS was at
	// its peak (zero if that reading failed; setErr says why).
	peakSet residentSet
	setErr  error
	peakPPS float64
	// othersPeak is the highest share of the daemon's core (0 to 1) that
	// was not the daemon's in one second.
	othersPeak float64
	// resident is every reading of VmRSS and RssAnon, with its time, for
	// the peak within a span found later (peakWithin).
	resident []residentReading
	err      error
}

// residentReading is one second's VmRSS and RssAnon.
type residentReading struct {
	at            time.Time
	rssKB, anonKB float64
}

// allUpPeak is the resident set at its highest while every call of a
// load was up at once.
type allUpPeak struct {
	rssKB, anonKB float64
	samples       int
}

func startSampler(ctx context.Context, pid int, ns, dataDir string) *sampler {
	s := &sampler{pid: pid, ns: ns, dataDir: dataDir, stop: make(chan struct{}), done: make(chan struct{})}
	s.exe, s.setErr = exePath(pid)
	go s.run(ctx)
	return s
}

func (s *sampler) run(ctx context.Context) {
	defer close(s.done)
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	lastRx, lastAt := int64(-1), time.Time{}
	// The core's busy time and the daemon's CPU at the last reading
	// (negative: none yet).
	lastBusy, lastOwn, lastCoreAt := -1.0, 0.0, time.Time{}
	// peakKB is rssPeakKB, kept here so that smaps is read outside the
	// lock, and only at a new peak (reading it takes the daemon's mmap
	// lock).
	peakKB := 0.0
	for {
		kb, err := statusKB(s.pid, "VmRSS")
		anon, anonErr := statusKB(s.pid, "RssAnon")
		rx, rxErr := rxPackets(ctx, s.ns)
		busy, busyErr := coreSeconds(daemonCPU)
		own, ownErr := cpuSeconds(s.pid)
		newPeak := err == nil && kb > peakKB && s.exe != ""
		var set residentSet
		var setErr error
		if newPeak {
			peakKB = kb
			set, setErr = readResidentSet(s.pid, s.exe, s.dataDir)
		}
		now := time.Now()
		s.mu.Lock()
		if newPeak {
			s.peakSet, s.setErr = set, setErr
		}
		if err == nil {
			s.rssPeakKB = max(s.rssPeakKB, kb)
		} else if s.err == nil {
			s.err = err
		}
		if anonErr == nil {
			s.anonPeakKB = max(s.anonPeakKB, anon)
		}
		if err == nil && anonErr == nil {
			s.resident = append(s.resident, residentReading{now, kb, anon})
		}
		if busyErr == nil && ownErr == nil {
			if lastBusy >= 0 && now.After(lastCoreAt) {
				others := (busy - lastBusy) - (own - lastOwn)
				s.othersPeak = max(s.othersPeak, others/now.Sub(lastCoreAt).Seconds())
			}
			lastBusy, lastOwn, lastCoreAt = busy, own, now
		} else if s.err == nil {
			s.err = errors.Join(busyErr, ownErr)
		}
		if rxErr == nil {
			if lastRx >= 0 {
				s.peakPPS = max(s.peakPPS, float64(rx-lastRx)/now.Sub(lastAt).Seconds())
			}
			lastRx, lastAt = rx, now
		} else if s.err == nil {
			s.err = rxErr
		}
		s.mu.Unlock()
		select {
		case <-tick.C:
		case <-s.stop:
			return
		case <-ctx.Done():
			return
		}
	}
}

// finish stops the sampler and returns its peaks.
func (s *sampler) finish() (rssPeakKB, anonPeakKB, peakPPS, othersPeak float64, err error) {
	close(s.stop)
	<-s.done
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.rssPeakKB, s.anonPeakKB, s.peakPPS, s.othersPeak, s.err
}

// peakWithin returns the highest VmRSS and RssAnon read in [from, to]
// (after finish); no samples when none was read then, or the span is
// empty (zero times: the calls were never all up).
func (s *sampler) peakWithin(from, to time.Time) allUpPeak {
	s.mu.Lock()
	defer s.mu.Unlock()
	var p allUpPeak
	for _, r := range s.resident {
		if !r.at.Before(from) && !r.at.After(to) {
			p.rssKB, p.anonKB = max(p.rssKB, r.rssKB), max(p.anonKB, r.anonKB)
			p.samples++
		}
	}
	return p
}

// peakResidentSet returns the resident set's parts at VmRSS's peak (after
// finish).
func (s *sampler) peakResidentSet() (residentSet, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.peakSet, s.setErr
}

// rxPackets reads the packets received on the capture interface of
// namespace ns (the kernel's own counter, before any capture filter).
func rxPackets(ctx context.Context, ns string) (int64, error) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "ip", "-n", ns, "-j", "-s", "link", "show", "dev", vethName).Output()
	if err != nil {
		return 0, fmt.Errorf("ip -s link: %w", err)
	}
	var links []struct {
		Stats64 struct {
			RX struct {
				Packets int64 `json:"packets"`
			} `json:"rx"`
		} `json:"stats64"`
	}
	if err := json.Unmarshal(out, &links); err != nil {
		return 0, fmt.Errorf("ip -s link output %q: %w", out, err)
	}
	if len(links) != 1 {
		return 0, fmt.Errorf("%w: ip -s link shows %d links", errFormat, len(links))
	}
	return links[0].Stats64.RX.Packets, nil
}
