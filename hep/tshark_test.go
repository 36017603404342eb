//go:build heplua

// The check against tshark needs sipcapture's HEP dissector (hep.lua, GPL,
// carried by no registry: Wireshark 4.0 has none built in), so it is built
// only with -tags heplua:
//
//	SWITCHTAP_HEP_LUA=/path/to/hep.lua go test -tags heplua -run TestTshark ./hep
//
// Without the tag the encoding is checked against the bytes of domain.md
// §8 written out by hand and the test decoder (encode_test.go).

package hep

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/switchtap/switchtap/internal/pcapgen"
	"github.com/switchtap/switchtap/internal/testenv"
)

// LuaEnv names a copy of sipcapture's hep.lua (hep-wireshark, GPL-2, not
// shipped here), for a tshark that has no HEP dissector of its own:
// Wireshark 4.0 (Debian 12) has none built in.
const LuaEnv = "SWITCHTAP_HEP_LUA"

// writeHEPPcap writes each case's HEP packet as one UDP datagram from
// the box to a collector's port 9060, one second apart, and returns the
// packets.
func writeHEPPcap(t *testing.T, path string, cases []encodeCase) [][]byte {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w, err := pcapgen.NewWriter(f)
	if err != nil {
		t.Fatal(err)
	}
	box, homer := netip.MustParseAddrPort("192.0.2.50:40000"), netip.MustParseAddrPort("192.0.2.60:9060")
	at := time.Date(2026, 12, 3, 15, 0, 0, 0, time.UTC)
	var out [][]byte
	for i, tc := range cases {
		b, err := tc.enc.Append(nil, &tc.p)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if err := w.UDP(at.Add(time.Duration(i)*time.Second), box, homer, b); err != nil {
			t.Fatal(err)
		}
		out = append(out, b)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	return out
}

// hepDissector returns the tshark arguments that give it a HEP3
// dissector: none when it has one (built in, or a plugin installed),
// "-X lua_script:…" when LuaEnv names the script.
func hepDissector(t *testing.T, tshark string) []string {
	t.Helper()
	has := func(args ...string) bool {
		out, err := exec.Command(tshark, append([]string{"-G", "protocols"}, args...)...).Output()
		if err != nil {
			t.Fatalf("tshark -G protocols: %v", err)
		}
		for line := range strings.SplitSeq(string(out), "\n") {
			if f := strings.Split(line, "\t"); len(f) == 3 && f[2] == "hep3" {
				return true
			}
		}
		return false
	}
	if has() {
		return nil
	}
	if lua := os.Getenv(LuaEnv); lua != "" {
		args := []string{"-X", "lua_script:" + lua}
		if !has(args...) {
			t.Fatalf("%s=%s gives tshark no hep3 protocol", LuaEnv, lua)
		}
		return args
	}
	t.Fatalf("tshark has no HEP dissector; set %s to sipcapture's hep.lua", LuaEnv)
	return nil
}

// TestTshark decodes the encoder's packets with tshark's HEP dissector
// (sipcapture's) and compares every field with what was encoded: IPv4
// and IPv6, UDP and TCP, accents in the payload, key and Call-ID.
func TestTshark(t *testing.T) {
	tshark, err := exec.LookPath("tshark")
	if err != nil {
		testenv.SkipOrFail(t, "tshark is not installed")
	}
	extra := hepDissector(t, tshark)
	path := filepath.Join(t.TempDir(), "hep.pcap")
	cases := encodeCases()
	packets := writeHEPPcap(t, path, cases)

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	args := append(extra, "-r", path, "-d", "udp.port==9060,hep", "-T", "json", "-x")
	cmd := exec.CommandContext(ctx, tshark, args...)
	cmd.Env = append(os.Environ(), "HOME="+t.TempDir()) // no user profile
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("tshark: %v\n%s", err, stderr.String())
	}
	var frames []struct {
		Source struct {
			Layers map[string]json.RawMessage `json:"layers"`
		} `json:"_source"`
	}
	if err := json.Unmarshal(out, &frames); err != nil {
		t.Fatalf("tshark json: %v", err)
	}
	if len(frames) != len(cases) {
		t.Fatalf("tshark read %d frames, wrote %d", len(frames), len(cases))
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var hep map[string]any
			if err := json.Unmarshal(frames[i].Source.Layers["hep3"], &hep); err != nil || hep == nil {
				t.Fatalf("no hep3 layer: %v", err)
			}
			checkTshark(t, hep, tc, len(packets[i]))
			var sip any
			if err := json.Unmarshal(frames[i].Source.Layers["sip"], &sip); err != nil {
				t.Fatalf("no sip layer: the dissector did not hand the payload to SIP: %v", err)
			}
			if got, want := findField(sip, "sip.Call-ID"), payloadCallID(tc.p.Payload); got != want {
				t.Errorf("sip.Call-ID = %q, want %q", got, want)
			}
		})
	}
}

