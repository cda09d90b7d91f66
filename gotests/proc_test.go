package gotests

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// proc is a process a test runs: its stdout lines arrive on a channel, and both its streams are kept
// in a log file that is printed when the test fails.
type proc struct {
	t     *testing.T
	name  string
	cmd   *exec.Cmd
	lines chan string
	done  chan struct{}
	log   string

	mu   sync.Mutex
	seen []string
	in   io.WriteCloser // the process's stdin (startInput only)
}

func start(t *testing.T, name string, env []string, bin string, args ...string) *proc {
	t.Helper()
	return startProc(t, name, env, false, bin, args...)
}

// startInput is start with a pipe to the process's stdin (proc.send).
func startInput(t *testing.T, name string, env []string, bin string, args ...string) *proc {
	t.Helper()
	return startProc(t, name, env, true, bin, args...)
}

// send writes one line to the process's stdin.
func (p *proc) send(line string) {
	p.t.Helper()
	_, err := io.WriteString(p.in, line+"\n")
	require.NoError(p.t, err)
}

func startProc(t *testing.T, name string, env []string, input bool, bin string, args ...string) *proc {
	t.Helper()
	p := &proc{t: t, name: name, lines: make(chan string, 1<<16), done: make(chan struct{}),
		log: filepath.Join(t.TempDir(), name+".log")}
	logf, err := os.Create(p.log)
	require.NoError(t, err)
	p.cmd = exec.Command(bin, args...)
	p.cmd.Env = append(os.Environ(), env...)
	p.cmd.Stderr = logf
	out, err := p.cmd.StdoutPipe()
	require.NoError(t, err)
	if input {
		p.in, err = p.cmd.StdinPipe()
		require.NoError(t, err)
	}
	require.NoError(t, p.cmd.Start())
	go func() {
		defer close(p.done)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			line := sc.Text()
			fmt.Fprintln(logf, "stdout:", line)
			p.mu.Lock()
			p.seen = append(p.seen, line)
			p.mu.Unlock()
			select {
			case p.lines <- line:
			default:
			}
		}
		_ = p.cmd.Wait()
		logf.Close()
	}()
	t.Cleanup(func() {
		if p.cmd.ProcessState == nil {
			_ = p.cmd.Process.Kill()
			<-p.done
		}
		if t.Failed() {
			b, _ := os.ReadFile(p.log)
			lines := strings.Split(string(b), "\n")
			if len(lines) > 60 {
				// The role changes of the whole run tell most of the story; then the end.
				var roles []string
				for _, l := range lines[:len(lines)-60] {
					if roleLine.MatchString(l) {
						roles = append(roles, l)
					}
				}
				if len(roles) > 150 {
					roles = roles[len(roles)-150:]
				}
				t.Logf("--- %s (role changes before the last lines) ---\n%s", name, strings.Join(roles, "\n"))
				lines = lines[len(lines)-60:]
			}
			t.Logf("--- %s (last lines) ---\n%s", name, strings.Join(lines, "\n"))
		}
	})
	return p
}

// roleLine matches the log lines of a member taking, losing or changing a role.
var roleLine = regexp.MustCompile(`msg="?(active|new active replica elected|no longer active|handed over|in-sync set changed|lease not renewed|lease renewed|member lease ended|copying the replica)`)

// waitLine waits for a stdout line matching re and returns its submatches.
func (p *proc) waitLine(re string, timeout time.Duration) []string {
	p.t.Helper()
	rx := regexp.MustCompile(re)
	deadline := time.After(timeout)
	for {
		select {
		case line := <-p.lines:
			if m := rx.FindStringSubmatch(line); m != nil {
				return m
			}
		case <-p.done:
			// Lines printed just before the exit may still be queued.
			for drained := false; !drained; {
				select {
				case line := <-p.lines:
					if m := rx.FindStringSubmatch(line); m != nil {
						return m
					}
				default:
					drained = true
				}
			}
			p.t.Fatalf("%s exited while waiting for %q", p.name, re)
		case <-deadline:
			p.t.Fatalf("%s: no line matching %q within %s", p.name, re, timeout)
		}
	}
}

// lastMatch returns the submatches of the last line seen so far that matches re.
func (p *proc) lastMatch(re string) []string {
	rx := regexp.MustCompile(re)
	p.mu.Lock()
	defer p.mu.Unlock()
	for i := len(p.seen) - 1; i >= 0; i-- {
		if m := rx.FindStringSubmatch(p.seen[i]); m != nil {
			return m
		}
	}
	return nil
}

// matching returns the lines seen so far that match re, in order.
func (p *proc) matching(re string) []string {
	rx := regexp.MustCompile(re)
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []string
	for _, l := range p.seen {
		if rx.MatchString(l) {
			out = append(out, l)
		}
	}
	return out
}

// waitLog waits until the process's log (its stderr, where members log) has a line matching re.
func (p *proc) waitLog(re string, timeout time.Duration) {
	p.t.Helper()
	rx := regexp.MustCompile(re)
	require.Eventually(p.t, func() bool {
		b, err := os.ReadFile(p.log)
		return err == nil && rx.Match(b)
	}, timeout, 20*time.Millisecond, "%s: no log line matching %q", p.name, re)
}

func (p *proc) signal(sig syscall.Signal) { require.NoError(p.t, p.cmd.Process.Signal(sig)) }

// kill9 kills the process with SIGKILL and waits for it.
func (p *proc) kill9() {
	p.signal(syscall.SIGKILL)
	<-p.done
}

// stop ends the process with SIGTERM (SIGKILL after 20 s) and returns its exit code.
func (p *proc) stop() int {
	p.signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(20 * time.Second):
		p.t.Errorf("%s did not stop on SIGTERM", p.name)
		p.kill9()
	}
	return p.cmd.ProcessState.ExitCode()
}

// wait waits for the process to exit by itself and returns its exit code.
func (p *proc) wait(timeout time.Duration) int {
	p.t.Helper()
	select {
	case <-p.done:
	case <-time.After(timeout):
		p.t.Fatalf("%s did not finish within %s", p.name, timeout)
	}
	return p.cmd.ProcessState.ExitCode()
}

func freePort(t *testing.T) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}
