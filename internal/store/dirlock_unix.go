//go:build unix

package store

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
)

// LockFile is the file a serving node locks in its SQLite data directory.
const LockFile = "galenix.lock"

// lockDataDir takes an exclusive lock on the data directory, held until the
// returned file is closed (or the process ends, however it ends). A second
// node on the same directory is refused: two processes writing one SQLite
// file through two caches is not a cluster.
func lockDataDir(dir string) (*os.File, error) {
	f, err := os.OpenFile(filepath.Join(dir, LockFile), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("locking the data directory: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("another galenix is already serving the data directory %s; one node per SQLite data directory (use PostgreSQL for several nodes)", dir)
		}
		return nil, fmt.Errorf("locking the data directory: %w", err)
	}
	return f, nil
}

// freeSpace is the room left, in bytes, on the disk of dir.
func freeSpace(dir string) (uint64, error) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		return 0, err
	}
	return st.Bavail * uint64(st.Bsize), nil
}
