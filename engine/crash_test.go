package engine

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/stretchr/testify/require"
)

// The crash test runs this test binary again as a child process (crashChildEnv set): the child
// writes numbered values and prints "ack N" after each write returns; the parent kills it with
// SIGKILL in the middle and checks that every acknowledged write is in the data directory. With
// crashSyncEnv=1 the child's store fsyncs every write (SyncWrites, whose moves into Badger gather
// longer: its log holds more of what Badger has not yet taken).

const (
	crashChildEnv = "CLCKPT_ENGINE_CRASH_CHILD"
	crashSyncEnv  = "CLCKPT_ENGINE_CRASH_SYNC"
)

func TestMain(m *testing.M) {
	if dir := os.Getenv(crashChildEnv); dir != "" {
		crashChild(dir, os.Getenv(crashSyncEnv) == "1")
		os.Exit(0)
	}
	os.Exit(m.Run())
}

const crashSections = 16

// crashChild continues the numbered writes from wherever the previous child stopped. Write n goes
// to section n%16 (an overwrite holding n) and every 10th write also creates section "n<n>".
func crashChild(dir string, syncWrites bool) {
	fail := func(err error) { fmt.Println("error", err); os.Exit(3) }
	l, err := OpenLocal(Options{Dir: dir, SyncWrites: syncWrites})
	if err != nil {
		fail(err)
	}
	a := &Attributes{Flags: WriteActiveReplica, Retention: RetainForever, MaxSections: 100000, MaxSectionIDSize: 32}
	h, err := l.Open(bg, "crash", a, rwc)
	if err != nil {
		fail(err)
	}
	start := uint64(0)
	for k := 0; k < crashSections; k++ {
		id := sec(fmt.Sprint(k))
		el := []ReadElement{{SectionID: id}}
		if err := h.Read(bg, el); err == nil {
			start = max(start, binary.BigEndian.Uint64(el[0].Buffer)+1)
		} else if _, err := h.CreateSection(bg, id, Never, make([]byte, 8)); err != nil {
			fail(err)
		}
	}
	if last := start - 1; start > 0 && last%10 == 0 {
		// The previous child may have died between the overwrite and the create of its last write.
		val := binary.BigEndian.AppendUint64(nil, last)
		if _, err := h.CreateSection(bg, sec(fmt.Sprintf("n%d", last)), Never, val); err != nil && !errors.Is(err, ErrAlreadyExist) {
			fail(err)
		}
	}
	fmt.Println("start", start)
	for n := start; ; n++ {
		val := binary.BigEndian.AppendUint64(nil, n)
		if err := h.Overwrite(bg, sec(fmt.Sprint(n%crashSections)), val); err != nil {
			fail(err)
		}
		if n%10 == 0 {
			if _, err := h.CreateSection(bg, sec(fmt.Sprintf("n%d", n)), Never, val); err != nil {
				fail(err)
			}
		}
		fmt.Println("ack", n)
	}
}

func TestSIGKILLLosesNoAcknowledgedWrite(t *testing.T) {
	if testing.Short() {
		t.Skip("runs child processes")
	}
	for _, sync := range []string{"0", "1"} {
		t.Run("sync="+sync, func(t *testing.T) { crashRounds(t, sync) })
	}
}

// crashRounds kills three children in turn in one data directory (crashSyncEnv set to sync).
func crashRounds(t *testing.T, sync string) {
	dir := t.TempDir()
	lastAck := int64(-1)
	for round := 0; round < 3; round++ {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), crashChildEnv+"="+dir, crashSyncEnv+"="+sync)
		out, err := cmd.StdoutPipe()
		require.NoError(t, err)
		require.NoError(t, cmd.Start())
		lines := bufio.NewScanner(out)
		acksThisRound := 0
		killed := false
		for lines.Scan() {
			f := strings.Fields(lines.Text())
			switch {
			case len(f) == 2 && f[0] == "start":
				start, _ := strconv.ParseInt(f[1], 10, 64)
				// A new child continues after the last acknowledged write (or after one more that
				// reached the disk before its acknowledgement did).
				require.True(t, start == lastAck+1 || start == lastAck+2, "round %d starts at %d after ack %d", round, start, lastAck)
			case len(f) == 2 && f[0] == "ack":
				n, _ := strconv.ParseInt(f[1], 10, 64)
				lastAck = n
				acksThisRound++
				if acksThisRound == 1500+round*700 && !killed {
					require.NoError(t, cmd.Process.Signal(syscall.SIGKILL))
					killed = true
				}
			default:
				t.Fatalf("child said %q", lines.Text())
			}
		}
		err = cmd.Wait()
		require.True(t, killed, "child ended before it was killed: %v", err)
		require.Error(t, err)

		verifyCrash(t, dir, lastAck)
	}
}

// verifyCrash opens the data directory the way a new process would and checks every acknowledged
// write.
func verifyCrash(t *testing.T, dir string, lastAck int64) {
	t.Helper()
	l, err := OpenLocal(Options{Dir: dir})
	require.NoError(t, err)
	defer l.Close()
	h, err := l.Open(bg, "crash", nil, OpenRead)
	require.NoError(t, err)
	for k := int64(0); k < crashSections; k++ {
		el := []ReadElement{{SectionID: sec(fmt.Sprint(k))}}
		require.NoError(t, h.Read(bg, el))
		v := int64(binary.BigEndian.Uint64(el[0].Buffer))
		lastForK := lastAck - ((lastAck-k)%crashSections+crashSections)%crashSections
		require.Equal(t, k, v%crashSections)
		require.True(t, v >= lastForK && v <= lastAck+1, "section %d holds %d; last acknowledged write to it was %d", k, v, lastForK)
	}
	for n := int64(0); n <= lastAck; n += 10 {
		el := []ReadElement{{SectionID: sec(fmt.Sprintf("n%d", n))}}
		require.NoError(t, h.Read(bg, el), "acknowledged section n%d is missing", n)
		require.Equal(t, uint64(n), binary.BigEndian.Uint64(el[0].Buffer))
	}
	require.NoError(t, h.Close())
}
