package export

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"

	"github.com/switchtap/switchtap/report"
)

// bom is the UTF-8 byte order mark: Excel in Spanish reads a CSV without
// it as Windows-1252 and garbles "Peña".
const bom = "\ufeff"

// CSV writes one table of the document (one of Tables) as CSV: UTF-8 with
// a BOM, comma separated, a header of snake_case ids (a contract: columns
// are added at the end, never renamed), numbers with a decimal point,
// times RFC 3339 in the document's zone, enumerations by their code, a
// null as an empty field.
func CSV(w io.Writer, d *report.Document, table string) error {
	if d == nil {
		return errors.New("export: no document")
	}
	loc, err := location(d)
	if err != nil {
		return err
	}
	t, err := buildTable(d, loc, table)
	if err != nil {
		return err
	}
	if _, err := io.WriteString(w, bom); err != nil {
		return fmt.Errorf("export: csv %s: %w", table, err)
	}
	cw := csv.NewWriter(w)
	rec := make([]string, len(t.cols))
	for i, c := range t.cols {
		rec[i] = c.id
	}
	if err := cw.Write(rec); err != nil {
		return fmt.Errorf("export: csv %s: %w", table, err)
	}
	for _, row := range t.rows {
		for i, c := range t.cols {
			rec[i] = row[i].csvValue(c.kind, loc)
		}
		if err := cw.Write(rec); err != nil {
			return fmt.Errorf("export: csv %s: %w", table, err)
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("export: csv %s: %w", table, err)
	}
	return nil
}
