package main

import (
	"flag"
	"io"
	"os"
	"strings"
	"time"

	"github.com/switchtap/switchtap/config"
)

// commonFlags are the flags every subcommand takes.
type commonFlags struct {
	config, dataDir, logLevel string
}

func addCommonFlags(fs *flag.FlagSet) *commonFlags {
	c := &commonFlags{}
	addConfigFlag(fs, &c.config)
	fs.StringVar(&c.dataDir, "data-dir", "", "data directory (overrides data_dir:)")
	addLogLevelFlag(fs, &c.logLevel)
	return c
}

// addConfigFlag is --config of every command that reads the daemon's
// configuration through loadConfig (the default file when present, else
// the built-in defaults), also those that take no other common flag.
func addConfigFlag(fs *flag.FlagSet, p *string) {
	fs.StringVar(p, "config", "", "configuration file (default "+configDefaultHint+")")
}

// addLogLevelFlag is --log-level, over the log_level: of the file read.
func addLogLevelFlag(fs *flag.FlagSet, p *string) {
	fs.StringVar(p, "log-level", "", "debug, info, warn or error (overrides log_level:)")
}

// load reads the configuration and applies the flags over it.
func (c *commonFlags) load() (config.Config, error) {
	cfg, err := loadConfig(c.config)
	if err != nil {
		return cfg, err
	}
	if c.dataDir != "" {
		cfg.DataDir = c.dataDir
	}
	if c.logLevel != "" {
		cfg.LogLevel = c.logLevel
	}
	return cfg, nil
}

// open loads the configuration and reaches the daemon or the store.
func (c *commonFlags) open(stderr io.Writer) (*local, error) {
	cfg, err := c.load()
	if err != nil {
		return nil, err
	}
	return openLocal(cfg, stderr)
}

// rangeFlags are --from and --to of the commands that list.
type rangeFlags struct{ from, to string }

func addRangeFlags(fs *flag.FlagSet) *rangeFlags {
	r := &rangeFlags{}
	fs.StringVar(&r.from, "from", "", "first day (YYYY-MM-DD, UTC) or RFC 3339 time; default: all")
	fs.StringVar(&r.to, "to", "", "last day included (YYYY-MM-DD) or RFC 3339 time (excluded); default: all")
	return r
}

// parse returns [start, end); an open side is the whole store's.
func (r *rangeFlags) parse() (start, end time.Time, err error) {
	if start, err = parseWhen(r.from, time.Unix(0, 0), false); err != nil {
		return start, end, err
	}
	end, err = parseWhen(r.to, time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC), true)
	return start, end, err
}

// loadConfig reads the file named by --config; with none, the default file
// if it exists, else the built-in defaults.
func loadConfig(path string) (config.Config, error) {
	if path == "" {
		if _, err := os.Stat(config.DefaultPath); err == nil {
			path = config.DefaultPath
		}
	}
	return config.Load(path)
}

// listFlag collects a repeated flag.
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(s string) error { *l = append(*l, s); return nil }
