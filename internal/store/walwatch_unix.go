//go:build unix

package store

import (
	"errors"
	"os"
	"sync"
	"syscall"
)

// The -shm file's descriptors stay open while any store of this process has
// the database open. SQLite coordinates processes with POSIX advisory locks
// on that file, and POSIX drops every lock a process holds on a file when the
// process closes any descriptor of it: closing ours right after mapping
// released SQLite's own locks, so another process took itself for the first
// user of the database and re-initialised the wal-index under everyone
// (SIGBUS in mapped readers, lost updates; the reliability suite's
// TestAdminCLIWhileServing caught it). So each path's descriptor is shared
// and closed only when the last store of this process that opened it has
// closed its SQLite connections (DB.Close releases the watch last).
var shmFiles = struct {
	sync.Mutex
	open map[string]*shmFile
}{open: map[string]*shmFile{}}

type shmFile struct {
	f    *os.File
	refs int
}

// mapShm maps the first page of the -shm file read-only and shared, and
// returns the function that gives its descriptor back (at the store's
// Close). SQLite never shrinks that file while a connection of this process
// has the database open, so the mapping stays backed.
func mapShm(path string) ([]byte, func(), error) {
	shmFiles.Lock()
	defer shmFiles.Unlock()
	sf := shmFiles.open[path]
	if sf == nil {
		f, err := os.Open(path)
		if err != nil {
			return nil, nil, err
		}
		sf = &shmFile{f: f}
		shmFiles.open[path] = sf
	}
	sf.refs++
	fail := func(err error) ([]byte, func(), error) {
		dropShmLocked(path, sf)
		return nil, nil, err
	}
	fi, err := sf.f.Stat()
	if err != nil {
		return fail(err)
	}
	n := os.Getpagesize()
	if fi.Size() < int64(n) {
		return fail(errors.New("wal-index shorter than a page"))
	}
	b, err := syscall.Mmap(int(sf.f.Fd()), 0, n, syscall.PROT_READ, syscall.MAP_SHARED)
	if err != nil {
		return fail(err)
	}
	var once sync.Once
	release := func() {
		once.Do(func() {
			shmFiles.Lock()
			defer shmFiles.Unlock()
			dropShmLocked(path, sf)
		})
	}
	return b, release, nil
}

// dropShmLocked gives back one reference to path's descriptor, closing it
// with the last; shmFiles is locked.
func dropShmLocked(path string, sf *shmFile) {
	if sf.refs--; sf.refs == 0 {
		delete(shmFiles.open, path)
		sf.f.Close()
	}
}

func unmapShm(b []byte) { _ = syscall.Munmap(b) }
