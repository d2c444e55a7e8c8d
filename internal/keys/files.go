package keys

import (
	"bytes"
	"crypto"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
)

// ErrInsecurePermissions is returned when a key file is accessible by group
// or others, or when the key directory or index is writable by them.
var ErrInsecurePermissions = errors.New("insecure permissions")

const (
	pemType = "PRIVATE KEY" // PKCS#8, RFC 5958 §5 / RFC 7468 §10

	// maxFileSize bounds what we read from the key directory. A 4096-bit RSA
	// key in PEM is about 3.3 KiB and an index of a few dozen keys is far
	// smaller; anything beyond is not ours.
	maxFileSize = 1 << 20

	fileMode = 0o600
	dirMode  = 0o700
)

// Permission bits we refuse, following ssh's StrictModes: a private key must
// be the owner's alone; the directory and the index may be readable (they
// hold no secret) but not writable by anyone else, because whoever writes the
// index or drops a file chooses the key we sign with.
const (
	keyForbidden   fs.FileMode = 0o077
	indexForbidden fs.FileMode = 0o022
	dirForbidden   fs.FileMode = 0o022
)

// checkPerm enforces forbidden bits on fi. The message ends with the command
// that fixes it; callers put the path in front. Windows has no POSIX modes: Go
// reports 0666 or 0444 for every file there, so the check would refuse every
// key without protecting any.
func checkPerm(path string, fi fs.FileInfo, forbidden fs.FileMode, fix fs.FileMode) error {
	if runtime.GOOS == "windows" {
		return nil
	}
	perm := fi.Mode().Perm()
	if perm&forbidden == 0 {
		return nil
	}
	what := "lets group or others write it"
	if forbidden == keyForbidden {
		what = "gives group or others access to a private key"
	}
	return fmt.Errorf("%w: mode %04o %s; run: chmod %o %s", ErrInsecurePermissions, perm, what, fix, path)
}

// checkDir refuses a key directory that is not a directory or that others
// may write.
func checkDir(dir string) error {
	fi, err := os.Stat(dir)
	if err != nil {
		return fmt.Errorf("check key directory: %w", err)
	}
	if !fi.IsDir() {
		return fmt.Errorf("key directory %s is not a directory", dir)
	}
	if err := checkPerm(dir, fi, dirForbidden, dirMode); err != nil {
		return fmt.Errorf("key directory %s: %w", dir, err)
	}
	return nil
}

// readKeyFile reads and parses one PKCS#8 PEM private key. Permissions are
// checked on the open descriptor, so the file we check is the file we read.
// Errors do not repeat the path: loadKeys wraps them with it.
func readKeyFile(path string) (any, error) {
	f, err := os.Open(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("listed in %s but %w", indexName, fs.ErrNotExist)
		}
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, errors.New("not a regular file")
	}
	if err := checkPerm(path, fi, keyForbidden, fileMode); err != nil {
		return nil, err
	}
	data, err := readLimited(f)
	if err != nil {
		return nil, err
	}
	block, rest := pem.Decode(data)
	if block == nil {
		return nil, errors.New("no PEM block found")
	}
	if block.Type != pemType {
		// A "RSA PRIVATE KEY" or "EC PRIVATE KEY" block is PKCS#1 / SEC 1;
		// we keep one format so every algorithm loads the same way.
		return nil, fmt.Errorf("PEM block is %q, want %q (PKCS#8); convert with: openssl pkcs8 -topk8 -nocrypt -in OLD -out NEW",
			block.Type, pemType)
	}
	if len(bytes.TrimSpace(rest)) != 0 {
		return nil, errors.New("data after the PEM block; one key per file")
	}
	priv, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("parse PKCS#8: %w", err)
	}
	return priv, nil
}

func readLimited(r io.Reader) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, maxFileSize+1))
	if err != nil {
		return nil, err
	}
	if len(data) > maxFileSize {
		return nil, fmt.Errorf("larger than %d bytes", maxFileSize)
	}
	return data, nil
}

// writeKeyFile writes priv as a new file, failing if it exists: files are
// named by thumbprint, so an existing file means something is badly wrong and
// must not be overwritten. The content is fsynced before return and the
// directory entry after, so that the index written next never names a key
// that a crash could lose.
func writeKeyFile(dir, name string, priv crypto.Signer) error {
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return fmt.Errorf("encode key %s: %w", name, err)
	}
	data := pem.EncodeToMemory(&pem.Block{Type: pemType, Bytes: der})
	path := filepath.Join(dir, name)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, fileMode)
	if err != nil {
		return fmt.Errorf("write key %s: %w", path, err)
	}
	if err := writeSyncClose(f, data); err != nil {
		os.Remove(path)
		return fmt.Errorf("write key %s: %w", path, err)
	}
	if err := syncDir(dir); err != nil {
		return fmt.Errorf("write key %s: %w", path, err)
	}
	return nil
}

// writeFileAtomic replaces dir/name with data: temp file, fsync, rename,
// directory fsync. Readers see the old file or the new one, never a mix.
// Callers hold the exclusive lock, so one fixed temp name is enough, and a
// temp file left by a crash is simply replaced next time.
func writeFileAtomic(dir, name string, data []byte) error {
	path := filepath.Join(dir, name)
	tmp := path + ".tmp"
	// Remove first so O_EXCL gives a fresh file with our mode, not a
	// leftover with whatever mode it had.
	if err := os.Remove(tmp); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("write %s: %w", path, err)
	}
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, fileMode)
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := writeSyncClose(f, data); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := syncDir(dir); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

func writeSyncClose(f *os.File, data []byte) error {
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// hasPEMFiles reports whether dir holds any *.pem file. Open uses it to tell
// an empty directory (generate the first key) from one whose index was lost
// (stop: generating would hide the loss).
func hasPEMFiles(dir string) (bool, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return false, err
	}
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".pem") {
			return true, nil
		}
	}
	return false, nil
}
