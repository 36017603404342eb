package main

import (
	"fmt"
	"io"
	"os"
	"os/user"
	"path/filepath"
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

// openLocal reaches the daemon or an existing store. A data directory
// with no store is an error, not an empty store made on the spot: a typo in
// --data-dir would otherwise list no calls, no users, a valid empty audit
// log (issue 9 §6).
func openLocal(cfg config.Config, stderr io.Writer) (*local, error) {
	return openLocalStore(cfg, stderr, false)
}

// openLocalCreating is openLocal for `user add`, which may make the store:
// accounts are created before the daemon's first start.
func openLocalCreating(cfg config.Config, stderr io.Writer) (*local, error) {
	return openLocalStore(cfg, stderr, true)
}

func openLocalStore(cfg config.Config, stderr io.Writer, create bool) (*local, error) {
	if c, ok := daemon.Dial(cfg.SocketPath()); ok {
		return &local{client: c}, nil
	}
	if !create {
		if err := hasStore(cfg.DataDir); err != nil {
			return nil, err
		}
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

// hasStore reports whether dir holds a store: badger writes its MANIFEST
// when it creates one, and never removes it.
func hasStore(dir string) error {
	if _, err := os.Stat(filepath.Join(dir, "MANIFEST")); err != nil {
		return fmt.Errorf("%w in %s (give the daemon's --data-dir or data_dir:; `switchtap user add` or the daemon's first start creates it): %w",
			storage.ErrNoStore, dir, err)
	}
	return nil
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
