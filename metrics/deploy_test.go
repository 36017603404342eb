package metrics

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

const (
	dashboardPath = "../deploy/grafana-dashboard.json"
	alertsPath    = "../deploy/prometheus-alerts.yaml"
)

var metricToken = regexp.MustCompile(`switchtap_[a-z_]+`)

// checkNames fails for every switchtap_ name in exprs that the golden
// exposition lacks (histogram series suffixes allowed), and returns the
// names found.
func checkNames(t *testing.T, where string, exprs []string) map[string]bool {
	t.Helper()
	known := goldenNames(t)
	used := map[string]bool{}
	for _, e := range exprs {
		for _, tok := range metricToken.FindAllString(e, -1) {
			name := tok
			if !slices.Contains(known, name) {
				for _, suf := range []string{"_bucket", "_sum", "_count"} {
					if b, ok := strings.CutSuffix(tok, suf); ok && slices.Contains(known, b) {
						name = b
					}
				}
			}
			if !slices.Contains(known, name) {
				t.Errorf("%s: %s is not in %s (expr %q)", where, tok, goldenPath, e)
				continue
			}
			used[name] = true
		}
	}
	return used
}

// grafanaVars stands the dashboard's variables in with values PromQL
// accepts, so the expressions can be checked by promtool.
var grafanaVars = strings.NewReplacer(
	"$__rate_interval", "5m",
	"$__interval", "1m",
	"$__range", "1d",
	"$instance", ".*",
	"$operator", ".*",
)

// promtoolCheckExprs has promtool parse each expression as a recording
// rule.
func promtoolCheckExprs(t *testing.T, exprs []string) {
	t.Helper()
	type rule struct {
		Record string `yaml:"record"`
		Expr   string `yaml:"expr"`
	}
	var rules []rule
	for i, e := range exprs {
		rules = append(rules, rule{fmt.Sprintf("dashboard:expr_%d", i+1), grafanaVars.Replace(e)})
	}
	doc := map[string]any{"groups": []any{map[string]any{"name": "dashboard", "rules": rules}}}
	b, err := yaml.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "dashboard-rules.yaml")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	out := runPromtool(t, nil, "check", "rules", path)
	if !strings.Contains(out, "SUCCESS") || strings.Contains(out, "WARNING") {
		t.Errorf("promtool check rules:\n%s", out)
	}
}

type grafanaTarget struct {
	Datasource map[string]string `json:"datasource"`
	Expr       string            `json:"expr"`
	RefID      string            `json:"refId"`
}

type grafanaPanel struct {
	ID         int               `json:"id"`
	Type       string            `json:"type"`
	Title      string            `json:"title"`
	Datasource map[string]string `json:"datasource"`
	Targets    []grafanaTarget   `json:"targets"`
	Panels     []grafanaPanel    `json:"panels"`
}

type grafanaDashboard struct {
	Inputs []struct {
		Name     string `json:"name"`
		PluginID string `json:"pluginId"`
	} `json:"__inputs"`
	SchemaVersion int            `json:"schemaVersion"`
	UID           string         `json:"uid"`
	Panels        []grafanaPanel `json:"panels"`
	Templating    struct {
		List []struct {
			Name  string          `json:"name"`
			Query json.RawMessage `json:"query"`
		} `json:"list"`
	} `json:"templating"`
}

