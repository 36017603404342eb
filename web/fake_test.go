package web

// Shared test doubles of package web (API and console tests): in-memory
// fakes of Auth and Calls behind the interfaces, a fake clock, and a test
// environment that builds a Server over them.

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchtap/switchtap/sip"
)

// fakeClock is a settable clock.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newFakeClock(t time.Time) *fakeClock { return &fakeClock{t: t} }

// Now returns the clock's time.
func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Add moves the clock.
func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// fakeUser is an account of fakeAuth.
type fakeUser struct {
	User
	password string
	fails    int
}

// fakeAuth is Auth in memory: passwords in the clear, sessions and tokens
// by raw value, lockout after fakeMaxFails failures for fakeLock.
type fakeAuth struct {
	now func() time.Time

	mu       sync.Mutex
	users    map[string]*fakeUser
	sessions map[string]Session
	tokens   map[string]string // raw token → user name
	audit    []AuditEntry
	// lookups counts the credentials looked up (Session and Token): none
	// for a request refused before authentication.
	lookups int
	// auditErr, when set, makes Audit fail.
	auditErr error
	// err, when set, makes Session, Token and Users fail (a store down).
	err error
}

const (
	fakeMaxFails   = 3
	fakeLock       = 5 * time.Minute
	fakeSessionTTL = 12 * time.Hour
)

func newFakeAuth(now func() time.Time) *fakeAuth {
	return &fakeAuth{
		now:      now,
		users:    make(map[string]*fakeUser),
		sessions: make(map[string]Session),
		tokens:   make(map[string]string),
	}
}

func randomToken() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// addUser adds an account directly (no audit).
func (a *fakeAuth) addUser(name string, role Role, password string) *fakeUser {
	a.mu.Lock()
	defer a.mu.Unlock()
	u := &fakeUser{User: User{Name: name, Role: role, Created: a.now()}, password: password}
	a.users[name] = u
	return u
}

// newSession returns the token of a fresh session of name, as a login
// would (for tests that need a logged-in client without the form).
func (a *fakeAuth) newSession(name string) string {
	a.mu.Lock()
	defer a.mu.Unlock()
	tok := randomToken()
	u := a.users[name]
	a.sessions[tok] = Session{Token: tok, Principal: u.principal("session"), Expires: a.now().Add(fakeSessionTTL)}
	return tok
}

// newToken returns a new API token of name.
func (a *fakeAuth) newToken(name string) string {
	a.mu.Lock()
	defer a.mu.Unlock()
	tok := "stt_" + randomToken()
	a.tokens[tok] = name
	return tok
}

func (u *fakeUser) principal(via string) Principal {
	p := Principal{Name: u.Name, Role: u.Role, Via: via, MustChange: u.MustChange}
	if u.Role == RoleRecepcionista {
		p.Operator = u.Operator
	}
	return p
}

// entries returns a copy of the audit log.
// lookupCount returns how many credentials were looked up so far.
func (a *fakeAuth) lookupCount() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.lookups
}

func (a *fakeAuth) entries() []AuditEntry {
	a.mu.Lock()
	defer a.mu.Unlock()
	return slices.Clone(a.audit)
}

// count returns the number of audit entries of action.
func (a *fakeAuth) count(action string) int {
	n := 0
	for _, e := range a.entries() {
		if e.Action == action {
			n++
		}
	}
	return n
}

func (a *fakeAuth) setAuditErr(err error) {
	a.mu.Lock()
	a.auditErr = err
	a.mu.Unlock()
}

// appendAudit appends an entry; a.mu held.
func (a *fakeAuth) appendAudit(e AuditEvent) {
	a.audit = append(a.audit, AuditEntry{
		Seq: uint64(len(a.audit) + 1), At: a.now().UTC(), Actor: e.Actor, Action: e.Action,
		Target: e.Target, Detail: e.Detail, Remote: e.Remote,
	})
}

