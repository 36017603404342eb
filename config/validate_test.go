package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/switchtap/switchtap/device"
	"github.com/switchtap/switchtap/speech"
)

// TestValidate has one case or more per key of issue 9 §6: values that
// used to be replaced by defaults or accepted as something else are errors
// naming the key, and the values at the edges of what is allowed load.
func TestValidate(t *testing.T) {
	tests := []struct {
		name    string
		yaml    string
		wantErr string // "" = must load
	}{
		// calls.* timers ≤ 0 and max_open ≤ 0: errors, not defaults.
		{"setup_timeout zero", "calls: {setup_timeout: 0s}\n", "calls.setup_timeout"},
		{"setup_timeout negative", "calls: {setup_timeout: -1s}\n", "calls.setup_timeout"},
		{"idle_timeout zero", "calls: {idle_timeout: 0s}\n", "calls.idle_timeout"},
		{"idle_timeout negative", "calls: {idle_timeout: -4h}\n", "calls.idle_timeout"},
		{"linger zero", "calls: {linger: 0s}\n", "calls.linger"},
		{"linger negative", "calls: {linger: -1ms}\n", "calls.linger"},
		{"transfer_window zero", "calls: {transfer_window: 0s}\n", "calls.transfer_window"},
		{"transfer_window negative", "calls: {transfer_window: -30s}\n", "calls.transfer_window"},
		{"max_open zero", "calls: {max_open: 0}\n", "calls.max_open"},
		{"max_open negative", "calls: {max_open: -5}\n", "calls.max_open"},
		{"flood_rate zero", "calls: {flood_rate: 0}\n", "calls.flood_rate"},
		{"flood_rate NaN", "calls: {flood_rate: .nan}\n", "calls.flood_rate"},
		{"flood_rate huge", "calls: {flood_rate: 1e9}\n", "calls.flood_rate"},
		{"max_tombs negative", "calls: {max_tombs: -1}\n", "calls.max_tombs"},
		// max_open and max_tombs past MaxCallTable: a typo, and past int32
		// for the tracker's heap.
		{"max_open 10000001", "calls: {max_open: 10000001}\n", "calls.max_open"},
		{"max_open 2^31", "calls: {max_open: 2147483648}\n", "calls.max_open"},
		{"max_open 10000000", "calls: {max_open: 10000000}\n", ""},
		{"max_tombs 10000001", "calls: {max_tombs: 10000001}\n", "calls.max_tombs"},
		{"max_tombs 1e12", "calls: {max_tombs: 1000000000000}\n", "calls.max_tombs"},
		{"max_tombs 10000000", "calls: {max_tombs: 10000000}\n", ""},
		{"flood settings valid", "calls: {flood_rate: 250, max_tombs: 0}\n", ""},
		{"short_abandon negative", "report: {short_abandon: -1s}\n", "report.short_abandon"},
		{"short_abandon long", "report: {short_abandon: 2m}\n", "report.short_abandon"},
		{"keep_months huge", "report: {keep_months: 1000}\n", "report.keep_months"},
		{"confidence 1", "sample: {confidence: 1}\n", "sample.confidence"},
		{"confidence NaN", "sample: {confidence: .nan}\n", "sample.confidence"},
		{"margin 0", "sample: {margin: 0}\n", "sample.margin"},
		{"p 1", "sample: {p: 1}\n", "sample.p"},
		{"floor negative", "sample: {floor: -1}\n", "sample.floor"},
		{"report and sample valid", "report: {short_abandon: 3s, keep_months: 24}\nsample: {confidence: 0.99, margin: 0.05, per_operator: 10, floor: 0, reserves: 3}\n", ""},
		{"timers positive", "calls: {setup_timeout: 1ns, idle_timeout: 1s, linger: 1ms, transfer_window: 1s, max_open: 1}\n", ""},
		// Ring policy bounded so the limit cannot overflow.
		{"ring_on 2000000h", "ring: {ring_on: 2000000h}\n", "ring.ring_on"},
		{"ring_on zero", "ring: {ring_on: 0s}\n", "ring.ring_on"},
		{"ring_on past a minute", "ring: {ring_on: 61s}\n", "ring.ring_on"},
		{"ring_on one minute", "ring: {ring_on: 1m}\n", ""},
		{"ring_off 2000000h", "ring: {ring_off: 2000000h}\n", "ring.ring_off"},
		{"ring_off negative", "ring: {ring_off: -1s}\n", "ring.ring_off"},
		{"ring_off zero", "ring: {ring_off: 0s}\n", ""},
		{"max_rings 4000000000", "ring: {max_rings: 4000000000}\n", "ring.max_rings"},
		{"max_rings 101", "ring: {max_rings: 101}\n", "ring.max_rings"},
		{"max_rings 100 at a minute each", "ring: {max_rings: 100, ring_on: 1m, ring_off: 1m}\n", ""},
		{"max_rings zero", "ring: {max_rings: 0}\n", "ring.max_rings"},
		// Sizes that have no uint64.
		{"max_total NaNGiB", "recording: {max_total: NaNGiB}\n", "NaNGiB"},
		{"max_total InfGiB", "recording: {max_total: InfGiB}\n", "InfGiB"},
		{"max_total 1e30GiB", "recording: {max_total: 1e30GiB}\n", "1e30GiB"},
		{"min_free NaNGiB", "recording: {min_free: NaNGiB}\n", "NaNGiB"},
		{"min_free 1e30GiB", "recording: {min_free: 1e30GiB}\n", "1e30GiB"},
		{"max_total 0 is unlimited", "recording: {max_total: 0}\n", ""},
		// Listen addresses checked at load.
		{"metrics port 99999", "metrics: {listen: ':99999'}\n", "metrics.listen"},
		{"metrics port 65536", "metrics: {listen: '127.0.0.1:65536'}\n", "metrics.listen"},
		{"metrics port named", "metrics: {listen: ':http'}\n", "metrics.listen"},
		{"metrics no port", "metrics: {listen: '127.0.0.1'}\n", "metrics.listen"},
		{"metrics bad host", "metrics: {listen: 'no_such host:7060'}\n", "metrics.listen"},
		{"metrics management ip", "metrics: {listen: '192.0.2.10:7060'}\n", ""},
		{"metrics ipv6 loopback", "metrics: {listen: '[::1]:7060'}\n", ""},
		{"metrics host name", "metrics: {listen: 'localhost:7060'}\n", ""},
		{"metrics port 0", "metrics: {listen: '127.0.0.1:0'}\n", ""},
		{"metrics port 65535", "metrics: {listen: ':65535'}\n", ""},
		{"metrics off", "metrics: {listen: ''}\n", ""},
		{"web port 99999", "web: {listen: ':99999'}\n", "web.listen"},
		{"web port negative", "web: {listen: ':-1'}\n", "web.listen"},
		{"web management ip", "web: {listen: '198.51.100.7:8443'}\n", ""},
		// Receptionists given twice.
		{"same name", "receptionists: [{name: Ana, extensions: ['201']}, {name: Ana, extensions: ['202']}]\n", `"Ana" given twice`},
		{"same extension", "receptionists: [{name: Ana, extensions: ['201']}, {name: Bea, extensions: ['201']}]\n", `extension "201"`},
		{"same extension within one", "receptionists: [{name: Ana, extensions: ['201', '201']}]\n", `extension "201"`},
		{"same ip", "receptionists: [{name: Ana, ips: ['192.0.2.31']}, {name: Bea, ips: ['192.0.2.31']}]\n", "ip 192.0.2.31"},
		{"same ip mapped", "receptionists: [{name: Ana, ips: ['192.0.2.31']}, {name: Bea, ips: ['::ffff:192.0.2.31']}]\n", "ip 192.0.2.31"},
		{"empty extension", "receptionists: [{name: Ana, extensions: ['']}]\n", "empty extension"},
		{"blank name", "receptionists: [{name: ' ', extensions: ['201']}]\n", "name is required"},
		{"distinct receptionists", "receptionists: [{name: Ana, extensions: ['201'], ips: ['192.0.2.31']}, {name: Bea, extensions: ['202'], ips: ['192.0.2.32']}]\n", ""},
		// Recording timers.
		{"sweep_every zero", "recording: {sweep_every: 0s}\n", "recording.sweep_every"},
		{"ring_size zero", "capture: {ring_size: 0}\n", "capture.ring_size"},
		{"ring_size under 8 blocks", "capture: {ring_size: 512KiB}\n", "capture.ring_size"},
		{"ring_size least", "capture: {ring_size: 1MiB}\n", ""},
		{"ring_size board", "capture: {ring_size: 4MiB}\n", ""},
		{"ring_size most", "capture: {ring_size: 256MiB}\n", ""},
		{"ring_size too large", "capture: {ring_size: 257MiB}\n", "capture.ring_size"},
		{"max_age negative", "recording: {max_age: -1h}\n", "recording.max_age"},
		{"sweep_every negative", "recording: {sweep_every: -10m}\n", "recording.sweep_every"},
		{"max_age 0 is unlimited", "recording: {max_age: 0s, sweep_every: 1s}\n", ""},
		// report.greeting_limit: the voice part's late greeting.
		{"greeting_limit 0", "report: {greeting_limit: 0s}\n", "report.greeting_limit"},
		{"greeting_limit 2m", "report: {greeting_limit: 2m}\n", "report.greeting_limit"},
		{"greeting_limit 4s", "report: {greeting_limit: 4s}\n", ""},
		// recording.speech (checked by package speech).
		{"speech hangover over 1 s", "recording: {speech: {hangover: 2s}}\n", "recording.speech"},
		{"speech min_speech negative", "recording: {speech: {min_speech: -10ms}}\n", "recording.speech"},
		{"speech noise_zcr over 1", "recording: {speech: {noise_zcr: 1.5}}\n", "recording.speech"},
		{"speech above_floor_db negative", "recording: {speech: {above_floor_db: -3}}\n", "recording.speech"},
		{"speech tuned", "recording: {speech: {above_floor_db: 8, hangover: 400ms}}\n", ""},
		// The console's certificate and key go together: one alone would
		// serve plain HTTP while the file says HTTPS.
		{"tls_cert alone", "web: {tls_cert: /etc/switchtap/tls.pem}\n", "tls_cert and tls_key"},
		{"tls_key alone", "web: {tls_key: /etc/switchtap/tls.key}\n", "tls_cert and tls_key"},
		{"tls pair", "web: {tls_cert: /etc/switchtap/tls.pem, tls_key: /etc/switchtap/tls.key}\n", ""},
		// log_level is one of four words, in lower case.
		{"log_level upper case", "log_level: DEBUG\n", "log_level"},
		{"log_level empty", "log_level: ''\n", "log_level"},
		{"log_level verbose", "log_level: verbose\n", "log_level"},
		{"log_level warn", "log_level: warn\n", ""},
		// uplink (checked by package uplink when a URL is set).
		{"uplink over http", "uplink: {url: 'http://central.example', token: t}\n", "https"},
		{"uplink without credentials", "uplink: {url: 'https://central.example'}\n", "token or a client certificate"},
		{"uplink cert without key", "uplink: {url: 'https://central.example', cert: /c.pem}\n", "go together"},
		{"uplink negative timeout", "uplink: {url: 'https://central.example', token: t, timeout: -1s}\n", "negative"},
		// uplink.hep (checked by package hep, wrapped here).
		{"hep address without port", "uplink: {hep: {address: homer}}\n", "hep.address"},
		{"hep port 0", "uplink: {hep: {address: 'homer:0'}}\n", "hep.address"},
		{"hep port 65536", "uplink: {hep: {address: 'homer:65536'}}\n", "hep.address"},
		{"hep transport sctp", "uplink: {hep: {address: 'homer:9060', transport: sctp}}\n", "hep.transport"},
		{"hep queue negative", "uplink: {hep: {address: 'homer:9060', queue: -1}}\n", "hep.queue"},
		{"hep queue huge", "uplink: {hep: {address: 'homer:9060', queue: 1048577}}\n", "hep.queue"},
		{"hep password long", "uplink: {hep: {address: 'homer:9060', password: '" + strings.Repeat("x", 1025) + "'}}\n", "hep.password"},
		{"hep valid", "uplink: {hep: {address: 'homer:9060', transport: tcp, queue: 1048576}}\n", ""},
		{"hep off", "uplink: {hep: {address: ''}}\n", ""},
		// The rest of report.* and sample.*.
		{"keep_months zero", "report: {keep_months: 0}\n", "report.keep_months"},
		{"office long", "report: {office: '" + strings.Repeat("x", 201) + "'}\n", "report.office"},
		{"office at the bound", "report: {office: '" + strings.Repeat("x", 200) + "', short_abandon: 1m, keep_months: 120}\n", ""},
		{"confidence below 0.5", "sample: {confidence: 0.49}\n", "sample.confidence"},
		{"margin past 0.5", "sample: {margin: 0.6}\n", "sample.margin"},
		{"p 0", "sample: {p: 0}\n", "sample.p"},
		{"per_operator negative", "sample: {per_operator: -1}\n", "sample.per_operator"},
		{"per_operator huge", "sample: {per_operator: 10001}\n", "sample.per_operator"},
		{"floor huge", "sample: {floor: 10001}\n", "sample.floor"},
		{"reserves negative", "sample: {reserves: -1}\n", "sample.reserves"},
		{"reserves huge", "sample: {reserves: 10001}\n", "sample.reserves"},
		{"sample at the bounds", "sample: {confidence: 0.5, margin: 0.5, p: 0.999, per_operator: 10000, floor: 10000, reserves: 10000}\n", ""},
		// Receptionists: a name and a means to recognise the phone.
		{"receptionist without means", "receptionists: [{name: Ana}]\n", "give extensions and/or ips"},
		{"receptionist bad ip", "receptionists: [{name: Ana, ips: ['192.0.2.300']}]\n", "Ana"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := Parse([]byte(tc.yaml))
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("rejected: %v", err)
				}
				if lim := c.RingPolicy().Limit(); lim <= 0 {
					t.Fatalf("ring limit %s", lim)
				}
				return
			}
			if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("err = %v, want ErrInvalid mentioning %q", err, tc.wantErr)
			}
		})
	}
}

