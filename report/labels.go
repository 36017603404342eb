package report

// Spanish (es-SV) labels of the procedure's enumerations, one wording for
// the console, the exports and the command line. An unknown value is
// shown as it is, never dropped.

// Label is the verdict as the form words it.
func (v Verdict) Label() string {
	switch v {
	case VerdictCumple:
		return "Cumple"
	case VerdictNoCumple:
		return "No cumple"
	case VerdictNoAplica:
		return "No aplica"
	case VerdictPending:
		return "Sin respuesta"
	}
	return string(v)
}

// Label names an evaluation's status.
func (s EvalStatus) Label() string {
	switch s {
	case EvalDraft:
		return "Borrador"
	case EvalSubmitted:
		return "Enviada"
	}
	return string(s)
}

// Label names a receptionist's answer to an evaluation.
func (s AckState) Label() string {
	switch s {
	case AckNone:
		return "Sin respuesta"
	case AckAcknowledged:
		return "Reconocida"
	case AckDisputed:
		return "Disputada"
	case AckResolved:
		return "Disputa resuelta"
	}
	return string(s)
}

// Label names a report's state.
func (s ReviewState) Label() string {
	switch s {
	case ReviewDraft, "":
		return "Borrador"
	case ReviewSubmitted:
		return "Enviado al jefe"
	case ReviewReturned:
		return "Devuelto con observaciones"
	case ReviewApproved:
		return "Aprobado"
	}
	return string(s)
}

// Label names a corrective action's status.
func (s ActionStatus) Label() string {
	switch s {
	case ActionOpen:
		return "Abierta"
	case ActionEffective:
		return "Efectiva"
	case ActionNotEffective:
		return "No efectiva"
	case ActionClosed:
		return "Cerrada"
	}
	return string(s)
}

// IndicatorKindLabel names an indicator kind.
func IndicatorKindLabel(kind string) string {
	switch kind {
	case IndicatorPointNoCumplePct:
		return "% de incumplimiento de un punto"
	case IndicatorServiceLevelPct:
		return "Nivel de servicio (%)"
	case IndicatorAbandonedPct:
		return "Abandonos (%)"
	case IndicatorASASeconds:
		return "Tiempo medio de respuesta (s)"
	}
	return kind
}

// PointLabel is a point's label in the forms this build knows, newest
// first; the id for a point none of them has.
func PointLabel(id string) string {
	forms := Forms()
	for i := len(forms) - 1; i >= 0; i-- {
		for _, p := range forms[i].Points {
			if p.ID == id {
				return p.Label
			}
		}
	}
	return id
}
