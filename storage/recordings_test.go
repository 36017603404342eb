package storage

import (
	"context"
	"testing"
	"time"
)

func TestKeepAndDeletions(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s := openStore(t, dir)
	if r, err := s.Kept(ctx, "a"); err != nil || r != "" {
		t.Fatalf("Kept before SetKeep = %q, %v", r, err)
	}
	if err := s.SetKeep(ctx, "a", "sampled 2026-03"); err != nil {
		t.Fatal(err)
	}
	ds := []Deletion{
		{At: time.Date(2026, 5, 2, 0, 0, 0, 0, time.UTC), RecordID: "y", Path: "2026/02/01/y.wav", Bytes: 10, Reason: "max_age"},
		{At: time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC), RecordID: "x", Path: "2026/02/01/x.wav", Bytes: 20, Reason: "max_total"},
	}
	if err := s.PutDeletions(ctx, ds); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = openStore(t, dir)
	if r, err := s.Kept(ctx, "a"); err != nil || r != "sampled 2026-03" {
		t.Fatalf("Kept after reopen = %q, %v", r, err)
	}
	var got []string
	if err := s.Deletions(ctx, func(d Deletion) error { got = append(got, d.RecordID+":"+d.Reason); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0] != "x:max_total" || got[1] != "y:max_age" {
		t.Fatalf("deletions %v, want oldest first", got)
	}
	if err := s.SetKeep(ctx, "a", ""); err != nil {
		t.Fatal(err)
	}
	if r, _ := s.Kept(ctx, "a"); r != "" {
		t.Fatalf("keep not removed: %q", r)
	}
}
