//go:build darwin || dragonfly || freebsd || linux || netbsd || openbsd

package keys

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
)

// lockDir takes an advisory flock on dir/keys.lock: exclusive for writers
// (Open, Rotate), shared for Reload. flock locks belong to the open file, not
// the process, so two Sets in one process exclude each other too, which is
// what the tests rely on. The lock is released by the returned func, or by
// the kernel if the process dies.
func lockDir(dir string, exclusive bool) (unlock func(), err error) {
	path := filepath.Join(dir, lockName)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, fileMode)
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	how := syscall.LOCK_SH
	if exclusive {
		how = syscall.LOCK_EX
	}
	for {
		err = syscall.Flock(int(f.Fd()), how)
		if !errors.Is(err, syscall.EINTR) {
			break
		}
	}
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	return func() {
		// Closing the descriptor releases the lock.
		f.Close()
	}, nil
}

// syncDir makes renames and new entries in dir durable (fsync(2) on a file
// does not cover its directory entry).
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	if err := d.Sync(); err != nil {
		d.Close()
		return err
	}
	return d.Close()
}
