package config

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestDefaultsWithoutFile(t *testing.T) {
	c, err := Load("")
	if err != nil {
		t.Fatal(err)
	}
	p := c.RingPolicy()
	if p.MaxRings != 4 || p.On != 2*time.Second || p.Off != 4*time.Second || p.Limit() != 24*time.Second {
		t.Fatalf("default ring policy %+v", p)
	}
	if c.DataDir != DefaultDataDir {
		t.Fatalf("data_dir %q", c.DataDir)
	}
}

// TestDeployExample: the commented example in deploy/ parses and equals
// the built-in defaults, so the two cannot drift apart.
func TestDeployExample(t *testing.T) {
	c, err := Load(filepath.Join("..", "deploy", "switchtap.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	d := Default()
	if !reflect.DeepEqual(c.Device, d.Device) {
		t.Fatalf("deploy example device %+v differs from defaults %+v", c.Device, d.Device)
	}
	if c.Capture != d.Capture || c.Ring != d.Ring || c.Calls != d.Calls || c.Metrics != d.Metrics || c.Recording != d.Recording || c.Web != d.Web || c.API != d.API || c.Report != d.Report || c.Sample != d.Sample || c.TimeZone != d.TimeZone || c.DataDir != d.DataDir || c.LogLevel != d.LogLevel || len(c.Receptionists) != 0 {
		t.Fatalf("deploy example %+v differs from defaults %+v", c, d)
	}
}

func TestParse(t *testing.T) {
	tests := []struct {
		name    string
		yaml    string
		wantErr string
		check   func(t *testing.T, c Config)
	}{
		{name: "sv preset", yaml: "ring: {preset: sv}\n", check: func(t *testing.T, c Config) {
			if c.RingPolicy().Limit() != 23200*time.Millisecond {
				t.Errorf("sv limit %s", c.RingPolicy().Limit())
			}
		}},
		{name: "preset then override", yaml: "ring:\n  preset: eu\n  max_rings: 3\n", check: func(t *testing.T, c Config) {
			if p := c.RingPolicy(); p.MaxRings != 3 || p.On != time.Second || p.Off != 4*time.Second {
				t.Errorf("policy %+v", p)
			}
		}},
		{name: "receptionists", yaml: "receptionists:\n  - name: Ana\n    extensions: ['201']\n    ips: ['192.0.2.31']\n", check: func(t *testing.T, c Config) {
			tc := c.TrackerConfig()
			if len(tc.Receptionists) != 1 || tc.Receptionists[0].IPs[0].String() != "192.0.2.31" {
				t.Errorf("receptionists %+v", tc.Receptionists)
			}
		}},
		{name: "durations", yaml: "calls: {setup_timeout: 90s, idle_timeout: 2h}\n", check: func(t *testing.T, c Config) {
			if c.Calls.SetupTimeout != 90*time.Second || c.Calls.IdleTimeout != 2*time.Hour {
				t.Errorf("calls %+v", c.Calls)
			}
		}},
		{name: "typo is an error", yaml: "ring: {max_ring: 4}\n", wantErr: "max_ring"},
		{name: "unknown preset", yaml: "ring: {preset: xx}\n", wantErr: "preset"},
		{name: "zero rings", yaml: "ring: {max_rings: 0}\n", wantErr: "max_rings"},
		{name: "receptionist without means", yaml: "receptionists: [{name: Ana}]\n", wantErr: "extensions"},
		{name: "bad ip", yaml: "receptionists: [{name: Ana, ips: [nope]}]\n", wantErr: "Ana"},
		{name: "bad log level", yaml: "log_level: loud\n", wantErr: "log_level"},
		{name: "empty file", yaml: "", check: func(t *testing.T, c Config) {
			if c.Ring != Default().Ring {
				t.Errorf("ring %+v", c.Ring)
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := Parse([]byte(tc.yaml))
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want one mentioning %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tc.check(t, c)
		})
	}
}

func TestLoadMissingFile(t *testing.T) {
	if _, err := Load(filepath.Join(t.TempDir(), "none.yaml")); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("err = %v", err)
	}
}

func readDeployExample() (string, error) {
	b, err := os.ReadFile(filepath.Join("..", "deploy", "switchtap.yaml"))
	return string(b), err
}
