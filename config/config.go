// Package config reads switchtap's YAML configuration file. Every key has a
// default, so the daemon runs with no file at all.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"time"
	// The board may have no zoneinfo: America/El_Salvador must resolve.
	_ "time/tzdata"

	"go.yaml.in/yaml/v3"

	"github.com/switchtap/switchtap/device"
	"github.com/switchtap/switchtap/sip"
	"github.com/switchtap/switchtap/speech"
	"github.com/switchtap/switchtap/uplink"
)

// DefaultPath is where the daemon looks for its configuration.
const DefaultPath = "/etc/switchtap/switchtap.yaml"

// DefaultDataDir holds the store when data_dir is not set.
const DefaultDataDir = "/var/lib/switchtap"

// Config is the whole configuration file.
type Config struct {
	// Interface is the mirror-port interface for `run` (flag -i wins).
	Interface string `yaml:"interface"`
	// DataDir holds the store (created if missing).
	DataDir string `yaml:"data_dir"`
	// LogLevel is debug, info, warn or error.
	LogLevel      string         `yaml:"log_level"`
	Capture       Capture        `yaml:"capture"`
	Ring          Ring           `yaml:"ring"`
	Receptionists []Receptionist `yaml:"receptionists"`
	Calls         Calls          `yaml:"calls"`
	Metrics       Metrics        `yaml:"metrics"`
	Recording     Recording      `yaml:"recording"`
	Web           Web            `yaml:"web"`
	API           API            `yaml:"api"`
	// Uplink sends the records to the central reporting server (package
	// uplink; off while url is empty).
	Uplink uplink.Config `yaml:"uplink"`
	Report Report        `yaml:"report"`
	Sample Sample        `yaml:"sample"`
	// TimeZone is the zone of the switchboard's days and hours in the
	// console and the reports (IANA name; the zone data is embedded).
	TimeZone string `yaml:"time_zone"`
	// Device is the alarm panel: lamps, buzzer, silence button, status
	// lamp (package device).
	Device device.Config `yaml:"device"`
	// ClockCheck makes an unsynchronised system clock a status-lamp fault
	// while capturing live: every timestamp comes from it (issue 12). On
	// in the shipped configuration; off when absent.
	ClockCheck bool `yaml:"clock_check"`
}

// Capture configures the live capture (package capture).
type Capture struct {
	// RingSize is the kernel ring the capture shares with the kernel
	// (TPACKET_V3, 128 KiB blocks). All of it becomes resident, so it is
	// part of the daemon's RSS; what it buys is the time the reader may
	// fall behind before the kernel drops: a block is handed over when
	// full or 5 ms after its first packet, so 16 MiB is 640 ms on a
	// quiet line, about 0.5 s with 1,000 calls at once (100 k packets/s
	// of ~230-byte frames, plus the ring's header of each) and 0.3 s at the
	// lab's peak of 200 k packets/s.
	RingSize ByteSize `yaml:"ring_size"`
}

// Bounds of capture.ring_size: 8 blocks, and what a 512 MB board can
// spare.
const (
	MinRingSize = 1 << 20
	MaxRingSize = 256 << 20
)

// Recording configures the audio recordings (package recorder).
type Recording struct {
	// Enabled turns recording on (default) or off.
	Enabled bool `yaml:"enabled"`
	// Dir holds the WAV files; default DATA_DIR/recordings.
	Dir string `yaml:"dir"`
	// PCM stores 16-bit PCM instead of G.711 as captured (twice the size).
	PCM bool `yaml:"pcm"`
	// MaxTotal and MaxAge bound what is kept: past either, the oldest
	// recordings not protected (sampled, evaluated) are deleted first.
	MaxTotal ByteSize      `yaml:"max_total"`
	MaxAge   time.Duration `yaml:"max_age"`
	// MinFree is the free-space floor: below it no new audio is written
	// (call records still are), and the status lamp shows a fault.
	MinFree ByteSize `yaml:"min_free"`
	// SweepEvery is how often retention runs.
	SweepEvery time.Duration `yaml:"sweep_every"`
	// Speech tunes the voice-activity detector behind each record's speech
	// figures (package speech documents each threshold).
	Speech Speech `yaml:"speech"`
}

