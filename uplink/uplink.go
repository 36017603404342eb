// Package uplink sends the box's call records to the central reporting
// server, store and forward, exactly once (issue 11).
//
// Every write of a record appends an entry to the store's transactional
// outbox (storage/outbox.go). The Sender reads the outbox from the
// server's acknowledged cursor, posts contiguous batches of entries,
// each with the record as it is at send time and its current revision,
// and frees entries only once the server has answered that their batch is
// committed. A batch whose answer is lost is sent again, byte for byte; the
// server recognises it by its seqs (a replay) and applies nothing twice.
//
// The wire protocol (a contract with package central):
//
//	POST {url}/api/v1/uplink/batches   Authorization: Bearer <token>, gzip JSON
//	  {"first_seq":N,"last_seq":M,"entries":[{"seq":N,"record_id":"…","revision":R,"record":{…}},…]}
//	  200 {"acked":M} committed (or a replay: {"acked":cursor});
//	  409 {"acked":cursor} gap; 401; 413; 429/503 + Retry-After; 400
//	GET  {url}/api/v1/uplink/cursor    -> 200 {"acked":K}
//
// Recordings (recordings.go) go up on a queue of their own, of lower
// priority: a chunk goes only while no batch of records waits, or once
// after each batch. A recording is named by the SHA-256 of its WAV (hex,
// lower case), computed when it is queued and written into the record's
// recording object ("sha256"), so the record that goes up names it:
//
//	HEAD {url}/api/v1/uplink/recordings/{sha256}
//	  200 Upload-Offset: N   the server holds N bytes of an unfinished upload (0: none)
//	  204                    the server holds the whole file, verified
//	PUT  {url}/api/v1/uplink/recordings/{sha256}   Content-Range: bytes N-M/TOTAL
//	  appends bytes N..M; 200 Upload-Offset: M+1 when more is due;
//	  204 when the last byte came and the file's SHA-256 is its name (kept);
//	  422 when it is not (the server deleted what it had: start again at 0);
//	  409 Upload-Offset: K when N is not where the server is (resume at K)
//	POST {url}/api/v1/uplink/recordings/{sha256}/link   {"record_id":"…"}
//	  204 the box's record is tied to the file; 404 the server lacks the file
//
// Same credential as the batches; 401, 413 (TOTAL over the server's
// limit), 429/503 + Retry-After and 400 as there. Resuming after a cut
// connection or a restart is a HEAD: the offset is the server's, never a
// guess of the box's. A job leaves the box's queue only after the link.
package uplink

import (
	"fmt"
	"net/url"
	"time"

	"github.com/switchtap/switchtap/hep"
)

// Defaults of Config.
const (
	DefaultBatchRecords = 500
	DefaultBatchBytes   = 1 << 20
	DefaultTimeout      = 30 * time.Second
	DefaultPoll         = time.Second
	DefaultBackoffMin   = time.Second
	DefaultBackoffMax   = 5 * time.Minute
	DefaultOfflineAfter = 15 * time.Minute
	DefaultChunkBytes   = 256 << 10
	// maxBatchRecords bounds batch_records (the store's own bound is
	// larger).
	maxBatchRecords = 10_000
	// maxRetryAfter caps a server's Retry-After, so a bogus header never
	// stops the uplink for days.
	maxRetryAfter = time.Hour
)

// Paths of the receiver API, below Config.URL.
const (
	BatchesPath = "/api/v1/uplink/batches"
	CursorPath  = "/api/v1/uplink/cursor"
	// RecordingsPath is followed by "/{sha256}" (HEAD, PUT) and
	// "/{sha256}/link" (POST).
	RecordingsPath = "/api/v1/uplink/recordings"
)