// checkTshark compares the hep3 layer's fields with the case. Text
// chunks are compared as the raw bytes tshark attributes to them: the
// Lua dissector shows them as ASCII, which turns accents into U+FFFD.
func checkTshark(t *testing.T, hep map[string]any, tc encodeCase, size int) {
	t.Helper()
	p := tc.p
	src, dst := p.Src.Addr().Unmap(), p.Dst.Addr().Unmap()
	family, addrField := "IPv4", "ipv4_address"
	if src.Is6() {
		family, addrField = "IPv6", "ipv6_address"
	}
	want := map[string]string{
		"hep3.version":                     "HEP3",
		"hep3.hep_packet_size":             strconv.Itoa(size),
		"hep3.ip_family":                   family,
		"hep3.transport_layer_protocol":    strings.ToUpper(p.Transport.String()),
		"hep3.application_protocol":        "SIP",
		"hep3.source_" + addrField:         src.String(),
		"hep3.destination_" + addrField:    dst.String(),
		"hep3.source_port":                 strconv.Itoa(int(p.Src.Port())),
		"hep3.destination_port":            strconv.Itoa(int(p.Dst.Port())),
		"hep3.timestamp_unix":              strconv.FormatInt(p.Time.Unix(), 10),
		"hep3.timestamp_microsec":          strconv.Itoa(p.Time.Nanosecond() / 1000),
		"hep3.capture_node_id":             strconv.FormatUint(uint64(tc.enc.AgentID), 10),
		"hep3.payload_raw":                 hex.EncodeToString(p.Payload),
		"hep3.auth_key_raw":                hex.EncodeToString([]byte(tc.enc.Password)),
		"hep3.correlation_id_raw":          hex.EncodeToString([]byte(p.CallID)),
		"hep3.vlan_id":                     "",
		"hep3.source_" + otherAddr(family): "",
	}
	if p.VLAN != 0 {
		want["hep3.vlan_id"] = strconv.Itoa(int(p.VLAN))
	}
	for k, w := range want {
		got := ""
		switch v := hep[k].(type) {
		case string:
			got = v
		case []any: // a _raw field: [hex, offset, length, bitmask, type]
			if len(v) > 0 {
				got, _ = v[0].(string)
			}
		}
		if got != w {
			t.Errorf("%s = %q, want %q", k, got, w)
		}
	}
}

func otherAddr(family string) string {
	if family == "IPv4" {
		return "ipv6_address"
	}
	return "ipv4_address"
}

// findField returns the first string value of key anywhere in v.
func findField(v any, key string) string {
	switch v := v.(type) {
	case map[string]any:
		if s, ok := v[key].(string); ok {
			return s
		}
		for _, c := range v {
			if s := findField(c, key); s != "" {
				return s
			}
		}
	case []any:
		for _, c := range v {
			if s := findField(c, key); s != "" {
				return s
			}
		}
	}
	return ""
}

// payloadCallID returns the Call-ID header of a SIP message.
func payloadCallID(b []byte) string {
	for line := range strings.SplitSeq(string(b), "\r\n") {
		if v, ok := strings.CutPrefix(line, "Call-ID: "); ok {
			return v
		}
	}
	return ""
}
