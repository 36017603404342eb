package report

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"sync"
	"time"
)

// KV is the bucket the samples live in (store.KV("report") on the board);
// *storage.Bucket satisfies it. Declared here, by its consumer, like
// access.KV.
type KV interface {
	// Get returns a copy of the value under key; ok is false when there is
	// none.
	Get(ctx context.Context, key []byte) (val []byte, ok bool, err error)
	// Set stores val under key, durably when it returns.
	Set(ctx context.Context, key, val []byte) error
	// Scan calls fn for each key with the prefix in key order.
	Scan(ctx context.Context, prefix []byte, fn func(key, val []byte) error) error
	// Batch stores every (key, value) of set and removes every key of del
	// in one durable transaction.
	Batch(ctx context.Context, set [][2][]byte, del [][]byte) error
}

// Keeper protects recordings from retention; *storage.Store satisfies it.
type Keeper interface {
	// SetKeep records why a record's recording must be kept; "" removes
	// the protection.
	SetKeep(ctx context.Context, id, reason string) error
	// Kept returns why a record's recording is kept, "" if it is not.
	Kept(ctx context.Context, id string) (string, error)
}

// Key layout in the bucket: the current sample of a month, its frame (the
// canonical encoding, so that Verify can say which calls came or went) and
// the samples a redraw superseded, by the time they were drawn.
const (
	prefixSample      = "sample/"
	prefixSampleFrame = "sample-frame/"
	prefixSampleOld   = "sample-old/"
)

func sampleKey(month string) []byte { return []byte(prefixSample + month) }

func frameKey(month string) []byte { return []byte(prefixSampleFrame + month) }

func oldSampleKey(month string, at time.Time) []byte {
	return fmt.Appendf(nil, "%s%s/%020d", prefixSampleOld, month, at.UnixNano())
}

// Sampler draws, keeps, verifies and amends the monthly samples. Its
// methods are safe for concurrent use; a draw and a replacement of the same
// sample never interleave.
type Sampler struct {
	calls Calls
	kv    KV
	keep  Keeper
	loc   *time.Location
	opts  SampleOptions
	now   func() time.Time
	seeds io.Reader
	log   *slog.Logger

	mu sync.Mutex
}

// SamplerOption configures a Sampler.
type SamplerOption func(*Sampler)

// WithSamplerClock sets the clock of drawn_at and replacements.
func WithSamplerClock(now func() time.Time) SamplerOption {
	return func(s *Sampler) { s.now = now }
}

// WithSeedSource sets where seeds come from when a draw names none
// (crypto/rand by default).
func WithSeedSource(r io.Reader) SamplerOption {
	return func(s *Sampler) { s.seeds = r }
}

// NewSampler returns a Sampler reading calls from calls, keeping samples in
// kv and protecting sampled recordings through keep, with months in loc.
func NewSampler(calls Calls, kv KV, keep Keeper, loc *time.Location, opts SampleOptions, log *slog.Logger, o ...SamplerOption) (*Sampler, error) {
	if loc == nil {
		return nil, ErrNoLocation
	}
	opts = opts.withDefaults()
	if _, err := CochranSize(1, opts.Confidence, opts.Margin, opts.P); err != nil {
		return nil, err
	}
	if _, err := newStream(opts.Generator, 0); err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Sampler{
		calls: calls, kv: kv, keep: keep, loc: loc, opts: opts,
		now: time.Now, seeds: rand.Reader, log: log.With("component", "sample"),
	}
	for _, f := range o {
		f(s)
	}
	return s, nil
}

// Options returns the sampler's design options with defaults filled.
func (s *Sampler) Options() SampleOptions { return s.opts }

// DrawRequest asks for a month's sample.
type DrawRequest struct {
	Month string
	// Seed, when set, is used instead of one from the system's random
	// source (to reproduce a draw made elsewhere).
	Seed *uint64
	// By is who draws (recorded as drawn_by).
	By string
	// Redraw must be set, with Reason, to replace a month's sample.
	Redraw bool
	Reason string
}

