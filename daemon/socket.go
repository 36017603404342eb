package daemon

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"time"

	"golang.org/x/sys/unix"

	"github.com/switchtap/switchtap/web"
)

// SocketGroup is the group that may use the local API socket.
const SocketGroup = "switchtap"

// listenSocket creates the local API socket, mode 0660 and group
// switchtap when that group exists. A socket file left by a crashed daemon
// is replaced; one a live daemon answers on is an error (the store's lock
// would refuse the second daemon anyway).
func listenSocket(path string, log *slog.Logger) (net.Listener, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return nil, fmt.Errorf("api socket: %w", err)
	}
	if fi, err := os.Lstat(path); err == nil {
		if fi.Mode()&os.ModeSocket == 0 {
			return nil, fmt.Errorf("api socket %s: exists and is not a socket", path)
		}
		if c, err := net.DialTimeout("unix", path, time.Second); err == nil {
			_ = c.Close()
			return nil, fmt.Errorf("api socket %s: another daemon answers on it", path)
		}
		if err := os.Remove(path); err != nil {
			return nil, fmt.Errorf("api socket: remove stale %s: %w", path, err)
		}
	}
	// The socket is born with the umask's mode; 0660 is set before any
	// connection is accepted (Accept has not started yet).
	ln, err := net.Listen("unix", path)
	if err != nil {
		return nil, fmt.Errorf("api socket: %w", err)
	}
	if ul, ok := ln.(*net.UnixListener); ok {
		ul.SetUnlinkOnClose(true)
	}
	if err := os.Chmod(path, 0o660); err != nil {
		_ = ln.Close()
		return nil, fmt.Errorf("api socket: %w", err)
	}
	if g, err := user.LookupGroup(SocketGroup); err == nil {
		gid, _ := strconv.Atoi(g.Gid)
		if err := os.Chown(path, -1, gid); err != nil {
			log.Warn("api socket: cannot give it to its group", "group", SocketGroup, "err", err)
		}
	} else {
		log.Info("api socket: no group "+SocketGroup+"; only root can use it", "path", path)
	}
	return ln, nil
}

// peerContext puts the socket peer's uid (SO_PEERCRED) in the
// connection's context for web.LocalHandler; a peer it cannot read gets
// none, and every request on it is refused.
func peerContext(ctx context.Context, c net.Conn) context.Context {
	uc, ok := c.(*net.UnixConn)
	if !ok {
		return ctx
	}
	uid, err := peerUID(uc)
	if err != nil {
		return ctx
	}
	return web.WithPeer(ctx, uid)
}

func peerUID(c *net.UnixConn) (int, error) {
	raw, err := c.SyscallConn()
	if err != nil {
		return 0, fmt.Errorf("peer credentials: %w", err)
	}
	var cred *unix.Ucred
	var credErr error
	err = raw.Control(func(fd uintptr) {
		cred, credErr = unix.GetsockoptUcred(int(fd), unix.SOL_SOCKET, unix.SO_PEERCRED) //nolint:gosec // G115: a file descriptor fits an int
	})
	if err == nil {
		err = credErr
	}
	if err != nil {
		return 0, fmt.Errorf("peer credentials: %w", err)
	}
	return int(cred.Uid), nil
}

// socketAnswers reports whether a daemon answers on the socket at path.
func socketAnswers(path string) bool {
	c, err := net.DialTimeout("unix", path, time.Second)
	if err != nil {
		return false
	}
	_ = c.Close()
	return true
}
