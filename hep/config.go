package hep

import (
	"fmt"
	"net"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Defaults and bounds of Config.
const (
	// DefaultQueue is how many packets wait for the collector when
	// Config.Queue is 0: some seconds of a busy switchboard's SIP.
	DefaultQueue = 1024
	// MaxQueue bounds Config.Queue: each slot may hold a buffer.
	MaxQueue = 1 << 20
	// MaxPassword bounds Config.Password, so that the key leaves room
	// for the message in a 64 KiB packet.
	MaxPassword = 1024
)

// Values of Config.Transport.
const (
	TransportUDP = "udp"
	TransportTCP = "tcp"
)

// Config is the HEP mirror's configuration (`uplink.hep`). The mirror is
// off while Address is empty. In YAML it is either a mapping of these keys
// or, for the common case, the address alone (`hep: homer:9060`, sent
// over UDP).
type Config struct {
	// Address is the collector's host:port (heplify-server listens on
	// 9060).
	Address string `yaml:"address"`
	// Transport is "udp" (the default: one packet per datagram) or "tcp"
	// (packets back to back on one connection, framed by their length).
	Transport string `yaml:"transport"`
	// AgentID is the capture agent ID Homer shows as the node.
	AgentID uint32 `yaml:"agent_id"`
	// Password is sent as the authentication key when not empty.
	Password string `yaml:"password"`
	// Queue is how many packets may wait for the collector (default
	// DefaultQueue); past it new ones are dropped and counted.
	Queue int `yaml:"queue"`
}

// Enabled says whether the mirror is configured.
func (c Config) Enabled() bool { return c.Address != "" }

// TransportOrDefault returns Transport, "udp" when empty.
func (c Config) TransportOrDefault() string {
	if c.Transport == "" {
		return TransportUDP
	}
	return c.Transport
}

// QueueOrDefault returns Queue, DefaultQueue when 0.
func (c Config) QueueOrDefault() int {
	if c.Queue == 0 {
		return DefaultQueue
	}
	return c.Queue
}

// Validate checks a configured mirror; an empty one (off) is valid
// whatever else it holds. Errors wrap ErrInvalid and name the key.
func (c Config) Validate() error {
	if !c.Enabled() {
		return nil
	}
	host, port, err := net.SplitHostPort(c.Address)
	if err != nil || host == "" {
		return fmt.Errorf("%w: hep.address %q: want host:port", ErrInvalid, c.Address)
	}
	if n, err := strconv.ParseUint(port, 10, 16); err != nil || n == 0 {
		return fmt.Errorf("%w: hep.address %q: port must be 1 to 65535", ErrInvalid, c.Address)
	}
	switch c.Transport {
	case "", TransportUDP, TransportTCP:
	default:
		return fmt.Errorf("%w: hep.transport %q: want udp or tcp", ErrInvalid, c.Transport)
	}
	if c.Queue < 0 || c.Queue > MaxQueue {
		return fmt.Errorf("%w: hep.queue %d: want 1 to %d (0: %d)", ErrInvalid, c.Queue, MaxQueue, DefaultQueue)
	}
	if len(c.Password) > MaxPassword {
		return fmt.Errorf("%w: hep.password: %d bytes, at most %d", ErrInvalid, len(c.Password), MaxPassword)
	}
	return nil
}

// UnmarshalYAML reads the mapping, refusing unknown keys (the config
// decoder's KnownFields does not reach into a custom unmarshaller), or a
// scalar address, optionally with a "udp://" or "tcp://" scheme.
func (c *Config) UnmarshalYAML(n *yaml.Node) error {
	switch n.Kind {
	case yaml.ScalarNode:
		var s string
		if err := n.Decode(&s); err != nil {
			return err
		}
		*c = Config{Address: s}
		for _, t := range []string{TransportUDP, TransportTCP} {
			if rest, ok := strings.CutPrefix(s, t+"://"); ok {
				c.Address, c.Transport = rest, t
			}
		}
		return nil
	case yaml.MappingNode:
		known := map[string]bool{"address": true, "transport": true, "agent_id": true, "password": true, "queue": true}
		for i := 0; i+1 < len(n.Content); i += 2 {
			if k := n.Content[i].Value; !known[k] {
				return fmt.Errorf("line %d: field %s not found in type hep.Config", n.Content[i].Line, k)
			}
		}
		type plain Config // no UnmarshalYAML: no recursion
		var p plain
		if err := n.Decode(&p); err != nil {
			return err
		}
		*c = Config(p)
		return nil
	default:
		return fmt.Errorf("line %d: hep: want host:port or a mapping", n.Line)
	}
}
