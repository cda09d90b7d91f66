// Command vgcheck reads the XML report of a valgrind memcheck run of a C test and fails when it
// holds an error that libclckpt must answer for:
//   - every memory leak counts (Go memory is not malloc'd, so a leak is C memory: the front library's,
//     or a buffer the core handed to the test that the test should have freed);
//   - every other error counts unless its innermost frame is in libclckpt-core.so: memcheck does not
//     understand the Go runtime's stacks and heap, and reports Go code's accesses and syscalls
//     wrongly. An error in the front library or in the test program is never excused.
//
// Usage: vgcheck report.xml
package main

import (
	"encoding/xml"
	"fmt"
	"os"
	"strings"
)

type report struct {
	Errors []struct {
		Kind  string `xml:"kind"`
		What  string `xml:"what"`
		XWhat struct {
			Text string `xml:"text"`
		} `xml:"xwhat"`
		Frames []struct {
			Obj  string `xml:"obj"`
			Fn   string `xml:"fn"`
			File string `xml:"file"`
			Line int    `xml:"line"`
		} `xml:"stack>frame"`
	} `xml:"error"`
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
	var r report
	if err := xml.Unmarshal(data, &r); err != nil {
		fmt.Fprintln(os.Stderr, "vgcheck: not a valgrind XML report:", err)
		os.Exit(2)
	}
	bad := 0
	for _, e := range r.Errors {
		leak := strings.HasPrefix(e.Kind, "Leak_")
		if !leak && len(e.Frames) > 0 && strings.Contains(e.Frames[0].Obj, "libclckpt-core.so") {
			continue
		}
		bad++
		what := e.What
		if what == "" {
			what = e.XWhat.Text
		}
		fmt.Printf("valgrind: %s: %s\n", e.Kind, what)
		for i, f := range e.Frames {
			if i == 8 {
				break
			}
			fmt.Printf("    %s %s:%d (%s)\n", f.Fn, f.File, f.Line, f.Obj)
		}
	}
	if bad > 0 {
		fmt.Printf("valgrind: %d error(s) of the library or the test\n", bad)
		os.Exit(1)
	}
}
