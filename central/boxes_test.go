package central

import (
	"context"
	"errors"
	"net/http"
	"testing"

	"github.com/switchtap/switchtap/internal/pgtest"
)

// TestBoxTokenRotateRevoke: a rotated token refuses the old one at once and
// takes the new; a revoked box is refused whatever it sends, keeps its
// records, shows as revoked, and a new token enrols it again.
func TestBoxTokenRotateRevoke(t *testing.T) {
	t.Parallel()
	pgtest.Need(t, cluster)
	e := newEnv(t, nil, nil)
	ctx := context.Background()
	b := e.addBox("caja-rot", "Oficina")
	b.writeN(6)
	if r := b.send(1, uint64(len(b.outbox))); r.status != http.StatusOK {
		t.Fatalf("first batch: %d", r.status)
	}
	old := b.token
	tok, err := e.s.RotateBoxToken(ctx, b.id)
	if err != nil || tok == old || !wellFormedToken(tok) {
		t.Fatalf("rotate: %q, %v", tok, err)
	}
	if r := b.cursor(); r.status != http.StatusUnauthorized {
		t.Errorf("old token after rotation: %d, want 401", r.status)
	}
	b.token = tok
	if r := b.cursor(); r.status != http.StatusOK || r.acked != uint64(len(b.outbox)) {
		t.Errorf("new token: %d acked %d", r.status, r.acked)
	}
	if err := e.s.RevokeBox(ctx, b.id); err != nil {
		t.Fatal(err)
	}
	b.write("caja-rot-leg-late", t0)
	if r := b.send(uint64(len(b.outbox)), uint64(len(b.outbox))); r.status != http.StatusUnauthorized {
		t.Errorf("revoked box's batch: %d, want 401", r.status)
	}
	boxes, err := e.s.Boxes(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var got *Box
	for i := range boxes {
		if boxes[i].BoxID == b.id {
			got = &boxes[i]
		}
	}
	if got == nil || got.Revoked == nil || got.Records == 0 {
		t.Fatalf("box after revocation %+v: want revoked, records kept", got)
	}
	first := *got.Revoked
	if err := e.s.RevokeBox(ctx, b.id); err != nil {
		t.Fatal(err)
	}
	if boxes, _ := e.s.Boxes(ctx); boxes[0].Revoked == nil || !boxes[0].Revoked.Equal(first) {
		t.Errorf("a second revocation moved the time: %v, want %v", boxes[0].Revoked, first)
	}
	if b.token, err = e.s.RotateBoxToken(ctx, b.id); err != nil {
		t.Fatal(err)
	}
	if r := b.cursor(); r.status != http.StatusOK {
		t.Errorf("re-enrolled box: %d", r.status)
	}
	for _, err := range []error{e.s.RevokeBox(ctx, "nadie"), func() error { _, err := e.s.RotateBoxToken(ctx, "nadie"); return err }()} {
		if !errors.Is(err, ErrNotFound) {
			t.Errorf("unknown box: %v, want ErrNotFound", err)
		}
	}
}
