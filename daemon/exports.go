package daemon

import (
	"fmt"
	"io"

	"github.com/switchtap/switchtap/export"
	"github.com/switchtap/switchtap/report"
	"github.com/switchtap/switchtap/web"
)

// exporter is web.Exporter over package export: the month's report as
// XLSX, PDF or one CSV table.
type exporter struct{}

// Export writes d in format; table names the CSV table.
func (exporter) Export(w io.Writer, d *report.Document, format, table string) error {
	return ExportDocument(w, d, format, table)
}

func (exporter) FileName(d *report.Document, format, table string) string {
	return export.FileName(d, format, table)
}

func (exporter) ContentType(format string) string { return export.ContentType(format) }

// ExportDocument writes the month's report in format ("xlsx", "pdf",
// "csv" with a table); an unknown format or table wraps web.ErrInvalid.
func ExportDocument(w io.Writer, d *report.Document, format, table string) error {
	var err error
	switch format {
	case export.FormatXLSX:
		err = export.XLSX(w, d)
	case export.FormatPDF:
		err = export.PDF(w, d)
	case export.FormatCSV:
		err = export.CSV(w, d, table)
	default:
		return fmt.Errorf("%w: format %q: want xlsx, pdf or csv", web.ErrInvalid, format)
	}
	if err != nil {
		return fmt.Errorf("export %s %s: %w", d.Month, format, err)
	}
	return nil
}