// Config is the `uplink:` section of the box's configuration. The uplink
// is off when URL is empty.
type Config struct {
	// URL is the central server's base URL; it must be https.
	URL string `yaml:"url"`
	// BoxID names the box in logs. The server takes the box's identity
	// from its credential only, so BoxID is never sent as a claim.
	BoxID string `yaml:"box_id"`
	// Token is the box's credential issued by `switchtap central box
	// add` ("stb_…"), sent as a bearer token.
	Token string `yaml:"token"`
	// Cert and Key are a client certificate and its key (PEM files), the
	// other kind of credential; both or neither.
	Cert string `yaml:"cert"`
	Key  string `yaml:"key"`
	// CA is a PEM file of the certificates that may sign the server's:
	// when set they replace the system roots (a private central CA);
	// when empty the system roots are used.
	CA string `yaml:"ca"`
	// BatchRecords and BatchBytes bound a batch (records, and bytes of
	// JSON before gzip); defaults 500 and 1 MiB. A record larger than
	// BatchBytes still goes, alone.
	BatchRecords int `yaml:"batch_records"`
	BatchBytes   int `yaml:"batch_bytes"`
	// Timeout bounds one request (default 30 s); a batch without an
	// answer by then is sent again.
	Timeout time.Duration `yaml:"timeout"`
	// Poll is how often an empty outbox is looked at again (default 1 s).
	Poll time.Duration `yaml:"poll"`
	// BackoffMin and BackoffMax bound the wait after a failure: it
	// doubles from min up to max, with jitter (defaults 1 s, 5 min).
	BackoffMin time.Duration `yaml:"backoff_min"`
	BackoffMax time.Duration `yaml:"backoff_max"`
	// OfflineAfter is how long without an answer from the server makes
	// the box show "sin conexión con el servidor central" (default 15 min).
	OfflineAfter time.Duration `yaml:"offline_after"`
	// Recordings says which recordings go up: "sampled" (the default:
	// those with a keep flag, the month's sample), "all" (every finished
	// recording) or "off".
	Recordings string `yaml:"recordings"`
	// ChunkBytes bounds one PUT of a recording (default 256 KiB, which
	// fits in Timeout down to ~70 kbit/s): the records' batches pass
	// between two chunks.
	ChunkBytes int `yaml:"chunk_bytes"`
	// HEP mirrors every SIP message to an existing Homer as HEP v3
	// (`hep: homer:9060`, or a mapping; package hep). Off while its
	// address is empty; independent of URL.
	HEP hep.Config `yaml:"hep"`
}

// Values of Config.Recordings.
const (
	RecordingsSampled = "sampled"
	RecordingsAll     = "all"
	RecordingsOff     = "off"
)

// RecordingsMode returns Recordings with its default: "sampled" when
// empty.
func (c Config) RecordingsMode() string {
	if c.Recordings == "" {
		return RecordingsSampled
	}
	return c.Recordings
}

// Enabled says whether the uplink is configured.
func (c Config) Enabled() bool { return c.URL != "" }

// Validate checks an enabled uplink's settings as New would (without
// reading its key and certificate files), so a typo is an error of the
// configuration, not of the daemon's start.
func (c Config) Validate() error {
	_, err := c.withDefaults()
	return err
}

// withDefaults returns c with zero fields set to their defaults, or an
// error wrapping ErrConfig.
func (c Config) withDefaults() (Config, error) {
	u, err := url.Parse(c.URL)
	switch {
	case c.URL == "":
		return c, fmt.Errorf("%w: uplink.url is empty", ErrConfig)
	case err != nil:
		return c, fmt.Errorf("%w: uplink.url: %w", ErrConfig, err)
	case u.Scheme != "https" || u.Host == "":
		// Records of a government switchboard never cross a network in
		// clear text.
		return c, fmt.Errorf("%w: uplink.url %q is not an https URL", ErrConfig, c.URL)
	case c.Token == "" && c.Cert == "":
		return c, fmt.Errorf("%w: uplink needs a token or a client certificate", ErrConfig)
	case (c.Cert == "") != (c.Key == ""):
		return c, fmt.Errorf("%w: uplink.cert and uplink.key go together", ErrConfig)
	case c.BatchRecords < 0 || c.BatchRecords > maxBatchRecords:
		return c, fmt.Errorf("%w: uplink.batch_records %d not in 1..%d", ErrConfig, c.BatchRecords, maxBatchRecords)
	case c.BatchBytes < 0:
		return c, fmt.Errorf("%w: uplink.batch_bytes %d", ErrConfig, c.BatchBytes)
	case c.RecordingsMode() != RecordingsSampled && c.RecordingsMode() != RecordingsAll && c.RecordingsMode() != RecordingsOff:
		return c, fmt.Errorf("%w: uplink.recordings %q is not sampled, all or off", ErrConfig, c.Recordings)
	case c.ChunkBytes < 0:
		return c, fmt.Errorf("%w: uplink.chunk_bytes %d", ErrConfig, c.ChunkBytes)
	case c.Timeout < 0 || c.Poll < 0 || c.BackoffMin < 0 || c.BackoffMax < 0 || c.OfflineAfter < 0:
		return c, fmt.Errorf("%w: negative uplink duration", ErrConfig)
	}
	def := func(p *time.Duration, d time.Duration) {
		if *p == 0 {
			*p = d
		}
	}
	if c.BatchRecords == 0 {
		c.BatchRecords = DefaultBatchRecords
	}
	if c.BatchBytes == 0 {
		c.BatchBytes = DefaultBatchBytes
	}
	if c.ChunkBytes == 0 {
		c.ChunkBytes = DefaultChunkBytes
	}
	def(&c.Timeout, DefaultTimeout)
	def(&c.Poll, DefaultPoll)
	def(&c.BackoffMin, DefaultBackoffMin)
	def(&c.BackoffMax, DefaultBackoffMax)
	def(&c.OfflineAfter, DefaultOfflineAfter)
	if c.BackoffMax < c.BackoffMin {
		return c, fmt.Errorf("%w: uplink.backoff_max %v below backoff_min %v", ErrConfig, c.BackoffMax, c.BackoffMin)
	}
	return c, nil
}
