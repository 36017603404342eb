package central

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"strings"
)

// TokenPrefix starts every box token, so that a leaked one is recognised.
const TokenPrefix = "stb_"

// tokenBytes is the entropy of a box token.
const tokenBytes = 32

// tokenLen is the length of a well-formed token: the prefix and 32 bytes
// in unpadded base64url (43 characters).
const tokenLen = len(TokenPrefix) + (tokenBytes*8+5)/6

// newBoxToken returns a fresh token read from r and its stored hash.
func newBoxToken(r io.Reader) (token, hash string, err error) {
	b := make([]byte, tokenBytes)
	if _, err := io.ReadFull(r, b); err != nil {
		return "", "", fmt.Errorf("token: %w", err)
	}
	token = TokenPrefix + base64.RawURLEncoding.EncodeToString(b)
	return token, TokenHash(token), nil
}

// TokenHash is what the server stores of a token: its SHA-256 in hex.
func TokenHash(token string) string {
	h := sha256.Sum256([]byte(token))
	return hex.EncodeToString(h[:])
}

// wellFormedToken reports whether raw could be a box token, so that
// garbage never reaches the database.
func wellFormedToken(raw string) bool {
	rest, ok := strings.CutPrefix(raw, TokenPrefix)
	if !ok || len(raw) != tokenLen {
		return false
	}
	_, err := base64.RawURLEncoding.Strict().DecodeString(rest)
	return err == nil
}

// bearer returns the token of an "Authorization: Bearer <token>" header.
func bearer(h string) (string, bool) {
	scheme, tok, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	tok = strings.TrimSpace(tok)
	return tok, tok != ""
}
