package access

import (
	"context"
	"testing"
	"time"
)

// BenchmarkHashPassword measures one argon2id hash under the default
// (OWASP) parameters: the cost of every login and password change, in time
// and in memory (B/op), which the 512 MB board must afford maxHashers at a
// time.
func BenchmarkHashPassword(b *testing.B) {
	ctx := context.Background()
	f := newFixture(b, func(c *Config) { c.Argon = DefaultArgon() })
	b.ReportAllocs()
	start := time.Now()
	for b.Loop() {
		if _, err := f.s.hashPassword(ctx, "una clave larga", f.s.cfg.Argon); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(time.Since(start).Microseconds())/1000/float64(b.N), "ms/hash")
}

// BenchmarkSessionUserMem is SessionUser without the store's cost: token
// check, hash, two reads and two JSON decodes.
func BenchmarkSessionUserMem(b *testing.B) {
	ctx := context.Background()
	f := newFixture(b, nil)
	f.addUser(b, "ana", RoleTecnico)
	sess, err := f.s.Login(ctx, "ana", pw, "")
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := f.s.SessionUser(ctx, sess.Token); err != nil {
			b.Fatal(err)
		}
	}
}
