// Package report computes what ETAPA 2 of the switchboard procedure asks of
// the técnico and the jefe UACT (issue 10): the month's service figures
// (step 01, figures*.go, charts*.go) and the random sample of answered
// calls to evaluate (step 02, sample*.go). It reads call records only
// through the Calls interface, so the central server can run the same code
// over its own database.
package report
