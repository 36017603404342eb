// Command switchtap is the switchboard call tap: a daemon that reads SIP
// from a mirror port and records every call, plus the tools that read its
// records.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

const usage = `switchtap — SIP call tap for a switchboard mirror port

usage:
  switchtap run -i IFACE [--config FILE] [--data-dir DIR]   capture and record calls (daemon, console, API)
  switchtap run --pcap FILE... [--realtime]                 the whole daemon on capture files (keeps serving)
  switchtap replay [--json|--alarms] [--record-dir DIR] FILE...
                                                            run pcap/pcapng files through the same pipeline
  switchtap calls [--from DATE] [--to DATE] [--json]        list stored call records
  switchtap recording export ID [--pcm] [-o FILE]           write a call's recording (as stored, or 16-bit PCM)
  switchtap user add NAME --role tecnico|jefe|admin|recepcionista [--operator NAME]
                                                            accounts (also passwd, disable, enable, role, operator, list, token)
  switchtap audit verify | audit list [--from] [--to]       check the audit log's hash chain, or print it
  switchtap report figures [--month YYYY-MM] [--json]       the month's figures (default: the current month)
  switchtap report show [--month YYYY-MM] [--json]          the month's report: review, due date, tabulation
  switchtap report export --format xlsx|pdf|csv [--table T] [--month YYYY-MM] [-o FILE]
                                                            the month's report as a file (audited)
  switchtap sample draw|show|verify|replace --month YYYY-MM [--seed N] [--redraw] [--id ID] [--reason R]
                                                            the month's random sample (verify: exit 1 on a mismatch)
  switchtap central --config FILE                           the central reporting server (PostgreSQL)
  switchtap central box add BOX_ID --office NAME            enrol a box: prints its token once
  switchtap device test [--config FILE] [--step 1s]         cycle every lamp and the buzzer, report the button
  switchtap config check [--config FILE]                    validate the configuration (OK, or the key in error)
  switchtap doctor [--config FILE] [-i IFACE] [--listen 10s]
                                                            check the box: interface, SIP seen, clock, GPIO, disk
  switchtap version                                         print the version

exit status: 0 done; 1 error; 2 usage mistake; 3 partial input: replay read a
capture file cut short (tcpdump killed, disk full) and printed the calls read
before the cut, with a warning naming the file and byte offset.
signals: SIGTERM, SIGINT and SIGHUP stop the daemon cleanly (open calls and
queued records are stored, exit 0); under systemd, Restart= starts it again,
which is also how a changed configuration is read.
`

const configDefaultHint = "/etc/switchtap/switchtap.yaml if present"

// errUsage marks a command-line mistake (exit status 2).
var errUsage = errors.New("usage")

// errAuditBroken is an audit log whose chain does not verify (exit 1).
var errAuditBroken = errors.New("audit log broken")

// errPartial marks output made from input that was cut short: what was
// read is printed, and the exit status (3) says it is not the whole.
var errPartial = errors.New("partial input")

// Exit statuses, documented in the usage text.
const (
	exitError   = 1
	exitUsage   = 2
	exitPartial = 3
)

// stopSignals end the daemon cleanly. SIGHUP is one of them (issue 9 §4:
// it used to kill the process with status 129 and lose the open calls):
// stopping cleanly and letting systemd restart the daemon reloads the
// configuration without a second code path that could half-apply it.
var stopSignals = []os.Signal{os.Interrupt, syscall.SIGTERM, syscall.SIGHUP}

func main() {
	// Nothing switchtap writes (store, recordings, password file, exports)
	// is for other local users: badger creates its files 0644 and the
	// recorder's 0600 intent must not depend on the caller's umask
	// (issue 9 §5).
	syscall.Umask(0o077)
	ctx, stop := signal.NotifyContext(context.Background(), stopSignals...)
	err := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "switchtap:", err)
		os.Exit(exitStatus(err))
	}
}

// exitStatus maps an error to the documented exit status.
func exitStatus(err error) int {
	switch {
	case err == nil:
		return 0
	case errors.Is(err, errUsage):
		return exitUsage
	case errors.Is(err, errPartial):
		return exitPartial
	}
	return exitError
}

func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return fmt.Errorf("%w: no command", errUsage)
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "run":
		return cmdRun(ctx, rest, stderr)
	case "replay":
		return cmdReplay(ctx, rest, stdout, stderr)
	case "calls":
		return cmdCalls(ctx, rest, stdout, stderr)
	case "device":
		return cmdDevice(ctx, rest, stdout, stderr)
	case "config":
		return cmdConfig(ctx, rest, stdout, stderr)
	case "doctor":
		return cmdDoctor(ctx, rest, stdout, stderr)
	case "recording":
		return cmdRecording(ctx, rest, stdout, stderr)
	case "user":
		return cmdUser(ctx, rest, stdin, stdout, stderr)
	case "audit":
		return cmdAudit(ctx, rest, stdout, stderr)
	case "report":
		return cmdReport(ctx, rest, stdout, stderr)
	case "sample":
		return cmdSample(ctx, rest, stdout, stderr)
	case "central":
		return cmdCentral(ctx, rest, stdout, stderr)
	case "version", "--version", "-v":
		fmt.Fprintln(stdout, "switchtap", version)
		return nil
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprint(stderr, usage)
	return fmt.Errorf("%w: unknown command %q", errUsage, cmd)
}

// newFlagSet returns a flag set that reports errors instead of exiting.
func newFlagSet(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return fs
}

// parseFlags parses flags, allowing them after positional arguments too
// ("replay a.pcap --json").
func parseFlags(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, fmt.Errorf("%w: %w", errUsage, err)
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

func newLogger(w io.Writer, level string) *slog.Logger {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		l = slog.LevelInfo
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: l, ReplaceAttr: nanoTime}))
}

// nanoTime writes every time in the log in UTC to the nanosecond, so that
// a log line (a lamp switched on) can be compared with capture times.
func nanoTime(_ []string, a slog.Attr) slog.Attr {
	if a.Value.Kind() == slog.KindTime {
		a.Value = slog.StringValue(a.Value.Time().UTC().Format(time.RFC3339Nano))
	}
	return a
}
