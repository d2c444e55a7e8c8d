//go:build reliability

package reliability

import (
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// mountTmpfs mounts a tmpfs of size bytes at a new folder, or skips the test
// when this machine does not let the suite mount one (not root, or in a
// container without CAP_SYS_ADMIN). This is the suite's one allowed skip.
func mountTmpfs(t *testing.T, size string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "small")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mount("tmpfs", dir, "tmpfs", syscall.MS_NOSUID|syscall.MS_NODEV, "size="+size+",mode=0700"); err != nil {
		t.Skipf("disk full: SKIPPED, cannot mount a %s tmpfs here (%v); run as root with mount permission to cover it", size, err)
	}
	t.Cleanup(func() {
		if err := syscall.Unmount(dir, syscall.MNT_DETACH); err != nil {
			t.Errorf("unmount %s: %v", dir, err)
		}
	})
	return dir
}

// fill writes a file until the filesystem has no room left.
func fill(t *testing.T, path string) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	chunk := make([]byte, 16<<10)
	for {
		if _, err := f.Write(chunk); err != nil {
			if errors.Is(err, syscall.ENOSPC) {
				break
			}
			t.Fatalf("fill %s: %v", path, err)
		}
	}
	// Whatever is left is smaller than a chunk; take it byte by byte.
	one := []byte{0}
	for {
		if _, err := f.Write(one); err != nil {
			return
		}
	}
}

// TestDiskFull puts the database on a small tmpfs, fills it while the server
// runs, and checks that writes are answered 503 (never 500, never a crash),
// that /readyz says not ready, and that freeing the space brings everything
// back without a restart.
func TestDiskFull(t *testing.T) {
	small := mountTmpfs(t, "6m")
	in := newInstall(t, installOptions{db: filepath.Join(small, "inkpass.db"), passwordTarget: "argon2id"})
	in.addUser("kim", "assistant", userPass)
	in.serve()
	before := in.mustLogin("kim", userPass)
	var acked []string
	for range 20 {
		if a, tok, err := in.ccToken(); err == nil && a.status == http.StatusOK {
			acked = append(acked, tok)
		}
	}

	filler := filepath.Join(small, "filler")
	fill(t, filler)

	// Writes until the server notices: the WAL may still have room for a few.
	var full statusCounts
	sawFull := false
	for i := 0; i < 2000 && !sawFull; i++ {
		a, tok, err := in.ccToken()
		full.add(a, err)
		switch {
		case err != nil:
			t.Fatalf("client_credentials with the disk full: no answer (%v); the server is running: %v", err, in.running())
		case a.status == http.StatusOK:
			acked = append(acked, tok)
		default:
			sawFull = true
		}
	}
	if !sawFull {
		t.Fatalf("2000 writes succeeded on a full filesystem (%s): the scenario did not reach disk full", &full)
	}
	// A few more of each kind, now that it is full.
	for range 5 {
		a, _, err := in.ccToken()
		full.add(a, err)
		a, _, _, err = in.login("kim", userPass)
		full.add(a, err)
		a, _, err = in.refresh(before.refresh)
		full.add(a, err)
	}
	if n := full.count(http.StatusInternalServerError); n > 0 {
		t.Errorf("disk full: %d answers were 500 (e.g. %s); want 503 with Retry-After", n, full.examples[500])
	}
	if full.count(http.StatusServiceUnavailable) == 0 {
		t.Errorf("disk full: no write was answered 503: %s", &full)
	}
	if full.noRetry > 0 {
		t.Errorf("disk full: %d answers were 503 without Retry-After", full.noRetry)
	}
	if full.transport > 0 {
		t.Errorf("disk full: %d requests got no answer", full.transport)
	}
	if !in.running() {
		t.Fatal("the server died when the disk filled")
	}
	readyFull := readyz(in)
	if readyFull != http.StatusServiceUnavailable {
		t.Errorf("/readyz with the disk full = %d, want 503", readyFull)
	}

	// Free the space: the same process recovers.
	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	recovered := false
	var after statusCounts
	for range 50 {
		a, tok, err := in.ccToken()
		after.add(a, err)
		if err == nil && a.status == http.StatusOK {
			acked = append(acked, tok)
			recovered = true
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if !recovered {
		t.Errorf("writes did not come back after the space was freed: %s", &after)
	}
	readyAfter := readyz(in)
	if readyAfter != http.StatusOK {
		t.Errorf("/readyz after the space was freed = %d, want 200", readyAfter)
	}
	loginAfter := false
	if a, _, failed, err := in.login("kim", userPass); err != nil || failed {
		t.Errorf("sign-in after the space was freed: %v %s", err, describe(a))
	} else {
		loginAfter = true
	}
	lost := 0
	for _, tok := range acked {
		if active, _, _ := in.introspect(tok); !active {
			lost++
		}
	}
	if lost > 0 {
		t.Errorf("%d of %d acknowledged tokens lost", lost, len(acked))
	}
	if res := integrity(t, in.db); res != "ok" {
		t.Errorf("integrity_check after the disk was full = %q", res)
	}
	figure(t, "disk full (6 MiB tmpfs): answers while full %s; /readyz %d while full, %d after; recovered without restart: writes %v, sign-in %v; %d acknowledged writes lost (of %d); server alive: %v",
		&full, readyFull, readyAfter, recovered, loginAfter, lost, len(acked), in.running())
}

// readyz polls /readyz for a few seconds and returns its last status, or the
// first one that differs from 200 when the server went not-ready.
func readyz(in *install) int {
	status := 0
	for range 10 {
		a, err := in.get(nil, "/readyz", "")
		if err != nil {
			return 0
		}
		status = a.status
		if status != http.StatusOK {
			return status
		}
		time.Sleep(200 * time.Millisecond)
	}
	return status
}
