package access

import (
	"context"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"
)

// ArgonParams are the argon2id cost parameters of new password hashes.
// Stored hashes carry their own, so changing these later still verifies old
// hashes, which are rehashed at their next successful login.
type ArgonParams struct {
	Time      uint32
	MemoryKiB uint32
	Threads   uint8
	KeyLen    uint32
	SaltLen   uint32
}

// DefaultArgon returns the least-memory of OWASP's argon2id configurations
// (Password Storage Cheat Sheet: m=7 MiB, t=5, p=1, listed beside m=19 MiB,
// t=2 as "an equal level of defense", trading memory for passes). A hash
// costs about 7 MB instead of 19 and as many block passes (35 against 38
// MiB). On the 512 MB board, whose daemon should stay within 64 MB with
// 1,000 calls, the 19 MB of the first admin's hash at start-up stayed
// resident as freed heap (the daemon idled at 62.5 MB of VmRSS, 28.8 MB
// anonymous with 11.6 MB of heap in use), and each login under load pushed
// the heap 19 MB towards GOMEMLIMIT. Hashes made with m=19 MiB, t=2 still
// verify (a stored hash carries its parameters) and are rehashed with
// these at their next successful login.
func DefaultArgon() ArgonParams {
	return ArgonParams{Time: 5, MemoryKiB: 7168, Threads: 1, KeyLen: 32, SaltLen: 16}
}

// Bounds of the parameters, for Config and for stored hashes alike: a
// tampered hash asking for gigabytes of memory must not take the daemon
// down when someone logs in.
const (
	maxArgonTime   = 16
	maxArgonMemKiB = 256 << 10 // 256 MiB
	maxArgonLen    = 128
	minArgonSalt   = 8
	minArgonKey    = 16
	// maxPasswordBytes bounds a password; argon2 would take any length.
	maxPasswordBytes = 1024
	// maxHashers is how many argon2 runs may be in flight at once, so a
	// burst of logins cannot claim 7 MB each (DefaultArgon; up to
	// maxArgonMemKiB for a hash stored with other parameters) without bound.
	maxHashers = 2
	// phcVersion is argon2's version 0x13 as PHC strings write it.
	phcVersion = "v=19"
)

// b64 is the PHC string format's base64: standard alphabet, no padding;
// strict, so each hash has one spelling.
func b64() *base64.Encoding { return base64.RawStdEncoding.Strict() }

// check validates the parameters.
func (p ArgonParams) check() error {
	switch {
	case p.Time < 1 || p.Time > maxArgonTime:
		return fmt.Errorf("argon2 time %d not in [1, %d]", p.Time, maxArgonTime)
	case p.Threads < 1:
		return fmt.Errorf("argon2 threads %d < 1", p.Threads)
	case p.MemoryKiB < 8*uint32(p.Threads) || p.MemoryKiB > maxArgonMemKiB:
		// RFC 9106 3.1: memory is at least 8 KiB per lane.
		return fmt.Errorf("argon2 memory %d KiB not in [%d, %d]", p.MemoryKiB, 8*uint32(p.Threads), maxArgonMemKiB)
	case p.KeyLen < minArgonKey || p.KeyLen > maxArgonLen:
		return fmt.Errorf("argon2 key length %d not in [%d, %d]", p.KeyLen, minArgonKey, maxArgonLen)
	case p.SaltLen < minArgonSalt || p.SaltLen > maxArgonLen:
		return fmt.Errorf("argon2 salt length %d not in [%d, %d]", p.SaltLen, minArgonSalt, maxArgonLen)
	}
	return nil
}

// phc is a parsed PHC string: "$argon2id$v=19$m=M,t=T,p=P$salt$hash".
type phc struct {
	params ArgonParams
	salt   []byte
	key    []byte
}

// String writes the PHC string; parsePHC reads back exactly this.
func (h phc) String() string {
	return fmt.Sprintf("$argon2id$%s$m=%d,t=%d,p=%d$%s$%s", phcVersion,
		h.params.MemoryKiB, h.params.Time, h.params.Threads, b64().EncodeToString(h.salt), b64().EncodeToString(h.key))
}

