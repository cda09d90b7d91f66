package gotests

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/clckpt/libclckpt/backup"
	"github.com/clckpt/libclckpt/backup/archive"
	"github.com/clckpt/libclckpt/ckpt"
)

// The exit code of clckpt for "already exists" (cmd/clckpt/main.go, README).
const exitExists = 5

// cliCopy is an entry of clckpt backups --json.
type cliCopy struct {
	CopyID      string `json:"copy_id"`
	Checkpoint  cliBytes
	BackupName  string `json:"backup_name"`
	Owner       string
	Created     string
	Size        int64
	Digest      string
	CopyType    string `json:"copy_type"`
	Status      string
	Description string
	Expires     string
	Compression string
}

// The backup commands against one clckpt serve node: backups into the data directory's archive
// and into a JetStream object store, the catalogue queried with --json, restores into a new name
// and over an existing checkpoint with the data compared byte for byte, deletion, and the exit
// codes of bad input, unknown backups, names in use and a damaged archive object.
func TestCLIBackup(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	env := []string{"CLCKPT_DATA_DIR=" + dir, "CLCKPT_NODE=b", "CLCKPT_PORT=" + strconv.Itoa(freePort(t)), "CLCKPT_LOG_LEVEL="}
	node := start(t, "serve", env, bin("clckpt"), "serve")
	node.waitLine("^ready ", 60*time.Second)

	// Sections of several sizes, with every byte value.
	sections := map[string][]byte{"s1": bytes.Repeat([]byte{0, 1, 2, 0xff, 'x'}, 30000), "s2": []byte("small\n"), "s3": []byte("third")}
	for i := range sections["s1"] {
		sections["s1"][i] ^= byte(i * 7)
	}
	for id, data := range sections {
		cliOK(t, env, data, "put", "app", id, "--create", "--max-sections", "10")
	}
	cliOK(t, env, []byte("other data"), "put", "other", "o", "--create")
	requireData := func(t *testing.T, name string, want map[string][]byte) {
		t.Helper()
		for id, data := range want {
			got := cliOK(t, env, nil, "get", name, id)
			require.True(t, bytes.Equal(data, []byte(got)), "section %s of %s: %d bytes, want %d", id, name, len(got), len(data))
		}
	}
	list := func(t *testing.T, args ...string) []cliCopy {
		t.Helper()
		var l []cliCopy
		cliJSON(t, env, &l, append([]string{"backups"}, args...)...)
		return l
	}
	fails := func(t *testing.T, code int, msg string, args ...string) {
		t.Helper()
		out, errOut, got := cli(t, env, nil, args...)
		require.Equal(t, code, got, "clckpt %v: stdout %s stderr %s", args, out, errOut)
		require.Contains(t, errOut, msg, args)
	}

	var first cliCopy
	t.Run("backup", func(t *testing.T) {
		out, errOut, code := cli(t, env, nil, "backup", "app", "--name", "app-1", "--description", "before the upgrade", "--json")
		require.Equal(t, 0, code, errOut)
		require.Empty(t, errOut, "no progress bar when stderr is not a terminal")
		var made []cliCopy
		require.NoError(t, json.Unmarshal([]byte(out), &made), out)
		require.Len(t, made, 1)
		first = made[0]
		require.Regexp(t, `^[0-9a-f]{16}$`, first.CopyID)
		require.Equal(t, "app", first.Checkpoint.Text)
		require.Equal(t, "app-1", first.BackupName)
		require.Equal(t, "backup", first.CopyType)
		require.Equal(t, "most-recent", first.Status)
		require.Equal(t, "before the upgrade", first.Description)
		require.Equal(t, "never", first.Expires)
		require.Regexp(t, `^[0-9a-f]{64}$`, first.Digest)

		fails(t, exitExists, "exists", "backup", "app", "--name", "app-1")
		var again []cliCopy
		cliJSON(t, env, &again, "backup", "app", "--name", "app-1", "--overwrite", "--compress", "zstd", "--copy-type", "archive", "--expire", "240h")
		require.Len(t, again, 1)
		require.NotEqual(t, first.CopyID, again[0].CopyID)
		require.Equal(t, "zstd", again[0].Compression)
		require.NotEqual(t, "never", again[0].Expires)
		first = again[0]

		// A transaction of two checkpoints under one name: BACKUP/NAME each.
		var set []cliCopy
		cliJSON(t, env, &set, "backup", "app", "other", "--name", "set")
		require.Len(t, set, 2)
		require.Equal(t, []string{"set/app", "set/other"}, []string{set[0].BackupName, set[1].BackupName})
		// Into the service's JetStream object store.
		var inStore []cliCopy
		cliJSON(t, env, &inStore, "backup", "app", "--name", "os-1", "--archive", "nats:clibk")
		require.Len(t, inStore, 1)
	})

	t.Run("progress bar on a terminal", func(t *testing.T) {
		script, err := exec.LookPath("script") // util-linux: runs the command on a pseudo-terminal
		if err != nil {
			cannotRun(t, "the progress bar test needs script(1): %v", err)
		}
		cmd := exec.Command(script, "-qec", bin("clckpt")+" backup app --name tty-1", "/dev/null")
		cmd.Env = append(os.Environ(), env...)
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, "%s", out)
		require.Regexp(t, `backup\s+0% \|`, string(out), "a bar drawn on the terminal")
		require.Contains(t, string(out), "tty-1")
		cliOK(t, env, nil, "backup-delete", "tty-1")
	})

	t.Run("backups", func(t *testing.T) {
		all := list(t)
		require.Len(t, all, 3, "the directory archive holds app-1, set/app and set/other")
		require.Equal(t, first.CopyID, all[0].CopyID, "oldest first")
		require.Len(t, list(t, "--name", "set/*"), 2)
		require.Len(t, list(t, "oth?r"), 1)
		require.Len(t, list(t, "app", "--copy-type", "archive"), 1)
		require.Len(t, list(t, "--copy-type", "backup"), 2)
		recent := list(t, "app", "--status", "most-recent", "--copy-type", "backup")
		require.Len(t, recent, 1)
		require.Equal(t, "set/app", recent[0].BackupName)
		require.Len(t, list(t, "--since", "1h"), 3)
		require.Empty(t, list(t, "--until", "2000-01-01T00:00:00Z"))
		store := list(t, "--archive", "nats:clibk")
		require.Len(t, store, 1)
		require.Equal(t, "os-1", store[0].BackupName)
		require.Regexp(t, `(?m)^COPY-ID\s+BACKUP\s+CHECKPOINT.*\n[0-9a-f]{16}\s+app-1\s+app\s`, cliOK(t, env, nil, "backups"))
	})

	t.Run("restore", func(t *testing.T) {
		out := cliOK(t, env, nil, "restore", "app-1", "--to", "app-copy")
		require.Contains(t, out, "restored backup app-1 (copy "+first.CopyID+" of app) into app-copy")
		requireData(t, "app-copy", sections)

		// Over an existing checkpoint: refused without --replace, then the data comes back.
		cliOK(t, env, []byte("changed"), "put", "app", "s1")
		cliOK(t, env, nil, "section-rm", "app", "s3")
		fails(t, exitExists, "exists", "restore", "app-1")
		fails(t, exitExists, "exists", "restore", "app-1", "--to", "other", "--replace") // other attributes
		cliOK(t, env, nil, "restore", "app-1", "--replace")
		requireData(t, "app", sections)

		// By copy id, and from the object store.
		var set []cliCopy
		cliJSON(t, env, &set, "backups", "other", "--name", "set/*")
		require.Len(t, set, 1)
		cliOK(t, env, nil, "restore", "--copy-id", set[0].CopyID, "--to", "other-copy")
		requireData(t, "other-copy", map[string][]byte{"o": []byte("other data")})
		cliOK(t, env, nil, "restore", "os-1", "--archive", "nats:clibk", "--to", "from-store")
		requireData(t, "from-store", sections)
	})

	t.Run("bad input", func(t *testing.T) {
		fails(t, exitNotFound, `no backup "nope"`, "restore", "nope", "--to", "x")
		fails(t, exitNotFound, "no backup copy", "restore", "--copy-id", "0123456789abcdef")
		fails(t, exitNotFound, "", "backup", "missing-ckpt", "--name", "m")
		fails(t, exitNotFound, `no backup "nope"`, "backup-delete", "app-1", "nope")
		require.Len(t, list(t, "--name", "app-1"), 1, "a failed delete deletes nothing")
		fails(t, exitUsage, "--name BACKUP is required", "backup", "app")
		fails(t, exitUsage, "2 --name for 3 checkpoints", "backup", "a", "b", "c", "--name", "x", "--name", "y")
		fails(t, exitUsage, "--compress", "backup", "app", "--name", "x", "--compress", "lz4")
		fails(t, exitUsage, "--copy-type", "backups", "--copy-type", "tape")
		fails(t, exitUsage, "give BACKUP or --copy-id", "restore")
		fails(t, exitUsage, "not both", "restore", "app-1", "--copy-id", "1")
		fails(t, exitUsage, "copy id", "restore", "--copy-id", "zz")
		fails(t, exitUsage, "--since", "backups", "--since", "yesterday")
		fails(t, exitUsage, "syntax error in pattern", "backups", "[")
		fails(t, exitUsage, "give the backups", "backup-delete")
		nobody := append(append([]string{}, env...), "CLCKPT_PORT="+strconv.Itoa(freePort(t)))
		for _, c := range [][]string{{"backup", "app", "--name", "x"}, {"restore", "app-1"}, {"backups", "--archive", "nats:clibk"}} {
			_, errOut, code := cli(t, nobody, nil, c...)
			require.Equal(t, exitUnreachable, code, "clckpt %v: %s", c, errOut)
		}
		// With one replica per checkpoint the command's own member would hold the restored one
		// alone: refused before anything changes.
		one := append(append([]string{}, env...), "CLCKPT_REPLICAS=1")
		_, errOut, code := cli(t, one, nil, "restore", "app-1", "--to", "lone")
		require.Equal(t, exitFailure, code, errOut)
		require.Contains(t, errOut, "CLCKPT_REPLICAS=1")
		fails(t, exitNotFound, "", "get", "lone")
		fails(t, exitFailure, "backup name of", "backup", "app", "--name", string(bytes.Repeat([]byte("n"), ckpt.MaxNameLength+1)))
	})

	t.Run("damaged", func(t *testing.T) {
		obj := filepath.Join(dir, "backups.d", "data", first.CopyID)
		b, err := os.ReadFile(obj)
		require.NoError(t, err)
		b[len(b)/2] ^= 1
		require.NoError(t, os.WriteFile(obj, b, 0o600))
		fails(t, exitFailure, "damaged backup object", "restore", "app-1", "--to", "from-damaged")
		fails(t, exitNotFound, "", "get", "from-damaged", "s1")
	})

	t.Run("delete", func(t *testing.T) {
		var gone []cliCopy
		cliJSON(t, env, &gone, "backup-delete", "app-1", "set/app")
		require.Len(t, gone, 2)
		left := list(t)
		require.Len(t, left, 1)
		require.Equal(t, "set/other", left[0].BackupName)
		_, err := os.Stat(filepath.Join(dir, "backups.d", "data", first.CopyID))
		require.ErrorIs(t, err, os.ErrNotExist, "the deleted copy's object is gone")
		fails(t, exitNotFound, `no backup "app-1"`, "restore", "app-1")
		cliOK(t, env, nil, "backup-delete", "--copy-id", left[0].CopyID, "--archive", filepath.Join(dir, "backups.d"))
		require.Empty(t, list(t))
		cliOK(t, env, nil, "backup-delete", "os-1", "--archive", "nats:clibk")
		require.Empty(t, list(t, "--archive", "nats:clibk"))
	})

	t.Run("keep-last and expiry", func(t *testing.T) {
		cliOK(t, env, nil, "backup", "other", "--name", "k1")
		cliOK(t, env, nil, "backup", "other", "--name", "k2", "--expires", "2000-01-01T00:00:00Z")
		cliOK(t, env, nil, "backup", "other", "--name", "k3")
		cliOK(t, env, nil, "backup", "other", "--name", "k4", "--keep-last", "2")
		left := list(t)
		require.Len(t, left, 2, "k2 expired, k1 beyond the last 2")
		require.Equal(t, []string{"k3", "k4"}, []string{left[0].BackupName, left[1].BackupName})
		fails(t, exitUsage, "not both", "backup", "other", "--name", "k5", "--expire", "1h", "--expires", "2000-01-01T00:00:00Z")
	})

	t.Run("a collocated checkpoint is not restored by the command", func(t *testing.T) {
		// A program's member makes a collocated checkpoint and backs it up into the data
		// directory's archive, as clCkptBackupStart does.
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		m := joinProgram(ctx, t, env, dir)
		h, err := m.Open(ctx, "col", &ckpt.Attributes{Flags: ckpt.Collocated, MaxSections: 4, MaxSectionIDSize: 8},
			ckpt.OpenRead|ckpt.OpenWrite|ckpt.OpenCreate)
		require.NoError(t, err)
		defer h.Close()
		require.NoError(t, h.SetActiveReplica(ctx))
		_, err = h.CreateSection(ctx, []byte("c"), ckpt.Never, []byte("collocated data"))
		require.NoError(t, err)
		ar, err := archive.OpenDir(filepath.Join(dir, "backups.d"))
		require.NoError(t, err)
		j, err := backup.New(m, ar).Start(ctx, backup.Request{Items: []backup.Item{{Checkpoint: "col", BackupName: "col-1"}}})
		require.NoError(t, err)
		_, err = j.Wait(ctx)
		require.NoError(t, err)

		// The command refuses before anything changes: not into a new name, not over another.
		fails(t, exitFailure, "collocated", "restore", "col-1", "--to", "col-copy")
		fails(t, exitNotFound, "", "get", "col-copy")
		fails(t, exitFailure, "collocated", "restore", "col-1", "--to", "other", "--replace")
		requireData(t, "other", map[string][]byte{"o": []byte("other data")})
	})
}
