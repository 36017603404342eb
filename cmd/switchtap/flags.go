package main

import (
	"flag"
	"os"
	"strings"

	"github.com/switchtap/switchtap/config"
)

// commonFlags are the flags every subcommand takes.
type commonFlags struct {
	config, dataDir, logLevel string
}

func addCommonFlags(fs *flag.FlagSet) *commonFlags {
	c := &commonFlags{}
	fs.StringVar(&c.config, "config", "", "configuration file (default "+configDefaultHint+")")
	fs.StringVar(&c.dataDir, "data-dir", "", "data directory (overrides data_dir:)")
	fs.StringVar(&c.logLevel, "log-level", "", "debug, info, warn or error (overrides log_level:)")
	return c
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
