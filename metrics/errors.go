package metrics

import "errors"

// Errors returned by New and Server.Run.
var (
	// ErrConfig reports a Config the metrics cannot be built from.
	ErrConfig = errors.New("metrics: bad config")
	// ErrRegister reports a collector the registry refused (usually a
	// second New on the same registry).
	ErrRegister = errors.New("metrics: register")
	// ErrListen reports an address the server could not listen on.
	ErrListen = errors.New("metrics: listen")
)