// TestValidateDelegated: the keys other packages check (device.*, by
// package device) or the standard library reads (time_zone) are refused
// at load too, with the key in the message, wrapping ErrInvalid as every
// other key's error does; device's errors also wrap its ErrConfig.
func TestValidateDelegated(t *testing.T) {
	gpio := "device: {panel: gpio, amber: {offset: 1}, red: {offset: 2}"
	tests := []struct {
		name    string
		yaml    string
		wantErr string // "" = must load
		is      error  // the error wrapped, when one is
	}{
		{"panel unknown", "device: {panel: leds}\n", `panel "leds"`, device.ErrConfig},
		{"debounce negative", "device: {debounce: -1ms}\n", "debounce -1ms", device.ErrConfig},
		{"debounce zero", "device: {debounce: 0s}\n", "", nil},
		{"no_sip_after zero", "device: {no_sip_after: 0s}\n", "no_sip_after 0s", device.ErrConfig},
		{"max_ringing zero", "device: {max_ringing: 0s}\n", "max_ringing 0s", device.ErrConfig},
		{"max_ringing negative", "device: {max_ringing: -5m}\n", "max_ringing -5m", device.ErrConfig},
		{"gpio without lamps", "device: {panel: gpio}\n", "amber and red", device.ErrConfig},
		{"gpio without red", "device: {panel: gpio, amber: {offset: 1}}\n", "amber and red", device.ErrConfig},
		{"amber offset negative", "device: {panel: gpio, amber: {offset: -1}, red: {offset: 2}}\n", "amber", device.ErrConfig},
		{"red name and offset", "device: {panel: gpio, amber: {offset: 1}, red: {offset: 2, name: LED_RED}}\n", "red", device.ErrConfig},
		{"buzzer offset negative", gpio + ", buzzer: {offset: -3}}\n", "buzzer", device.ErrConfig},
		{"status offset negative", gpio + ", status: {offset: -4}}\n", "status", device.ErrConfig},
		{"button offset negative", "device: {button: {offset: -2}}\n", "button", device.ErrConfig},
		{"operator without name", gpio + ", operators: [{amber: {offset: 4}}]}\n", "operators[0]", device.ErrConfig},
		{"operator twice", gpio + ", operators: [{name: Ana, amber: {offset: 4}}, {name: Ana, red: {offset: 5}}]}\n", `"Ana" listed twice`, device.ErrConfig},
		{"operator without lamps", gpio + ", operators: [{name: Ana}]}\n", `"Ana": give amber and/or red`, device.ErrConfig},
		{"operator lamp offset negative", gpio + ", operators: [{name: Ana, red: {offset: -5}}]}\n", `operator "Ana"`, device.ErrConfig},
		{"gpio panel valid", gpio + ", buzzer: {name: BUZZER}, status: {offset: 3, active_low: true}, button: {offset: 6}, operators: [{name: Ana, amber: {offset: 4}}]}\n", "", nil},
		{"time_zone unknown", "time_zone: Mars/Olympus\n", `time_zone "Mars/Olympus"`, nil},
		{"time_zone lower case", "time_zone: america/el_salvador\n", "time_zone", nil},
		{"time_zone UTC", "time_zone: UTC\n", "", nil},
		{"time_zone El Salvador", "time_zone: America/El_Salvador\n", "", nil},
		// An explicit "" would silently be UTC (time.LoadLocation).
		{"time_zone empty", "time_zone: \"\"\n", "time_zone is empty", nil},
		{"time_zone null", "time_zone:\n", "", nil},
		// An explicit "" would silently be the current directory.
		{"data_dir empty", "data_dir: \"\"\n", "data_dir is empty", nil},
		{"data_dir relative", "data_dir: data\n", "", nil},
		{"data_dir set", "data_dir: /srv/switchtap\n", "", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.yaml))
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("rejected: %v", err)
				}
				return
			}
			if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("err = %v, want ErrInvalid mentioning %q", err, tc.wantErr)
			}
			if strings.HasPrefix(tc.yaml, "device:") && !strings.HasPrefix(err.Error(), "device: ") {
				t.Errorf("err = %v, want it to name the device section", err)
			}
			if tc.is != nil && !errors.Is(err, tc.is) {
				t.Errorf("err = %v, want it to wrap %v", err, tc.is)
			}
		})
	}
}

