package server_test

import (
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
)

const module = "github.com/haveyoursay/haveyoursay"

// TestArchitecture keeps the layering DESIGN.md describes: only store
// speaks to Postgres and Redis (the Twilio emulator and tests aside), and
// nothing imports the command. It reports every breach at once.
func TestArchitecture(t *testing.T) {
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatalf("the module root %s has no go.mod: %v", root, err)
	}
	var breaches []string
	files := 0
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := d.Name()
		if d.IsDir() {
			if path != root && (strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_") || name == "testdata" || name == "node_modules" || name == "vendor") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go") {
			return nil
		}
		rel, _ := filepath.Rel(root, filepath.Dir(path))
		pkg := filepath.ToSlash(rel)
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		files++
		for _, imp := range f.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			file := filepath.ToSlash(filepath.Join(rel, name))
			switch {
			case speaksToDatabase(p) && !mayUseDatabase(pkg):
				breaches = append(breaches, file+" imports "+p+": only store speaks to Postgres and Redis; add a method to store instead")
			case p == module+"/cmd" || strings.HasPrefix(p, module+"/cmd/"):
				breaches = append(breaches, file+" imports "+p+": cmd only wires packages together; nothing imports it")
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if files < 20 {
		t.Fatalf("only %d Go files found under %s: is the walk looking in the right place?", files, root)
	}
	if len(breaches) > 0 {
		sort.Strings(breaches)
		t.Errorf("%d imports break the layering:\n  %s", len(breaches), strings.Join(breaches, "\n  "))
	}
}

// speaksToDatabase reports whether an import path is a Postgres or Redis
// client.
func speaksToDatabase(p string) bool {
	for _, prefix := range []string{"github.com/jackc/pgx", "github.com/redis/go-redis"} {
		if p == prefix || strings.HasPrefix(p, prefix+"/") {
			return true
		}
	}
	return false
}

// mayUseDatabase: store and its own helpers (storetest, localpg), and the
// Twilio emulator, which stands in for a remote service.
func mayUseDatabase(pkg string) bool {
	return pkg == "store" || strings.HasPrefix(pkg, "store/") || pkg == "phonesim"
}
