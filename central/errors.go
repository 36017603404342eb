package central

import "errors"

// Sentinel errors of the package, matched with errors.Is.
var (
	// ErrMigration is a malformed set of embedded migrations.
	ErrMigration = errors.New("central: bad migration")
	// ErrConfig is an invalid configuration.
	ErrConfig = errors.New("central: invalid configuration")
	// ErrBoxID is a box id or office name that is empty, too long or has
	// characters outside [A-Za-z0-9._-] (office: any printable text).
	ErrBoxID = errors.New("central: invalid box id")
	// ErrNotFound is a box that is not enrolled.
	ErrNotFound = errors.New("central: no such box")
	// ErrExists is a box enrolled twice.
	ErrExists = errors.New("central: box already enrolled")
	// ErrUnauthorized is a missing, malformed or unknown box token.
	ErrUnauthorized = errors.New("central: bad credential")
	// ErrMalformed is a batch that does not follow the wire protocol.
	ErrMalformed = errors.New("central: malformed batch")
	// ErrTooLarge is a batch over the body, decoded size or entry limits.
	ErrTooLarge = errors.New("central: batch too large")
	// ErrBusy is every ingest slot, or every pooled connection, taken.
	ErrBusy = errors.New("central: busy")
)
