package main

import (
	"testing"

	"go.yaml.in/yaml/v3"
)

// yamlNode parses a document for keyAtLine.
type yamlNode struct{ n *yaml.Node }

func (y *yamlNode) parse(t *testing.T, doc string) {
	t.Helper()
	y.n = &yaml.Node{}
	if err := yaml.Unmarshal([]byte(doc), y.n); err != nil {
		t.Fatal(err)
	}
}
