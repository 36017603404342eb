package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/url"
	"slices"
	"text/tabwriter"
	"time"

	"github.com/switchtap/switchtap/access"
	"github.com/switchtap/switchtap/daemon"
	"github.com/switchtap/switchtap/export"
	"github.com/switchtap/switchtap/report"
)

// cmdReportDocument is `switchtap report show --month M [--json]` (the
// month's report: review state, due date, tabulation) and `switchtap
// report export --month M --format xlsx|pdf|csv [--table T] [-o FILE]`.
// An export is written to the audit log, by the daemon when it runs.
func cmdReportDocument(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	sub := args[0]
	fs := newFlagSet("report "+sub, stderr)
	cf := addCommonFlags(fs)
	month := fs.String("month", "", "month YYYY-MM in the configured time zone (default: the previous month)")
	asJSON := fs.Bool("json", false, "report show: print the whole report as JSON (the API's contract)")
	format := fs.String("format", "", "report export: xlsx, pdf or csv")
	table := fs.String("table", "", "report export --format csv: one of "+fmt.Sprint(export.Tables()))
	out := fs.String("o", "", "report export: output file (default the export's name; - for standard output)")
	if pos, err := parseFlags(fs, args[1:]); err != nil {
		return err
	} else if len(pos) > 0 {
		return fmt.Errorf("%w: report %s takes no arguments, got %q", errUsage, sub, pos)
	}
	if sub == "export" {
		t, err := checkExportFlags("report export", *format, *table)
		if err != nil {
			return err
		}
		*table = t
	}
	cfg, err := cf.load()
	if err != nil {
		return err
	}
	loc, err := cfg.Location()
	if err != nil {
		return err
	}
	if *month == "" {
		// The month whose report is being prepared: the one that ended.
		now := time.Now().In(loc)
		*month = time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, loc).AddDate(0, -1, 0).Format("2006-01")
	}
	if _, _, err := report.MonthRange(*month, loc); err != nil {
		return fmt.Errorf("%w: --month: %w", errUsage, err)
	}
	l, err := openLocal(cfg, stderr)
	if err != nil {
		return err
	}
	defer l.Close()
	base := "/api/v1/months/" + url.PathEscape(*month) + "/report"

	doc := &report.Document{}
	if l.client != nil {
		err = l.client.Do(ctx, "GET", base, nil, doc)
	} else {
		doc, err = daemon.MonthDocument(ctx, l.store, cfg, *month, newLogger(stderr, "warn"))
	}
	if err != nil {
		return fmt.Errorf("report of %s: %w", *month, err)
	}
	if sub == "show" {
		if *asJSON {
			enc := json.NewEncoder(stdout)
			enc.SetIndent("", "  ")
			return enc.Encode(doc)
		}
		printDocument(stdout, doc)
		return nil
	}

	w, closeOut, err := exportOutput(stdout, *out, doc, *format, *table)
	if err != nil {
		return err
	}
	if l.client != nil {
		q := url.Values{"format": {*format}}
		if *table != "" {
			q.Set("table", *table)
		}
		err = l.client.Copy(ctx, base+"/export?"+q.Encode(), w)
	} else {
		// Audited before a byte is written, as the daemon does.
		a := localActor()
		if _, err = l.access.Audit(ctx, access.Entry{Actor: a.Name, Action: "export_report", Target: "informe " + *month,
			Detail: "cli " + *format + " " + *table, Remote: a.Remote}); err != nil {
			err = fmt.Errorf("audit: %w", err)
		} else {
			err = export.Write(w, doc, *format, *table)
		}
	}
	if cerr := closeOut(); err == nil {
		err = cerr
	}
	return err
}

