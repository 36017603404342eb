package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/switchtap/switchtap/report"
)

// cmdReport is `switchtap report figures|show|export`: the month's
// figures (issue 10 §1), the whole month's report, and its exports, from
// the running daemon's API or, with none, computed over the store with the
// same packages.
func cmdReport(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return fmt.Errorf("%w: report needs a subcommand: figures, show or export", errUsage)
	}
	switch args[0] {
	case "figures":
	case "show", "export":
		return cmdReportDocument(ctx, args, stdout, stderr)
	default:
		return fmt.Errorf("%w: report needs a subcommand: figures, show or export; got %q", errUsage, args[0])
	}
	fs := newFlagSet("report figures", stderr)
	cf := addCommonFlags(fs)
	month := fs.String("month", "", "month YYYY-MM in the configured time zone (default: the current month)")
	asJSON := fs.Bool("json", false, "print the figures as JSON (the API's contract)")
	if pos, err := parseFlags(fs, args[1:]); err != nil {
		return err
	} else if len(pos) > 0 {
		return fmt.Errorf("%w: report figures takes no arguments, got %q", errUsage, pos)
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
		*month = time.Now().In(loc).Format("2006-01")
	}
	if _, _, err := report.MonthRange(*month, loc); err != nil {
		return fmt.Errorf("%w: --month: %w", errUsage, err)
	}
	l, err := openLocal(cfg, stderr)
	if err != nil {
		return err
	}
	defer l.Close()
	names := make([]string, 0, len(cfg.Receptionists))
	for _, r := range cfg.Receptionists {
		names = append(names, r.Name)
	}
	var f *report.MonthFigures
	if l.client != nil {
		f = &report.MonthFigures{}
		err = l.client.Do(ctx, "GET", "/api/v1/months/"+url.PathEscape(*month)+"/figures", nil, f)
	} else {
		f, err = report.Figures(ctx, l.store, *month, report.FiguresOptions{Location: loc, Receptionists: names, ShortAbandon: cfg.Report.ShortAbandon})
	}
	if err != nil {
		return fmt.Errorf("figures of %s: %w", *month, err)
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(f)
	}
	printFigures(stdout, f, names)
	return nil
}

// printFigures writes the figures as Spanish tables: the configured
// receptionists first, in order, then any other operator of the month.
func printFigures(w io.Writer, f *report.MonthFigures, configured []string) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	in, out := f.Inbound, f.Outbound
	fmt.Fprintf(w, "Cifras del mes %s (hora de %s), calculadas %s\n", f.Month, f.TimeZone, f.GeneratedAt.Format("2006-01-02 15:04"))
	fmt.Fprintf(w, "Llamadas en total: %d (los tramos de un traslado cuentan en el traslado)\n\n", f.CallsTotal)
	fmt.Fprintln(w, "Entrantes a recepción")
	for _, r := range [][2]string{
		{"Ofrecidas", strconv.Itoa(in.Offered)},
		{"Contestadas", strconv.Itoa(in.Answered)},
		{"Dentro del límite", strconv.Itoa(in.WithinLimit)},
		{"Fuera del límite", strconv.Itoa(in.Late)},
		{"Abandonadas", strconv.Itoa(in.Abandoned)},
		{"  de ellas, cortas", strconv.Itoa(in.ShortAbandoned)},
		{"Ocupado", strconv.Itoa(in.Busy)},
		{"Rechazadas", strconv.Itoa(in.Rejected)},
		{"Fallidas", strconv.Itoa(in.Failed)},
		{"Final desconocido", strconv.Itoa(in.Unknown)},
		{"Nivel de servicio", optNum(in.ServiceLevelPct, " %")},
		{"Respuesta media", optNum(in.ASASeconds, " s")},
		{"Mediana de respuesta", optNum(in.AnswerP50Seconds, " s")},
		{"Percentil 90 de respuesta", optNum(in.AnswerP90Seconds, " s")},
		{"Contestadas por timbre 1/2/3/4/5+", fmt.Sprintf("%d/%d/%d/%d/%d", in.Rings.R1, in.Rings.R2, in.Rings.R3, in.Rings.R4, in.Rings.R5Up)},
		{"Traslados ciegos/atendidos/desvíos", fmt.Sprintf("%d/%d/%d", in.Transferred.Blind, in.Transferred.Attended, in.Transferred.Redirect)},
		{"Traslados completados/fallidos", fmt.Sprintf("%d/%d", in.Transferred.Completed, in.Transferred.Failed)},
		{"Conversación total", decimal(in.TalkSecondsTotal) + " s"},
		{"Contestadas con grabación", strconv.Itoa(in.Recorded)},
	} {
		fmt.Fprintf(tw, "  %s\t%s\t\n", r[0], r[1])
	}
	_ = tw.Flush()
	fmt.Fprintln(w, "\nSalientes de recepción")
	fmt.Fprintf(tw, "  Realizadas\t%d\t\n  Contestadas\t%d\t\n  Ocupado\t%d\t\n  Rechazadas\t%d\t\n  Fallidas\t%d\t\n  Sin respuesta\t%d\t\n",
		out.Made, out.Answered, out.Busy, out.Rejected, out.Failed, out.NoAnswer)
	_ = tw.Flush()

	fmt.Fprintln(w, "\nPor recepcionista")
	fmt.Fprintln(tw, "RECEPCIONISTA\tOFRECIDAS\tCONTESTADAS\tEN LÍMITE\tABANDONADAS\tCORTAS\tNIVEL %\tMEDIA s\tP90 s\t")
	order := slices.Clone(configured)
	var others []string
	for name := range f.ByOperator {
		if !slices.Contains(order, name) {
			others = append(others, name)
		}
	}
	slices.Sort(others)
	for _, name := range append(order, others...) {
		b := f.ByOperator[name]
		if b == nil {
			continue
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%d\t%s\t%s\t%s\t\n", name, b.Offered, b.Answered, b.WithinLimit, b.Abandoned,
			b.ShortAbandoned, optNum(b.ServiceLevelPct, ""), optNum(b.ASASeconds, ""), optNum(b.AnswerP90Seconds, ""))
	}
	_ = tw.Flush()

	fmt.Fprintln(w, "\nPor día")
	fmt.Fprintln(tw, "DÍA\tOFRECIDAS\tCONTESTADAS\tEN LÍMITE\tABANDONADAS\t")
	days := make([]string, 0, len(f.ByDay))
	for d := range f.ByDay {
		days = append(days, d)
	}
	slices.Sort(days)
	for _, d := range days {
		s := f.ByDay[d]
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t\n", d, s.Offered, s.Answered, s.WithinLimit, s.Abandoned)
	}
	_ = tw.Flush()
}

// optNum writes a figure that may be null as "—".
func optNum(v *float64, unit string) string {
	if v == nil {
		return "—"
	}
	return decimal(*v) + unit
}

// decimal writes x with a decimal comma, as the console does.
func decimal(x float64) string {
	return strings.Replace(strconv.FormatFloat(x, 'f', -1, 64), ".", ",", 1)
}
