//go:build !linux

package identity

const keyWorkersSupported = false

const keyWorkerProgram = ""

func keyWorkerLowerPriority() {}
