package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strconv"
	"text/tabwriter"

	"github.com/switchtap/switchtap/access"
	"github.com/switchtap/switchtap/daemon"
	"github.com/switchtap/switchtap/report"
)

// errSampleMismatch is a sample whose frame or draw does not verify (exit 1).
var errSampleMismatch = errors.New("sample does not verify")

// sampleUsage is the usage of `switchtap sample`.
const sampleUsage = `sample draw --month YYYY-MM [--seed N] [--redraw --reason TEXT] | sample show --month YYYY-MM | sample verify --month YYYY-MM | sample replace --month YYYY-MM --id ID --reason TEXT`

// cmdSample is `switchtap sample draw|show|verify|replace` (issue 10 §2):
// through the running daemon's API, or, with none, on the store with the
// same package, each draw and replacement audited either way.
func cmdSample(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return fmt.Errorf("%w: %s", errUsage, sampleUsage)
	}
	sub := args[0]
	switch sub {
	case "draw", "show", "verify", "replace":
	default:
		return fmt.Errorf("%w: %s", errUsage, sampleUsage)
	}
	fs := newFlagSet("sample "+sub, stderr)
	cf := addCommonFlags(fs)
	month := fs.String("month", "", "month YYYY-MM in the configured time zone")
	seed := fs.String("seed", "", "draw: the 64-bit seed (default: from the system's random source)")
	redraw := fs.Bool("redraw", false, "draw: replace the month's sample (needs --reason)")
	reason := fs.String("reason", "", "redraw or replace: why")
	id := fs.String("id", "", "replace: the sampled record's id")
	asJSON := fs.Bool("json", false, "print the sample (or the verification) as JSON")
	if pos, err := parseFlags(fs, args[1:]); err != nil {
		return err
	} else if len(pos) > 0 {
		return fmt.Errorf("%w: sample %s takes no arguments, got %q", errUsage, sub, pos)
	}
	cfg, err := cf.load()
	if err != nil {
		return err
	}
	loc, err := cfg.Location()
	if err != nil {
		return err
	}
	if _, _, err := report.MonthRange(*month, loc); err != nil {
		return fmt.Errorf("%w: --month: %w", errUsage, err)
	}
	var seedVal *uint64
	if *seed != "" {
		v, err := strconv.ParseUint(*seed, 10, 64)
		if err != nil {
			return fmt.Errorf("%w: --seed: not an integer 0…2^64-1: %q", errUsage, *seed)
		}
		seedVal = &v
	}
	if sub == "replace" && (*id == "" || *reason == "") {
		return fmt.Errorf("%w: sample replace needs --id and --reason", errUsage)
	}
	if *redraw && *reason == "" {
		return fmt.Errorf("%w: sample draw --redraw needs --reason", errUsage)
	}
	l, err := openLocal(cfg, stderr)
	if err != nil {
		return err
	}
	defer l.Close()
	var sv sampleVia
	if l.client != nil {
		sv = &sampleAPI{l: l, month: *month}
	} else {
		s, err := report.NewSampler(l.store, l.store.KV("report"), l.store, loc, daemon.SampleOptions(cfg), newLogger(stderr, "warn"))
		if err != nil {
			return err
		}
		sv = &sampleStore{s: s, acc: l.access, month: *month}
	}
	switch sub {
	case "draw":
		smp, err := sv.draw(ctx, seedVal, *redraw, *reason)
		if err != nil {
			return fmt.Errorf("sample draw %s: %w", *month, err)
		}
		return printSample(stdout, smp, *asJSON, false)
	case "show":
		smp, err := sv.get(ctx)
		if err != nil {
			return fmt.Errorf("sample show %s: %w", *month, err)
		}
		return printSample(stdout, smp, *asJSON, true)
	case "replace":
		rep, err := sv.replace(ctx, *id, *reason)
		if err != nil {
			return fmt.Errorf("sample replace %s: %w", *month, err)
		}
		if *asJSON {
			return json.NewEncoder(stdout).Encode(rep)
		}
		fmt.Fprintf(stdout, "replaced %s by %s (%s, reserve %d): %s\n", rep.OldID, rep.NewID, rep.Operator, rep.ReserveRank, rep.Reason)
		return nil
	}
	v, err := sv.verify(ctx)
	if err != nil {
		return fmt.Errorf("sample verify %s: %w", *month, err)
	}
	if *asJSON {
		if err := json.NewEncoder(stdout).Encode(v); err != nil {
			return err
		}
	} else {
		fmt.Fprintf(stdout, "frame: %d calls, sha256 %s (recorded %d, %s)\n", v.FrameSizeNow, v.FrameHashNow, v.FrameSizeStored, v.FrameHashStored)
		for _, d := range v.Differences {
			fmt.Fprintln(stdout, "differs:", d)
		}
		for _, id := range v.Added {
			fmt.Fprintln(stdout, "added to the frame:", id)
		}
		for _, id := range v.Removed {
			fmt.Fprintln(stdout, "removed from the frame:", id)
		}
		for _, id := range v.Reclassified {
			fmt.Fprintln(stdout, "receptionist changed:", id)
		}
	}
	if !v.Match {
		return fmt.Errorf("%w: %s: frame match %v, draw match %v", errSampleMismatch, *month, v.FrameMatch, v.DrawMatch)
	}
	if !*asJSON {
		fmt.Fprintf(stdout, "sample %s verifies: frame and draw match\n", *month)
	}
	return nil
}

// sampleVia is where the sample commands act: the daemon or the store.
type sampleVia interface {
	draw(ctx context.Context, seed *uint64, redraw bool, reason string) (report.Sample, error)
	get(ctx context.Context) (report.Sample, error)
	verify(ctx context.Context) (report.Verification, error)
	replace(ctx context.Context, id, reason string) (report.Replacement, error)
}