// TestUnknownKeyEverySection: a misspelt key is an error at every level
// of the file, including the sections decoded by other packages (device,
// uplink, uplink.hep, which has its own decoder), never a default kept.
func TestUnknownKeyEverySection(t *testing.T) {
	for _, tc := range []struct{ name, yaml, key string }{
		{"top level", "log_levle: debug\n", "log_levle"},
		{"ring", "ring: {ring_of: 4s}\n", "ring_of"},
		{"receptionists", "receptionists: [{name: Ana, extensions: ['201'], ip: ['192.0.2.31']}]\n", "ip"},
		{"calls", "calls: {max_opened: 5}\n", "max_opened"},
		{"metrics", "metrics: {address: ':7060'}\n", "address"},
		{"recording", "recording: {minfree: 1GiB}\n", "minfree"},
		{"web", "web: {tls_crt: /a.pem}\n", "tls_crt"},
		{"api", "api: {sockett: /run/switchtap.sock}\n", "sockett"},
		{"uplink", "uplink: {urll: 'https://central.example'}\n", "urll"},
		{"uplink.hep", "uplink: {hep: {adress: 'homer:9060'}}\n", "adress"},
		{"report", "report: {short_abandons: 5s}\n", "short_abandons"},
		{"sample", "sample: {confidense: 0.9}\n", "confidense"},
		{"device", "device: {debunce: 20ms}\n", "debunce"},
		{"device line", "device: {panel: gpio, amber: {ofset: 1}, red: {offset: 2}}\n", "ofset"},
		{"device operators", "device: {operators: [{nmae: Ana}]}\n", "nmae"},
		{"clock_check", "clock_chek: true\n", "clock_chek"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.yaml))
			if err == nil || !strings.Contains(err.Error(), tc.key) {
				t.Fatalf("err = %v, want one naming %q", err, tc.key)
			}
		})
	}
}

