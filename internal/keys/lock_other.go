//go:build !(darwin || dragonfly || freebsd || linux || netbsd || openbsd)

package keys

// lockDir is a no-op where flock is unavailable: do not run `inkpass keys
// rotate` there while a server may reload or start.
func lockDir(dir string, exclusive bool) (unlock func(), err error) {
	return func() {}, nil
}

// syncDir is a no-op: Windows cannot fsync a directory, and its rename
// already replaces the target in one step.
func syncDir(dir string) error { return nil }
