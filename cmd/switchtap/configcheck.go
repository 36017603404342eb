package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/switchtap/switchtap/config"
)

// cmdConfig runs `switchtap config check [--config FILE]`: the file through
// the daemon's own strict reading (config.Load: unknown keys, bad values,
// bounds), so an installer learns of a typo before a restart does. OK is
// printed on success; an error names the key (a YAML error also gets the
// key at its line) and the exit status is 1.
func cmdConfig(_ context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "check" {
		return fmt.Errorf("%w: config check [--config FILE]", errUsage)
	}
	fs := newFlagSet("config check", stderr)
	var cfgPath string
	addConfigFlag(fs, &cfgPath)
	pos, err := parseFlags(fs, args[1:])
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return fmt.Errorf("%w: config check takes no arguments (use --config FILE)", errUsage)
	}
	path := cfgPath
	if path == "" {
		if _, err := os.Stat(config.DefaultPath); err != nil {
			fmt.Fprintf(stdout, "OK no %s: built-in defaults\n", config.DefaultPath)
			return nil
		}
		path = config.DefaultPath
	}
	if _, err := config.Load(path); err != nil {
		b, _ := os.ReadFile(path) // read again only to name the keys of a YAML error
		return fmt.Errorf("config check: %w", withKeys(err, b))
	}
	fmt.Fprintf(stdout, "OK %s\n", path)
	return nil
}

// yamlLine finds the "line N: " of each YAML decoding error, and the
// field an unknown-key error names.
var (
	yamlLine     = regexp.MustCompile(`line (\d+): (field (\S+) not found)?`)
	quotedValues = regexp.MustCompile(`"([^"]+)"`)
)

// withKeys returns err reworded to name the keys it is about, keeping its
// chain. The YAML decoder names only a line and a Go type: the key path is
// added after every "line N: " ("line 12: calls.setup_timeout: cannot
// unmarshal…"). A value's own parser (sizes) names neither: the key holding
// the quoted value is added at the end. config.Validate's errors name their
// keys already and are left alone.
func withKeys(err error, doc []byte) error {
	var root yaml.Node
	if len(doc) == 0 || yaml.Unmarshal(doc, &root) != nil {
		return err
	}
	msg := err.Error()
	var te *yaml.TypeError
	if errors.As(err, &te) {
		msg = yamlLine.ReplaceAllStringFunc(msg, func(m string) string {
			sub := yamlLine.FindStringSubmatch(m)
			n, _ := strconv.Atoi(sub[1])
			if key := keyAtLine(&root, n, sub[3]); key != "" {
				return "line " + sub[1] + ": " + key + ": " + sub[2]
			}
			return m
		})
	} else if !errors.Is(err, config.ErrInvalid) || strings.Contains(msg, "parse: ") {
		for _, q := range quotedValues.FindAllStringSubmatch(msg, -1) {
			if key, line := keyOfValue(&root, q[1]); key != "" && !strings.Contains(msg, key) {
				msg += fmt.Sprintf(" (%s, line %d)", key, line)
				break
			}
		}
	}
	if msg == err.Error() {
		return err
	}
	return &keyedError{msg: msg, err: err}
}

// keyedError is an error with a reworded message and its original chain.
type keyedError struct {
	msg string
	err error
}

func (e *keyedError) Error() string { return e.msg }
func (e *keyedError) Unwrap() error { return e.err }

// keyAtLine returns the dotted path of the key called field on line, or
// with no field the deepest key or sequence item starting on line; ""
// when there is none.
func keyAtLine(root *yaml.Node, line int, field string) string {
	found := ""
	walkKeys(root, "", func(path string, key, value *yaml.Node) bool {
		if key.Line != line || field != "" && key.Value != field {
			return true
		}
		found = path // keep walking: a deeper one on the same line wins
		return field == ""
	})
	return found
}

// keyOfValue returns the path and line of the only scalar holding value,
// "" when none or several do.
func keyOfValue(root *yaml.Node, value string) (string, int) {
	found, line, n := "", 0, 0
	walkKeys(root, "", func(path string, key, v *yaml.Node) bool {
		if v.Kind == yaml.ScalarNode && v.Value == value {
			found, line = path, v.Line
			n++
		}
		return true
	})
	if n != 1 {
		return "", 0
	}
	return found, line
}

// walkKeys calls fn with the dotted path of every mapping key (key and
// value nodes) and every sequence item (its node twice), depth first,
// until fn returns false.
func walkKeys(n *yaml.Node, path string, fn func(path string, key, value *yaml.Node) bool) bool {
	switch n.Kind {
	case yaml.DocumentNode:
		for _, c := range n.Content {
			if !walkKeys(c, path, fn) {
				return false
			}
		}
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			p := k.Value
			if path != "" {
				p = path + "." + k.Value
			}
			if !fn(p, k, v) || !walkKeys(v, p, fn) {
				return false
			}
		}
	case yaml.SequenceNode:
		for i, c := range n.Content {
			p := fmt.Sprintf("%s[%d]", path, i)
			if !fn(p, c, c) || !walkKeys(c, p, fn) {
				return false
			}
		}
	}
	return true
}
