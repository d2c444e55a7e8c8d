// Package pgtest runs a real PostgreSQL server for tests: Debian's
// postgresql package, initdb into a temporary folder, pg_ctl on a free
// 127.0.0.1 port, stopped when the test binary ends. Nothing is mocked and no
// container is needed.
//
// A package whose tests use it wires it in its TestMain:
//
//	func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }
//
// and each test asks for a database of its own with NewDatabase. Where the
// server binaries are missing, the tests skip with a message saying what to
// install; under CI=true they fail instead, because CI must run them.
//
// It is imported by _test.go files only.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// server is the one PostgreSQL of this test binary, started on first use.
var server struct {
	once    sync.Once
	dir     string
	port    int
	asUser  string // run the server binaries as this user (initdb refuses root)
	bin     string
	err     error
	missing string // why the binaries could not be found
}

// Main runs the package's tests and stops the server, if one was started,
// before the binary exits. It returns m.Run's exit code.
func Main(m *testing.M) int {
	code := m.Run()
	stop()
	return code
}

// NewDatabase returns the connection URL of a fresh, empty database owned by the test
// cluster's superuser. The database is dropped when t ends.
func NewDatabase(t testing.TB) string {
	t.Helper()
	start(t)
	name := "t_" + randomHex(6)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	admin, err := pgx.Connect(ctx, dsn("postgres"))
	if err != nil {
		t.Fatalf("pgtest: connect: %v", err)
	}
	defer admin.Close(ctx)
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("pgtest: create database: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		c, err := pgx.Connect(ctx, dsn("postgres"))
		if err != nil {
			return
		}
		defer c.Close(ctx)
		_, _ = c.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
	})
	return dsn(name)
}

// Available reports whether a server can be started here, and if not why.
func Available() (bool, string) {
	if _, why := findBin(); why != "" {
		return false, why
	}
	return true, ""
}

func dsn(db string) string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/%s?sslmode=disable", server.port, db)
}

func start(t testing.TB) {
	t.Helper()
	server.once.Do(func() { server.err = startServer() })
	if server.missing != "" {
		msg := "pgtest: PostgreSQL server binaries not found (" + server.missing + ").\n" +
			"  Install Debian's postgresql package (apt-get install postgresql) to run these tests;\n" +
			"  .ci/run installs it. Under CI=true these tests fail instead of skipping."
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	if server.err != nil {
		t.Fatalf("pgtest: start PostgreSQL: %v", server.err)
	}
}

// findBin returns the newest installed PostgreSQL's bin folder.
func findBin() (string, string) {
	if dir := os.Getenv("INKPASS_PG_BIN"); dir != "" {
		if _, err := os.Stat(filepath.Join(dir, "initdb")); err != nil {
			return "", "INKPASS_PG_BIN=" + dir + " has no initdb"
		}
		return dir, ""
	}
	matches, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	if len(matches) == 0 {
		if p, err := exec.LookPath("initdb"); err == nil {
			return filepath.Dir(p), ""
		}
		return "", "no /usr/lib/postgresql/*/bin/initdb and no initdb on PATH"
	}
	sort.Slice(matches, func(i, j int) bool { return majorOf(matches[i]) < majorOf(matches[j]) })
	return filepath.Dir(matches[len(matches)-1]), ""
}

func majorOf(initdb string) int {
	n, _ := strconv.Atoi(filepath.Base(filepath.Dir(filepath.Dir(initdb))))
	return n
}

func startServer() error {
	bin, why := findBin()
	if why != "" {
		server.missing = why
		return nil
	}
	server.bin = bin
	dir, err := os.MkdirTemp("", "inkpass-pgtest-")
	if err != nil {
		return err
	}
	server.dir = dir
	data := filepath.Join(dir, "data")
	if err := os.Mkdir(data, 0o700); err != nil {
		return err
	}
	// initdb and postgres refuse to run as root; as root, run them as the
	// postgres user that Debian's package creates.
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			return fmt.Errorf("running as root and there is no postgres user to run the server as: %w", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		if err := os.Chmod(dir, 0o755); err != nil {
			return err
		}
		if err := os.Chown(data, uid, gid); err != nil {
			return err
		}
		server.asUser = "postgres"
	}
	port, err := freePort()
	if err != nil {
		return err
	}
	server.port = port
	if out, err := run("initdb", "-D", data, "-U", "postgres", "--auth=trust", "--encoding=UTF8", "--locale=C", "--no-sync"); err != nil {
		return fmt.Errorf("initdb: %w\n%s", err, out)
	}
	// Loopback only, no Unix socket in a shared folder, fsync off: a test
	// cluster thrown away at the end.
	opts := fmt.Sprintf("-c listen_addresses=127.0.0.1 -c port=%d -c unix_socket_directories='' -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200", port)
	if out, err := run("pg_ctl", "-D", data, "-o", opts, "-l", filepath.Join(data, "server.log"), "-w", "-t", "60", "start"); err != nil {
		log, _ := os.ReadFile(filepath.Join(data, "server.log"))
		return fmt.Errorf("pg_ctl start: %w\n%s\n%s", err, out, log)
	}
	return nil
}

func stop() {
	if server.dir == "" {
		return
	}
	if server.port != 0 && server.err == nil && server.missing == "" {
		_, _ = run("pg_ctl", "-D", filepath.Join(server.dir, "data"), "-m", "immediate", "-w", "stop")
	}
	_ = os.RemoveAll(server.dir)
}

func run(tool string, args ...string) ([]byte, error) {
	path := filepath.Join(server.bin, tool)
	var cmd *exec.Cmd
	if server.asUser != "" {
		cmd = exec.Command("runuser", append([]string{"-u", server.asUser, "--", path}, args...)...)
	} else {
		cmd = exec.Command(path, args...)
	}
	cmd.Dir = server.dir
	return cmd.CombinedOutput()
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b)
}

// Exec runs statements on the database at dsn, for a test's set-up (the
// studio's own tables, say).
func Exec(t testing.TB, dsn string, statements ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatalf("pgtest: connect: %v", err)
	}
	defer c.Close(ctx)
	for _, s := range statements {
		if _, err := c.Exec(ctx, s); err != nil {
			var short = s
			if i := strings.IndexByte(short, '\n'); i > 0 {
				short = short[:i]
			}
			t.Fatalf("pgtest: %s: %v", short, err)
		}
	}
}
