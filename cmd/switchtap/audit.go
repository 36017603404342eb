package main

import (
	"context"
	"fmt"
	"io"

	"github.com/switchtap/switchtap/access"
)

// cmdAudit reads the audit log: `audit verify` checks its hash chain,
// `audit list` prints entries.
func cmdAudit(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || (args[0] != "verify" && args[0] != "list") {
		return fmt.Errorf("%w: audit verify | audit list [--from DATE] [--to DATE]", errUsage)
	}
	sub := args[0]
	fs := newFlagSet("audit "+sub, stderr)
	cf := addCommonFlags(fs)
	rf := addRangeFlags(fs)
	if _, err := parseFlags(fs, args[1:]); err != nil {
		return err
	}
	start, end, err := rf.parse()
	if err != nil {
		return err
	}
	l, err := cf.open(stderr)
	if err != nil {
		return err
	}
	defer l.Close()
	if sub == "list" {
		var es []access.Entry
		if l.client != nil {
			for _, q := range dayWindows(start, end) {
				var page []access.Entry
				if err = l.client.Do(ctx, "GET", "/api/v1/audit?"+q.Encode(), nil, &page); err != nil {
					break
				}
				for _, e := range page {
					if !e.At.Before(start) && e.At.Before(end) {
						es = append(es, e)
					}
				}
			}
		} else {
			err = l.access.AuditRange(ctx, start, end, func(e access.Entry) error {
				es = append(es, e)
				return nil
			})
		}
		if err != nil {
			return err
		}
		return writeJSONLines(stdout, es)
	}
	var rep access.VerifyReport
	if l.client != nil {
		err = l.client.Do(ctx, "GET", "/audit/verify", nil, &rep)
	} else {
		rep, err = l.access.Verify(ctx)
	}
	if err != nil {
		return err
	}
	for _, p := range rep.Problems {
		fmt.Fprintf(stdout, "entry %d: %s\n", p.Seq, p.Reason)
	}
	if len(rep.Problems) > 0 {
		return fmt.Errorf("%w: audit log: %d problems in %d entries", errAuditBroken, len(rep.Problems), rep.Entries)
	}
	fmt.Fprintf(stdout, "audit log intact: %d entries, head %s\n", rep.Entries, rep.Head)
	return nil
}
