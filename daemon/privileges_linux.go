//go:build linux

package daemon

import (
	"errors"
	"fmt"
	"os"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// dropResult says what dropCapabilities left.
type dropResult struct {
	kept     string // capabilities kept, "none" or their names
	bounding bool   // whether the bounding set was cleared too
}

// errCgo is returned where the runtime cannot change every thread.
var errCgo = errors.New("built with cgo: capabilities cannot be changed on every thread (build with CGO_ENABLED=0)")

// dropCapabilities drops every capability but CAP_DAC_OVERRIDE when keepDAC.
// Capabilities, the bounding set and no_new_privs are per thread on Linux:
// each change goes through syscall.AllThreadsSyscall, so no thread of the
// runtime keeps what the others lost (capabilities(7), "Thread
// capability sets"). That call needs a binary without cgo, as shipped.
func dropCapabilities(keepDAC bool) (dropResult, error) {
	var res dropResult
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	var cur [2]unix.CapUserData
	if err := unix.Capget(&hdr, &cur[0]); err != nil {
		return res, fmt.Errorf("capget: %w", err)
	}
	var keep uint64
	if keepDAC {
		keep = 1 << unix.CAP_DAC_OVERRIDE
	}
	eff := uint64(cur[0].Effective) | uint64(cur[1].Effective)<<32
	keep &= eff

	// PR_SET_NO_NEW_PRIVS first: it needs no privilege and makes every
	// later exec unable to gain any (prctl(2)).
	if err := allThreads(unix.SYS_PRCTL, unix.PR_SET_NO_NEW_PRIVS, 1, 0); err != nil {
		return res, fmt.Errorf("prctl no_new_privs: %w", err)
	}
	// The bounding set can only shrink with CAP_SETPCAP in effect; without
	// it (an unprivileged daemon) no_new_privs already stops exec gains.
	if eff&(1<<unix.CAP_SETPCAP) != 0 {
		for c := uintptr(0); c <= 63; c++ {
			if keep&(1<<c) != 0 {
				continue
			}
			err := allThreads(unix.SYS_PRCTL, unix.PR_CAPBSET_DROP, c, 0)
			if errors.Is(err, unix.EINVAL) {
				break // past the kernel's last capability
			}
			if err != nil {
				return res, fmt.Errorf("prctl capbset_drop %d: %w", c, err)
			}
		}
		res.bounding = true
	}
	if err := allThreads6(unix.SYS_PRCTL, unix.PR_CAP_AMBIENT, unix.PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0); err != nil && !errors.Is(err, unix.EINVAL) {
		// EINVAL: a kernel before 4.3 has no ambient set.
		return res, fmt.Errorf("prctl cap_ambient_clear_all: %w", err)
	}
	set := [2]unix.CapUserData{{Effective: uint32(keep), Permitted: uint32(keep)}, {Effective: uint32(keep >> 32), Permitted: uint32(keep >> 32)}}
	hdr = unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	// The pointers are converted in the call itself: AllThreadsSyscall is
	// //go:uintptrescapes, so they stay valid (unsafe.Pointer rule 4).
	_, _, e := syscall.AllThreadsSyscall(unix.SYS_CAPSET, uintptr(unsafe.Pointer(&hdr)), uintptr(unsafe.Pointer(&set[0])), 0)
	if err := threadErr(e); err != nil {
		return res, fmt.Errorf("capset: %w", err)
	}
	res.kept = "none"
	if keep != 0 {
		res.kept = "CAP_DAC_OVERRIDE"
	}
	return res, nil
}

func allThreads(trap, a1, a2, a3 uintptr) error {
	_, _, e := syscall.AllThreadsSyscall(trap, a1, a2, a3)
	return threadErr(e)
}

func allThreads6(trap, a1, a2, a3, a4, a5 uintptr) error {
	_, _, e := syscall.AllThreadsSyscall6(trap, a1, a2, a3, a4, a5, 0)
	return threadErr(e)
}

func threadErr(e syscall.Errno) error {
	switch e {
	case 0:
		return nil
	case syscall.ENOTSUP:
		return errCgo
	}
	return e
}

// ownerOf returns the uid owning path.
func ownerOf(path string) (uint32, bool) {
	st, err := os.Stat(path)
	if err != nil {
		return 0, false
	}
	sys, ok := st.Sys().(*syscall.Stat_t)
	if !ok {
		return 0, false
	}
	return sys.Uid, true
}