// Speech is the voice-activity detector's thresholds (speech.Config).
type Speech struct {
	AboveFloorDB         float64       `yaml:"above_floor_db"`
	MinLevelDBov         float64       `yaml:"min_level_dbov"`
	FloorRiseDBPerSecond float64       `yaml:"floor_rise_db_per_second"`
	NoiseZCR             float64       `yaml:"noise_zcr"`
	NoisyExtraDB         float64       `yaml:"noisy_extra_db"`
	NoisyRiseDBPerSecond float64       `yaml:"noisy_rise_db_per_second"`
	MinSpeech            time.Duration `yaml:"min_speech"`
	Hangover             time.Duration `yaml:"hangover"`
}

func speechDefaults() Speech { return Speech(speech.DefaultConfig()) }

// Detector returns the thresholds as package speech takes them.
func (s Speech) Detector() speech.Config { return speech.Config(s) }

// RecordingDir returns the recordings directory.
func (c Config) RecordingDir() string {
	if c.Recording.Dir != "" {
		return c.Recording.Dir
	}
	return filepath.Join(c.DataDir, "recordings")
}

// Metrics configures the Prometheus endpoint.
type Metrics struct {
	// Listen is the HTTP address of /metrics; empty turns it off. The
	// default port 7060 stays clear of the exporters' 9100–9999 range,
	// SIP (5060–5090), common RTP ranges and Linux's ephemeral ports.
	Listen string `yaml:"listen"`
}

// Web configures the HTTP API and the console.
type Web struct {
	// Listen is the console's address; empty turns it off.
	Listen string `yaml:"listen"`
	// TLSCert and TLSKey are PEM files; with both the console is served
	// over HTTPS only, without them over HTTP (logged as a warning).
	TLSCert string `yaml:"tls_cert"`
	TLSKey  string `yaml:"tls_key"`
}

// API configures the local socket the command line uses to reach a
// running daemon.
type API struct {
	// Socket is the unix socket's path; default DATA_DIR/switchtap.sock.
	// It is created mode 0660, group switchtap when that group exists:
	// whoever can open it acts as an admin.
	Socket string `yaml:"socket"`
}

// SocketPath returns the local API socket's path.
func (c Config) SocketPath() string {
	if c.API.Socket != "" {
		return c.API.Socket
	}
	return filepath.Join(c.DataDir, "switchtap.sock")
}

// Location returns the configured time zone.
func (c Config) Location() (*time.Location, error) {
	loc, err := time.LoadLocation(c.TimeZone)
	if err != nil {
		return nil, fmt.Errorf("time_zone %q: %w", c.TimeZone, err)
	}
	return loc, nil
}

// Ring is the ring policy: a preset, optionally overridden key by key.
type Ring struct {
	// Preset is us (2 s / 4 s), sv (1.2 s / 4.6 s) or eu (1 s / 4 s).
	Preset   string        `yaml:"preset"`
	MaxRings int           `yaml:"max_rings"`
	RingOn   time.Duration `yaml:"ring_on"`
	RingOff  time.Duration `yaml:"ring_off"`
}

// Receptionist names an operator and how to recognise the phone.
type Receptionist struct {
	Name       string   `yaml:"name"`
	Extensions []string `yaml:"extensions"`
	IPs        []string `yaml:"ips"`
}

// Calls tunes call tracking.
type Calls struct {
	SetupTimeout   time.Duration `yaml:"setup_timeout"`
	IdleTimeout    time.Duration `yaml:"idle_timeout"`
	Linger         time.Duration `yaml:"linger"`
	TransferWindow time.Duration `yaml:"transfer_window"`
	MaxOpen        int           `yaml:"max_open"`
	// FloodRate is the INVITEs per second from one address beyond which
	// it is taken for a SIP flood: its legs that never ring are evicted
	// first and counted as aggregates, not stored one record each.
	FloodRate float64 `yaml:"flood_rate"`
	// MaxTombs bounds the Call-IDs of closed legs remembered to absorb
	// late retransmissions; 0 is twice max_open.
	MaxTombs int `yaml:"max_tombs"`
}

