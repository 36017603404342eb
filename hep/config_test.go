package hep

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		err  bool
	}{
		{"off", Config{}, false},
		{"off ignores the rest", Config{Transport: "sctp", Queue: -1}, false},
		{"udp by default", Config{Address: "homer:9060"}, false},
		{"tcp", Config{Address: "10.0.0.5:9061", Transport: "tcp", AgentID: 2001, Password: "x", Queue: 10}, false},
		{"ipv6", Config{Address: "[2001:db8::5]:9060"}, false},
		{"no port", Config{Address: "homer"}, true},
		{"no host", Config{Address: ":9060"}, true},
		{"port 0", Config{Address: "homer:0"}, true},
		{"port too big", Config{Address: "homer:65536"}, true},
		{"named port", Config{Address: "homer:hep"}, true},
		{"sctp", Config{Address: "homer:9060", Transport: "sctp"}, true},
		{"upper case", Config{Address: "homer:9060", Transport: "UDP"}, true},
		{"negative queue", Config{Address: "homer:9060", Queue: -1}, true},
		{"huge queue", Config{Address: "homer:9060", Queue: MaxQueue + 1}, true},
		{"largest queue", Config{Address: "homer:9060", Queue: MaxQueue}, false},
		{"long password", Config{Address: "homer:9060", Password: strings.Repeat("x", MaxPassword+1)}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.cfg.Validate()
			if (err != nil) != tt.err {
				t.Fatalf("Validate() = %v, want error %v", err, tt.err)
			}
			if err != nil && !errors.Is(err, ErrInvalid) {
				t.Errorf("error %v does not wrap ErrInvalid", err)
			}
		})
	}
}

// TestConfigYAML reads `hep:` as the config package does: a strict
// decoder (KnownFields) over a parent struct.
func TestConfigYAML(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		want Config
		err  string
	}{
		{"address alone", "hep: homer:9060\n", Config{Address: "homer:9060"}, ""},
		{"tcp scheme", "hep: tcp://homer:9061\n", Config{Address: "homer:9061", Transport: "tcp"}, ""},
		{"udp scheme", "hep: udp://[2001:db8::5]:9060\n", Config{Address: "[2001:db8::5]:9060", Transport: "udp"}, ""},
		{"mapping", "hep:\n  address: homer:9060\n  transport: tcp\n  agent_id: 2001\n  password: clave\n  queue: 64\n",
			Config{Address: "homer:9060", Transport: "tcp", AgentID: 2001, Password: "clave", Queue: 64}, ""},
		{"absent", "other: 1\n", Config{}, ""},
		{"empty", "hep:\n", Config{}, ""},
		{"typo in mapping", "hep:\n  adress: homer:9060\n", Config{}, "field adress not found"},
		{"list", "hep: [a, b]\n", Config{}, "want host:port or a mapping"},
		{"agent not a number", "hep:\n  address: homer:9060\n  agent_id: nodo\n", Config{}, "cannot unmarshal"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var parent struct {
				HEP   Config `yaml:"hep"`
				Other int    `yaml:"other"`
			}
			dec := yaml.NewDecoder(bytes.NewReader([]byte(tt.yaml)))
			dec.KnownFields(true)
			err := dec.Decode(&parent)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("err = %v, want it to say %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if parent.HEP != tt.want {
				t.Errorf("got %+v, want %+v", parent.HEP, tt.want)
			}
		})
	}
}

func TestConfigDefaults(t *testing.T) {
	var c Config
	if c.Enabled() || c.TransportOrDefault() != TransportUDP || c.QueueOrDefault() != DefaultQueue {
		t.Errorf("zero config: enabled %v, transport %q, queue %d", c.Enabled(), c.TransportOrDefault(), c.QueueOrDefault())
	}
	c = Config{Address: "h:1", Transport: TransportTCP, Queue: 3}
	if !c.Enabled() || c.TransportOrDefault() != TransportTCP || c.QueueOrDefault() != 3 {
		t.Errorf("set config: enabled %v, transport %q, queue %d", c.Enabled(), c.TransportOrDefault(), c.QueueOrDefault())
	}
}
