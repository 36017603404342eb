// Package depspin keeps modules in go.mod until the packages that use them land.
package depspin
import (
 _ "golang.org/x/crypto/argon2"
 _ "github.com/chromedp/chromedp"
 _ "golang.org/x/sync/errgroup"
 _ "golang.org/x/term"
)
