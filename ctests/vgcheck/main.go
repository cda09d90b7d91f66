// Command vgcheck reads the XML report of a valgrind memcheck run of a C test and fails when it
// holds an error that libclckpt must answer for:
//   - every memory leak counts (Go memory is not malloc'd, so a leak is C memory: the front library's,
//     or a buffer the core handed to the test that the test should have freed);
//   - every other error counts unless its innermost frame is in libclckpt-core.so: memcheck does not
//     understand the Go runtime's stacks and heap, and reports Go code's accesses and syscalls
//     wrongly;
//   - and unless it is a use of an uninitialised value that memcheck created inside
//     libclckpt-core.so (the origin run.sh asks for with --track-origins): when Go switches between
//     a goroutine's stack and a thread's, memcheck can take the jump for a new stack frame and mark
//     the Go memory in between uninitialised, and every value Go then copies from there (into a
//     descriptor the caller passed, a callback's arguments) carries the mark into C code. Memory
//     the test or the front library left unset has its origin in C (malloc, a C stack frame), so
//     those uses still count.
//
// Usage: vgcheck report.xml
package main

import (
	"encoding/xml"
	"fmt"
	"io"
	"os"
	"strings"
)

type frame struct {
	Obj  string `xml:"obj"`
	Fn   string `xml:"fn"`
	File string `xml:"file"`
	Line int    `xml:"line"`
}

type report struct {
	Errors []struct {
		Kind  string `xml:"kind"`
		What  string `xml:"what"`
		XWhat struct {
			Text string `xml:"text"`
		} `xml:"xwhat"`
		// The error's stack, then for an uninitialised value the stack where it was created.
		Stacks []struct {
			Frames []frame `xml:"frame"`
		} `xml:"stack"`
		AuxWhat []string `xml:"auxwhat"`
	} `xml:"error"`
}

// inCore reports whether a stack's innermost frame is the Go core's.
func inCore(frames []frame) bool {
	return len(frames) > 0 && strings.Contains(frames[0].Obj, "libclckpt-core.so")
}

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: vgcheck report.xml")
		os.Exit(2)
	}
	data, err := os.ReadFile(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	bad, err := judge(data, os.Stdout)
	if err != nil {
		fmt.Fprintln(os.Stderr, "vgcheck:", err)
		os.Exit(2)
	}
	if bad > 0 {
		fmt.Printf("valgrind: %d error(s) of the library or the test\n", bad)
		os.Exit(1)
	}
}

// judge writes the errors of a report that count to w and returns how many there are.
func judge(data []byte, w io.Writer) (int, error) {
	var r report
	if err := xml.Unmarshal(data, &r); err != nil {
		return 0, fmt.Errorf("not a valgrind XML report: %w", err)
	}
	bad := 0
	for _, e := range r.Errors {
		var at, origin []frame
		if len(e.Stacks) > 0 {
			at = e.Stacks[0].Frames
		}
		if len(e.Stacks) > 1 {
			origin = e.Stacks[1].Frames
		}
		switch {
		case strings.HasPrefix(e.Kind, "Leak_"):
		case inCore(at):
			continue
		case strings.HasPrefix(e.Kind, "Uninit") && inCore(origin):
			continue
		}
		bad++
		what := e.What
		if what == "" {
			what = e.XWhat.Text
		}
		fmt.Fprintf(w, "valgrind: %s: %s\n", e.Kind, what)
		printFrames(w, at)
		if len(origin) > 0 {
			fmt.Fprintf(w, "  %s\n", strings.Join(e.AuxWhat, "; "))
			printFrames(w, origin)
		}
	}
	return bad, nil
}

func printFrames(w io.Writer, frames []frame) {
	for i, f := range frames {
		if i == 8 {
			break
		}
		fmt.Fprintf(w, "    %s %s:%d (%s)\n", f.Fn, f.File, f.Line, f.Obj)
	}
}
