// Package gotests holds the integration tests that run real processes: clckpt serve nodes, the C
// counter example, the writer program; they kill them with SIGKILL and check what survived.
package gotests

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

var (
	root    string // the repository
	binDir  string // binaries built for the tests
	counter string // the C counter example (build/bin/ckptTest)
	peer    string // the C program of the cross-process callback tests (build/bin/ckptPeer, ctests/peer.c)
	faults  string // the C program of the fault tests (build/bin/ckptFaults, ctests/faults.c)
	soak    string // one member of the soak test (build/bin/ckptSoak, ctests/soak.c)
)

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	wd, _ := os.Getwd()
	root = filepath.Dir(wd)
	var err error
	if binDir, err = os.MkdirTemp("", "clckpt-gotests-"); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(binDir)
	for _, b := range []struct{ name, pkg string }{{"clckpt", "./cmd/clckpt"}, {"writer", "./gotests/writer"}} {
		cmd := exec.Command("go", "build", "-o", filepath.Join(binDir, b.name), b.pkg)
		cmd.Dir, cmd.Stdout, cmd.Stderr = root, os.Stdout, os.Stderr
		if err := cmd.Run(); err != nil {
			fmt.Fprintln(os.Stderr, "building", b.pkg, err)
			return 1
		}
	}
	// The C programs need the library: make builds them all (the C toolchain is required).
	cmd := exec.Command("make", "--no-print-directory", "lib", "build/bin/ckptTest", "build/bin/ckptPeer", "build/bin/ckptFaults", "build/bin/ckptSoak")
	cmd.Dir, cmd.Stdout, cmd.Stderr = root, os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building the C library and the counter example:", err)
		return 1
	}
	counter = filepath.Join(root, "build", "bin", "ckptTest")
	peer = filepath.Join(root, "build", "bin", "ckptPeer")
	faults = filepath.Join(root, "build", "bin", "ckptFaults")
	soak = filepath.Join(root, "build", "bin", "ckptSoak")
	return m.Run()
}

func bin(name string) string { return filepath.Join(binDir, name) }

// cannotRun ends a test that this machine cannot run (it needs root, a tool, a kernel feature):
// a failure, unless CLCKPT_TEST_ALLOW_SKIP=1 says that skipping such tests is acceptable here
// (README). CI runs as root, where every test runs.
func cannotRun(t *testing.T, format string, args ...any) {
	t.Helper()
	msg := fmt.Sprintf(format, args...)
	if os.Getenv("CLCKPT_TEST_ALLOW_SKIP") == "1" {
		t.Skip(msg + " (skipped: CLCKPT_TEST_ALLOW_SKIP=1)")
	}
	t.Fatal(msg + " (set CLCKPT_TEST_ALLOW_SKIP=1 to skip the tests this machine cannot run)")
}
