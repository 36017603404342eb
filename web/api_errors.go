package web

import "errors"

// Errors of the HTTP layer itself; writeError maps them to statuses. They
// are unexported: no dependency returns them.
var (
	// errUnauthenticated is a request without a valid login (401, or a
	// redirect to /login for a page).
	errUnauthenticated = errors.New("no autenticado")
	// errForbidden is a principal whose role may not use the route (403).
	errForbidden = errors.New("acceso denegado")
	// errMustChange is a principal that must change its password before
	// anything else (403).
	errMustChange = errors.New("debe cambiar su contraseña")
	// errCrossOrigin is an unsafe request from another origin, refused by
	// http.CrossOriginProtection (403).
	errCrossOrigin = errors.New("solicitud de otro origen rechazada")
	// errAuditUnavailable is an audit entry that could not be written: the
	// action it would record is refused (503).
	errAuditUnavailable = errors.New("auditoría no disponible")
	// errNoRecording is a call without a WAV (404, with not_recordable).
	errNoRecording = errors.New("la llamada no tiene grabación")
	// errConflict is a step of the month's procedure that the state of
	// the evaluation or the report does not allow (a submitted evaluation
	// saved as a draft, a report approved twice…): 409, with the fact.
	errConflict = errors.New("conflicto")
)