// printDocument writes the report's state and tabulation as Spanish text.
func printDocument(w io.Writer, d *report.Document) {
	fmt.Fprintf(w, "Informe del mes %s (hora de %s)\n", d.Month, d.TimeZone)
	due := d.Due.DueAt.In(time.UTC)
	if loc, err := time.LoadLocation(d.TimeZone); err == nil {
		due = d.Due.DueAt.In(loc)
	}
	fmt.Fprintf(w, "Estado: %s, %d ronda(s); vence antes de %s", d.Review.State.Label(), len(d.Review.Rounds), due.Format("2006-01-02 15:04"))
	switch {
	case d.Due.Overdue:
		fmt.Fprint(w, " (VENCIDO)")
	case d.Due.SubmittedLate:
		fmt.Fprint(w, " (entregado tarde)")
	}
	fmt.Fprintln(w)
	printVoice(w, d.Voice)
	if d.Sample == nil {
		fmt.Fprintln(w, "Sin muestra sorteada.")
	} else {
		fmt.Fprintf(w, "Muestra: %d de %d llamadas (semilla %d, %s, marco %s)\n", d.Sample.N, d.Sample.FrameSize, d.Sample.Seed, d.Sample.Generator, d.Sample.FrameHash)
	}
	t := d.Tabulation
	if t == nil {
		return
	}
	fmt.Fprintf(w, "Evaluaciones: %d enviadas, %d borradores, %d pendientes; %d reconocidas, %d disputadas, %d cambiadas\n\n",
		t.Submitted, t.Drafts, t.Pending, t.Acknowledged, t.Disputed, t.Changed)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "PUNTO\tEVALUADAS\tNO CUMPLE\t% NO CUMPLE\tWILSON 95 %\t")
	row := func(p report.PointTally) {
		iv := "—"
		if p.Wilson95 != nil {
			iv = decimal(p.Wilson95.Low) + "–" + decimal(p.Wilson95.High)
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%s\t%s\t\n", p.Label, p.Evaluated, p.NoCumple, optNum(p.NoCumplePct, ""), iv)
	}
	for _, p := range t.Points {
		row(p)
	}
	all := t.InmediatezAll
	all.Label = "Inmediatez (todas las llamadas)"
	row(all)
	_ = tw.Flush()
	if len(d.FollowUps) > 0 {
		fmt.Fprintln(w, "\nSeguimiento de acciones correctivas")
		fmt.Fprintln(tw, "ACCIÓN\tPARA\tANTES\tDESPUÉS\t")
		for _, f := range d.FollowUps {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t\n", f.Action.ID, f.Action.To, optNum(f.Before, ""), optNum(f.After, ""))
		}
		_ = tw.Flush()
	}
}

// printVoice writes the voice part (issue 13: what the recordings show
// without listening): greeting latency and the shares of talk, silence
// and overtalk, everyone and each receptionist, as on the Informe page.
func printVoice(w io.Writer, v *report.VoicePart) {
	if v == nil || v.All.Calls == 0 {
		fmt.Fprintln(w, "Voz: ninguna llamada contestada con análisis de voz.")
		return
	}
	fmt.Fprintf(w, "Voz: %d llamadas contestadas con análisis; saludo tardío: más de %s s\n", v.All.Calls, decimal(v.GreetingLimitSeconds))
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "RECEPCIONISTA\tLLAMADAS\tSALUDO P10 s\tMEDIANA s\tP90 s\tTARDÍOS\tSIN SALUDO\tSILENCIO MED. %\tSOLAPE MED. %\tMOS P10\t")
	row := func(name string, b *report.VoiceBlock) {
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\t%d (%s)\t%d\t%s\t%s\t%s\t\n", name, b.Calls,
			optNum(b.Greeting.P10, ""), optNum(b.Greeting.P50, ""), optNum(b.Greeting.P90, ""),
			b.GreetingOverLimit, optNum(b.GreetingOverLimitPct, " %"), b.NoGreeting,
			optNum(b.Silence.P50, ""), optNum(b.Overtalk.P50, ""), optNum(b.MOSReceptionist.P10, ""))
	}
	row("Todas", &v.All)
	// In name order, as the Informe page's template ranges over the map.
	for _, name := range slices.Sorted(maps.Keys(v.ByOperator)) {
		if b := v.ByOperator[name]; b != nil {
			row(name, b)
		}
	}
	_ = tw.Flush()
	fmt.Fprintln(w)
}