func (a *fakeAuth) Login(_ context.Context, name, password, remote string) (Session, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	u, ok := a.users[name]
	if ok && u.LockedUntil != nil && a.now().Before(*u.LockedUntil) {
		return Session{}, fmt.Errorf("fake login: %w", &LockedError{Until: *u.LockedUntil})
	}
	if !ok || u.Disabled || u.password != password {
		a.appendAudit(AuditEvent{Actor: name, Action: ActionLoginFailed, Remote: remote})
		if ok {
			u.fails++
			if u.fails >= fakeMaxFails {
				until := a.now().Add(fakeLock)
				u.LockedUntil = &until
				return Session{}, fmt.Errorf("fake login: %w", &LockedError{Until: until})
			}
		}
		return Session{}, fmt.Errorf("fake login: %w", ErrBadLogin)
	}
	u.fails, u.LockedUntil = 0, nil
	now := a.now()
	u.LastLogin = &now
	tok := randomToken()
	s := Session{Token: tok, Principal: u.principal("session"), Expires: now.Add(fakeSessionTTL)}
	a.sessions[tok] = s
	a.appendAudit(AuditEvent{Actor: name, Action: ActionLogin, Remote: remote})
	return s, nil
}

func (a *fakeAuth) Session(_ context.Context, token string) (Principal, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.lookups++
	if a.err != nil {
		return Principal{}, a.err
	}
	s, ok := a.sessions[token]
	if !ok || !a.now().Before(s.Expires) {
		return Principal{}, fmt.Errorf("fake session: %w", ErrNotFound)
	}
	u := a.users[s.Principal.Name]
	if u == nil || u.Disabled {
		return Principal{}, fmt.Errorf("fake session: %w", ErrNotFound)
	}
	return u.principal("session"), nil
}

func (a *fakeAuth) Logout(_ context.Context, token string) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	s, ok := a.sessions[token]
	if !ok {
		return fmt.Errorf("fake logout: %w", ErrNotFound)
	}
	delete(a.sessions, token)
	a.appendAudit(AuditEvent{Actor: s.Principal.Name, Action: ActionLogout})
	return nil
}

func (a *fakeAuth) Token(_ context.Context, raw string) (Principal, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.lookups++
	if a.err != nil {
		return Principal{}, a.err
	}
	u := a.users[a.tokens[raw]]
	if u == nil || u.Disabled {
		return Principal{}, fmt.Errorf("fake token: %w", ErrNotFound)
	}
	return u.principal("token"), nil
}

func (a *fakeAuth) ChangePassword(_ context.Context, p Principal, oldPassword, newPassword string) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	u := a.users[p.Name]
	if u == nil {
		return fmt.Errorf("fake change password: %w", ErrNotFound)
	}
	if u.password != oldPassword {
		return fmt.Errorf("fake change password: %w", ErrBadLogin)
	}
	if newPassword == oldPassword || len(newPassword) < 8 {
		return fmt.Errorf("fake change password: %w: weak or unchanged password", ErrInvalid)
	}
	u.password, u.MustChange = newPassword, false
	a.appendAudit(AuditEvent{Actor: p.Name, Action: ActionPasswordChange, Target: p.Name})
	return nil
}

func (a *fakeAuth) Users(context.Context) ([]User, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.err != nil {
		return nil, a.err
	}
	out := make([]User, 0, len(a.users))
	for _, u := range a.users {
		out = append(out, u.User)
	}
	slices.SortFunc(out, func(x, y User) int { return cmp.Compare(x.Name, y.Name) })
	return out, nil
}

func (a *fakeAuth) AddUser(_ context.Context, by Principal, name string, role Role, password string) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if _, ok := a.users[name]; ok {
		return fmt.Errorf("fake add user: %w", ErrExists)
	}
	if strings.ContainsAny(name, " /") || len(password) < 8 {
		return fmt.Errorf("fake add user: %w: bad name or weak password", ErrInvalid)
	}
	a.users[name] = &fakeUser{User: User{Name: name, Role: role, Created: a.now()}, password: password}
	a.appendAudit(AuditEvent{Actor: by.Name, Action: "user_add", Target: name})
	return nil
}

// change applies fn to an existing account and audits it.
func (a *fakeAuth) change(by Principal, name, action string, fn func(u *fakeUser)) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	u := a.users[name]
	if u == nil {
		return fmt.Errorf("fake %s: %w", action, ErrNotFound)
	}
	fn(u)
	a.appendAudit(AuditEvent{Actor: by.Name, Action: action, Target: name})
	return nil
}

func (a *fakeAuth) SetPassword(_ context.Context, by Principal, name, password string) error {
	return a.change(by, name, "user_password", func(u *fakeUser) { u.password, u.MustChange = password, true })
}

func (a *fakeAuth) SetRole(_ context.Context, by Principal, name string, role Role) error {
	return a.change(by, name, "user_role", func(u *fakeUser) { u.Role = role })
}

