package e2e_test

import "errors"

// Sentinels of the test's helpers, wrapped with the facts.
var (
	// errExited: `switchtap run` ended before it did what was waited for.
	errExited = errors.New("switchtap run exited")
	// errTimeout: something did not happen within its budget.
	errTimeout = errors.New("timed out")
	// errBrowser: the page answered something the test cannot read.
	errBrowser = errors.New("browser")
	// errCapture: the test's capture could not be written.
	errCapture = errors.New("write capture")
)
