package config

import "errors"

// ErrInvalid means a key holds a value that parses but cannot mean what it
// says (a timer of zero, a port past 65535, a receptionist listed twice).
// It is wrapped with the key and the value: match it with errors.Is.
var ErrInvalid = errors.New("invalid configuration")
