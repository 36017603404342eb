package main

import (
	"fmt"
	"io"
	"os"
	"os/user"
	"strconv"

	"github.com/switchtap/switchtap/access"
	"github.com/switchtap/switchtap/config"
	"github.com/switchtap/switchtap/daemon"
	"github.com/switchtap/switchtap/storage"
)

// local is what a command reaches: the running daemon over its socket, or,
// when none answers, the store opened directly (the store's lock keeps a
// daemon from starting meanwhile).
type local struct {
	client *daemon.Client
	store  *storage.Store
	access *access.Service
}

func openLocal(cfg config.Config, stderr io.Writer) (*local, error) {
	if c, ok := daemon.Dial(cfg.SocketPath()); ok {
		return &local{client: c}, nil
	}
	st, err := storage.Open(cfg.DataDir, storage.WithLogger(newLogger(stderr, "warn")))
	if err != nil {
		return nil, err
	}
	acc, err := access.New(st.KV("access"), access.Config{}, newLogger(stderr, "warn"))
	if err != nil {
		_ = st.Close()
		return nil, err
	}
	return &local{store: st, access: acc}, nil
}

func (l *local) Close() error {
	if l.store != nil {
		return l.store.Close()
	}
	return nil
}

// localActor names the person at the terminal in the audit log, as the
// daemon names a socket peer: "local:<uid>" (with the login name).
func localActor() access.Actor {
	name := "local:" + strconv.Itoa(os.Getuid())
	if u, err := user.Current(); err == nil {
		name += " (" + u.Username + ")"
	}
	return access.Actor{Name: name, Remote: "cli"}
}

func wrapLocal(what string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("%s: %w", what, err)
}
