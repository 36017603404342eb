package web

import "github.com/switchtap/switchtap/report"

// The services of package report satisfy the interfaces web declares.
var (
	_ Evaluations = (*report.Evaluator)(nil)
	_ Review      = (*report.Reviewer)(nil)
)
