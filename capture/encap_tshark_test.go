package capture

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket/layers"

	"github.com/switchtap/switchtap/internal/testenv"
)

// tsharkFields are the fields the cross-check reads, in order.
var tsharkFields = []string{"frame.number", "ip.src", "ipv6.src", "udp.dstport", "tcp.dstport", "sip.Call-ID",
	"erspan.encap", "erspan.vlan", "erspan.ft", "data.len"}

// lastOf is the innermost of tshark's comma-separated values of a field.
func lastOf(v string) string {
	if i := strings.LastIndexByte(v, ','); i >= 0 {
		return v[i+1:]
	}
	return v
}

// TestEncapTshark decodes the encapsulated frames with tshark, which
// dissects GRE, ERSPAN, VXLAN, PPPoE and IP-in-IP natively, and checks
// that the decoder found the same innermost source address, destination
// port and Call-ID in every frame, and nothing where tshark found no SIP.
func TestEncapTshark(t *testing.T) {
	tshark, err := exec.LookPath("tshark")
	if err != nil {
		testenv.SkipOrFail(t, "tshark is not installed")
	}
	cases := encapCases(t)
	frames, owner := encapFrames(cases)
	path := filepath.Join(t.TempDir(), "encap.pcap")
	if err := os.WriteFile(path, writeEncapPcap(t, frames), 0o600); err != nil {
		t.Fatal(err)
	}
	args := []string{"-n", "-r", path, "-T", "fields", "-E", "separator=/t"}
	for _, f := range tsharkFields {
		args = append(args, "-e", f)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, tshark, args...).Output()
	if err != nil {
		t.Fatalf("tshark: %v", err)
	}
	rows := strings.Split(strings.TrimRight(string(out), "\n"), "\n")
	if len(rows) != len(frames) {
		t.Fatalf("tshark printed %d rows for %d frames:\n%s", len(rows), len(frames), out)
	}

	d := NewDecoder()
	for i, f := range frames {
		tc := cases[owner[i]]
		var got []got
		if err := d.Decode(layers.LinkTypeEthernet, f, ci(t0.Add(time.Duration(i)*time.Millisecond), len(f)), collect(&got)); err != nil {
			t.Fatalf("%s: frame %d: %v", tc.name, i+1, err)
		}
		col := strings.Split(rows[i], "\t")
		if len(col) != len(tsharkFields) || col[0] != strconv.Itoa(i+1) {
			t.Fatalf("tshark row %d: %q", i+1, rows[i])
		}
		field := func(name string) string {
			for j, f := range tsharkFields {
				if f == name {
					return col[j]
				}
			}
			t.Fatalf("no field %s", name)
			return ""
		}
		if tc.name == "erspan iii ip frame" {
			// Wireshark 4.0 reads frame type 2 but shows the IP packet as
			// data: check that much, and that the decoder read that data.
			if field("erspan.ft") != "2" || len(got) != 1 || field("data.len") != strconv.Itoa(len(stripEther(tc.bare[0]))) {
				t.Errorf("%s: tshark %q, decoder %+v", tc.name, rows[i], got)
			}
			continue
		}
		callID := field("sip.Call-ID")
		if callID == "" {
			if len(got) != 0 {
				t.Errorf("%s: frame %d: tshark found no SIP, the decoder %+v", tc.name, i+1, got)
			}
			continue
		}
		if len(got) != 1 {
			t.Fatalf("%s: frame %d: tshark found %s, the decoder %d datagrams", tc.name, i+1, callID, len(got))
		}
		g := got[0]
		src, port := lastOf(field("ip.src")), lastOf(field("udp.dstport"))
		if tc.v6 {
			src = lastOf(field("ipv6.src"))
		}
		if tc.tcp {
			port = lastOf(field("tcp.dstport"))
		}
		if callID != tc.callID || !strings.Contains(g.Payload, "Call-ID: "+callID+"\r\n") ||
			src != g.Src.Addr().String() || port != strconv.Itoa(int(g.Dst.Port())) {
			t.Errorf("%s: frame %d: tshark %s %s port %s, decoder %s > %s", tc.name, i+1, callID, src, port, g.Src, g.Dst)
		}
		// A tag the switch stripped: the decoder takes the VLAN from the
		// ERSPAN header as tshark reads it.
		if field("erspan.encap") == "2" && field("erspan.vlan") != strconv.Itoa(int(g.VLAN)) {
			t.Errorf("%s: erspan vlan %s, decoder vlan %d", tc.name, field("erspan.vlan"), g.VLAN)
		}
	}
}
