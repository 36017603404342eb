package web

import (
	"strconv"
	"strings"
	"time"

	"github.com/switchtap/switchtap/internal/esnum"
	"github.com/switchtap/switchtap/sip"
)

// The console writes dates as dd/mm/aaaa HH:MM:SS in the configured zone and
// numbers the Spanish way: decimal comma, and (RAE, Ortografía 2010 §8.2.1.2)
// digits grouped by three with a non-breaking space only from five digits
// on, so 1234 stays 1234 and 12345 is "12 345".

const (
	layoutDateTime = "02/01/2006 15:04:05"
	layoutDate     = "02/01/2006"
	layoutClock    = "15:04"
	layoutDay      = "2006-01-02" // value of <input type=date> and of the API's from/to
	nbsp           = "\u00a0"
	noValue        = "—"
)

// formatter renders values for the pages in one time zone.
type formatter struct{ loc *time.Location }

// dateTime formats t (a time.Time or *time.Time; nil or zero gives a dash).
func (f formatter) dateTime(v any) string {
	t, ok := timeOf(v)
	if !ok {
		return noValue
	}
	return t.In(f.loc).Format(layoutDateTime)
}

// date formats the day of t.
func (f formatter) date(v any) string {
	t, ok := timeOf(v)
	if !ok {
		return noValue
	}
	return t.In(f.loc).Format(layoutDate)
}

// clock formats HH:MM of t, as in "Cuenta bloqueada hasta 14:05".
func (f formatter) clock(t time.Time) string { return t.In(f.loc).Format(layoutClock) }

// timeOf unwraps the time types the templates pass.
func timeOf(v any) (time.Time, bool) {
	switch t := v.(type) {
	case time.Time:
		return t, !t.IsZero()
	case *time.Time:
		if t == nil || t.IsZero() {
			return time.Time{}, false
		}
		return *t, true
	}
	return time.Time{}, false
}

// formatInt writes n with its digits grouped (esnum).
func formatInt(n int64) string { return esnum.Int(n) }

// formatDecimal writes x with prec decimals and a decimal comma.
func formatDecimal(x float64, prec int) string { return esnum.Decimal(x, prec) }

// formatSeconds writes a duration in seconds with one decimal: "12,4 s".
func formatSeconds(sec float64) string { return formatDecimal(sec, 1) + nbsp + "s" }

// formatOffset writes the time of an event after the INVITE: "+12,4 s".
func formatOffset(d time.Duration, prec int) string {
	sign := "+"
	if d < 0 {
		sign, d = "-", -d
	}
	return sign + formatDecimal(d.Seconds(), prec) + nbsp + "s"
}

// formatBytes writes a size in binary units with a decimal comma.
func formatBytes(n uint64) string {
	units := []string{"B", "KiB", "MiB", "GiB", "TiB"}
	x, i := float64(n), 0
	for x >= 1024 && i < len(units)-1 {
		x /= 1024
		i++
	}
	if i == 0 {
		return formatInt(int64(n)) + nbsp + "B"
	}
	return formatDecimal(x, 1) + nbsp + units[i]
}

// Spanish labels of the record's enumerations; an unknown value is shown as
// it is, never dropped.

func directionLabel(d sip.Direction) string {
	switch d {
	case sip.DirectionInbound:
		return "Entrante"
	case sip.DirectionOutbound:
		return "Saliente"
	case sip.DirectionInternal:
		return "Interna"
	case sip.DirectionUnknown, "":
		return "Desconocida"
	}
	return string(d)
}

func endReasonLabel(r sip.EndReason) string {
	switch r {
	case sip.EndCompleted:
		return "Completada"
	case sip.EndAbandoned:
		return "Abandonada"
	case sip.EndBusy:
		return "Ocupado"
	case sip.EndRejected:
		return "Rechazada"
	case sip.EndRedirected:
		return "Redirigida"
	case sip.EndFailed:
		return "Fallida"
	case sip.EndUnknown:
		return "Desconocido"
	case "":
		return "En curso"
	}
	return string(r)
}

// endDetailLabel says in Spanish what ended the leg (the record's
// end_detail): the message, the final status code, or why it was closed
// without one.
func endDetailLabel(d string) string {
	switch d {
	case "":
		return ""
	case "bye":
		return "por BYE"
	case "cancel":
		return "por CANCEL"
	case "timeout":
		return "cerrada por inactividad"
	case "shutdown":
		return "abierta al detenerse el servicio"
	case "end_of_capture":
		return "abierta al terminar la captura"
	case "crash":
		return "en curso cuando el servicio se detuvo de golpe"
	case "in_progress":
		return "en curso"
	}
	if n, err := strconv.Atoi(d); err == nil && n >= 100 && n < 700 {
		return "código SIP " + d
	}
	return d
}

func transferKindLabel(kind string) string {
	switch kind {
	case "blind":
		return "ciego (sin consulta)"
	case "attended":
		return "con consulta"
	case "redirect":
		return "redirección (3xx)"
	}
	return kind
}

func hangupLabel(by string) string {
	switch by {
	case "caller":
		return "el llamante"
	case "callee":
		return "el llamado"
	case "":
		return noValue
	}
	return by
}

func relationLabel(rel string) string {
	switch rel {
	case "transfer_target":
		return "Destino del traslado"
	case "transferred_from":
		return "Origen del traslado"
	case "replaces":
		return "Tramo reemplazado"
	}
	return rel
}

func roleLabel(r Role) string {
	switch r {
	case RoleTecnico:
		return "Técnico UACT"
	case RoleJefe:
		return "Jefe UACT"
	case RoleAdmin:
		return "Administrador"
	case RoleRecepcionista:
		return "Recepcionista"
	}
	return string(r)
}

func lampLabel(lamp string) string {
	switch lamp {
	case "ok":
		return "En servicio"
	case "no_sip":
		return "Sin tráfico SIP"
	case "fault":
		return "Falla"
	}
	return lamp
}

func alarmLabel(alarm string) string {
	switch alarm {
	case "off":
		return "Sin alarma"
	case "warning":
		return "Aviso: llamada cerca del límite"
	case "alarm":
		return "Alarma: llamada pasó el límite"
	}
	return alarm
}

// notRecordableLabel says in Spanish why a leg has no recording; the
// recorder's reasons are English identifiers (recorder.Reason*, leg.go).
func notRecordableLabel(reason string) string {
	switch {
	case reason == "":
		return "No hay grabación de esta llamada."
	case reason == "encrypted (SRTP)":
		return "No se grabó: el audio va cifrado (SRTP)."
	case reason == "no audio stream":
		return "No se grabó: la llamada no tuvo flujo de audio."
	case reason == "disk floor":
		return "No se grabó: el disco estaba en su mínimo de espacio libre."
	case reason == "disk floor (truncated)":
		return "La grabación quedó incompleta: el disco llegó a su mínimo de espacio libre."
	case reason == "write error":
		return "No se grabó: error al escribir en el disco."
	case strings.HasPrefix(reason, "codec "):
		return "No se grabó: el códec " + strings.TrimPrefix(reason, "codec ") + " no se puede decodificar."
	case reason == "crash (packets unknown)":
		return "Grabación recuperada tras una caída del servicio: llega hasta la caída; se desconocen los paquetes."
	case reason == "crash (no audio on disk)":
		return "El servicio se cayó antes de que el audio llegara al disco: no hay grabación."
	case reason == "crash (file not repairable)":
		return "El servicio se cayó y el archivo de la grabación no se pudo reparar."
	}
	return "No se grabó: " + reason + "."
}
