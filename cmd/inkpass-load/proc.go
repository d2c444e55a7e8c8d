package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// clockTicks is USER_HZ, the unit of utime and stime in /proc/PID/stat. It is
// 100 on every Linux architecture Go supports (the kernel fixes it for the
// ABI), so no cgo sysconf(_SC_CLK_TCK) is needed.
const clockTicks = 100

// procCPU is the CPU time (user + system, all threads) a process has used, from
// fields 14 and 15 of /proc/PID/stat (proc(5)).
func procCPU(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	return parseStatCPU(b)
}

func parseStatCPU(b []byte) (time.Duration, error) {
	// The command name (field 2) is in parentheses and may hold spaces or
	// parentheses itself: fields are counted after the last ')'.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, errors.New("malformed /proc stat")
	}
	f := strings.Fields(string(b[i+1:]))
	// f[0] is field 3 (state), so utime (14) is f[11] and stime (15) f[12].
	if len(f) < 13 {
		return 0, errors.New("malformed /proc stat: too few fields")
	}
	utime, err1 := strconv.ParseUint(f[11], 10, 64)
	stime, err2 := strconv.ParseUint(f[12], 10, 64)
	if err := errors.Join(err1, err2); err != nil {
		return 0, fmt.Errorf("malformed /proc stat: %w", err)
	}
	return time.Duration(utime+stime) * time.Second / clockTicks, nil
}

// procStatusKiB reads one "Name:   123 kB" line of /proc/PID/status, such as
// VmHWM (peak resident set size) or VmRSS.
func procStatusKiB(pid int, name string) (int64, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	defer f.Close()
	return parseStatusKiB(f, name)
}

func parseStatusKiB(r io.Reader, name string) (int64, error) {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok || k != name {
			continue
		}
		fs := strings.Fields(v)
		if len(fs) == 0 {
			break
		}
		return strconv.ParseInt(fs[0], 10, 64)
	}
	if err := sc.Err(); err != nil {
		return 0, err
	}
	return 0, fmt.Errorf("no %s in /proc status", name)
}

// resetPeakRSS sets the process's VmHWM back to its current RSS (writing 5 to
// /proc/PID/clear_refs, Linux 4.0+), so the peak is the run's own. It needs
// the right to write there (same user, or root); without it the peak is the
// process's lifetime peak, and the result says so.
func resetPeakRSS(pid int) error {
	return os.WriteFile(fmt.Sprintf("/proc/%d/clear_refs", pid), []byte("5"), 0)
}

// selfCPU is this process's CPU time, with microsecond resolution.
func selfCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// logTail remembers where a log file ended, to scan only what a run appends.
type logTail struct {
	path   string
	offset int64
}

func newLogTail(path string) (*logTail, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	return &logTail{path: path, offset: fi.Size()}, nil
}

// count returns how many lines appended since newLogTail contain needle.
func (t *logTail) count(needle string) (int, error) {
	f, err := os.Open(t.path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	if _, err := f.Seek(t.offset, io.SeekStart); err != nil {
		return 0, err
	}
	n := 0
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		if bytes.Contains(sc.Bytes(), []byte(needle)) {
			n++
		}
	}
	return n, sc.Err()
}

// statFields are the fields of /proc/PID/stat after the command name: f[0]
// is field 3 (state).
func statFields(b []byte) ([]string, error) {
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return nil, errors.New("malformed /proc stat")
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 15 {
		return nil, errors.New("malformed /proc stat: too few fields")
	}
	return f, nil
}

// treeCPU is the CPU time of a PostgreSQL postmaster and its backends: the
// postmaster's own (utime, stime), what its children that have exited used
// (cutime, cstime, fields 16 and 17: the postmaster reaps every backend), and
// what its live children have used so far. A backend that ends between two
// readings thus moves from the live sum into cutime, and the difference of
// two readings stays the CPU time spent between them.
func treeCPU(parent int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", parent))
	if err != nil {
		return 0, err
	}
	f, err := statFields(b)
	if err != nil {
		return 0, err
	}
	var ticks uint64
	for _, s := range f[11:15] { // utime, stime, cutime, cstime
		n, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("malformed /proc stat: %w", err)
		}
		ticks += n
	}
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return 0, err
	}
	want := strconv.Itoa(parent)
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == parent {
			continue
		}
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			continue // gone meanwhile
		}
		f, err := statFields(b)
		if err != nil || f[1] != want { // f[1] is field 4, the parent's pid
			continue
		}
		u, err1 := strconv.ParseUint(f[11], 10, 64)
		s, err2 := strconv.ParseUint(f[12], 10, 64)
		if err1 == nil && err2 == nil {
			ticks += u + s
		}
	}
	return time.Duration(ticks) * time.Second / clockTicks, nil
}
