package testsupport

import (
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestOnlyTestsImportIt walks the module and fails if a non-test Go file
// imports this package or one below it (harness, pgtest): a fake clock or a
// test server must never reach the program. The suites of test-only
// packages (store/storetest, keys/keystoretest: a folder named *test) may
// use it, and the program may import none of those either.
func TestOnlyTestsImportIt(t *testing.T) {
	const self = "github.com/inkpass/inkpass/internal/testsupport"
	root := filepath.Join("..", "..")
	files := 0
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if name := d.Name(); path != root && (strings.HasPrefix(name, ".") || name == "testdata" || name == "testsupport" || testOnly(name)) {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		files++
		for _, imp := range f.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			if p == self || strings.HasPrefix(p, self+"/") {
				t.Errorf("%s imports %s; only _test.go files may", path, self)
			}
			if strings.HasPrefix(p, "github.com/inkpass/inkpass/") && testOnly(p[strings.LastIndex(p, "/")+1:]) {
				t.Errorf("%s imports the test-only package %s; only _test.go files may", path, p)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if files < 50 {
		t.Errorf("walked %d non-test Go files, want the whole module (at least 50)", files)
	}
}

// testOnly reports a test-only package's folder: storetest, keystoretest.
func testOnly(dir string) bool { return strings.HasSuffix(dir, "test") }
