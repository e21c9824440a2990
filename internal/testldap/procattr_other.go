//go:build !linux

package testldap

import "syscall"

// procAttr: only Linux can tie slapd's life to the test binary's.
func procAttr() *syscall.SysProcAttr { return nil }
