package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"slices"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/switchtap/switchtap/access"
	"github.com/switchtap/switchtap/central"
	"github.com/switchtap/switchtap/config"
	"github.com/switchtap/switchtap/daemon"
	"github.com/switchtap/switchtap/export"
	"github.com/switchtap/switchtap/report"
)

const centralReportUsage = `central report figures|show|export --month YYYY-MM [--office NAME] [--json] ` +
	`[--format xlsx|pdf|csv] [--table T] [-o FILE] --config FILE [--database URL]`

// cmdCentralReport is `switchtap central report figures|show|export`:
// the month's figures and report of one office (--office) or of all,
// computed over the central database with the same packages as the
// console's (no server needed). An export is audited in the central's
// log before a byte is written.
func cmdCentralReport(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || !slices.Contains([]string{"figures", "show", "export"}, args[0]) {
		return fmt.Errorf("%w: %s", errUsage, centralReportUsage)
	}
	sub := args[0]
	fs := newFlagSet("central report "+sub, stderr)
	cfgPath := fs.String("config", "", "configuration file with a central: section (and ring:, report:, sample:)")
	database := fs.String("database", "", "PostgreSQL URL (overrides central.database)")
	month := fs.String("month", "", "month YYYY-MM (default: figures the current month, show and export the previous one)")
	office := fs.String("office", "", "office (default: all offices)")
	asJSON := fs.Bool("json", false, "figures, show: print as JSON (the API's contract)")
	format := fs.String("format", "", "export: xlsx, pdf or csv")
	table := fs.String("table", "", "export --format csv: one of "+fmt.Sprint(export.Tables()))
	out := fs.String("o", "", "export: output file (default the export's name; - for standard output)")
	if pos, err := parseFlags(fs, args[1:]); err != nil {
		return err
	} else if len(pos) > 0 {
		return fmt.Errorf("%w: central report %s takes no arguments, got %q", errUsage, sub, pos)
	}
	if sub == "export" {
		t, err := checkExportFlags("central report export", *format, *table)
		if err != nil {
			return err
		}
		*table = t
	} else if *format != "" || *table != "" || *out != "" {
		return fmt.Errorf("%w: --format, --table and -o are for central report export", errUsage)
	}
	cf, err := loadCentralFile(*cfgPath)
	if err != nil {
		return err
	}
	if *database != "" {
		cf.Central.Database = *database
	}
	proc, err := centralProcedure(*cfgPath, cf.Central)
	if err != nil {
		return err
	}
	srv, err := central.New(ctx, cf.Central, newLogger(stderr, "warn"))
	if err != nil {
		return err
	}
	defer srv.Close()
	p, err := srv.Procedure(ctx, *office, proc)
	if err != nil {
		return err
	}
	if *office != central.AllOffices {
		offices, err := srv.Offices(ctx)
		if err != nil {
			return err
		}
		if !slices.Contains(offices, *office) {
			return fmt.Errorf("%w: --office %q: no box belongs to it (offices: %q)", errUsage, *office, offices)
		}
	}
	if *month == "" {
		now := time.Now().In(p.Location)
		first := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, p.Location)
		if sub != "figures" {
			first = first.AddDate(0, -1, 0)
		}
		*month = first.Format("2006-01")
	}
	if _, _, err := report.MonthRange(*month, p.Location); err != nil {
		return fmt.Errorf("%w: --month: %w", errUsage, err)
	}
	printJSON := func(v any) error {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(v)
	}
	if sub == "figures" {
		f, err := p.Figures.Figures(ctx, *month)
		if err != nil {
			return fmt.Errorf("figures of %s: %w", *month, err)
		}
		if *asJSON {
			return printJSON(f)
		}
		printFigures(stdout, f, p.Operators)
		return nil
	}
	doc, err := p.Document(ctx, *month)
	if err != nil {
		return fmt.Errorf("report of %s: %w", *month, err)
	}
	if sub == "show" {
		if *asJSON {
			return printJSON(doc)
		}
		printDocument(stdout, doc)
		return nil
	}
	a := localActor()
	target := "informe " + *month
	if *office != central.AllOffices {
		target += " " + *office
	}
	if _, err := srv.Access().Audit(ctx, access.Entry{Actor: a.Name, Action: "export_report", Target: target,
		Detail: "cli central " + *format + " " + *table, Remote: a.Remote}); err != nil {
		return fmt.Errorf("audit: %w", err)
	}
	w, closeOut, err := exportOutput(stdout, *out, doc, *format, *table)
	if err != nil {
		return err
	}
	if err := export.Write(w, doc, *format, *table); err != nil {
		_ = closeOut()
		return err
	}
	return closeOut()
}

// centralProcedure reads the procedure's settings of the central server
// from its configuration file: the ring:, report:, sample: and time_zone
// keys a box's file has, beside central:. The zone is central.timezone
// when set, else time_zone (America/El_Salvador by default).
func centralProcedure(path string, cc central.Config) (central.Procedure, error) {
	cfg := config.Default()
	if path != "" {
		b, err := os.ReadFile(path)
		if err != nil {
			return central.Procedure{}, fmt.Errorf("read configuration: %w", err)
		}
		var doc map[string]yaml.Node
		if err := yaml.Unmarshal(b, &doc); err != nil {
			return central.Procedure{}, fmt.Errorf("configuration %s: %w", path, err)
		}
		// The rest of the file is a box's configuration, checked as
		// strictly as a box checks it.
		delete(doc, "central")
		rest, err := yaml.Marshal(doc)
		if err != nil {
			return central.Procedure{}, fmt.Errorf("configuration %s: %w", path, err)
		}
		if len(doc) > 0 {
			if cfg, err = config.Parse(rest); err != nil {
				return central.Procedure{}, fmt.Errorf("configuration %s: %w", path, err)
			}
		}
	}
	p := central.Procedure{
		Ring:          cfg.RingPolicy(),
		ShortAbandon:  cfg.Report.ShortAbandon,
		GreetingLimit: cfg.Report.GreetingLimit,
		KeepMonths:    cfg.Report.KeepMonths,
		Sample:        daemon.SampleOptions(cfg),
		Secure:        cc.TLSCert != "",
	}
	if cc.Timezone == "" {
		loc, err := cfg.Location()
		if err != nil {
			return central.Procedure{}, err
		}
		p.Location = loc
	}
	return p, nil
}

// configureConsole gives the running central server's console the
// procedure's settings of its configuration file.
func configureConsole(srv *central.Server, path string, cc central.Config, version string) error {
	p, err := centralProcedure(path, cc)
	if err != nil {
		return err
	}
	p.Version = version
	srv.SetProcedure(p)
	return nil
}
