package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"text/tabwriter"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/switchtap/switchtap/central"
)

const centralUsage = `central [--config FILE] [--database URL] [--listen ADDR] |
central box add BOX_ID --office NAME | central box list [--json] | central box token BOX_ID | central box revoke BOX_ID |
central token [NAME] [--label L] |
` + centralReportUsage

// centralFile is the part of the configuration file the central server
// reads: the central: section and the log level.
type centralFile struct {
	LogLevel string         `yaml:"log_level"`
	Central  central.Config `yaml:"central"`
}

// cmdCentral runs the central reporting server, or manages its boxes and
// API tokens on its database.
func cmdCentral(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 && args[0] == "report" {
		return cmdCentralReport(ctx, args[1:], stdout, stderr)
	}
	sub := ""
	if len(args) > 0 && (args[0] == "box" || args[0] == "token") {
		sub, args = args[0], args[1:]
	}
	if sub == "box" {
		if len(args) == 0 {
			return fmt.Errorf("%w: %s", errUsage, centralUsage)
		}
		sub, args = "box "+args[0], args[1:]
	}
	fs := newFlagSet("central "+sub, stderr)
	cfgPath := fs.String("config", "", "configuration file with a central: section")
	database := fs.String("database", "", "PostgreSQL URL (overrides central.database)")
	listen := fs.String("listen", "", "HTTP address (overrides central.listen)")
	var logLevel string
	addLogLevelFlag(fs, &logLevel)
	office := fs.String("office", "", "office name of the box (box add)")
	label := fs.String("label", "api", "what the token is for (token)")
	asJSON := fs.Bool("json", false, "box list as JSON")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	cf, err := loadCentralFile(*cfgPath)
	if err != nil {
		return err
	}
	if *database != "" {
		cf.Central.Database = *database
	}
	if *listen != "" {
		cf.Central.Listen = *listen
	}
	if logLevel != "" {
		cf.LogLevel = logLevel
	}
	log := newLogger(stderr, cf.LogLevel)
	want := map[string]int{"": 0, "box add": 1, "box list": 0, "box token": 1, "box revoke": 1, "token": -1}
	n, known := want[sub]
	if !known {
		return fmt.Errorf("%w: unknown central command %q; %s", errUsage, sub, centralUsage)
	}
	if (n >= 0 && len(pos) != n) || (n < 0 && len(pos) > 1) {
		return fmt.Errorf("%w: %s", errUsage, centralUsage)
	}
	if sub == "box add" && *office == "" {
		return fmt.Errorf("%w: central box add needs --office NAME", errUsage)
	}
	srv, err := central.New(ctx, cf.Central, log)
	if err != nil {
		return err
	}
	defer srv.Close()
	switch sub {
	case "":
		if err := configureConsole(srv, *cfgPath, cf.Central, version); err != nil {
			return err
		}
		return srv.Run(ctx)
	case "box add":
		tok, err := srv.AddBox(ctx, pos[0], *office)
		if err != nil {
			return err
		}
		// The token is shown once: only its hash is stored.
		fmt.Fprintln(stdout, tok)
		return nil
	case "box token":
		// A new credential, shown once; the old one is refused at once.
		tok, err := srv.RotateBoxToken(ctx, pos[0])
		if err != nil {
			return err
		}
		fmt.Fprintln(stdout, tok)
		return nil
	case "box revoke":
		if err := srv.RevokeBox(ctx, pos[0]); err != nil {
			return err
		}
		fmt.Fprintf(stderr, "box %s revoked: its requests are refused; `central box token %s` enrols it again\n", pos[0], pos[0])
		return nil
	case "box list":
		return printBoxes(ctx, srv, stdout, *asJSON)
	default:
		name := "admin"
		if len(pos) == 1 {
			name = pos[0]
		}
		return issueCentralToken(ctx, srv, name, *label, stdout, stderr)
	}
}

// loadCentralFile reads the configuration file; with none, the defaults
// (central.database must then come from --database).
func loadCentralFile(path string) (centralFile, error) {
	var cf centralFile
	if path == "" {
		return cf, nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return cf, fmt.Errorf("read configuration: %w", err)
	}
	if err := yaml.Unmarshal(b, &cf); err != nil {
		return cf, fmt.Errorf("configuration %s: %w", path, err)
	}
	return cf, nil
}

// issueCentralToken prints a new API token of account name. With no
// account at all it first creates "admin" and shows its password once.
func issueCentralToken(ctx context.Context, srv *central.Server, name, label string, stdout, stderr io.Writer) error {
	acc := srv.Access()
	pw, created, err := acc.EnsureAdmin(ctx)
	if err != nil {
		return err
	}
	if created {
		fmt.Fprintf(stderr, "account admin created; its password (shown once, to be changed): %s\n", pw)
	}
	tok, err := acc.IssueToken(ctx, localActor(), name, label)
	if err != nil {
		return fmt.Errorf("token for %s: %w", name, err)
	}
	fmt.Fprintln(stdout, tok)
	return nil
}

func printBoxes(ctx context.Context, srv *central.Server, stdout io.Writer, asJSON bool) error {
	boxes, err := srv.Boxes(ctx)
	if err != nil {
		return err
	}
	if asJSON {
		if boxes == nil {
			boxes = []central.Box{}
		}
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(boxes)
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "BOX\tOFFICE\tACKED\tRECORDS\tLAST CONTACT\tLAG\tCREDENTIAL")
	for _, b := range boxes {
		last, lag := "never", "-"
		if b.LastContact != nil {
			last = b.LastContact.Format(time.RFC3339)
		}
		if b.LagSeconds != nil {
			lag = time.Duration(*b.LagSeconds * float64(time.Second)).Round(time.Second).String()
		}
		cred := "valid"
		if b.Revoked != nil {
			cred = "revoked " + b.Revoked.Format(time.RFC3339)
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%s\t%s\t%s\n", b.BoxID, b.Office, b.Acked, b.Records, last, lag, cred)
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("write: %w", err)
	}
	return nil
}
