//go:build unix

package store

import (
	"errors"
	"os"
	"syscall"
)

// mapShm maps the first page of the -shm file read-only and shared. SQLite
// never shrinks that file while a connection of this process has the
// database open, so the mapping stays backed.
func mapShm(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	n := os.Getpagesize()
	if fi.Size() < int64(n) {
		return nil, errors.New("wal-index shorter than a page")
	}
	return syscall.Mmap(int(f.Fd()), 0, n, syscall.PROT_READ, syscall.MAP_SHARED)
}

func unmapShm(b []byte) { _ = syscall.Munmap(b) }
