package storage_test

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/switchtap/switchtap/sip"
	"github.com/switchtap/switchtap/storage"
)

func ExampleStore_Calls() {
	dir, err := os.MkdirTemp("", "switchtap-store")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(dir)
	s, err := storage.Open(dir)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer s.Close()

	ctx := context.Background()
	march := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	for i, id := range []string{"b", "a", "c"} {
		c := sip.Call{ID: id, InviteAt: march.Add(time.Duration(i%2) * time.Hour), EndReason: sip.EndCompleted}
		if err := s.PutCall(ctx, c); err != nil {
			fmt.Println(err)
			return
		}
	}
	_ = s.Calls(ctx, march, march.AddDate(0, 1, 0), func(c sip.Call) error {
		fmt.Println(c.InviteAt.Format(time.TimeOnly), c.ID)
		return nil
	})
	// Output:
	// 00:00:00 b
	// 00:00:00 c
	// 01:00:00 a
}
