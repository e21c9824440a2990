//go:build unix

package store_test

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"galenix/internal/audit"
	"galenix/internal/identity"
	"galenix/internal/store"
)

// TestDataDirPrivate checks that whatever the umask, every file galenix
// makes in the SQLite data directory (the database, its write-ahead log and
// shared memory, the lock, the keys) is 0600 and every directory 0700; and
// that a data directory an older galenix left readable by others is made
// private when opened. It changes the process's umask: it runs alone, never
// in parallel.
func TestDataDirPrivate(t *testing.T) {
	for _, mask := range []int{0o022, 0o002, 0} {
		t.Run(fmt.Sprintf("umask %04o", mask), func(t *testing.T) {
			old := syscall.Umask(mask)
			defer syscall.Umask(old)
			dir := filepath.Join(t.TempDir(), "data", "galenix")
			key, err := store.CreateSecretKey(filepath.Join(dir, store.SecretKeyFile))
			must(t, err)
			_, err = audit.CreateKey(filepath.Join(dir, audit.KeyFile))
			must(t, err)
			use := func(username string) {
				t.Helper()
				db, err := store.Open(context.Background(), store.Config{DataDir: dir, Serve: true, SecretKey: key})
				must(t, err)
				acc := identity.Account{Username: username, Name: "Claire Dubois", Roles: []identity.Role{identity.RoleQA}}
				newAccount(t, db, &acc)
				_, me := signIn(t, db.Identity(), identity.Credentials{Username: username, Password: password})
				_, err = db.Identity().EnrollTOTP(identity.WithActor(context.Background(), me))
				must(t, err)
				for _, f := range []string{store.SQLiteFile, store.SQLiteFile + "-wal", store.SQLiteFile + "-shm", store.LockFile} {
					if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
						t.Errorf("%s: %v (the walk below would not see it)", f, err)
					}
				}
				wantPrivate(t, dir)
				must(t, db.Close())
				wantPrivate(t, dir)
			}
			use("claire")

			// An older galenix's data directory, readable by all.
			must(t, os.Chmod(dir, 0o755))
			must(t, filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
				if err != nil || d.IsDir() {
					return err
				}
				return os.Chmod(p, 0o644)
			}))
			must(t, os.Remove(filepath.Join(dir, store.LockFile))) // made again 0600
			use("bruno")
		})
	}
}

// wantPrivate fails the test on any file under dir that its group or others
// may read or write, and on any directory that is not 0700.
func wantPrivate(t *testing.T, dir string) {
	t.Helper()
	n := 0
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		n++
		switch mode := info.Mode().Perm(); {
		case d.IsDir() && mode != 0o700:
			t.Errorf("directory %s: mode %v, want 0700", p, mode)
		case !d.IsDir() && mode&0o077 != 0:
			t.Errorf("file %s: mode %v, want none for group and others", p, mode)
		}
		return nil
	})
	must(t, err)
	if n < 5 {
		t.Errorf("%d entries walked, want the directory and its files", n)
	}
}
