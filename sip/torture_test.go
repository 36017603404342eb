package sip

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// TestTorture feeds the RFC 4475 torture messages (as collected by sipgo in
// sip/testdata/torture) through Parse: valid ones must parse, invalid ones
// must be rejected with one of the package's sentinel errors, none may panic.
func TestTorture(t *testing.T) {
	p := NewParser()
	for _, kind := range []string{"valid", "invalid", "tolerated"} {
		files, err := filepath.Glob(filepath.Join("testdata", "torture", kind, "*.dat"))
		if err != nil || len(files) == 0 {
			t.Fatalf("no torture files for %s: %v", kind, err)
		}
		for _, f := range files {
			t.Run(kind+"/"+filepath.Base(f), func(t *testing.T) {
				b, err := os.ReadFile(f)
				if err != nil {
					t.Fatal(err)
				}
				m, err := p.Parse(b)
				if kind == "tolerated" {
					if err != nil && !isSentinel(err) {
						t.Fatalf("error %v wraps no sentinel", err)
					}
					return
				}
				if kind == "valid" {
					if err != nil {
						t.Fatalf("valid message rejected: %v", err)
					}
					if m.CallID == "" {
						t.Fatal("valid message without Call-ID")
					}
					return
				}
				if err == nil {
					t.Fatalf("invalid message accepted: %+v", m)
				}
				if !isSentinel(err) {
					t.Fatalf("error %v wraps no sentinel", err)
				}
			})
		}
	}
}

func isSentinel(err error) bool {
	for _, s := range []error{ErrNotSIP, ErrMalformed, ErrMissingHeader, ErrCSeqMismatch, ErrBadVersion, ErrBodyLength, ErrBadStatus, ErrTooLarge, ErrDuplicateHeader} {
		if errors.Is(err, s) {
			return true
		}
	}
	return false
}
