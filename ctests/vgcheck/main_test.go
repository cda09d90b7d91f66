package main

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// oneError builds a memcheck XML report of one error: its kind, the objects of its stack's frames
// (innermost first) and, when origin is not nil, those of the stack where its value was created.
func oneError(kind string, at, origin []string) string {
	stack := func(objs []string) string {
		var b strings.Builder
		b.WriteString("<stack>")
		for i, o := range objs {
			fmt.Fprintf(&b, "<frame><ip>0x%x</ip><obj>%s</obj><fn>f%d</fn></frame>", i+1, o, i)
		}
		b.WriteString("</stack>")
		return b.String()
	}
	e := "<error><unique>0x0</unique><tid>1</tid><kind>" + kind + "</kind><what>w</what>" + stack(at)
	if origin != nil {
		e += "<auxwhat>Uninitialised value was created by a stack allocation</auxwhat>" + stack(origin)
	}
	return `<?xml version="1.0"?><valgrindoutput><protocolversion>4</protocolversion>` + e + "</error></valgrindoutput>"
}

const (
	core  = "/b/lib/libclckpt-core.so.1"
	front = "/b/lib/libclckpt.so.1"
	test  = "/b/ctests-valgrind/test_backup"
	pre   = "/usr/libexec/valgrind/vgpreload_memcheck-amd64-linux.so"
)

func TestWhichErrorsCount(t *testing.T) {
	for _, c := range []struct {
		name   string
		kind   string
		at     []string
		origin []string
		counts bool
	}{
		{"the core's own access", "InvalidRead", []string{core, core}, nil, false},
		{"the front library's access", "InvalidRead", []string{front, test}, nil, true},
		{"a leak, wherever it was allocated", "Leak_DefinitelyLost", []string{pre, core}, nil, true},
		{"a value the core marked, used by the test", "UninitCondition", []string{test}, []string{core, core}, false},
		{"a value the core marked, used by calloc the core called", "UninitCondition", []string{pre, core}, []string{core}, false},
		{"the test's own malloc'd memory", "UninitCondition", []string{test}, []string{pre, test}, true},
		{"malloc'd memory the core left unset", "UninitValue", []string{test}, []string{pre, core}, true},
		{"a C stack variable of the front library", "UninitCondition", []string{front, test}, []string{front}, true},
		{"an uninitialised value with no origin", "UninitCondition", []string{test}, nil, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			var out strings.Builder
			bad, err := judge([]byte(oneError(c.kind, c.at, c.origin)), &out)
			require.NoError(t, err)
			if c.counts {
				require.Equal(t, 1, bad)
				require.Contains(t, out.String(), "valgrind: "+c.kind)
			} else {
				require.Zero(t, bad, out.String())
			}
		})
	}
}

func TestARealReportIsRead(t *testing.T) {
	// As valgrind 3.19 writes it for a C program that branches on malloc'd memory.
	r := `<?xml version="1.0"?>
<valgrindoutput>
<protocolversion>4</protocolversion>
<protocoltool>memcheck</protocoltool>
<error>
  <unique>0x0</unique>
  <tid>1</tid>
  <kind>UninitCondition</kind>
  <what>Conditional jump or move depends on uninitialised value(s)</what>
  <stack>
    <frame><ip>0x109178</ip><obj>/tmp/un</obj><fn>main</fn><dir>/tmp</dir><file>un.c</file><line>3</line></frame>
  </stack>
  <auxwhat>Uninitialised value was created by a heap allocation</auxwhat>
  <stack>
    <frame><ip>0x48417B4</ip><obj>/usr/libexec/valgrind/vgpreload_memcheck-amd64-linux.so</obj><fn>malloc</fn></frame>
    <frame><ip>0x10916A</ip><obj>/tmp/un</obj><fn>main</fn><dir>/tmp</dir><file>un.c</file><line>3</line></frame>
  </stack>
</error>
</valgrindoutput>`
	var out strings.Builder
	bad, err := judge([]byte(r), &out)
	require.NoError(t, err)
	require.Equal(t, 1, bad)
	require.Contains(t, out.String(), "main un.c:3 (/tmp/un)")
	require.Contains(t, out.String(), "created by a heap allocation")
	require.Contains(t, out.String(), "malloc :0")

	_, err = judge([]byte("not xml <"), &out)
	require.Error(t, err)
}
