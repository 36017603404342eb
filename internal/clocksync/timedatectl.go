package clocksync

import (
	"context"
	"fmt"
	"os/exec"
	"strings"
	"time"
)

// timedatectlTimeout bounds the D-Bus round trip (timedated may have to be
// started by the bus first).
const timedatectlTimeout = 5 * time.Second

// readTimedatectl asks systemd-timedated, which reads adjtimex itself, and
// is what `timedatectl status` shows as "System clock synchronized".
func readTimedatectl(ctx context.Context) (State, error) {
	ctx, cancel := context.WithTimeout(ctx, timedatectlTimeout)
	defer cancel()
	out, err := exec.CommandContext(ctx, "timedatectl", "show", "--property=NTPSynchronized", "--value").Output()
	if err != nil {
		return State{}, fmt.Errorf("timedatectl: %w", err)
	}
	return parseTimedatectl(string(out))
}

// parseTimedatectl reads `timedatectl show --property=NTPSynchronized
// --value`: "yes" or "no".
func parseTimedatectl(out string) (State, error) {
	switch v := strings.TrimSpace(out); v {
	case "yes":
		return State{Synchronised: true, Source: SourceTimedatectl}, nil
	case "no":
		return State{Source: SourceTimedatectl}, nil
	default:
		return State{}, fmt.Errorf("timedatectl: NTPSynchronized %q: want yes or no", v)
	}
}
