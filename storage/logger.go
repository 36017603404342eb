package storage

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
)

// badgerLogger adapts badger's printf logger to slog. badger logs every
// compaction and file rotation at INFO, so Infof goes to Debug.
type badgerLogger struct {
	log *slog.Logger
}

func (l badgerLogger) Errorf(f string, a ...any)   { l.logf(slog.LevelError, f, a) }
func (l badgerLogger) Warningf(f string, a ...any) { l.logf(slog.LevelWarn, f, a) }
func (l badgerLogger) Infof(f string, a ...any)    { l.logf(slog.LevelDebug, f, a) }
func (l badgerLogger) Debugf(f string, a ...any)   { l.logf(slog.LevelDebug, f, a) }

// logf formats only when the level is enabled: badger's debug lines are many.
func (l badgerLogger) logf(level slog.Level, f string, a []any) {
	ctx := context.Background()
	if !l.log.Enabled(ctx, level) {
		return
	}
	l.log.Log(ctx, level, "badger", "detail", strings.TrimSpace(fmt.Sprintf(f, a...)))
}
