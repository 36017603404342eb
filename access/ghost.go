package access

import (
	"sync"
	"time"
)

// maxGhosts bounds the unknown names whose failures are remembered. Past
// it the stale ones go, and if none is stale all go: a spray of random
// names then weakens only the mimicry, never the memory bound.
const maxGhosts = 4096

// ghost is the failure count of a name that has no account. Counting them
// like real accounts (slow-down, lock) keeps Login from telling which
// names exist by its delays or a lock that never comes.
type ghost struct {
	failures    int
	lockedUntil time.Time
	last        time.Time
}

// ghosts are the remembered unknown names, in memory only.
type ghosts struct {
	mu sync.Mutex
	m  map[string]*ghost
}

// lockedUntil reports whether the unknown name is locked at now.
func (g *ghosts) lockedUntil(name string, now time.Time) (time.Time, bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	e := g.m[name]
	if e == nil || e.lockedUntil.IsZero() || !now.Before(e.lockedUntil) {
		return time.Time{}, false
	}
	return e.lockedUntil, true
}

// fail counts a failure of the unknown name as failLogin counts a real
// account's: n is the consecutive failures, until is set while locked, and
// newLock says this failure locked it.
func (g *ghosts) fail(name string, now time.Time, maxFailures int, lockFor time.Duration) (n int, until time.Time, newLock bool) {
	if CheckName(name) != nil {
		// A name that cannot exist gives nothing away: no need to
		// remember it.
		return 1, time.Time{}, false
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	e := g.m[name]
	if e == nil {
		if len(g.m) >= maxGhosts {
			g.pruneLocked(now, lockFor)
		}
		if len(g.m) >= maxGhosts {
			clear(g.m)
		}
		e = &ghost{}
		g.m[name] = e
	}
	if !e.lockedUntil.IsZero() && !now.Before(e.lockedUntil) {
		e.failures, e.lockedUntil = 0, time.Time{}
	}
	e.failures++
	e.last = now
	if e.failures >= maxFailures && e.lockedUntil.IsZero() {
		e.lockedUntil, newLock = now.Add(lockFor), true
	}
	return e.failures, e.lockedUntil, newLock
}

// prune forgets the names that are not locked and have not failed for a
// day.
func (g *ghosts) prune(now time.Time) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.pruneLocked(now, 0)
}

func (g *ghosts) pruneLocked(now time.Time, lockFor time.Duration) {
	for k, e := range g.m {
		if now.Sub(e.last) > 24*time.Hour+lockFor && (e.lockedUntil.IsZero() || !now.Before(e.lockedUntil)) {
			delete(g.m, k)
		}
	}
}
