package testldap

import "syscall"

// procAttr has the kernel kill slapd if the test binary dies without
// cleaning up (a panic, a test timeout), so that no server outlives it.
func procAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
