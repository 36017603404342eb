// Package web serves switchtap's HTTP API (/api/v1) and its Spanish web
// console (html/template + embed, no build step, no CDN). It knows nothing
// of badger or argon2: calls, accounts and the audit log come through the
// small interfaces below, which package daemon fills with the store and
// package access.
//
// Every path needs a login (session cookie or Authorization: Bearer) but
// /healthz and /metrics, which are served elsewhere. State-changing
// requests are guarded by http.CrossOriginProtection.
package web

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/switchtap/switchtap/sip"
)

// Role is what an account may do.
type Role string

// Roles of the procedure (seed document): the técnico UACT evaluates, the
// jefe UACT reviews and reads the audit, the admin manages accounts, and a
// receptionist sees only their own calls, evaluations and actions (issue
// 10 §5).
const (
	RoleTecnico       Role = "tecnico"
	RoleJefe          Role = "jefe"
	RoleAdmin         Role = "admin"
	RoleRecepcionista Role = "recepcionista"
)

// Principal is who makes a request.
type Principal struct {
	Name string
	Role Role
	// Via is "session", "token" or "socket".
	Via string
	// MustChange says the password must be changed before anything else
	// (the first admin's generated password).
	MustChange bool
	// Operator is, for RoleRecepcionista, the configured receptionist the
	// account belongs to: the only calls, evaluations and actions it may
	// see.
	Operator string
}

// Session is a login: Token goes in the cookie and is never stored in the
// clear.
type Session struct {
	Token     string
	Principal Principal
	Expires   time.Time
}

// User is an account as listed to an admin.
type User struct {
	Name        string     `json:"name"`
	Role        Role       `json:"role"`
	Disabled    bool       `json:"disabled"`
	MustChange  bool       `json:"must_change"`
	Created     time.Time  `json:"created"`
	LastLogin   *time.Time `json:"last_login"`
	LockedUntil *time.Time `json:"locked_until"`
	// Operator is the receptionist of a recepcionista account.
	Operator string `json:"operator,omitempty"`
}

// AuditEvent is what a handler asks to be written to the audit log.
type AuditEvent struct {
	Actor  string
	Action string
	Target string
	Detail string
	Remote string
}

// AuditEntry is one entry of the hash-chained audit log.
type AuditEntry struct {
	Seq    uint64    `json:"seq"`
	At     time.Time `json:"at"`
	Actor  string    `json:"actor"`
	Action string    `json:"action"`
	Target string    `json:"target,omitempty"`
	Detail string    `json:"detail,omitempty"`
	Remote string    `json:"remote,omitempty"`
	Prev   string    `json:"prev"`
	Hash   string    `json:"hash"`
}

// Audit actions written by this package.
const (
	ActionLogin          = "login"
	ActionLoginFailed    = "login_failed"
	ActionLogout         = "logout"
	ActionRecordingPlay  = "recording_play"
	ActionRecordingSave  = "recording_download"
	ActionExportCalls    = "export_calls"
	ActionExportAudit    = "export_audit"
	ActionPasswordChange = "password_change"
)

// Audit actions of the month's procedure (issue 10 §3–5). Every step is
// written before its answer, and a step that cannot be audited is refused
// (503), as a recording is. A draft is not audited per save (the console
// saves it as typed): its first save that puts an answer in it is
// (evaluation_draft), and so is its submission, which records the
// verdicts — what the report uses is the submitted evaluation, never the
// draft. Opening a call that already has an evaluation changes nothing and
// is not audited; the open that creates the draft is.
const (
	ActionEvaluationOpen    = "evaluation_open"
	ActionEvaluationDraft   = "evaluation_draft"
	ActionEvaluationSubmit  = "evaluation_submit"
	ActionEvaluationRevise  = "evaluation_revise"
	ActionEvaluationAck     = "evaluation_ack"
	ActionEvaluationDispute = "evaluation_dispute"
	ActionEvaluationResolve = "evaluation_resolve"
	ActionReportConclusions = "report_conclusions"
	ActionReportSubmit      = "report_submit"
	ActionReportReturn      = "report_return"
	ActionReportApprove     = "report_approve"
	ActionCorrectiveAdd     = "action_add"
	ActionCorrectiveAssess  = "action_assess"
	ActionCorrectiveAck     = "action_ack"
	ActionExportReport      = "export_report"
)

// Errors the dependencies return, wrapped; the adapters in package daemon
// map their packages' own errors onto these.
var (
	ErrNotFound = errors.New("not found")
	// ErrBadLogin is a wrong name or password (never said which).
	ErrBadLogin = errors.New("bad name or password")
	// ErrLocked is an account locked after repeated failures; a
	// *LockedError says until when.
	ErrLocked  = errors.New("account locked")
	ErrInvalid = errors.New("invalid")
	ErrExists  = errors.New("already exists")
)

// LockedError says until when an account is locked.
type LockedError struct{ Until time.Time }

