// Package webauth gives the web console (package web) its accounts,
// sessions, API tokens and audit log over package access, with access's
// types and errors mapped onto web's: one adapter for the box's daemon and
// the central server.
package webauth

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/switchtap/switchtap/access"
	"github.com/switchtap/switchtap/web"
)

// Operators lists the receptionists a recepcionista account may be tied
// to: the box's configured ones, or on the central server those of every
// office's records.
type Operators func(ctx context.Context) ([]string, error)

// Fixed is Operators over a fixed list (the configuration's).
func Fixed(names []string) Operators {
	return func(context.Context) ([]string, error) { return names, nil }
}

// New returns web.Auth over the access service.
func New(a *access.Service, operators Operators) web.Auth {
	return accessAuth{a: a, operators: operators}
}

// accessAuth gives the web accounts, sessions and the audit log, with
// access's types and errors mapped onto web's.
type accessAuth struct {
	a         *access.Service
	operators Operators
}

func principal(u access.User, via string) web.Principal {
	p := web.Principal{Name: u.Name, Role: web.Role(u.Role), Via: via, MustChange: u.MustChange}
	if u.Role == access.RoleRecepcionista {
		p.Operator = u.Operator
	}
	return p
}

// actor is who acts, for the audit entry: the principal, from the
// request's address.
func actor(ctx context.Context, p web.Principal) access.Actor {
	return access.Actor{Name: p.Name, Remote: web.RemoteFrom(ctx)}
}

func mapAccessErr(err error) error {
	var le *access.LockedError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &le):
		return &web.LockedError{Until: le.Until}
	case errors.Is(err, access.ErrBadLogin), errors.Is(err, access.ErrNoSession):
		return fmt.Errorf("%w: %w", web.ErrBadLogin, err)
	case errors.Is(err, access.ErrNotFound):
		return fmt.Errorf("%w: %w", web.ErrNotFound, err)
	case errors.Is(err, access.ErrExists):
		return fmt.Errorf("%w: %w", web.ErrExists, err)
	case errors.Is(err, access.ErrName), errors.Is(err, access.ErrRole), errors.Is(err, access.ErrWeakPassword),
		errors.Is(err, access.ErrLastAdmin), errors.Is(err, access.ErrLabel):
		return fmt.Errorf("%w: %w", web.ErrInvalid, err)
	}
	return err
}

func (a accessAuth) Login(ctx context.Context, name, password, remote string) (web.Session, error) {
	s, err := a.a.Login(ctx, name, password, remote)
	if err != nil {
		return web.Session{}, mapAccessErr(err)
	}
	return web.Session{Token: s.Token, Principal: principal(s.User, "session"), Expires: s.Expires}, nil
}

func (a accessAuth) Session(ctx context.Context, token string) (web.Principal, error) {
	u, err := a.a.SessionUser(ctx, token)
	if err != nil {
		return web.Principal{}, mapAccessErr(err)
	}
	return principal(u, "session"), nil
}

func (a accessAuth) Logout(ctx context.Context, token string) error {
	return mapAccessErr(a.a.Logout(ctx, token, web.RemoteFrom(ctx)))
}

func (a accessAuth) Token(ctx context.Context, raw string) (web.Principal, error) {
	u, err := a.a.TokenUser(ctx, raw)
	if err != nil {
		return web.Principal{}, mapAccessErr(err)
	}
	return principal(u, "token"), nil
}

func (a accessAuth) ChangePassword(ctx context.Context, p web.Principal, oldPassword, newPassword string) error {
	return mapAccessErr(a.a.ChangePassword(ctx, actor(ctx, p), p.Name, oldPassword, newPassword))
}

func (a accessAuth) Users(ctx context.Context) ([]web.User, error) {
	us, err := a.a.Users(ctx)
	if err != nil {
		return nil, mapAccessErr(err)
	}
	out := make([]web.User, 0, len(us))
	for _, u := range us {
		wu := web.User{Name: u.Name, Role: web.Role(u.Role), Disabled: u.Disabled, MustChange: u.MustChange, Created: u.Created, Operator: u.Operator}
		if !u.LastLogin.IsZero() {
			t := u.LastLogin
			wu.LastLogin = &t
		}
		if !u.LockedUntil.IsZero() {
			t := u.LockedUntil
			wu.LockedUntil = &t
		}
		out = append(out, wu)
	}
	return out, nil
}

func (a accessAuth) AddUser(ctx context.Context, by web.Principal, name string, role web.Role, password string) error {
	r, err := access.ParseRole(string(role))
	if err != nil {
		return mapAccessErr(err)
	}
	return mapAccessErr(a.a.AddUser(ctx, actor(ctx, by), name, r, password))
}

func (a accessAuth) SetPassword(ctx context.Context, by web.Principal, name, password string) error {
	// An admin's reset is a temporary password: the user changes it at
	// the next login.
	return mapAccessErr(a.a.SetPassword(ctx, actor(ctx, by), name, password, by.Name != name))
}

func (a accessAuth) SetRole(ctx context.Context, by web.Principal, name string, role web.Role) error {
	r, err := access.ParseRole(string(role))
	if err != nil {
		return mapAccessErr(err)
	}
	return mapAccessErr(a.a.SetRole(ctx, actor(ctx, by), name, r))
}

func (a accessAuth) SetDisabled(ctx context.Context, by web.Principal, name string, disabled bool) error {
	return mapAccessErr(a.a.SetDisabled(ctx, actor(ctx, by), name, disabled))
}

func (a accessAuth) SetOperator(ctx context.Context, by web.Principal, name, operator string) error {
	if operator != "" {
		ops, err := a.operators(ctx)
		if err != nil {
			return err
		}
		if !slices.Contains(ops, operator) {
			return fmt.Errorf("%w: %q is not a configured receptionist", web.ErrInvalid, operator)
		}
	}
	return mapAccessErr(a.a.SetOperator(ctx, actor(ctx, by), name, operator))
}

func (a accessAuth) IssueToken(ctx context.Context, by web.Principal, name, label string) (string, error) {
	t, err := a.a.IssueToken(ctx, actor(ctx, by), name, label)
	return t, mapAccessErr(err)
}

func (a accessAuth) Audit(ctx context.Context, e web.AuditEvent) error {
	_, err := a.a.Audit(ctx, access.Entry{Actor: e.Actor, Action: e.Action, Target: e.Target, Detail: e.Detail, Remote: e.Remote})
	return err
}

func (a accessAuth) AuditEntries(ctx context.Context, from, to time.Time, fn func(web.AuditEntry) error) error {
	return a.a.AuditRange(ctx, from, to, func(e access.Entry) error {
		return fn(web.AuditEntry{Seq: e.Seq, At: e.At, Actor: e.Actor, Action: e.Action, Target: e.Target,
			Detail: e.Detail, Remote: e.Remote, Prev: e.Prev, Hash: e.Hash})
	})
}
