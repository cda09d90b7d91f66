package ckpt_test

import (
	"go/build"
	"os"
	"slices"
	"strings"
	"testing"
)

const module = "github.com/clckpt/libclckpt"

// TestContractImportsNoMachinery keeps the contract apart from its implementations: the package
// ckpt and everything it imports, directly or not, may use the standard library and packages
// outside this module, but no package of this module other than ckpt (the engine, its store,
// replication, ...). Callers that import only ckpt then link none of the machinery.
func TestContractImportsNoMachinery(t *testing.T) {
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(dir + "/imports_test.go"); err != nil {
		t.Fatalf("not run from the package's directory: %v", err)
	}
	seen := map[string]bool{}
	var walk func(path, srcDir string, via []string)
	walk = func(path, srcDir string, via []string) {
		if seen[path] {
			return
		}
		seen[path] = true
		pkg, err := build.Import(path, srcDir, 0)
		if err != nil {
			t.Fatalf("import %s (via %s): %v", path, strings.Join(via, " -> "), err)
		}
		if pkg.Goroot {
			return
		}
		if pkg.ImportPath != module+"/ckpt" && strings.HasPrefix(pkg.ImportPath+"/", module+"/") {
			t.Errorf("the contract imports %s (via %s)", pkg.ImportPath, strings.Join(via, " -> "))
			return
		}
		for _, imp := range pkg.Imports {
			walk(imp, pkg.Dir, append(via[:len(via):len(via)], pkg.ImportPath))
		}
	}
	walk(module+"/ckpt", dir, nil)
	if !seen["errors"] {
		t.Fatalf("the walk did not reach the package's imports: %v", seen)
	}
}

// TestFrontsUseTheContract: the C libraries' Go side (capi and its rc table), the command line tool
// and the conformance table use a service only through ckpt. They may obtain one from replication
// (Join), but never import the engine's machinery themselves.
func TestFrontsUseTheContract(t *testing.T) {
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for _, front := range []string{"capi", "capi/rc", "cmd/clckpt", "engine/conformance"} {
		pkg, err := build.Import(module+"/"+front, dir, 0)
		if err != nil {
			t.Fatalf("import %s: %v", front, err)
		}
		for _, imp := range append(pkg.Imports, pkg.TestImports...) {
			if imp == module+"/engine" || strings.HasPrefix(imp, module+"/engine/store") {
				t.Errorf("%s imports %s: use %s/ckpt for the contract", front, imp, module)
			}
		}
		if !slices.Contains(pkg.Imports, module+"/ckpt") {
			t.Errorf("%s does not import the contract: is the list of fronts stale?", front)
		}
	}
}