// TestRingLimitNoOverflow: at the bounds the limit is exact and positive.
func TestRingLimitNoOverflow(t *testing.T) {
	c, err := Parse([]byte("ring: {max_rings: 100, ring_on: 1m, ring_off: 1m}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if got := c.RingPolicy().Limit(); got != 200*time.Minute {
		t.Fatalf("limit %s, want 200m", got)
	}
}

// TestDeployDocumentsUnlimited: the example file says what 0 means for
// max_total and max_age (issue 9 §6).
func TestDeployDocumentsUnlimited(t *testing.T) {
	b, err := readDeployExample()
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"max_total: 0", "max_age: 0"} {
		if !strings.Contains(b, want) {
			t.Errorf("deploy/switchtap.yaml does not document %q", want)
		}
	}
}

// TestAbsentKeysKeepDefaults: refusing an explicit "" must not refuse a
// file that leaves time_zone or data_dir out, or gives them no value
// (YAML null leaves the default in place): those keep the defaults.
func TestAbsentKeysKeepDefaults(t *testing.T) {
	def := Default()
	for _, tc := range []struct{ name, yaml string }{
		{"empty file", ""},
		{"other keys only", "log_level: debug\n"},
		{"null values", "time_zone:\ndata_dir:\n"},
		{"tilde values", "time_zone: ~\ndata_dir: ~\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := Parse([]byte(tc.yaml))
			if err != nil {
				t.Fatal(err)
			}
			if c.TimeZone != def.TimeZone || c.DataDir != def.DataDir {
				t.Errorf("time_zone %q data_dir %q, want the defaults %q %q", c.TimeZone, c.DataDir, def.TimeZone, def.DataDir)
			}
		})
	}
}

// TestSpeechKeysKeepDefaults: a speech key given alone changes that
// threshold only; the others keep package speech's defaults.
func TestSpeechKeysKeepDefaults(t *testing.T) {
	path := filepath.Join(t.TempDir(), "switchtap.yaml")
	if err := os.WriteFile(path, []byte("recording: {speech: {hangover: 400ms, noise_zcr: 0.35}}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	want := speech.DefaultConfig()
	want.Hangover, want.NoiseZCR = 400*time.Millisecond, 0.35
	if got := c.Recording.Speech.Detector(); got != want {
		t.Fatalf("speech %+v, want %+v", got, want)
	}
}
