package gotests

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/require"

	"github.com/clckpt/libclckpt/ckpt"
	"github.com/clckpt/libclckpt/config"
	"github.com/clckpt/libclckpt/replication"
	"github.com/clckpt/libclckpt/replication/natsconn"
)

// The exit codes of clckpt (cmd/clckpt/main.go, README).
const (
	exitFailure     = 1
	exitUsage       = 2
	exitUnreachable = 3
	exitNotFound    = 4
)

// cli runs clckpt with env added to the environment and stdin as its input; it returns stdout,
// stderr and the exit code.
func cli(t *testing.T, env []string, stdin []byte, args ...string) (string, string, int) {
	t.Helper()
	cmd := exec.Command(bin("clckpt"), args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdin = bytes.NewReader(stdin)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	code := 0
	if err != nil {
		ee, ok := err.(*exec.ExitError)
		require.True(t, ok, "running clckpt %v: %v", args, err)
		code = ee.ExitCode()
	}
	return out.String(), errOut.String(), code
}

// cliOK runs clckpt and requires exit code 0; it returns stdout.
func cliOK(t *testing.T, env []string, stdin []byte, args ...string) string {
	t.Helper()
	out, errOut, code := cli(t, env, stdin, args...)
	require.Equal(t, 0, code, "clckpt %v: stdout %s stderr %s", args, out, errOut)
	return out
}

// cliJSON runs clckpt with --json and decodes its output into v.
func cliJSON(t *testing.T, env []string, v any, args ...string) {
	t.Helper()
	out := cliOK(t, env, nil, append(args, "--json")...)
	require.NoError(t, json.Unmarshal([]byte(out), v), "clckpt %v printed %s", args, out)
}

type cliBytes struct{ Text, Hex string }

type cliCkpt struct {
	Positions []struct {
		Member string
		Alive  bool
		InSync bool `json:"in_sync"`
		LSN    uint64
		Lag    *uint64
	}
	Name      cliBytes
	Flags     []string
	Retention string
	MaxSecs   uint32 `json:"max_sections"`
	Active    string
	Replicas  []string
	InSync    []string `json:"in_sync"`
	Opens     int
	Sections  *uint32
	Size      *uint64
}

type cliSection struct {
	ID         cliBytes
	Size       uint64
	Expiration string
	State      string
	Data       string
	Format     string
}

// Every client command against one clckpt serve node: what they print (text and --json), what
// they change, and their exit codes for bad input, a missing checkpoint or section, and a service
// that cannot be reached or refuses the credentials. Then the node is killed with SIGKILL and
// started again: its log stays quiet and the checkpoints are all there.
func TestCLICommands(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	env := []string{"CLCKPT_DATA_DIR=" + dir, "CLCKPT_NODE=s", "CLCKPT_PORT=" + strconv.Itoa(freePort(t)), "CLCKPT_LOG_LEVEL="}
	node := start(t, "serve", env, bin("clckpt"), "serve")
	node.waitLine("^ready ", 60*time.Second)

	t.Run("usage", func(t *testing.T) {
		out := cliOK(t, env, nil, "--version")
		require.Regexp(t, `^clckpt \d+\.\d+\.\d+\n$`, out)
		out = cliOK(t, env, nil, "--help")
		for _, c := range []string{"serve", "status", "health", "ls", "get", "dump", "put", "rm", "section-rm", "watch", "backup", "restore", "backups", "backup-delete", "completion"} {
			require.Regexp(t, `(?m)^  `+c+`\s`, out, "clckpt --help lists %s", c)
			require.Contains(t, cliOK(t, env, nil, c, "--help"), "Usage:")
		}
		require.Contains(t, out, "Exit codes:")
		require.Contains(t, cliOK(t, env, nil, "help", "ls"), "clckpt ls [PATTERN]")
		require.Contains(t, cliOK(t, env, nil, "completion", "bash"), "bash completion")
		for _, c := range []struct {
			args []string
			msg  string
		}{
			{nil, "no command given"},
			{[]string{"bogus"}, `unknown command "bogus"`},
			{[]string{"ls", "--bogus"}, "unknown flag: --bogus"},
			{[]string{"get"}, "get takes 1 to 2 arguments, got 0"},
			{[]string{"rm", "a", "b"}, "rm takes 1 arguments, got 2"},
			{[]string{"get", "--hex", "zz"}, "not hexadecimal"},
			{[]string{"ls", "[", "--json"}, "syntax error in pattern"},
			{[]string{"dump", "x", "--format", "octal"}, "--format"},
			{[]string{"put", "x", "s", "--flags", "fast"}, `unknown flag "fast"`},
			{[]string{"ls", "--log-level", "loud"}, "--log-level"},
			{[]string{"serve", "--port", "notaport"}, "invalid argument"},
		} {
			out, errOut, code := cli(t, env, nil, c.args...)
			require.Equal(t, exitUsage, code, "clckpt %v: %s %s", c.args, out, errOut)
			require.Contains(t, errOut, c.msg, c.args)
		}
	})

	t.Run("unreachable", func(t *testing.T) {
		nobody := append(append([]string{}, env...), "CLCKPT_PORT="+strconv.Itoa(freePort(t)))
		for _, c := range []string{"status", "health", "ls", "get x", "dump x", "rm x", "section-rm x s", "watch x"} {
			_, errOut, code := cli(t, nobody, nil, strings.Fields(c)...)
			require.Equal(t, exitUnreachable, code, "clckpt %s: %s", c, errOut)
			require.Contains(t, errOut, "no servers available", c)
		}
		// From anywhere: the URL, the token and the certificate given as flags.
		elsewhere := []string{"CLCKPT_DATA_DIR=" + filepath.Join(t.TempDir(), "elsewhere"), "CLCKPT_PORT=" + strconv.Itoa(freePort(t))}
		url := "nats://127.0.0.1:" + strconv.Itoa(portOf(env))
		given := []string{"--url", url, "--token-file", filepath.Join(dir, "nats.token"), "--tls-ca", filepath.Join(dir, "nats.crt")}
		require.Regexp(t, `(?m)^\s+s\s+server\s+lease ends in \S+\s+link`, cliOK(t, elsewhere, nil, append([]string{"status"}, given...)...))
		cliOK(t, elsewhere, nil, append([]string{"ls"}, given...)...)
		_, errOut, code := cli(t, elsewhere, nil, "status", "--url", url)
		require.Equal(t, exitUnreachable, code, errOut)

		wrong := filepath.Join(t.TempDir(), "token")
		require.NoError(t, os.WriteFile(wrong, []byte("not-the-token\n"), 0o600))
		for _, c := range []string{"status", "ls"} {
			_, errOut, code := cli(t, env, nil, c, "--token-file", wrong)
			require.Equal(t, exitUnreachable, code, errOut)
			require.Contains(t, errOut, "Authorization Violation")
		}
	})

	name, section := []byte("a b"), []byte{0, 1, 0xff}
	nameHex, sectionHex := hex.EncodeToString(name), hex.EncodeToString(section)
	data := []byte("hello\x00world\n")

	t.Run("put ls get dump", func(t *testing.T) {
		_, errOut, code := cli(t, env, data, "put", "--hex", nameHex, sectionHex)
		require.Equal(t, exitNotFound, code, "no such checkpoint without --create: %s", errOut)

		var put struct {
			Size    int
			Created bool
		}
		out := cliOK(t, env, data, "put", "--hex", nameHex, sectionHex, "-", "--create", "--max-sections", "10", "--json")
		require.NoError(t, json.Unmarshal([]byte(out), &put))
		require.Equal(t, len(data), put.Size)
		require.True(t, put.Created)
		file := filepath.Join(t.TempDir(), "in")
		require.NoError(t, os.WriteFile(file, []byte("second"), 0o600))
		cliOK(t, env, nil, "put", "--hex", nameHex, hex.EncodeToString([]byte("s2")), file, "--expire", "1h")
		// A command run with a program's environment must not try to take the program's metrics
		// address (it serves no metrics).
		taken, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		defer taken.Close()
		cliOK(t, append(slices.Clone(env), "CLCKPT_METRICS_ADDR="+taken.Addr().String()), []byte("x"),
			"put", "plain", "s", "--create", "--retention", "10m")

		var list []cliCkpt
		cliJSON(t, env, &list, "ls")
		require.Len(t, list, 2)
		require.Equal(t, cliBytes{`"a b"`, nameHex}, list[0].Name, "names sorted, escaped")
		c := list[0]
		require.Equal(t, []string{"all-replicas"}, c.Flags)
		require.Equal(t, "forever", c.Retention)
		require.Equal(t, uint32(10), c.MaxSecs)
		require.Equal(t, "s", c.Active)
		require.Equal(t, []string{"s"}, c.Replicas)
		require.Equal(t, []string{"s"}, c.InSync)
		require.Equal(t, 0, c.Opens, "the commands closed what they opened")
		require.NotNil(t, c.Sections)
		require.Equal(t, uint32(2), *c.Sections)
		require.Equal(t, uint64(len(data)+len("second")), *c.Size)
		require.Equal(t, "10m0s", list[1].Retention)
		cliJSON(t, env, &list, "ls", "pl*")
		require.Len(t, list, 1)
		require.Equal(t, "plain", list[0].Name.Text)
		cliJSON(t, env, &list, "ls", "nothing*")
		require.Empty(t, list)
		out = cliOK(t, env, nil, "ls")
		require.Regexp(t, `(?m)^NAME\s+SECTIONS\s+SIZE\s+ACTIVE`, out)
		require.Regexp(t, `(?m)^"a b"\s+2\s+`+strconv.Itoa(len(data)+6)+`\s+s\s+1\s+1\s+0\s+all-replicas\s+forever$`, out)

		// One section: raw, hex, base64, to a file, as JSON.
		require.Equal(t, string(data), cliOK(t, env, nil, "get", "--hex", nameHex, sectionHex))
		require.Equal(t, hex.EncodeToString(data)+"\n", cliOK(t, env, nil, "get", "--hex", nameHex, sectionHex, "--format", "hex"))
		require.Equal(t, base64.StdEncoding.EncodeToString(data)+"\n", cliOK(t, env, nil, "get", "--hex", nameHex, sectionHex, "--format", "base64"))
		to := filepath.Join(t.TempDir(), "out")
		cliOK(t, env, nil, "get", "--hex", nameHex, sectionHex, "-o", to)
		got, err := os.ReadFile(to)
		require.NoError(t, err)
		require.Equal(t, data, got)
		var sec cliSection
		cliJSON(t, env, &sec, "get", "--hex", nameHex, sectionHex)
		require.Equal(t, cliBytes{`"\x00\x01\xff"`, sectionHex}, sec.ID)
		require.Equal(t, uint64(len(data)), sec.Size)
		require.Equal(t, "never", sec.Expiration)
		require.Equal(t, "base64", sec.Format)
		require.Equal(t, base64.StdEncoding.EncodeToString(data), sec.Data)

		// The checkpoint.
		var one cliCkpt
		cliJSON(t, env, &one, "get", "a b")
		require.Equal(t, nameHex, one.Name.Hex)
		require.Equal(t, uint32(2), *one.Sections)
		require.Equal(t, 0, one.Opens, "counted before the command's own open")
		require.Regexp(t, `(?m)^sections:\s+2$`, cliOK(t, env, nil, "get", "a b"))

		// Every section.
		var dump struct {
			Name     cliBytes
			Sections []cliSection
		}
		cliJSON(t, env, &dump, "dump", "a b", "--format", "base64")
		require.Len(t, dump.Sections, 2)
		require.Equal(t, sectionHex, dump.Sections[0].ID.Hex)
		require.Equal(t, base64.StdEncoding.EncodeToString(data), dump.Sections[0].Data)
		require.Equal(t, "s2", dump.Sections[1].ID.Text)
		require.Equal(t, "second", mustBase64(t, dump.Sections[1].Data))
		exp, err := time.Parse(time.RFC3339Nano, dump.Sections[1].Expiration)
		require.NoError(t, err, "an expiring section's expiration: %s", dump.Sections[1].Expiration)
		require.WithinDuration(t, time.Now().Add(time.Hour), exp, 10*time.Minute)
		out = cliOK(t, env, nil, "dump", "a b")
		require.Contains(t, out, `section "\x00\x01\xff" size 12 expires never state valid`)
		require.Contains(t, out, "  "+hex.EncodeToString(data)+"\n")
		dumpDir := filepath.Join(t.TempDir(), "dump")
		cliOK(t, env, nil, "dump", "a b", "-o", dumpDir)
		got, err = os.ReadFile(filepath.Join(dumpDir, sectionHex))
		require.NoError(t, err)
		require.Equal(t, data, got)

		// Missing sections and checkpoints.
		for _, args := range [][]string{{"get", "a b", "nope"}, {"get", "nope"}, {"dump", "nope"}, {"section-rm", "a b", "nope"},
			{"rm", "nope"}, {"put", "nope", "s"}} {
			_, errOut, code := cli(t, env, []byte("x"), args...)
			require.Equal(t, exitNotFound, code, "clckpt %v: %s", args, errOut)
			require.Contains(t, errOut, "does not exist", args)
		}

		// A one-section checkpoint: its default section has the empty id.
		cliOK(t, env, []byte("abc"), "put", "single", "", "--create", "--max-sections", "1")
		require.Equal(t, "abc", cliOK(t, env, nil, "get", "single", ""))
		cliJSON(t, env, &dump, "dump", "single")
		require.Len(t, dump.Sections, 1)
		require.Equal(t, cliBytes{`""`, ""}, dump.Sections[0].ID)
		require.Equal(t, hex.EncodeToString([]byte("abc")), dump.Sections[0].Data)
		cliOK(t, env, nil, "rm", "single")
	})

	t.Run("status health", func(t *testing.T) {
		var st struct {
			URL     string
			Members []struct {
				Name, Kind, Link string
				LeaseRenewed     time.Time `json:"lease_renewed"`
				LeaseExpiresIn   string    `json:"lease_expires_in"`
			}
			Checkpoints []cliCkpt
		}
		cliJSON(t, env, &st, "status")
		require.Len(t, st.Members, 1, "the commands' own members have left")
		require.Equal(t, "s", st.Members[0].Name)
		// The lease: renewed, and (the node being alive) not over by more than a renewal's delay.
		require.False(t, st.Members[0].LeaseRenewed.IsZero(), "the lease's last renewal is shown")
		left, err := time.ParseDuration(st.Members[0].LeaseExpiresIn)
		require.NoError(t, err, "lease_expires_in is a duration")
		require.Greater(t, left, -time.Minute, "a live node's lease has not long ended")
		require.Equal(t, "server", st.Members[0].Kind)
		require.Regexp(t, `^127\.0\.0\.1:\d+$`, st.Members[0].Link)
		require.Len(t, st.Checkpoints, 2)
		require.Len(t, st.Checkpoints[0].Positions, 1)
		pos := st.Checkpoints[0].Positions[0]
		require.Equal(t, "s", pos.Member)
		require.True(t, pos.Alive && pos.InSync)
		require.Positive(t, pos.LSN, "the sections written are ops")
		require.NotNil(t, pos.Lag)
		require.Zero(t, *pos.Lag)
		out := cliOK(t, env, nil, "status")
		require.Regexp(t, `(?m)^\s+s\s+server\s+lease ends in \S+\s+link 127\.0\.0\.1:\d+$`, out)
		require.Regexp(t, `(?m)^\s+"a b"\s+epoch 1\s+active s\s+replicas \[s\] in-sync \[s\] opens 0\n\s+replica s\s+lsn \d+ lag 0$`, out)

		var h struct {
			Healthy  bool
			Servers  int
			Problems []string
		}
		cliJSON(t, env, &h, "health")
		require.True(t, h.Healthy)
		require.Equal(t, 1, h.Servers)
		require.Regexp(t, `^healthy: 1 members \(1 servers\), 2 checkpoints\n$`, cliOK(t, env, nil, "health"))
		out, _, code := cli(t, env, nil, "health", "--min-servers", "2", "--json")
		require.Equal(t, exitFailure, code)
		require.NoError(t, json.Unmarshal([]byte(out), &h))
		require.False(t, h.Healthy)
		require.Len(t, h.Problems, 1)
	})

	t.Run("watch", func(t *testing.T) {
		// A program holds a distributed checkpoint open (it lives while some handle does).
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		m := joinProgram(ctx, t, env, dir)
		h, err := m.Open(ctx, "hot", &ckpt.Attributes{Flags: ckpt.Distributed | ckpt.WriteAllReplicas, MaxSections: 10,
			MaxSectionIDSize: 16}, ckpt.OpenRead|ckpt.OpenWrite|ckpt.OpenCreate)
		require.NoError(t, err)
		defer h.Close()

		_, err = h.CreateSection(ctx, []byte("s1"), ckpt.Never, []byte("zero")) // creations notify nobody
		require.NoError(t, err)
		w := start(t, "watch", env, bin("clckpt"), "watch", "hot", "--json", "--count", "3")
		w.waitLog(`(?m)^watching hot$`, 60*time.Second)
		require.NoError(t, h.Overwrite(ctx, []byte("s1"), []byte("one")))
		cliOK(t, env, []byte("two"), "put", "hot", "s1") // another handle: another process
		require.NoError(t, h.DeleteSection(ctx, []byte("s1")))
		require.Equal(t, 0, w.wait(60*time.Second))
		var ups []struct {
			Section cliBytes
			Size    int
			Deleted bool
			Data    string
		}
		for _, l := range w.matching(`^\{`) {
			var u struct {
				Section cliBytes
				Size    int
				Deleted bool
				Data    string
			}
			require.NoError(t, json.Unmarshal([]byte(l), &u), l)
			ups = append(ups, u)
		}
		require.Len(t, ups, 3)
		require.Equal(t, "s1", ups[0].Section.Text)
		require.Equal(t, hex.EncodeToString([]byte("one")), ups[0].Data)
		require.Equal(t, hex.EncodeToString([]byte("two")), ups[1].Data)
		require.True(t, ups[2].Deleted)

		// Only distributed checkpoints notify.
		_, errOut, code := cli(t, env, nil, "watch", "plain")
		require.Equal(t, exitFailure, code)
		require.Contains(t, errOut, "not distributed")
	})

	t.Run("section-rm rm", func(t *testing.T) {
		cliOK(t, env, nil, "section-rm", "--hex", nameHex, sectionHex)
		_, _, code := cli(t, env, nil, "get", "--hex", nameHex, sectionHex)
		require.Equal(t, exitNotFound, code)
		cliOK(t, env, nil, "rm", "plain")
		var list []cliCkpt
		cliJSON(t, env, &list, "ls")
		require.Len(t, list, 1)
		require.Equal(t, nameHex, list[0].Name.Hex)
	})

	t.Run("restart after SIGKILL is quiet", func(t *testing.T) {
		node.kill9()
		again := start(t, "serve-again", env, bin("clckpt"), "serve")
		again.waitLine("^ready ", 60*time.Second)
		require.Equal(t, "second", cliOK(t, env, nil, "get", "a b", "s2"))
		require.Equal(t, 0, again.stop())
		logged, err := os.ReadFile(again.log)
		require.NoError(t, err)
		require.NotRegexp(t, `level=(WARN|ERROR)`, string(logged), "a healthy start after an unclean stop logs no warning")
	})
}

func mustBase64(t *testing.T, s string) string {
	t.Helper()
	b, err := base64.StdEncoding.DecodeString(s)
	require.NoError(t, err)
	return string(b)
}

// The connection flags with a node that requires a user and password.
func TestCLIUserAndPassword(t *testing.T) {
	dir := t.TempDir()
	password := filepath.Join(dir, "password")
	require.NoError(t, os.WriteFile(password, []byte("s3cret\n"), 0o600))
	port := freePort(t)
	node := start(t, "serve", []string{"CLCKPT_DATA_DIR=" + filepath.Join(dir, "data"), "CLCKPT_NODE=u"}, bin("clckpt"), "serve",
		"--port", strconv.Itoa(port), "--user", "app", "--password-file", password)
	node.waitLine("^ready ", 60*time.Second)
	elsewhere := []string{"CLCKPT_DATA_DIR=" + filepath.Join(dir, "client"), "CLCKPT_NODE=c"}
	url := "nats://127.0.0.1:" + strconv.Itoa(port)
	cliOK(t, elsewhere, []byte("v"), "put", "--url", url, "--user", "app", "--password-file", password, "k", "s", "--create")
	require.Equal(t, "v", cliOK(t, elsewhere, nil, "get", "--url", url, "--user", "app", "--password-file", password, "k", "s"))
	require.Regexp(t, `(?m)^\s+u\s+server`, cliOK(t, append(elsewhere, "CLCKPT_NATS_URL="+url, "CLCKPT_NATS_USER=app",
		"CLCKPT_NATS_PASSWORD=s3cret"), nil, "status"), "the environment as programs have it")
	wrong := filepath.Join(dir, "wrong")
	require.NoError(t, os.WriteFile(wrong, []byte("nope\n"), 0o600))
	for _, c := range []string{"status", "get k s"} {
		_, errOut, code := cli(t, elsewhere, nil, append(strings.Fields(c), "--url", url, "--user", "app", "--password-file", wrong)...)
		require.Equal(t, exitUnreachable, code, errOut)
		require.Contains(t, errOut, "Authorization Violation")
	}
	require.Equal(t, 0, node.stop())
}

// portOf returns the CLCKPT_PORT of env.
func portOf(env []string) int {
	for _, e := range env {
		if v, ok := strings.CutPrefix(e, "CLCKPT_PORT="); ok {
			p, _ := strconv.Atoi(v)
			return p
		}
	}
	return 0
}

// A NATS server without JetStream has no checkpoint directory: the client commands say so and
// exit with 3, never print an empty list.
func TestCLIWithoutTheDirectoryIsAnError(t *testing.T) {
	_, env := bareNATS(t, &server.Options{})
	for _, c := range []string{"status", "health", "ls", "get x", "status --json"} {
		out, errOut, code := cli(t, env, nil, append(strings.Fields(c), "--timeout", "3s")...)
		require.Equal(t, exitUnreachable, code, "clckpt %s: %s %s", c, out, errOut)
		require.Empty(t, out, c)
		require.NotEmpty(t, errOut, c)
	}
}

// A NATS server with JetStream where no member has started yet: the client commands that only read
// the directory say so and exit with 3, and make no bucket (made by a command, the directory would keep the
// command's replica count of 1 when a cluster's members came, and lose a server's worth of it).
func TestCLIMakesNoDirectory(t *testing.T) {
	s, env := bareNATS(t, &server.Options{JetStream: true, StoreDir: t.TempDir()})
	for _, c := range []string{"status", "health", "ls", "status --json"} { // (get and put join as members)
		out, errOut, code := cli(t, env, nil, append(strings.Fields(c), "--timeout", "5s")...)
		require.Equal(t, exitUnreachable, code, "clckpt %s: %s %s", c, out, errOut)
		require.Empty(t, out, c)
		require.Contains(t, errOut, "no checkpoint directory here yet", c)
	}
	nc, err := nats.Connect(s.ClientURL())
	require.NoError(t, err)
	defer nc.Close()
	js, err := jetstream.New(nc)
	require.NoError(t, err)
	var streams []string
	for name := range js.StreamNames(context.Background()).Name() {
		streams = append(streams, name)
	}
	require.Empty(t, streams, "streams made by the commands")
}

// bareNATS starts a NATS server of options o on a free loopback port, without any member, and
// returns it with the environment of a client command that reaches it.
func bareNATS(t *testing.T, o *server.Options) (*server.Server, []string) {
	t.Helper()
	o.Host, o.Port, o.NoLog, o.NoSigs = "127.0.0.1", -1, true, true
	s, err := server.NewServer(o)
	require.NoError(t, err)
	s.Start()
	t.Cleanup(s.Shutdown)
	require.True(t, s.ReadyForConnections(10*time.Second))
	return s, []string{"CLCKPT_DATA_DIR=" + t.TempDir(), "CLCKPT_NATS_URL=" + s.ClientURL(), "CLCKPT_NODE=c"}
}

// joinProgram joins a member as a program of its own would (its own data directory, the node's
// port), using the token and certificate of the serve node's data directory dir; closed at the
// test's end.
func joinProgram(ctx context.Context, t *testing.T, env []string, dir string) *replication.Member {
	t.Helper()
	cfg, err := config.FromEnv()
	require.NoError(t, err)
	cfg.DataDir, cfg.Node, cfg.Port = filepath.Join(t.TempDir(), "program"), "program", portOf(env)
	tokenCfg := cfg
	tokenCfg.DataDir = dir
	tokenCfg, err = natsconn.ClientConfig(tokenCfg)
	require.NoError(t, err)
	cfg.NATS = tokenCfg.NATS
	m, err := replication.Join(ctx, replication.Options{Config: cfg})
	require.NoError(t, err)
	t.Cleanup(func() { m.Close() })
	return m
}
