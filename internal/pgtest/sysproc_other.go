//go:build !linux

package pgtest

import "syscall"

// sysProcAttr runs the child as the postgres account when needed.
func (c *Cluster) sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Credential: c.cred, Setpgid: true}
}
