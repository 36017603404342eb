package main

import (
	"fmt"
	"io"
	"os"
	"slices"

	"github.com/switchtap/switchtap/export"
	"github.com/switchtap/switchtap/report"
)

// checkExportFlags checks --format and --table of a report export and
// returns the table to write (the first CSV table when none is given).
func checkExportFlags(cmd, format, table string) (string, error) {
	if !slices.Contains([]string{export.FormatXLSX, export.FormatPDF, export.FormatCSV}, format) {
		return "", fmt.Errorf("%w: %s needs --format xlsx, pdf or csv", errUsage, cmd)
	}
	if format != export.FormatCSV {
		if table != "" {
			return "", fmt.Errorf("%w: --table is for --format csv", errUsage)
		}
		return "", nil
	}
	if table == "" {
		table = export.Tables()[0]
	}
	if !slices.Contains(export.Tables(), table) {
		return "", fmt.Errorf("%w: --table %q: want one of %v", errUsage, table, export.Tables())
	}
	return table, nil
}

// exportOutput opens where a report export goes: standard output for "-",
// the file out, or the export's own name in the working directory; close
// reports a failed close (a file not written whole).
func exportOutput(stdout io.Writer, out string, d *report.Document, format, table string) (w io.Writer, close func() error, err error) {
	if out == "-" {
		return stdout, func() error { return nil }, nil
	}
	if out == "" {
		out = export.FileName(d, format, table)
	}
	f, err := os.OpenFile(out, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return nil, nil, fmt.Errorf("export: %w", err)
	}
	return f, f.Close, nil
}
