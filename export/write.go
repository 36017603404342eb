package export

import (
	"fmt"
	"io"

	"github.com/switchtap/switchtap/report"
)

// Write writes the month's report in format: FormatXLSX, FormatPDF, or
// FormatCSV with one of Tables(). An unknown format wraps
// ErrUnknownFormat, an unknown table ErrUnknownTable.
func Write(w io.Writer, d *report.Document, format, table string) error {
	var err error
	switch format {
	case FormatXLSX:
		err = XLSX(w, d)
	case FormatPDF:
		err = PDF(w, d)
	case FormatCSV:
		err = CSV(w, d, table)
	default:
		return fmt.Errorf("%w: %q: want xlsx, pdf or csv", ErrUnknownFormat, format)
	}
	if err != nil {
		return fmt.Errorf("export %s %s: %w", d.Month, format, err)
	}
	return nil
}

// Exporter is the web console's exporter (web.Exporter) over this
// package, for the box's daemon and the central server alike.
type Exporter struct{}

// Export writes d in format; table names the CSV table.
func (Exporter) Export(w io.Writer, d *report.Document, format, table string) error {
	return Write(w, d, format, table)
}

// FileName is FileName.
func (Exporter) FileName(d *report.Document, format, table string) string {
	return FileName(d, format, table)
}

// ContentType is ContentType.
func (Exporter) ContentType(format string) string { return ContentType(format) }
