package gotests

import (
	"encoding/hex"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/clckpt/libclckpt/ckpt"
)

// Checkpoints named with the longest names (2048 bytes, SAF extended names) through the command
// line: put, ls, get, status and backups print and find them whole, a sibling differing in its last
// byte is another checkpoint, 2049 bytes are refused, and after the node is killed with SIGKILL and
// started again on its data directory they are all there.
func TestCLILongestNames(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	env := []string{"CLCKPT_DATA_DIR=" + dir, "CLCKPT_NODE=s", "CLCKPT_PORT=" + strconv.Itoa(freePort(t)), "CLCKPT_LOG_LEVEL="}
	node := start(t, "serve", env, bin("clckpt"), "serve")
	node.waitLine("^ready ", 60*time.Second)

	long := strings.Repeat("L", ckpt.MaxNameLength-1) + "a"
	sibling := long[:len(long)-1] + "b"
	cliOK(t, env, []byte("first"), "put", long, "s", "--create")
	cliOK(t, env, []byte("second"), "put", "--hex", hex.EncodeToString([]byte(sibling)), hex.EncodeToString([]byte("s")), "--create")
	_, errOut, code := cli(t, env, []byte("x"), "put", long+"x", "s", "--create")
	require.NotZero(t, code)
	require.Contains(t, errOut, "2049 bytes")

	var list []cliCkpt
	cliJSON(t, env, &list, "ls")
	require.Len(t, list, 2)
	require.Equal(t, cliBytes{long, hex.EncodeToString([]byte(long))}, list[0].Name)
	require.Equal(t, sibling, list[1].Name.Text)
	require.Regexp(t, `(?m)^`+long+`\s+1\s+5\s+s\s`, cliOK(t, env, nil, "ls"))
	cliJSON(t, env, &list, "ls", long[:100]+"*b")
	require.Len(t, list, 1)
	require.Equal(t, sibling, list[0].Name.Text)

	require.Equal(t, "first", cliOK(t, env, nil, "get", long, "s"))
	require.Equal(t, "second", cliOK(t, env, nil, "get", sibling, "s"))
	var one cliCkpt
	cliJSON(t, env, &one, "get", long)
	require.Equal(t, long, one.Name.Text)
	require.Contains(t, cliOK(t, env, nil, "status"), strconv.Quote(long))

	cliOK(t, env, nil, "backup", long, "--name", "bk-long")
	var copies []struct {
		Checkpoint cliBytes
		BackupName string `json:"backup_name"`
	}
	cliJSON(t, env, &copies, "backups")
	require.Len(t, copies, 1)
	require.Equal(t, long, copies[0].Checkpoint.Text)
	cliOK(t, env, []byte("changed"), "put", long, "s")
	cliOK(t, env, nil, "restore", "bk-long", "--replace")
	require.Equal(t, "first", cliOK(t, env, nil, "get", long, "s"))

	node.kill9()
	again := start(t, "serve-again", env, bin("clckpt"), "serve")
	again.waitLine("^ready ", 60*time.Second)
	require.Equal(t, "first", cliOK(t, env, nil, "get", long, "s"))
	require.Equal(t, "second", cliOK(t, env, nil, "get", sibling, "s"))
	cliOK(t, env, nil, "rm", long)
	cliJSON(t, env, &list, "ls")
	require.Len(t, list, 1)
	require.Equal(t, sibling, list[0].Name.Text)
	require.Equal(t, 0, again.stop())
}
