package access_test

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/switchtap/switchtap/access"
	"github.com/switchtap/switchtap/storage"
)

// ExampleService shows the first start of a box: the generated admin logs
// in, a session authenticates a request, and the audit chain verifies.
func ExampleService() {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "access-example")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(dir)
	st, err := storage.Open(dir, storage.WithLogger(discard()))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer st.Close()

	s, err := access.New(st.KV("access"), access.Config{
		Now:   func() time.Time { return time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC) },
		Argon: tiny(), // the defaults cost 7 MB and tens of ms per hash
	}, discard())
	if err != nil {
		fmt.Println(err)
		return
	}
	password, created, err := s.EnsureAdmin(ctx)
	if err != nil {
		fmt.Println(err)
		return
	}
	sess, err := s.Login(ctx, "admin", password, "192.0.2.10")
	if err != nil {
		fmt.Println(err)
		return
	}
	u, err := s.SessionUser(ctx, sess.Token)
	if err != nil {
		fmt.Println(err)
		return
	}
	rep, err := s.Verify(ctx)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(created, u.Name, u.Role, u.MustChange, sess.Expires.Format(time.RFC3339))
	fmt.Println(rep.Entries, len(rep.Problems))
	// Output:
	// true admin admin true 2026-03-02T20:00:00Z
	// 2 0
}