// TestDashboard checks deploy/grafana-dashboard.json: it parses, imports
// with a DS_PROMETHEUS input, every panel queries that data source, every
// expression names only metrics the exposition has and parses as PromQL,
// and the panels the issue asks for are there.
func TestDashboard(t *testing.T) {
	raw, err := os.ReadFile(dashboardPath)
	if err != nil {
		t.Fatal(err)
	}
	var d grafanaDashboard
	if err := json.Unmarshal(raw, &d); err != nil {
		t.Fatalf("%s: %v", dashboardPath, err)
	}
	if len(d.Inputs) != 1 || d.Inputs[0].Name != "DS_PROMETHEUS" || d.Inputs[0].PluginID != "prometheus" {
		t.Errorf("__inputs = %+v, want one prometheus DS_PROMETHEUS", d.Inputs)
	}
	if d.SchemaVersion < 36 || d.UID == "" {
		t.Errorf("schemaVersion %d, uid %q: want Grafana 10 (≥ 36) and a uid", d.SchemaVersion, d.UID)
	}

	const ds = "${DS_PROMETHEUS}"
	ids := map[int]string{}
	var exprs []string
	var walk func([]grafanaPanel)
	walk = func(ps []grafanaPanel) {
		for _, p := range ps {
			if prev, dup := ids[p.ID]; dup {
				t.Errorf("panel id %d used by %q and %q", p.ID, prev, p.Title)
			}
			ids[p.ID] = p.Title
			walk(p.Panels)
			if p.Type == "row" {
				continue
			}
			if p.Datasource["uid"] != ds || len(p.Targets) == 0 {
				t.Errorf("panel %q: datasource %v, %d targets", p.Title, p.Datasource, len(p.Targets))
			}
			for _, tg := range p.Targets {
				if tg.Expr == "" || tg.Datasource["uid"] != ds {
					t.Errorf("panel %q target %s: expr %q, datasource %v", p.Title, tg.RefID, tg.Expr, tg.Datasource)
				}
				exprs = append(exprs, tg.Expr)
			}
		}
	}
	walk(d.Panels)

	var varQueries []string
	for _, v := range d.Templating.List {
		var q struct {
			Query string `json:"query"`
		}
		if err := json.Unmarshal(v.Query, &q); err != nil {
			var s string
			if err := json.Unmarshal(v.Query, &s); err != nil {
				t.Fatalf("variable %s: query %s", v.Name, v.Query)
			}
			q.Query = s
		}
		varQueries = append(varQueries, q.Query)
	}

	used := checkNames(t, dashboardPath, append(slices.Clone(exprs), varQueries...))
	for _, want := range []string{
		"switchtap_calls_total",
		"switchtap_calls_answered_total",
		"switchtap_calls_answered_within_limit_total",
		"switchtap_operator_calls_answered_total",
		"switchtap_operator_calls_answered_within_limit_total",
		"switchtap_calls_ring_time_seconds",
		"switchtap_calls_ringing",
		"switchtap_alarm_state",
		"switchtap_capture_kernel_dropped_packets_total",
		"switchtap_capture_undecodable_frames_total",
		"switchtap_sip_errors_total",
		"switchtap_rtp_lost_packets_total",
		"switchtap_store_size_bytes",
		"switchtap_recordings_size_bytes",
		"switchtap_disk_free_bytes",
	} {
		if !used[want] {
			t.Errorf("no panel shows %s", want)
		}
	}
	promtoolCheckExprs(t, exprs)
}

// TestAlertRules checks deploy/prometheus-alerts.yaml with promtool and
// against the exposition's names.
func TestAlertRules(t *testing.T) {
	raw, err := os.ReadFile(alertsPath)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Groups []struct {
			Rules []struct {
				Alert string `yaml:"alert"`
				Expr  string `yaml:"expr"`
			} `yaml:"rules"`
		} `yaml:"groups"`
	}
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		t.Fatalf("%s: %v", alertsPath, err)
	}
	var exprs []string
	for _, g := range doc.Groups {
		for _, r := range g.Rules {
			if r.Alert == "" || r.Expr == "" {
				t.Errorf("rule %+v lacks a name or an expression", r)
			}
			exprs = append(exprs, r.Expr)
		}
	}
	if len(exprs) == 0 {
		t.Fatal("no rules")
	}
	checkNames(t, alertsPath, exprs)
	out := runPromtool(t, nil, "check", "rules", alertsPath)
	if !strings.Contains(out, fmt.Sprintf("SUCCESS: %d rules found", len(exprs))) {
		t.Errorf("promtool check rules:\n%s", out)
	}
}
