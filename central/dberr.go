package central

import (
	"errors"

	"github.com/jackc/pgx/v5/pgconn"
)

// dbClass sorts a database error into what the client is told.
type dbClass int

const (
	// dbDown: the database is unreachable, restarting, overloaded or
	// timed out; the client retries later (503 with Retry-After).
	dbDown dbClass = iota
	// dbData: the database refused the data (SQLSTATE class 22); the
	// request is malformed (400).
	dbData
	// dbBug: anything else (500).
	dbBug
)

// classify says whether err (from pgx) is an outage. Every error that is
// not a server's SQLSTATE is the connection's (refused, reset, timed out,
// closed by a restart), hence an outage: a DB outage is never a 500.
func classify(err error) dbClass {
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) {
		return dbDown
	}
	switch pgErr.Code[:min(2, len(pgErr.Code))] {
	case "08", // connection exception
		"40", // serialization failure, deadlock
		"53", // insufficient resources (too many connections, disk full)
		"55", // object not in prerequisite state (lock not available)
		"57", // operator intervention (admin shutdown, cannot connect now)
		"58": // system error
		return dbDown
	case "22":
		return dbData
	}
	return dbBug
}
