package report

import "errors"

// Errors of the sample (issue 10 §2).
var (
	// ErrDesign is returned for a sample design that cannot be used
	// (confidence, margin or p outside (0,1), a negative floor).
	ErrDesign = errors.New("report: bad sample design")
	// ErrGenerator is returned for a generator name this build does not
	// know: a sample is only ever redrawn with the algorithm it names.
	ErrGenerator = errors.New("report: unknown sample generator")
	// ErrSampleExists is returned when the month already has a sample and
	// the draw was not an explicit redraw with a reason.
	ErrSampleExists = errors.New("report: the month already has a sample")
	// ErrNoSample is returned when the month has no sample yet.
	ErrNoSample = errors.New("report: the month has no sample")
	// ErrEmptyFrame is returned when the month has no eligible call.
	ErrEmptyFrame = errors.New("report: no answered inbound call with a recording in the month")
	// ErrNotSampled is returned when a replacement names a call that is not
	// in the sample.
	ErrNotSampled = errors.New("report: the call is not in the sample")
	// ErrNoReserve is returned when the receptionist's reserve list is
	// used up.
	ErrNoReserve = errors.New("report: no reserve left for the receptionist")
	// ErrReason is returned when a redraw or a replacement has no reason or
	// no author.
	ErrReason = errors.New("report: a reason and an author are required")
	// ErrCorrupt is returned when a stored sample cannot be decoded.
	ErrCorrupt = errors.New("report: stored sample is corrupt")
)