// parsePHC parses an argon2id PHC string as String writes it, and checks
// its parameters against the same bounds as the Config.
func parsePHC(s string) (phc, error) {
	var h phc
	f := strings.Split(s, "$")
	if len(f) != 6 || f[0] != "" || f[1] != "argon2id" || f[2] != phcVersion {
		return h, fmt.Errorf("%w: not $argon2id$v=19$…", ErrHash)
	}
	ps := strings.Split(f[3], ",")
	if len(ps) != 3 {
		return h, fmt.Errorf("%w: parameters %q", ErrHash, f[3])
	}
	var vals [3]uint64
	for i, name := range []string{"m=", "t=", "p="} {
		v, ok := strings.CutPrefix(ps[i], name)
		n, err := parseDecimal(v)
		if !ok || err != nil {
			return h, fmt.Errorf("%w: parameter %q", ErrHash, ps[i])
		}
		vals[i] = n
	}
	if vals[0] > maxArgonMemKiB || vals[1] > maxArgonTime || vals[2] > 255 {
		return h, fmt.Errorf("%w: parameters %q out of bounds", ErrHash, f[3])
	}
	salt, err := b64().DecodeString(f[4])
	if err != nil {
		return h, fmt.Errorf("%w: salt: %w", ErrHash, err)
	}
	key, err := b64().DecodeString(f[5])
	if err != nil {
		return h, fmt.Errorf("%w: hash: %w", ErrHash, err)
	}
	h = phc{
		params: ArgonParams{
			MemoryKiB: uint32(vals[0]), Time: uint32(vals[1]), Threads: uint8(vals[2]), //nolint:gosec // G115: bounded above
			KeyLen: uint32(len(key)), SaltLen: uint32(len(salt)), //nolint:gosec // G115: a string field is far below 4 GB
		},
		salt: salt,
		key:  key,
	}
	if err := h.params.check(); err != nil {
		return phc{}, fmt.Errorf("%w: %w", ErrHash, err)
	}
	return h, nil
}

// parseDecimal parses a decimal without sign or leading zero, so that a
// parsed PHC string has one spelling.
func parseDecimal(s string) (uint64, error) {
	if s == "" || (len(s) > 1 && s[0] == '0') || len(s) > 10 {
		return 0, strconv.ErrSyntax
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, strconv.ErrSyntax
		}
	}
	return strconv.ParseUint(s, 10, 64)
}

// hashPassword returns the PHC string of password under p, with a fresh
// salt from the service's random source.
func (s *Service) hashPassword(ctx context.Context, password string, p ArgonParams) (string, error) {
	salt := make([]byte, p.SaltLen)
	if _, err := io.ReadFull(s.cfg.Rand, salt); err != nil {
		return "", fmt.Errorf("read salt: %w", err)
	}
	if err := s.acquireHasher(ctx); err != nil {
		return "", err
	}
	defer s.releaseHasher()
	s.hashes.Add(1)
	key := argon2.IDKey([]byte(password), salt, p.Time, p.MemoryKiB, p.Threads, p.KeyLen)
	return phc{params: p, salt: salt, key: key}.String(), nil
}

// checkPassword reports whether password matches the PHC string stored,
// comparing in constant time.
func (s *Service) checkPassword(ctx context.Context, stored, password string) (bool, error) {
	h, err := parsePHC(stored)
	if err != nil {
		return false, err
	}
	if err := s.acquireHasher(ctx); err != nil {
		return false, err
	}
	defer s.releaseHasher()
	s.hashes.Add(1)
	key := argon2.IDKey([]byte(password), h.salt, h.params.Time, h.params.MemoryKiB, h.params.Threads, h.params.KeyLen)
	return subtle.ConstantTimeCompare(key, h.key) == 1, nil
}

// acquireHasher waits for one of the maxHashers slots.
func (s *Service) acquireHasher(ctx context.Context) error {
	select {
	case s.hashers <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (s *Service) releaseHasher() { <-s.hashers }

// dummyHash returns a PHC string under p with random salt and key: no
// password matches it (short of finding a preimage), and checking one
// against it costs what checking a real hash costs. Login uses it for
// unknown names so that they take as long as known ones.
func dummyHash(r io.Reader, p ArgonParams) (string, error) {
	b := make([]byte, p.SaltLen+p.KeyLen)
	if _, err := io.ReadFull(r, b); err != nil {
		return "", fmt.Errorf("read dummy hash: %w", err)
	}
	return phc{params: p, salt: b[:p.SaltLen], key: b[p.SaltLen:]}.String(), nil
}

// checkStrength validates a new password for user name.
func (s *Service) checkStrength(name, password string) error {
	n := utf8.RuneCountInString(password)
	switch {
	case n < s.cfg.MinPassword:
		return fmt.Errorf("%w: %d characters, at least %d", ErrWeakPassword, n, s.cfg.MinPassword)
	case len(password) > maxPasswordBytes:
		return fmt.Errorf("%w: more than %d bytes", ErrWeakPassword, maxPasswordBytes)
	case strings.EqualFold(password, name):
		return fmt.Errorf("%w: same as the user name", ErrWeakPassword)
	}
	return nil
}

// generatedLen is the length of EnsureAdmin's password: 20 characters of
// 56 symbols are 116 bits.
const generatedLen = 20

// passwordAlphabet leaves out characters easily misread when the first
// admin's password is copied from a log: 0/O/o, 1/l/I.
const passwordAlphabet = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"

// randomPassword draws n characters of passwordAlphabet from r, by
// rejection so that every character is equally likely.
func randomPassword(r io.Reader, n int) (string, error) {
	const a = len(passwordAlphabet)
	limit := 256 - 256%a
	out := make([]byte, 0, n)
	buf := make([]byte, 2*n)
	for len(out) < n {
		if _, err := io.ReadFull(r, buf); err != nil {
			return "", fmt.Errorf("read random password: %w", err)
		}
		for _, c := range buf {
			if int(c) < limit && len(out) < n {
				out = append(out, passwordAlphabet[int(c)%a])
			}
		}
	}
	return string(out), nil
}
