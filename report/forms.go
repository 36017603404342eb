package report

import (
	"fmt"
	"slices"
)

// CurrentForm is the form new evaluations are made with. A month keeps
// the form its evaluations name (Evaluation.Form), so changing this only
// affects evaluations opened afterwards.
const CurrentForm = FormAnexo1V1

// formAnexo1V1 returns the first form: the seven points of Anexo 1
// ("Protocolo de atención") of the seed document, in its order, with the
// labels of DESIGN.md. Text is the point as the document states it,
// after its number and name; the document's non-breaking spaces are
// written as plain spaces and its wording (typos included: "no tienen
// razón", "Trasferir") is kept, since it is a quotation of the
// authorised protocol.
func formAnexo1V1() Form {
	return Form{
		Version: FormAnexo1V1,
		Title:   "Protocolo de Atención (Anexo 1)",
		Points: []FormPoint{
			{
				ID: PointInmediatez, Label: "Inmediatez: contestar antes del quinto timbre",
				Text: "¡El tiempo es importante! Responderemos la llamada con rapidez, sin dejar que el teléfono suene más de cuatro veces.",
				Auto: true,
			},
			{
				ID: PointSaludo, Label: "Saludo e identificación",
				Text: "Siempre nos identificaremos cuando respondamos una llamada para que el cliente sepa con quién está llamando y adonde está llamando.",
			},
			{
				ID: PointTono, Label: "Buen tono y claridad",
				Text: "Utilizaremos un tono de voz claro, pausado y neutro. Queremos que la otra persona nos entienda perfectamente y comprenda las explicaciones o información que solicita.",
			},
			{
				ID: PointConcision, Label: "Concisión",
				Text: "intentaremos proporcionar la información precisa y de forma directa.",
			},
			{
				ID: PointPaciencia, Label: "Paciencia",
				Text: "A pesar de nuestra buena voluntad, en muchas ocasiones, el cliente no tienen razón o no podemos ayudarle. Si la llamada sube de tono, nosotros nunca perderemos las formas y utilizaremos un tono conciliador y tranquilo.",
			},
			{
				ID: PointTraslado, Label: "Traslado de llamadas",
				Text: "Trasferir la llamada de acuerdo a lo solicitado o sugerido para la atención.",
			},
			{
				ID: PointAmabilidad, Label: "Amabilidad y despedida",
				Text: "Por último, siempre nos despediremos amablemente del usuario, agradeciéndole su llamada.",
			},
		},
	}
}

// Forms returns every form version this build knows, oldest first. Each
// call returns fresh values, so a caller may change what it gets.
func Forms() []Form {
	return []Form{formAnexo1V1()}
}

// FormByVersion returns the form of that version, ErrUnknownForm when this
// build does not have it.
func FormByVersion(v string) (Form, error) {
	fs := Forms()
	i := slices.IndexFunc(fs, func(f Form) bool { return f.Version == v })
	if i < 0 {
		return Form{}, fmt.Errorf("form %q: %w", v, ErrUnknownForm)
	}
	return fs[i], nil
}

// pointIndex returns the position of a point in the form, -1 when the
// form has no such point.
func (f Form) pointIndex(id string) int {
	return slices.IndexFunc(f.Points, func(p FormPoint) bool { return p.ID == id })
}
