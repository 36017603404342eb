package report

import (
	"errors"
	"fmt"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/switchtap/switchtap/internal/testenv"
)

func TestForms(t *testing.T) {
	f, err := FormByVersion(CurrentForm)
	if err != nil {
		t.Fatal(err)
	}
	if f.Version != "anexo1-v1" || f.Title != "Protocolo de Atención (Anexo 1)" {
		t.Errorf("form %q %q", f.Version, f.Title)
	}
	// DESIGN.md, "The seven protocol points": ids and labels in order.
	want := [][2]string{
		{"inmediatez", "Inmediatez: contestar antes del quinto timbre"},
		{"saludo", "Saludo e identificación"},
		{"tono", "Buen tono y claridad"},
		{"concision", "Concisión"},
		{"paciencia", "Paciencia"},
		{"traslado", "Traslado de llamadas"},
		{"amabilidad", "Amabilidad y despedida"},
	}
	if len(f.Points) != len(want) {
		t.Fatalf("%d points", len(f.Points))
	}
	for i, p := range f.Points {
		if p.ID != want[i][0] || p.Label != want[i][1] || p.Text == "" || p.Auto != (p.ID == PointInmediatez) {
			t.Errorf("point %d = %+v, want %v", i, p, want[i])
		}
	}
	if _, err := FormByVersion("anexo1-v0"); !errors.Is(err, ErrUnknownForm) {
		t.Errorf("unknown form: %v", err)
	}
	// Each call gives its own copy: a caller changing one cannot change
	// the form of later evaluations.
	fs := Forms()
	fs[0].Points[0].Label = "cambiado"
	if g, _ := FormByVersion(CurrentForm); !reflect.DeepEqual(g, f) {
		t.Error("Forms shares its points")
	}
	seen := map[string]bool{}
	for _, f := range Forms() {
		if seen[f.Version] {
			t.Errorf("version %s twice", f.Version)
		}
		seen[f.Version] = true
	}
	if !seen[CurrentForm] {
		t.Error("the current form is not among Forms")
	}
}

// TestFormQuotesSeed checks every point's text against Anexo 1 of the
// seed document, where the checkout has it beside it: the text must be
// the point as the document words it, after "N. Name.".
func TestFormQuotesSeed(t *testing.T) {
	b, err := os.ReadFile("../../shared/seed/procedimiento-atencion-conmutador.txt")
	if err != nil {
		testenv.SkipOrFail(t, fmt.Sprintf("seed document not here: %v", err))
	}
	// The document writes some spaces as U+00A0 and doubles one.
	norm := func(s string) string { return strings.Join(strings.Fields(strings.ReplaceAll(s, "\u00a0", " ")), " ") }
	doc := norm(string(b))
	at := strings.Index(doc, "Protocolo de atención 1. Inmediatez.")
	if at < 0 {
		t.Fatal("no Protocolo de atención in the seed")
	}
	doc = doc[at:]
	names := []string{"Inmediatez", "Saludo", "Buen tono y claridad", "Concisión", "Paciencia", "Traslado de llamadas", "Amabilidad"}
	f, _ := FormByVersion(FormAnexo1V1)
	for i, p := range f.Points {
		item := strings.Join([]string{string(rune('1' + i)), ". ", names[i], ". ", p.Text}, "")
		// What follows is the next point (or the next chapter): the
		// text is the point's whole.
		next := " " + string(rune('2'+i)) + ". " + names[min(i+1, len(names)-1)] + "."
		if i == len(names)-1 {
			next = " 9. MODIFICACIONES"
		}
		if !strings.Contains(doc, item+next) {
			t.Errorf("%s: %q is not a whole point of Anexo 1", p.ID, item)
		}
	}
}