func (e *LockedError) Error() string {
	return fmt.Sprintf("account locked until %s", e.Until.UTC().Format(time.RFC3339))
}

// Is makes errors.Is(err, ErrLocked) true.
func (e *LockedError) Is(target error) bool { return target == ErrLocked }

// Auth is accounts, sessions, API tokens and the audit log (package
// access behind an adapter).
type Auth interface {
	Login(ctx context.Context, name, password, remote string) (Session, error)
	Session(ctx context.Context, token string) (Principal, error)
	Logout(ctx context.Context, token string) error
	Token(ctx context.Context, raw string) (Principal, error)
	ChangePassword(ctx context.Context, p Principal, oldPassword, newPassword string) error

	Users(ctx context.Context) ([]User, error)
	AddUser(ctx context.Context, by Principal, name string, role Role, password string) error
	SetPassword(ctx context.Context, by Principal, name, password string) error
	SetRole(ctx context.Context, by Principal, name string, role Role) error
	SetDisabled(ctx context.Context, by Principal, name string, disabled bool) error
	// SetOperator ties a recepcionista account to a configured
	// receptionist ("" unties it).
	SetOperator(ctx context.Context, by Principal, name, operator string) error
	// IssueToken returns a new API token for name, shown once.
	IssueToken(ctx context.Context, by Principal, name, label string) (string, error)

	Audit(ctx context.Context, e AuditEvent) error
	AuditEntries(ctx context.Context, from, to time.Time, fn func(AuditEntry) error) error
}

// Calls reads call records and their SIP messages (package storage behind
// an adapter).
type Calls interface {
	// Calls calls fn for each record with invite_at in [from, to), in order.
	Calls(ctx context.Context, from, to time.Time, fn func(sip.Call) error) error
	// Call returns one record or an error wrapping ErrNotFound.
	Call(ctx context.Context, id string) (sip.Call, error)
	// Messages returns the leg's SIP messages as seen (none: empty).
	Messages(ctx context.Context, id string) ([]sip.LegMessage, error)
	// CallByCallID returns the newest record of a SIP Call-ID (to follow a
	// transfer's target_call_id), or an error wrapping ErrNotFound.
	CallByCallID(ctx context.Context, callID string) (sip.Call, error)
}

// StatusInfo is what /api/v1/status and the Estado page show. Its JSON keys
// are read by scripts: add, never rename.
type StatusInfo struct {
	Version   string    `json:"version"`
	StartedAt time.Time `json:"started_at"`
	Now       time.Time `json:"now"`
	Capture   struct {
		Source         string     `json:"source"` // interface name or "pcap"
		Up             bool       `json:"up"`
		Frames         uint64     `json:"frames"`
		KernelReceived uint64     `json:"kernel_received"`
		KernelDropped  uint64     `json:"kernel_dropped"`
		Undecodable    uint64     `json:"undecodable"`
		SIPMessages    uint64     `json:"sip_messages"`
		SIPErrors      uint64     `json:"sip_errors"`
		LastSIP        *time.Time `json:"last_sip"`
		CallsOpen      int        `json:"calls_open"`
		CallsDropped   uint64     `json:"calls_dropped"`
		// FloodSources are the addresses sending INVITEs above the flood
		// rate now (a SIP flood); CallsEvicted and CallsAggregated the legs
		// that never rang, closed to make room or counted per source.
		FloodSources    int    `json:"flood_sources"`
		CallsEvicted    uint64 `json:"calls_evicted"`
		CallsAggregated uint64 `json:"calls_aggregated"`
	} `json:"capture"`
	// Drops is every loss the Estado page shows, in one place (the
	// status's contract: "capture, drops, store, disk, lamp, version");
	// each is also where it has always been, under capture or store.
	Drops struct {
		// KernelPackets the kernel dropped for lack of ring space
		// (capture.kernel_dropped).
		KernelPackets uint64 `json:"kernel_packets"`
		// Calls are INVITEs not followed because the call table was full
		// (capture.calls_dropped).
		Calls uint64 `json:"calls"`
		// Records are call records lost: the store queue was full, or the
		// store still failed at shutdown (store.dropped).
		Records uint64 `json:"records"`
		// ProvisionalRecords are records of calls in progress (at ringing
		// and at answer) not stored: their queue was full or the store
		// failed. Only a crash before such a call's end loses the call.
		ProvisionalRecords uint64 `json:"provisional_records"`
	} `json:"drops"`
	Store struct {
		Bytes        uint64 `json:"bytes"`
		CallsStored  uint64 `json:"calls_stored"`
		QueueLen     int    `json:"queue_len"`
		WriteFailing bool   `json:"write_failing"`
		Dropped      uint64 `json:"dropped"`
	} `json:"store"`
	Disk struct {
		Path          string `json:"path"`
		FreeBytes     uint64 `json:"free_bytes"`
		FloorBytes    uint64 `json:"floor_bytes"`
		FloorReached  bool   `json:"floor_reached"`
		RecordingsB   uint64 `json:"recordings_bytes"`
		RecordingsN   uint64 `json:"recordings_files"`
		RetentionMaxB uint64 `json:"retention_max_bytes"`
		RetentionDays int    `json:"retention_max_days"`
	} `json:"disk"`
	// Uplink is the sync to the central server, nil when none is set.
	Uplink *UplinkInfo `json:"uplink,omitempty"`
	// Lamp is the status lamp: "ok", "no_sip" or "fault"; Fault says why.
	Lamp  string `json:"lamp"`
	Fault string `json:"fault,omitempty"`
	// Alarm is the four-ring panel: "off", "warning" or "alarm".
	Alarm  string `json:"alarm"`
	Errors []struct {
		At      time.Time `json:"at"`
		Message string    `json:"message"`
	} `json:"errors"`
}

