//go:build !linux

package keyworker

const supported = false

const program = ""

func lowerPriority() {}
