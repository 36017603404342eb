package web

import (
	"net/http/httptest"
	"strings"
	"testing"

	"golang.org/x/net/html"
)

// Small DOM helpers over golang.org/x/net/html for the console tests: the
// pages are checked as a browser parses them, not as strings.

// parsePage parses a response body as HTML.
func parsePage(t testing.TB, w *httptest.ResponseRecorder) *html.Node {
	t.Helper()
	doc, err := html.Parse(strings.NewReader(w.Body.String()))
	if err != nil {
		t.Fatalf("parse page: %v", err)
	}
	return doc
}

// findAll returns the elements under n that match.
func findAll(n *html.Node, match func(*html.Node) bool) []*html.Node {
	var out []*html.Node
	for d := range n.Descendants() {
		if d.Type == html.ElementNode && match(d) {
			out = append(out, d)
		}
	}
	return out
}

// find returns the first element that matches, or nil.
func find(n *html.Node, match func(*html.Node) bool) *html.Node {
	if all := findAll(n, match); len(all) > 0 {
		return all[0]
	}
	return nil
}

// attr returns n's attribute key and whether it is there.
func attr(n *html.Node, key string) (string, bool) {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val, true
		}
	}
	return "", false
}

// attrOf returns n's attribute key, "" when absent.
func attrOf(n *html.Node, key string) string {
	v, _ := attr(n, key)
	return v
}

// hasClass reports whether n's class list has c.
func hasClass(n *html.Node, c string) bool {
	for _, f := range strings.Fields(attrOf(n, "class")) {
		if f == c {
			return true
		}
	}
	return false
}

// textOf is the text content of n.
func textOf(n *html.Node) string {
	var b strings.Builder
	for d := range n.Descendants() {
		if d.Type == html.TextNode {
			b.WriteString(d.Data)
		}
	}
	return b.String()
}

// tag matches elements by name, and by attributes given as key, value
// pairs ("" value: the attribute is present).
func tag(name string, kv ...string) func(*html.Node) bool {
	return func(n *html.Node) bool {
		if n.Data != name {
			return false
		}
		for i := 0; i+1 < len(kv); i += 2 {
			v, ok := attr(n, kv[i])
			if !ok || (kv[i+1] != "" && v != kv[i+1]) {
				return false
			}
		}
		return true
	}
}

// byID matches the element with id.
func byID(id string) func(*html.Node) bool {
	return func(n *html.Node) bool { return attrOf(n, "id") == id }
}

// within returns the elements matching inner under the first element
// matching outer (none when outer is absent).
func within(doc *html.Node, outer, inner func(*html.Node) bool) []*html.Node {
	o := find(doc, outer)
	if o == nil {
		return nil
	}
	return findAll(o, inner)
}