// Draw builds the month's frame, draws the sample, stores it and protects
// its recordings. A month that has a sample is drawn again only with
// Redraw and a reason; the earlier sample is kept under its own key and
// the protection of its calls that left the sample is removed.
func (s *Sampler) Draw(ctx context.Context, req DrawRequest) (Sample, error) {
	from, to, err := MonthRange(req.Month, s.loc)
	if err != nil {
		return Sample{}, err
	}
	if req.By == "" || (req.Redraw && req.Reason == "") {
		return Sample{}, fmt.Errorf("draw %s: %w", req.Month, ErrReason)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	prev, hasPrev, err := s.get(ctx, req.Month)
	if err != nil {
		return Sample{}, err
	}
	if hasPrev && !req.Redraw {
		return Sample{}, fmt.Errorf("draw %s: %w (drawn %s by %s)", req.Month, ErrSampleExists,
			prev.DrawnAt.Format(time.RFC3339), prev.DrawnBy)
	}
	frame, err := BuildFrame(ctx, s.calls, from, to)
	if err != nil {
		return Sample{}, fmt.Errorf("draw %s: %w", req.Month, err)
	}
	if len(frame) == 0 {
		return Sample{}, fmt.Errorf("draw %s: %w", req.Month, ErrEmptyFrame)
	}
	var seed uint64
	if req.Seed != nil {
		seed = *req.Seed
	} else {
		var b [8]byte
		if _, err := io.ReadFull(s.seeds, b[:]); err != nil {
			return Sample{}, fmt.Errorf("draw %s: seed: %w", req.Month, err)
		}
		seed = binary.BigEndian.Uint64(b[:])
	}
	d := s.opts.design()
	dr, err := DrawFrame(frame, d, s.opts.Generator, seed)
	if err != nil {
		return Sample{}, fmt.Errorf("draw %s: %w", req.Month, err)
	}
	reason := KeepReason(req.Month)
	smp := Sample{
		Month: req.Month, TimeZone: s.loc.String(),
		FrameSize: len(frame), FrameHash: FrameHash(frame), FrameEncoding: FrameEncodingV1,
		Design: d, NCochran: dr.NCochran, N: dr.N, Allocation: dr.Allocation,
		Seed: seed, Generator: s.opts.Generator,
		DrawnAt: s.now().UTC(), DrawnBy: req.By,
		Items: dr.Items, Reserves: dr.Reserves, Replacements: []Replacement{},
		Keep: Keep{
			Reason: reason, KeepMonths: s.opts.KeepMonths,
			Until: "aprobación del informe del mes + " + strconv.Itoa(s.opts.KeepMonths) + " meses",
		},
	}
	if hasPrev {
		smp.Redraw = req.Reason
	}
	val, err := json.Marshal(smp)
	if err != nil {
		return Sample{}, fmt.Errorf("draw %s: encode: %w", req.Month, err)
	}
	set := [][2][]byte{{sampleKey(req.Month), val}, {frameKey(req.Month), EncodeFrame(frame)}}
	if hasPrev {
		old, err := json.Marshal(prev)
		if err != nil {
			return Sample{}, fmt.Errorf("draw %s: encode previous: %w", req.Month, err)
		}
		set = append(set, [2][]byte{oldSampleKey(req.Month, prev.DrawnAt), old})
	}
	// The recordings are protected before the sample is stored: a sample
	// whose calls retention could delete must never exist, while a keep
	// left by a draw that then failed only delays a deletion.
	for _, it := range smp.Items {
		if err := s.keep.SetKeep(ctx, it.ID, reason); err != nil {
			return Sample{}, fmt.Errorf("draw %s: keep %s: %w", req.Month, it.ID, err)
		}
	}
	if err := s.kv.Batch(ctx, set, nil); err != nil {
		return Sample{}, fmt.Errorf("draw %s: store: %w", req.Month, err)
	}
	if hasPrev {
		if err := s.release(ctx, smp, prev); err != nil {
			// The new sample stands; an old recording kept too long is
			// the safe side of the error.
			s.log.Error("release superseded sample", "month", req.Month, "err", err)
		}
	}
	s.log.Info("sample drawn", "month", req.Month, "frame", len(frame), "n", dr.N, "by", req.By, "redraw", hasPrev)
	return smp, nil
}

// KeepReason is the retention reason of a month's sampled recordings,
// "muestra YYYY-MM".
func KeepReason(month string) string { return "muestra " + month }

// release removes the protection of the earlier sample's calls that are
// no longer sampled, unless something else (an evaluation) keeps them.
func (s *Sampler) release(ctx context.Context, smp, prev Sample) error {
	in := map[string]bool{}
	for _, it := range smp.Items {
		in[it.ID] = true
	}
	for _, it := range prev.Items {
		if in[it.ID] {
			continue
		}
		why, err := s.keep.Kept(ctx, it.ID)
		if err != nil {
			return fmt.Errorf("release %s: %w", it.ID, err)
		}
		if why == prev.Keep.Reason {
			if err := s.keep.SetKeep(ctx, it.ID, ""); err != nil {
				return fmt.Errorf("release %s: %w", it.ID, err)
			}
		}
	}
	return nil
}

// Get returns the month's sample, ErrNoSample when it has none.
func (s *Sampler) Get(ctx context.Context, month string) (Sample, error) {
	if _, _, err := MonthRange(month, s.loc); err != nil {
		return Sample{}, err
	}
	smp, ok, err := s.get(ctx, month)
	if err != nil {
		return Sample{}, err
	}
	if !ok {
		return Sample{}, fmt.Errorf("sample %s: %w", month, ErrNoSample)
	}
	return smp, nil
}

// get reads the month's sample.
func (s *Sampler) get(ctx context.Context, month string) (Sample, bool, error) {
	val, ok, err := s.kv.Get(ctx, sampleKey(month))
	if err != nil {
		return Sample{}, false, fmt.Errorf("sample %s: %w", month, err)
	}
	if !ok {
		return Sample{}, false, nil
	}
	var smp Sample
	if err := json.Unmarshal(val, &smp); err != nil {
		return Sample{}, false, fmt.Errorf("sample %s: %w: %w", month, ErrCorrupt, err)
	}
	return smp, true, nil
}

// History returns the samples of the month that redraws superseded, oldest
// first.
func (s *Sampler) History(ctx context.Context, month string) ([]Sample, error) {
	if _, _, err := MonthRange(month, s.loc); err != nil {
		return nil, err
	}
	var out []Sample
	err := s.kv.Scan(ctx, []byte(prefixSampleOld+month+"/"), func(_, val []byte) error {
		var smp Sample
		if err := json.Unmarshal(val, &smp); err != nil {
			return fmt.Errorf("%w: %w", ErrCorrupt, err)
		}
		out = append(out, smp)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("sample history %s: %w", month, err)
	}
	return out, nil
}
