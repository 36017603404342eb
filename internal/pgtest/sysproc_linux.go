package pgtest

import "syscall"

// sysProcAttr runs the child as the postgres account when needed, and has
// the kernel kill it if the test binary dies without cleaning up.
func (c *Cluster) sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Credential: c.cred, Pdeathsig: syscall.SIGQUIT, Setpgid: true}
}