// UplinkInfo is the state of the sync to the central reporting server.
type UplinkInfo struct {
	URL string `json:"url"`
	// Connected is false past uplink.offline_after without an answer: the
	// console shows "sin conexión con el servidor central".
	Connected bool `json:"connected"`
	// Depth records wait for the server's acknowledgement, the oldest
	// for OldestSeconds.
	Depth         uint64     `json:"depth"`
	OldestSeconds float64    `json:"oldest_seconds"`
	Acked         uint64     `json:"acked"`
	LastAck       *time.Time `json:"last_ack"`
	LastError     string     `json:"last_error,omitempty"`
}

// Config is what a Server needs.
type Config struct {
	Calls  Calls
	Auth   Auth
	Status func() StatusInfo
	// Live feeds /api/v1/live and the En vivo page.
	Live *Hub
	// RecordingDir is the root of the recordings; no file outside it is
	// ever opened.
	RecordingDir string
	// Location is the local time zone of dates in queries and pages
	// (America/El_Salvador by default).
	Location  *time.Location
	Ring      sip.RingPolicy
	Operators []string
	// Figures computes the month's figures (the Mes page and
	// /api/v1/months/{month}/figures); nil serves neither.
	Figures MonthFigures
	// Aggregates reads the stored aggregates of the legs that never rang
	// (/api/v1/aggregates); nil serves none.
	Aggregates Aggregates
	// Sample draws and keeps the month's random sample (the Muestra page,
	// /api/v1/months/{m}/sample); nil serves neither.
	Sample Sampler
	// Evaluations, Review, Documents and Exports are the rest of the
	// month's procedure (issue 10 §3–5): the evaluation of the sampled
	// calls, the report's review and its corrective actions, the whole
	// month's report, and its files. A nil one leaves its routes out, as
	// Sample does.
	Evaluations Evaluations
	Review      Review
	Documents   Documents
	Exports     Exporter
	// LocalRoutes are served on the local socket only (LocalHandler),
	// behind the same guard as its API: the peer's credentials, taken as
	// an admin. The daemon's `audit verify` is one.
	LocalRoutes []LocalRoute
	// Secure marks cookies Secure (the daemon serves TLS).
	Secure  bool
	Version string
	// Home is the office roles' first page ("/envivo" by default; the
	// central server, with no live calls, uses another).
	Home string
	// Banner, when set, is a line shown under the menu on every page (the
	// central server's office, with a link to change it).
	Banner *Banner
	Now    func() time.Time
	Log    *slog.Logger
}

// LocalRoute is a route of the local socket's only: Pattern in
// http.ServeMux's syntax ("GET /audit/verify").
type LocalRoute struct {
	Pattern string
	Handler http.Handler
}

// Banner is a line on every page, with an optional link.
type Banner struct {
	Text     string
	Link     string
	LinkText string
}

// Server is the HTTP API and console.
type Server struct {
	cfg Config
	log *slog.Logger
	now func() time.Time
}

// New returns a server over cfg's dependencies.
func New(cfg Config) (*Server, error) {
	if cfg.Calls == nil || cfg.Auth == nil || cfg.Status == nil || cfg.Live == nil {
		return nil, fmt.Errorf("%w: web needs calls, auth, status and live", ErrInvalid)
	}
	if cfg.Location == nil {
		cfg.Location = time.UTC
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Home == "" {
		cfg.Home = "/envivo"
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	return &Server{cfg: cfg, log: cfg.Log, now: cfg.Now}, nil
}

// Handler serves the API and console on the network: every request needs
// a login.
func (s *Server) Handler() http.Handler { return s.handler(false) }

// LocalHandler serves the same API on the local socket, whose file mode
// (0660, group switchtap) is the access control: the peer is taken as an
// admin named "local:<uid>" (see WithPeer).
func (s *Server) LocalHandler() http.Handler { return s.handler(true) }

func (s *Server) handler(local bool) http.Handler {
	return s.guard(s.routes(local).mux, local)
}
