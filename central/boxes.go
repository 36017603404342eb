package central

import (
	"context"
	"errors"
	"fmt"
	"time"
	"unicode"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// maxBoxID and maxOffice bound the names of a box.
const (
	maxBoxID  = 64
	maxOffice = 128
)

// Box is one enrolled box as GET /api/v1/boxes shows it.
type Box struct {
	BoxID       string     `json:"box_id"`
	Office      string     `json:"office"`
	Created     time.Time  `json:"created"`
	LastContact *time.Time `json:"last_contact"`
	// Acked is the box's cursor: its outbox entries up to it are applied.
	Acked uint64 `json:"acked"`
	// LagSeconds is the time since the box's last contact (null before
	// the first): how stale the server's view of that office may be.
	LagSeconds *float64 `json:"lag_seconds"`
	// DelaySeconds is how late the newest record of the last applied
	// batch arrived: the commit time minus the record's end (or start).
	DelaySeconds *float64 `json:"delay_seconds"`
	// Records is the number of call records kept for the box.
	Records int64 `json:"records"`
	// Revoked is when the box's credential was revoked (null: valid).
	Revoked *time.Time `json:"revoked"`
}

// CheckBoxID validates a box id: 1 to 64 of [A-Za-z0-9._-].
func CheckBoxID(id string) error {
	if id == "" || len(id) > maxBoxID {
		return fmt.Errorf("%w: %q", ErrBoxID, id)
	}
	for _, r := range id {
		ok := r == '.' || r == '_' || r == '-' || (r >= '0' && r <= '9') || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z')
		if !ok {
			return fmt.Errorf("%w: %q", ErrBoxID, id)
		}
	}
	return nil
}

// checkOffice validates an office name: 1 to 128 printable characters.
func checkOffice(o string) error {
	if o == "" || len(o) > maxOffice {
		return fmt.Errorf("%w: office %q", ErrBoxID, o)
	}
	for _, r := range o {
		if !unicode.IsPrint(r) {
			return fmt.Errorf("%w: office %q", ErrBoxID, o)
		}
	}
	return nil
}

// AddBox enrols a box and returns its token, shown once: only its hash is
// stored. The enrolment is written to the central audit log.
func (s *Server) AddBox(ctx context.Context, boxID, office string) (string, error) {
	if err := CheckBoxID(boxID); err != nil {
		return "", err
	}
	if err := checkOffice(office); err != nil {
		return "", err
	}
	token, hash, err := newBoxToken(s.cfg.Rand)
	if err != nil {
		return "", err
	}
	_, err = s.pool.Exec(ctx, `INSERT INTO boxes (box_id, office, token_sha256, created) VALUES ($1, $2, $3, $4)`,
		boxID, office, hash, s.now())
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "23505" && pgErr.ConstraintName == "boxes_pkey" {
		return "", fmt.Errorf("%w: %s", ErrExists, boxID)
	}
	if err != nil {
		return "", fmt.Errorf("add box %s: %w", boxID, err)
	}
	s.log.Info("box enrolled", "box", boxID, "office", office)
	return token, nil
}

// RotateBoxToken gives an enrolled box a new token, shown once, and makes
// its old one useless at once; a revoked box is enrolled again. For a
// token that leaked, or a box reinstalled.
func (s *Server) RotateBoxToken(ctx context.Context, boxID string) (string, error) {
	token, hash, err := newBoxToken(s.cfg.Rand)
	if err != nil {
		return "", err
	}
	tag, err := s.pool.Exec(ctx, `UPDATE boxes SET token_sha256 = $2, revoked = NULL WHERE box_id = $1`, boxID, hash)
	if err != nil {
		return "", fmt.Errorf("rotate token of box %s: %w", boxID, err)
	}
	if tag.RowsAffected() == 0 {
		return "", fmt.Errorf("rotate token of box %s: %w", boxID, ErrNotFound)
	}
	s.log.Warn("box token rotated: the old one is refused from now on", "box", boxID)
	return token, nil
}

// RevokeBox refuses the box's credential from now on (a stolen or retired
// box); its records and recordings stay. Revoking a revoked box keeps the
// first time.
func (s *Server) RevokeBox(ctx context.Context, boxID string) error {
	tag, err := s.pool.Exec(ctx, `UPDATE boxes SET revoked = COALESCE(revoked, $2) WHERE box_id = $1`, boxID, s.now())
	if err != nil {
		return fmt.Errorf("revoke box %s: %w", boxID, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("revoke box %s: %w", boxID, ErrNotFound)
	}
	s.log.Warn("box credential revoked", "box", boxID)
	return nil
}

// authBox returns the box whose token raw is, or ErrUnauthorized.
func (s *Server) authBox(ctx context.Context, raw string) (boxID string, err error) {
	if !wellFormedToken(raw) {
		return "", ErrUnauthorized
	}
	conn, err := s.acquireConn(ctx)
	if err != nil {
		return "", fmt.Errorf("authenticate box: %w", err)
	}
	defer conn.Release()
	err = conn.QueryRow(ctx, "SELECT box_id FROM boxes WHERE token_sha256 = $1 AND revoked IS NULL", TokenHash(raw)).Scan(&boxID)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", ErrUnauthorized
	}
	if err != nil {
		return "", fmt.Errorf("authenticate box: %w", err)
	}
	return boxID, nil
}

// Boxes lists the enrolled boxes in box id order.
func (s *Server) Boxes(ctx context.Context) ([]Box, error) {
	rows, err := s.pool.Query(ctx, `SELECT b.box_id, b.office, b.created, b.last_contact, b.acked_seq, b.last_delay_ms,
		(SELECT count(*) FROM calls c WHERE c.box_id = b.box_id), b.revoked
		FROM boxes b ORDER BY b.box_id`)
	if err != nil {
		return nil, fmt.Errorf("list boxes: %w", err)
	}
	now := s.now()
	boxes, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Box, error) {
		var (
			b     Box
			acked int64
			delay *int64
		)
		if err := r.Scan(&b.BoxID, &b.Office, &b.Created, &b.LastContact, &acked, &delay, &b.Records, &b.Revoked); err != nil {
			return b, err
		}
		if b.Revoked != nil {
			rv := b.Revoked.UTC()
			b.Revoked = &rv
		}
		b.Acked = uint64(acked)
		b.Created = b.Created.UTC()
		if b.LastContact != nil {
			lc := b.LastContact.UTC()
			lag := max(now.Sub(lc).Seconds(), 0)
			b.LastContact, b.LagSeconds = &lc, &lag
		}
		if delay != nil {
			d := float64(*delay) / 1000
			b.DelaySeconds = &d
		}
		return b, nil
	})
	if err != nil {
		return nil, fmt.Errorf("list boxes: %w", err)
	}
	return boxes, nil
}