// Default returns the configuration used when no file is given.
func Default() Config {
	tc := sip.DefaultTrackerConfig()
	return Config{
		DataDir:  DefaultDataDir,
		LogLevel: "info",
		Capture:  Capture{RingSize: 16 << 20},
		Ring: Ring{
			Preset:   "us",
			MaxRings: tc.Ring.MaxRings,
			RingOn:   tc.Ring.On,
			RingOff:  tc.Ring.Off,
		},
		Metrics:  Metrics{Listen: ":7060"},
		Web:      Web{Listen: ":8080"},
		Report:   defaultReport(),
		Sample:   defaultSample(),
		TimeZone: "America/El_Salvador",
		Recording: Recording{
			Enabled:    true,
			MaxTotal:   20 << 30,
			MaxAge:     90 * 24 * time.Hour,
			MinFree:    1 << 30,
			SweepEvery: 10 * time.Minute,
			Speech:     speechDefaults(),
		},
		Device: device.DefaultConfig(),
		Calls: Calls{
			SetupTimeout:   tc.SetupTimeout,
			IdleTimeout:    tc.IdleTimeout,
			Linger:         tc.Linger,
			TransferWindow: tc.TransferWindow,
			MaxOpen:        tc.MaxCalls,
			FloodRate:      tc.FloodRate,
		},
	}
}

// Load reads the file at path. An empty path returns the defaults; so does
// a missing file at DefaultPath (but not a missing file named explicitly).
func Load(path string) (Config, error) {
	if path == "" {
		return Default(), nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return Config{}, fmt.Errorf("read config: %w", err)
	}
	c, err := Parse(b)
	if err != nil {
		return Config{}, fmt.Errorf("config %s: %w", path, err)
	}
	return c, nil
}

// Parse reads a configuration from YAML. Unknown keys are an error, so a
// typo does not silently fall back to a default.
func Parse(b []byte) (Config, error) {
	c := Default()
	var raw struct {
		Config `yaml:",inline"`
	}
	raw.Config = c
	// A preset named in the file must apply before explicit keys override
	// it, so read the preset first.
	var pre struct {
		Ring struct {
			Preset string `yaml:"preset"`
		} `yaml:"ring"`
	}
	if err := yaml.Unmarshal(b, &pre); err != nil {
		return Config{}, fmt.Errorf("parse: %w", err)
	}
	if pre.Ring.Preset != "" {
		p, err := sip.RingPreset(pre.Ring.Preset)
		if err != nil {
			return Config{}, err
		}
		raw.Ring = Ring{Preset: pre.Ring.Preset, MaxRings: p.MaxRings, RingOn: p.On, RingOff: p.Off}
	}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&raw); err != nil && !errors.Is(err, io.EOF) {
		return Config{}, fmt.Errorf("parse: %w", err)
	}
	c = raw.Config
	if err := c.Validate(); err != nil {
		return Config{}, err
	}
	return c, nil
}

// ReceptionistNames returns the configured receptionists' names, in order.
func (c Config) ReceptionistNames() []string {
	names := make([]string, 0, len(c.Receptionists))
	for _, r := range c.Receptionists {
		names = append(names, r.Name)
	}
	return names
}

// RingPolicy returns the ring policy the configuration names.
func (c Config) RingPolicy() sip.RingPolicy {
	return sip.RingPolicy{MaxRings: c.Ring.MaxRings, On: c.Ring.RingOn, Off: c.Ring.RingOff}
}

// TrackerConfig returns the call tracker's settings.
func (c Config) TrackerConfig() sip.TrackerConfig {
	tc := sip.TrackerConfig{
		Ring:           c.RingPolicy(),
		SetupTimeout:   c.Calls.SetupTimeout,
		IdleTimeout:    c.Calls.IdleTimeout,
		Linger:         c.Calls.Linger,
		TransferWindow: c.Calls.TransferWindow,
		MaxCalls:       c.Calls.MaxOpen,
		FloodRate:      c.Calls.FloodRate,
		MaxTombs:       c.Calls.MaxTombs,
	}
	for _, r := range c.Receptionists {
		sr := sip.Receptionist{Name: r.Name, Extensions: r.Extensions}
		for _, ip := range r.IPs {
			a, err := netip.ParseAddr(ip)
			if err == nil {
				sr.IPs = append(sr.IPs, a.Unmap())
			}
		}
		tc.Receptionists = append(tc.Receptionists, sr)
	}
	return tc
}
