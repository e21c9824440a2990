//go:build !linux

package identity

const keyWorkersSupported = false

func keyWorkerLowerPriority() {}
