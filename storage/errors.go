package storage

import "errors"

var (
	// ErrNotFound is returned when no record has the id asked for.
	ErrNotFound = errors.New("call not found")
	// ErrInviteAt is returned for a record whose invite_at is before 1970
	// or after 2262 (outside the key's UnixNano range).
	ErrInviteAt = errors.New("invite_at out of range")
	// ErrID is returned for an empty or too long record id.
	ErrID = errors.New("invalid call id")
	// ErrCorrupt is returned when a stored record or index entry cannot be
	// read back.
	ErrCorrupt = errors.New("corrupt record")
	// ErrOption is returned by Open for an invalid option.
	ErrOption = errors.New("invalid option")
	// ErrNamespace is returned by every method of a bucket whose name is
	// empty, longer than 64 bytes or not made of [a-z0-9._-].
	ErrNamespace = errors.New("invalid bucket namespace")
	// ErrKey is returned for an empty bucket key or one longer than 1024
	// bytes.
	ErrKey = errors.New("invalid bucket key")
	// ErrDiskFull is returned by a write refused because the free space
	// is below the store's floor (before badger gets it), and by Open when
	// the disk has no room to open the store.
	ErrDiskFull = errors.New("disk full")
	// ErrNoStore is returned by OpenReadOnly for a directory that holds
	// no store.
	ErrNoStore = errors.New("no store")
	// ErrOutboxSeq is returned by AckOutbox for a seq the store never
	// issued.
	ErrOutboxSeq = errors.New("outbox seq not issued")
)
