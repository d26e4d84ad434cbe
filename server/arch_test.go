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
	breaches, files, err := layeringBreaches(root)
	if err != nil {
		t.Fatal(err)
	}
	if files < 20 {
		t.Fatalf("only %d Go files found under %s: is the walk looking in the right place?", files, root)
	}
	if len(breaches) > 0 {
		t.Errorf("%d imports break the layering:\n  %s", len(breaches), strings.Join(breaches, "\n  "))
	}
}

// The checker itself finds what it should, and only that.
func TestArchitectureCheckerFindsBreaches(t *testing.T) {
	root := t.TempDir()
	write := func(path, src string) {
		t.Helper()
		full := filepath.Join(root, path)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("sms/a.go", "package sms\nimport (\n\t\"github.com/jackc/pgx/v5/pgxpool\"\n\t_ \""+module+"/cmd/haveyoursay\"\n)\n")
	write("ivr/b.go", "package ivr\nimport \"github.com/redis/go-redis/v9\"\n")
	write("ivr/b_test.go", "package ivr\nimport \"github.com/redis/go-redis/v9\"\n")
	write("store/c.go", "package store\nimport \"github.com/jackc/pgx/v5\"\n")
	write("store/storetest/d.go", "package storetest\nimport \"github.com/redis/go-redis/v9\"\n")
	write("phonesim/e.go", "package phonesim\nimport \"github.com/redis/go-redis/v9\"\n")
	write("survey/f.go", "package survey\nimport \"github.com/jackc/pgxlisten\"\n") // another module, not pgx
	breaches, files, err := layeringBreaches(root)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"ivr/b.go imports github.com/redis/go-redis/v9",
		"sms/a.go imports github.com/haveyoursay/haveyoursay/cmd/haveyoursay",
		"sms/a.go imports github.com/jackc/pgx/v5/pgxpool",
	}
	if files != 6 || len(breaches) != len(want) {
		t.Fatalf("%d files, breaches:\n%s", files, strings.Join(breaches, "\n"))
	}
	for i, w := range want {
		if !strings.HasPrefix(breaches[i], w+":") {
			t.Errorf("breach %d = %q, want it to start %q", i, breaches[i], w)
		}
	}
}

// layeringBreaches lists, sorted, every import in the non-test Go files
// under root that breaks the layering, and how many files it read.
func layeringBreaches(root string) ([]string, int, error) {
	var breaches []string
	files := 0
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
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
		file := filepath.ToSlash(filepath.Join(rel, name))
		for _, imp := range f.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			switch {
			case speaksToDatabase(p) && !mayUseDatabase(pkg):
				breaches = append(breaches, file+" imports "+p+": only store speaks to Postgres and Redis; add a method to store instead")
			case p == module+"/cmd" || strings.HasPrefix(p, module+"/cmd/"):
				breaches = append(breaches, file+" imports "+p+": cmd only wires packages together; nothing imports it")
			}
		}
		return nil
	})
	sort.Strings(breaches)
	return breaches, files, err
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