func (a *fakeAuth) SetDisabled(_ context.Context, by Principal, name string, disabled bool) error {
	return a.change(by, name, "user_disable", func(u *fakeUser) { u.Disabled = disabled })
}

func (a *fakeAuth) SetOperator(_ context.Context, by Principal, name, operator string) error {
	return a.change(by, name, "user_operator", func(u *fakeUser) { u.Operator = operator })
}

func (a *fakeAuth) IssueToken(_ context.Context, by Principal, name, label string) (string, error) {
	tok := "stt_" + randomToken()
	err := a.change(by, name, "token_issued", func(*fakeUser) { a.tokens[tok] = name })
	if err != nil {
		return "", err
	}
	return tok, nil
}

func (a *fakeAuth) Audit(_ context.Context, e AuditEvent) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.auditErr != nil {
		return a.auditErr
	}
	a.appendAudit(e)
	return nil
}

func (a *fakeAuth) AuditEntries(_ context.Context, from, to time.Time, fn func(AuditEntry) error) error {
	for _, e := range a.entries() {
		if e.At.Before(from) || !e.At.Before(to) {
			continue
		}
		if err := fn(e); err != nil {
			return err
		}
	}
	return nil
}

// fakeCalls is Calls in memory, in invite_at order.
type fakeCalls struct {
	mu       sync.Mutex
	calls    []sip.Call
	messages map[string][]sip.LegMessage
	// err, when set, makes every method fail (a store down).
	err error
}

func newFakeCalls(calls ...sip.Call) *fakeCalls {
	f := &fakeCalls{messages: make(map[string][]sip.LegMessage)}
	for _, c := range calls {
		f.add(c)
	}
	return f
}

// add stores c (replacing a record of the same id) with its messages.
func (f *fakeCalls) add(c sip.Call, msgs ...sip.LegMessage) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = slices.DeleteFunc(f.calls, func(x sip.Call) bool { return x.ID == c.ID })
	i, _ := slices.BinarySearchFunc(f.calls, c.InviteAt, func(x sip.Call, t time.Time) int { return x.InviteAt.Compare(t) })
	for i < len(f.calls) && f.calls[i].InviteAt.Equal(c.InviteAt) {
		i++
	}
	f.calls = slices.Insert(f.calls, i, c)
	if len(msgs) > 0 {
		f.messages[c.ID] = msgs
	}
}

func (f *fakeCalls) Calls(ctx context.Context, from, to time.Time, fn func(sip.Call) error) error {
	f.mu.Lock()
	if f.err != nil {
		f.mu.Unlock()
		return f.err
	}
	i, _ := slices.BinarySearchFunc(f.calls, from, func(x sip.Call, t time.Time) int { return x.InviteAt.Compare(t) })
	calls := f.calls[i:]
	f.mu.Unlock()
	for _, c := range calls {
		if !c.InviteAt.Before(to) {
			break
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := fn(c); err != nil {
			return err
		}
	}
	return nil
}

func (f *fakeCalls) Call(_ context.Context, id string) (sip.Call, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return sip.Call{}, f.err
	}
	for _, c := range f.calls {
		if c.ID == id {
			return c, nil
		}
	}
	return sip.Call{}, fmt.Errorf("fake call %q: %w", id, ErrNotFound)
}

func (f *fakeCalls) Messages(_ context.Context, id string) ([]sip.LegMessage, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return nil, f.err
	}
	return f.messages[id], nil
}

func (f *fakeCalls) CallByCallID(_ context.Context, callID string) (sip.Call, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return sip.Call{}, f.err
	}
	for i := len(f.calls) - 1; i >= 0; i-- {
		if f.calls[i].CallID == callID {
			return f.calls[i], nil
		}
	}
	return sip.Call{}, fmt.Errorf("fake call-id %q: %w", callID, ErrNotFound)
}

// errFakeDown is the failure of a fake dependency that is "down".
var errFakeDown = errors.New("fake dependency down")

// testPassword is the password of every account of a testEnv.
const testPassword = "correct horse"

// testEnv is a Server over fakes: accounts "tecnico", "jefe", "admin",
// "nuevo" (admin, MustChange) and "baja" (tecnico, disabled), a clock at
// 2026-12-01 10:00 in El Salvador, a recordings directory, a hub.
type testEnv struct {
	t       testing.TB
	clock   *fakeClock
	auth    *fakeAuth
	calls   *fakeCalls
	hub     *Hub
	dir     string
	loc     *time.Location
	status  StatusInfo
	srv     *Server
	handler http.Handler
	local   http.Handler
}

