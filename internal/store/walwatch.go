package store

import (
	"context"
	"encoding/binary"
	"path/filepath"
	"runtime"
	"sync/atomic"
	"unsafe"
)

// changeWatch lets the client registry skip its per-request read while it
// can prove that nothing it caches has changed. A client removed, disabled
// or given a new secret, or a client-authentication lock set, by this
// process or any other on the same file, must count from the very next
// request, so Clients used to read the generation counter and the locks on
// every request: a read transaction that, after any commit by another
// connection (this process's own writer among them), discards the
// connection's page cache and fetches its pages again: about a tenth of a
// client_credentials grant's CPU even once that read was made lean
// (docs/performance.md, "client_credentials, fixed").
//
// The proof has two halves.
//
//   - Nobody else has committed: the wal-index header at the start of the
//     -shm file (https://sqlite.org/walformat.html, "The WAL-Index Header")
//     changes with every commit to the database, by any process, before
//     that commit returns. The reader compares it, from a read-only shared
//     mapping, with the header this process's writer left after its last
//     commit (ownTip): equal means no one has committed since.
//   - This process's own commits changed nothing cached: the jobs that
//     write inkpass_clients or inkpass_client_throttle call
//     markClientsChanged, and a commit carrying one starts a new epoch.
//
// The writer learns of commits by others between two of its own from the
// writer connection's PRAGMA data_version, which changes only when another
// connection has committed; it reads the header before that pragma, so a
// commit by another process that slips in after its own is either in the
// pragma's view (a new epoch) or not yet in the header it publishes. A
// checkpoint also rewrites the header without changing any row: readers
// then read until the writer's next commit, which is only slower.
//
// Any doubt (no mapping, a header being written, a failed commit, an
// unknown state) makes current report false, and the reader reads the
// database as it did before.
type changeWatch struct {
	shm atomic.Pointer[shmMap]
	// release gives back the -shm file's descriptor; nil when none is held.
	release func()
	state   atomic.Pointer[watchState]
	// dirty is set by jobs that change what Clients caches; the writer
	// takes it after each commit.
	dirty atomic.Bool
}

// watchState is what the writer published after a commit.
type watchState struct {
	hdr         walHeader
	dataVersion int64
	epoch       uint64
	valid       bool
}

// walHeader is one copy of the wal-index header, as 32-bit words.
type walHeader [walHeaderSize / 4]uint32

const (
	walHeaderSize = 48
	// walVersion is WalIndexHdr.iVersion as SQLite 3.7.0 and later write it.
	walVersion = 3007000
)

// shmMap is the start of the -shm file, mapped read-only and shared. It is
// unmapped by a cleanup once no reader holds it (so Close never pulls it
// from under a request).
type shmMap struct{ b []byte }

// open maps the -shm file of the database at path; on any failure the
// watch stays off and Clients reads every time.
func (w *changeWatch) open(path string) {
	// SQLite names the -shm file after the database's real path, symbolic
	// links resolved.
	if real, err := filepath.EvalSymlinks(path); err == nil {
		path = real
	}
	b, release, err := mapShm(path + "-shm")
	if err != nil {
		return
	}
	w.release = release
	if len(b) < 2*walHeaderSize {
		unmapShm(b)
		return
	}
	m := &shmMap{b: b}
	runtime.AddCleanup(m, unmapShm, b)
	w.shm.Store(m)
}

// close turns the watch off.
func (w *changeWatch) close() {
	w.state.Store(nil)
	w.shm.Store(nil)
}

// releaseFile gives back the -shm descriptor (walwatch_unix.go); DB.Close
// calls it after its SQLite connections are closed.
func (w *changeWatch) releaseFile() {
	if w.release != nil {
		w.release()
	}
}

// header reads the wal-index header the way SQLite's readers do: both
// copies, the first one first (a writer writes the second, then the first),
// and only a header whose copies agree and that is initialised counts.
func (w *changeWatch) header() (walHeader, bool) {
	var h, h2 walHeader
	m := w.shm.Load()
	if m == nil {
		return h, false
	}
	base := unsafe.Pointer(unsafe.SliceData(m.b))
	for i := range h {
		h[i] = atomic.LoadUint32((*uint32)(unsafe.Add(base, 4*i)))
	}
	for i := range h2 {
		h2[i] = atomic.LoadUint32((*uint32)(unsafe.Add(base, walHeaderSize+4*i)))
	}
	runtime.KeepAlive(m)
	// Word 0 is iVersion, byte 12 (in word 3) isInit; SQLite writes the
	// header in the machine's byte order.
	var w3 [4]byte
	binary.NativeEndian.PutUint32(w3[:], h[3])
	if h != h2 || h[0] != walVersion || w3[0] == 0 {
		return h, false
	}
	return h, true
}

// current reports the epoch in which nothing Clients caches can have
// changed, and false when that cannot be shown right now.
func (w *changeWatch) current() (uint64, bool) {
	st := w.state.Load()
	if st == nil || !st.valid {
		return 0, false
	}
	h, ok := w.header()
	if !ok || h != st.hdr {
		return 0, false
	}
	return st.epoch, true
}

// markClientsChanged is called by a job that writes inkpass_clients or
// inkpass_client_throttle; it may run more than once or be rolled back,
// which only costs a cache refill.
func (db *DB) markClientsChanged() { db.watch.dirty.Store(true) }

// committed runs in the writer after each successful commit; before is the
// header read inside the transaction, while the writer held the write lock.
// A commit that left the header as it was wrote nothing, or the mapping is
// not the live wal-index (a stale -shm file): either way the header vouches
// for nothing until the next commit that changes it.
func (db *DB) committed(before walHeader) {
	w := &db.watch
	dirty := w.dirty.Swap(false)
	if w.shm.Load() == nil {
		return
	}
	h, ok := w.header()
	if h == before {
		ok = false
	}
	var v int64
	if err := db.write.QueryRowContext(context.Background(), `PRAGMA data_version`).Scan(&v); err != nil {
		ok = false
	}
	next := &watchState{hdr: h, dataVersion: v, valid: ok, epoch: 1}
	if prev := w.state.Load(); prev != nil {
		next.epoch = prev.epoch
		if dirty || !prev.valid || !ok || prev.dataVersion != v {
			next.epoch++
		}
	}
	w.state.Store(next)
}

// uncertain runs in the writer when a transaction's outcome is not known
// to be a commit: readers read until the next commit.
func (db *DB) uncertain() {
	w := &db.watch
	if prev := w.state.Load(); prev != nil && prev.valid {
		w.state.Store(&watchState{epoch: prev.epoch + 1})
	}
}
