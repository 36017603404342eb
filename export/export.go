// Package export writes the month's report (report.Document) as the files
// the técnico hands to the jefe UACT and keeps (issue 10 §4): a workbook
// (XLSX, one sheet per part), a printable PDF with the charts, and CSV, one
// table per file. Every format is built from the same tables (tables.go),
// so a figure reads the same wherever it is opened; only the rendering
// differs: real numbers and dates in the workbook, es-SV text (decimal
// comma, dd/mm/aaaa in the report's zone) in the PDF, plain values (a
// decimal point, RFC 3339 times) in the CSV for the scripts that read it.
package export

import (
	"errors"
	"strings"

	"github.com/switchtap/switchtap/report"
)

// Formats.
const (
	FormatXLSX = "xlsx"
	FormatPDF  = "pdf"
	FormatCSV  = "csv"
)

// Ids of the CSV tables, one file each; the web layer and the CLI accept
// them as the table's name.
const (
	TableResumen        = "resumen"
	TableRecepcionistas = "recepcionistas"
	TableMuestra        = "muestra"
	TableEvaluaciones   = "evaluaciones"
	TableTabulacion     = "tabulacion"
	TableAcciones       = "acciones"
	TableSalientes      = "salientes"
	TableEstado         = "estado"
	TableVoz            = "voz"
)

// Errors of the exports.
var (
	// ErrUnknownTable is returned by CSV for a table name not in Tables.
	ErrUnknownTable = errors.New("export: unknown table")
	// ErrUnknownFormat is returned by Write for a format other than
	// xlsx, pdf and csv.
	ErrUnknownFormat = errors.New("export: unknown format")
)

// Tables returns the ids of the CSV tables, in the order of the workbook's
// sheets.
func Tables() []string {
	return []string{TableResumen, TableRecepcionistas, TableMuestra, TableEvaluaciones,
		TableTabulacion, TableAcciones, TableSalientes, TableEstado, TableVoz}
}

// FileName is the name the download is offered under:
// "informe_2026-11.xlsx", "informe_2026-11.pdf",
// "informe_2026-11_tabulacion.csv". The month is reduced to digits and
// dashes so a malformed document cannot put a path or a quote in a
// Content-Disposition header.
func FileName(d *report.Document, format, table string) string {
	month := ""
	if d != nil {
		month = safeName(d.Month)
	}
	name := "informe"
	if month != "" {
		name += "_" + month
	}
	if format == FormatCSV {
		if t := safeName(table); t != "" {
			name += "_" + t
		}
	}
	if f := safeName(format); f != "" {
		name += "." + f
	}
	return name
}

// safeName keeps the ASCII letters, digits and dashes of s.
func safeName(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= '0' && r <= '9', r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r == '-':
			return r
		}
		return -1
	}, s)
}

// ContentType is the media type of a format, "application/octet-stream"
// for an unknown one.
func ContentType(format string) string {
	switch format {
	case FormatXLSX:
		return "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
	case FormatPDF:
		return "application/pdf"
	case FormatCSV:
		return "text/csv; charset=utf-8"
	}
	return "application/octet-stream"
}
