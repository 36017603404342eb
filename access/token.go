package access

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"time"
	"unicode"
	"unicode/utf8"
)

const (
	// tokenPrefix marks an API token, so that one pasted in the wrong
	// place is recognised (and secret scanners find it).
	tokenPrefix = "stt_"
	// maxLabelLen bounds a token's label, in characters.
	maxLabelLen = 64
)

// tokenRecord is an API token as stored under "token/<sha256 of token>".
type tokenRecord struct {
	User    string    `json:"user"`
	Label   string    `json:"label,omitempty"`
	Created time.Time `json:"created"`
	By      string    `json:"by"`
	// Hash repeats the key, to be compared in constant time.
	Hash string `json:"hash"`
}

// IssueToken returns a new API token for name: "stt_" and base64url of 32
// random bytes, returned only here and stored as its SHA-256. It does not
// expire; disabling the user removes it. ErrNotFound, ErrLabel. Audited
// "token_issued" with the label.
func (s *Service) IssueToken(ctx context.Context, by Actor, name, label string) (string, error) {
	raw, err := s.issueToken(ctx, by, name, label)
	if err != nil {
		return "", fmt.Errorf("issue token for %s: %w", clip(name, maxNameLen+8), err)
	}
	return raw, nil
}

func (s *Service) issueToken(ctx context.Context, by Actor, name, label string) (string, error) {
	if err := checkLabel(label); err != nil {
		return "", err
	}
	raw, err := newToken(s.cfg.Rand, tokenPrefix)
	if err != nil {
		return "", err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, err := s.mustUser(ctx, name); err != nil {
		return "", err
	}
	h := tokenHash(raw)
	v, err := json.Marshal(tokenRecord{User: name, Label: label, Created: s.now(), By: by.Name, Hash: h})
	if err != nil {
		return "", fmt.Errorf("encode token: %w", err)
	}
	var b batch
	b.put(tokenKey(h), v)
	// The entry names the token by the start of its hash, so that an
	// admin can tell tokens apart without the log holding anything usable.
	e := Entry{Actor: by.Name, Remote: by.Remote, Action: "token_issued", Target: name, Detail: "label " + label + ", id " + h[:12]}
	if err := s.commitLocked(ctx, &b, e); err != nil {
		return "", err
	}
	return raw, nil
}

// checkLabel validates a token label.
func checkLabel(l string) error {
	if !utf8.ValidString(l) || utf8.RuneCountInString(l) > maxLabelLen {
		return fmt.Errorf("%w: more than %d characters or not UTF-8", ErrLabel, maxLabelLen)
	}
	for _, r := range l {
		if unicode.IsControl(r) {
			return fmt.Errorf("%w: control character", ErrLabel)
		}
	}
	return nil
}

// TokenUser returns the user of the API token (without its hash), or
// ErrNoSession when the token is unknown or its user disabled or gone.
func (s *Service) TokenUser(ctx context.Context, raw string) (User, error) {
	if !wellFormed(raw, tokenPrefix) {
		return User{}, ErrNoSession
	}
	h := tokenHash(raw)
	v, ok, err := s.kv.Get(ctx, tokenKey(h))
	if err != nil {
		return User{}, fmt.Errorf("token: %w", err)
	}
	if !ok {
		return User{}, ErrNoSession
	}
	var r tokenRecord
	if err := json.Unmarshal(v, &r); err != nil {
		return User{}, fmt.Errorf("token: decode: %w", err)
	}
	if subtle.ConstantTimeCompare([]byte(r.Hash), []byte(h)) != 1 {
		return User{}, ErrNoSession
	}
	u, found, err := s.getUser(ctx, r.User)
	if err != nil {
		return User{}, fmt.Errorf("token: %w", err)
	}
	if !found || u.Disabled {
		return User{}, ErrNoSession
	}
	return u.public(), nil
}