// testLocation is El Salvador's zone (UTC−6, no DST), built by hand so the
// tests need no tzdata.
var testLocation = time.FixedZone("CST", -6*3600)

func newTestEnv(t testing.TB) *testEnv {
	t.Helper()
	clock := newFakeClock(time.Date(2026, 12, 1, 10, 0, 0, 0, testLocation))
	e := &testEnv{
		t:     t,
		clock: clock,
		auth:  newFakeAuth(clock.Now),
		calls: newFakeCalls(),
		hub:   NewHub(sip.DefaultRingPolicy(), clock.Now),
		dir:   t.TempDir(),
		loc:   testLocation,
	}
	e.status.Version = "test"
	e.status.Lamp, e.status.Alarm = "ok", "off"
	for _, u := range []struct {
		name string
		role Role
	}{{"tecnico", RoleTecnico}, {"jefe", RoleJefe}, {"admin", RoleAdmin}, {"nuevo", RoleAdmin}, {"baja", RoleTecnico}} {
		e.auth.addUser(u.name, u.role, testPassword)
	}
	e.auth.users["nuevo"].MustChange = true
	e.auth.users["baja"].Disabled = true
	srv, err := New(Config{
		Calls:        e.calls,
		Auth:         e.auth,
		Status:       func() StatusInfo { return e.status },
		Live:         e.hub,
		RecordingDir: e.dir,
		Location:     e.loc,
		Ring:         sip.DefaultRingPolicy(),
		Operators:    []string{"201", "202"},
		Version:      "test",
		Now:          clock.Now,
		Log:          slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	e.srv = srv
	e.handler = srv.Handler()
	e.local = srv.LocalHandler()
	return e
}

// session returns a session cookie of the account name.
func (e *testEnv) session(name string) *http.Cookie {
	return &http.Cookie{Name: sessionCookie, Value: e.auth.newSession(name)}
}

// request builds a same-origin request (as a browser on the console sends
// it); body may be nil. Options modify it before it is served.
func (e *testEnv) request(method, target string, body io.Reader, opts ...func(*http.Request)) *http.Request {
	r := httptest.NewRequest(method, target, body)
	r.RemoteAddr = "192.0.2.10:50000"
	r.Header.Set("Sec-Fetch-Site", "same-origin")
	if body != nil {
		r.Header.Set("Content-Type", "application/json")
	}
	for _, o := range opts {
		o(r)
	}
	return r
}

// do serves a request on the network handler and returns the response.
func (e *testEnv) do(method, target string, body io.Reader, opts ...func(*http.Request)) *httptest.ResponseRecorder {
	w := httptest.NewRecorder()
	e.handler.ServeHTTP(w, e.request(method, target, body, opts...))
	return w
}

// as sends the session cookie of name (no cookie for "").
func (e *testEnv) as(name string) func(*http.Request) {
	if name == "" {
		return func(*http.Request) {}
	}
	c := e.session(name)
	return func(r *http.Request) { r.AddCookie(c) }
}

// bearer sends an API token of name.
func (e *testEnv) bearer(name string) func(*http.Request) {
	tok := e.auth.newToken(name)
	return func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+tok) }
}

// header sets a request header.
func header(key, value string) func(*http.Request) {
	return func(r *http.Request) { r.Header.Set(key, value) }
}

// testCall returns an inbound answered record invited at the env's "now"
// plus offset.
func (e *testEnv) testCall(id string, offset time.Duration) sip.Call {
	at := e.clock.Now().Add(offset).UTC()
	ring := at.Add(100 * time.Millisecond)
	ans := ring.Add(7 * time.Second)
	end := ans.Add(30 * time.Second)
	return sip.Call{
		ID: id, CallID: id + "@pbx", From: "22223333", To: "100", Direction: sip.DirectionInbound, Operator: "201",
		InviteAt: at, RingingAt: &ring, AnsweredAt: &ans, EndedAt: &end,
		EndReason: sip.EndCompleted, HangupBy: "caller", RingSource: "180", RingSeconds: 7, Rings: 2, WithinLimit: true,
		Transport: "udp", SrcIP: "10.0.0.1", DstIP: "10.0.0.2",
	}
}