// sampleAPI acts through the daemon's socket, which audits.
type sampleAPI struct {
	l     *local
	month string
}

func (a *sampleAPI) path(tail string) string {
	return "/api/v1/months/" + url.PathEscape(a.month) + "/sample" + tail
}

func (a *sampleAPI) draw(ctx context.Context, seed *uint64, redraw bool, reason string) (report.Sample, error) {
	body := map[string]any{"redraw": redraw, "reason": reason}
	if seed != nil {
		body["seed"] = strconv.FormatUint(*seed, 10)
	}
	var smp report.Sample
	err := a.l.client.Do(ctx, "POST", a.path(""), body, &smp)
	return smp, err
}

func (a *sampleAPI) get(ctx context.Context) (report.Sample, error) {
	var smp report.Sample
	err := a.l.client.Do(ctx, "GET", a.path(""), nil, &smp)
	return smp, err
}

func (a *sampleAPI) verify(ctx context.Context) (report.Verification, error) {
	var v report.Verification
	err := a.l.client.Do(ctx, "GET", a.path("/verify"), nil, &v)
	return v, err
}

func (a *sampleAPI) replace(ctx context.Context, id, reason string) (report.Replacement, error) {
	var out struct {
		Replacement report.Replacement `json:"replacement"`
	}
	err := a.l.client.Do(ctx, "POST", a.path("/replace"), map[string]string{"id": id, "reason": reason}, &out)
	return out.Replacement, err
}

// sampleStore acts on the store (no daemon runs) and audits with the
// account service, as the API does.
type sampleStore struct {
	s     *report.Sampler
	acc   *access.Service
	month string
}

func (st *sampleStore) audit(ctx context.Context, action, detail string) error {
	a := localActor()
	if _, err := st.acc.Audit(ctx, access.Entry{Actor: a.Name, Action: action, Target: "muestra " + st.month, Detail: detail, Remote: a.Remote}); err != nil {
		return fmt.Errorf("audit %s (the change is stored): %w", action, err)
	}
	return nil
}

func (st *sampleStore) draw(ctx context.Context, seed *uint64, redraw bool, reason string) (report.Sample, error) {
	smp, err := st.s.Draw(ctx, report.DrawRequest{Month: st.month, Seed: seed, By: localActor().Name, Redraw: redraw, Reason: reason})
	if err != nil {
		return report.Sample{}, err
	}
	action := "sample_draw"
	detail := fmt.Sprintf("n=%d marco=%d hash=%s semilla=%d generador=%s", smp.N, smp.FrameSize, smp.FrameHash, smp.Seed, smp.Generator)
	if smp.Redraw != "" {
		action, detail = "sample_redraw", detail+" motivo="+smp.Redraw
	}
	return smp, st.audit(ctx, action, detail)
}

func (st *sampleStore) get(ctx context.Context) (report.Sample, error) {
	return st.s.Get(ctx, st.month)
}

func (st *sampleStore) verify(ctx context.Context) (report.Verification, error) {
	return st.s.Verify(ctx, st.month)
}

func (st *sampleStore) replace(ctx context.Context, id, reason string) (report.Replacement, error) {
	_, rep, err := st.s.Replace(ctx, report.ReplaceRequest{Month: st.month, ID: id, By: localActor().Name, Reason: reason})
	if err != nil {
		return report.Replacement{}, err
	}
	detail := fmt.Sprintf("%s → %s (%s, reserva %d) motivo=%s", rep.OldID, rep.NewID, rep.Operator, rep.ReserveRank, rep.Reason)
	return rep, st.audit(ctx, "sample_replace", detail)
}

// printSample writes a sample as JSON or as text; items lists the calls.
func printSample(w io.Writer, smp report.Sample, asJSON, items bool) error {
	if asJSON {
		return json.NewEncoder(w).Encode(smp)
	}
	fmt.Fprintf(w, "month %s (%s): frame %d calls, sha256 %s\n", smp.Month, smp.TimeZone, smp.FrameSize, smp.FrameHash)
	d := smp.Design
	if d.Method == report.MethodFixed {
		fmt.Fprintf(w, "design: %d per receptionist, %d reserves\n", d.PerOperator, d.Reserves)
	} else {
		fmt.Fprintf(w, "design: Cochran %.0f %% ±%.0f %% p=%g (z=%g), n=%d, floor %d, %d reserves\n",
			d.Confidence*100, d.Margin*100, d.P, d.Z, smp.NCochran, d.Floor, d.Reserves)
	}
	fmt.Fprintf(w, "drawn %s by %s: n=%d seed %d generator %s\n", smp.DrawnAt.Format("2006-01-02 15:04:05Z07:00"), smp.DrawnBy, smp.N, smp.Seed, smp.Generator)
	tw := tabwriter.NewWriter(w, 2, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "RECEPTIONIST\tFRAME\tN\tRESERVES")
	for _, s := range smp.Allocation {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\n", s.Operator, s.Frame, s.N, s.Reserves)
	}
	if items {
		fmt.Fprintln(tw, "\nRECEPTIONIST\tRANK\tID\tSTATE")
		for _, it := range smp.Items {
			state := "sampled"
			switch {
			case it.Replaced:
				state = "replaced"
			case it.Replacement:
				state = "reserve"
			}
			fmt.Fprintf(tw, "%s\t%d\t%s\t%s\n", it.Operator, it.Rank, it.ID, state)
		}
		for _, r := range smp.Replacements {
			fmt.Fprintf(tw, "replacement\t%s\t%s → %s\t%s: %s\n", r.At.Format("2006-01-02 15:04"), r.OldID, r.NewID, r.By, r.Reason)
		}
	}
	return tw.Flush()
}
