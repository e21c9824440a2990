//go:build !unix

package store

import "os"

// LockFile is the file a serving node locks in its SQLite data directory.
const LockFile = "galenix.lock"

// lockDataDir does not lock where flock is not available.
func lockDataDir(dir string) (*os.File, error) { return nil, nil }

// freeSpace is not known where statfs is not available.
func freeSpace(dir string) (uint64, error) { return ^uint64(0), nil }
