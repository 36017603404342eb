package daemon

import (
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
)

// privateMode is what a directory holding call records may grant: its
// owner only. Any group or world bit lets another local user read the
// store's tables (issue 9 §5: a 0755 data dir left badger's .sst 0644).
const privateMode fs.FileMode = 0o700

// secureDirs tightens each existing directory that is open to its group or
// to others to 0700, and the files directly in it to owner-only, logging
// what it changed. Tightening rather than refusing: `mkdir` and most
// packaging tools make 0755 directories, and refusing would turn a safe
// default into a failed first start. A directory the daemon cannot tighten
// (owned by someone else) is refused: its records would stay readable.
// Missing directories are skipped: they are created 0700.
func secureDirs(log *slog.Logger, dirs ...string) error {
	for _, dir := range dirs {
		if err := secureDir(log, dir); err != nil {
			return err
		}
	}
	return nil
}

func secureDir(log *slog.Logger, dir string) error {
	st, err := os.Stat(dir)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("data directory: %w", err)
	}
	if !st.IsDir() {
		return fmt.Errorf("%w: %s is not a directory", ErrUsage, dir)
	}
	mode := st.Mode().Perm()
	if mode&^privateMode == 0 {
		return nil
	}
	if err := os.Chmod(dir, privateMode); err != nil {
		return fmt.Errorf("directory %s is mode %04o, open to other users, and cannot be made 0700: %w", dir, mode, err)
	}
	files, err := tightenFiles(dir)
	log.Warn("directory was open to other users: tightened", "dir", dir,
		"was", fmt.Sprintf("%04o", mode), "now", fmt.Sprintf("%04o", privateMode), "files_tightened", files)
	if err != nil {
		return fmt.Errorf("tighten files in %s: %w", dir, err)
	}
	return nil
}

// tightenFiles removes group and world bits from the regular files directly
// in dir (badger's tables and logs made before the umask was set).
func tightenFiles(dir string) (int, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, e := range ents {
		if !e.Type().IsRegular() {
			continue
		}
		info, err := e.Info()
		if err != nil {
			continue // removed meanwhile
		}
		if m := info.Mode().Perm(); m&0o077 != 0 {
			if err := os.Chmod(filepath.Join(dir, e.Name()), m&^0o077); err != nil {
				return n, err
			}
			n++
		}
	}
	return n, nil
}

// dropPrivileges is called at the end of New, once everything that needs a
// privilege is open: the packet socket (CAP_NET_RAW, promiscuous mode set),
// the listeners, the local socket (chowned), the GPIO chip's lines. From
// then on the daemon parses hostile input (SIP, SDP, RTP from the mirror
// port), so a bug in a parser must not come with root's capabilities: every
// capability is dropped from every thread (effective, permitted,
// inheritable, ambient and, when allowed, the bounding set), and no_new_privs
// keeps an exec from regaining any. keepDAC keeps CAP_DAC_OVERRIDE for a
// root daemon whose data directory belongs to another user, which it could
// no longer write.
func dropPrivileges(log *slog.Logger, keepDAC bool) {
	res, err := dropCapabilities(keepDAC)
	if err != nil {
		log.Warn("capabilities not dropped: the daemon keeps the privileges it was started with", "err", err)
		return
	}
	log.Info("privileges dropped", "kept", res.kept, "bounding_set_cleared", res.bounding)
}

// needsDAC reports whether a root daemon needs CAP_DAC_OVERRIDE to write in
// dirs: one of them exists and belongs to another user.
func needsDAC(dirs ...string) bool {
	if os.Geteuid() != 0 {
		return false
	}
	for _, d := range dirs {
		if uid, ok := ownerOf(d); ok && uid != 0 {
			return true
		}
	}
	return false
}
