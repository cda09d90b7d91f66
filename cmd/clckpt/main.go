// Command clckpt runs the checkpoint service (clckpt serve) and inspects and changes what it holds
// (status, health, ls, get, dump, put, rm, section-rm, watch). `clckpt --help` lists the commands,
// `clckpt COMMAND --help` their flags; README.md describes them.
//
// Each group of commands lives in a file of its own that registers them (register, in init).
package main

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/clckpt/libclckpt/ckpt"
	"github.com/clckpt/libclckpt/config"
)

// version is the release (the Makefile's VERSION, which passes it with -ldflags -X; the constant
// here is kept equal to it for builds without the Makefile: a test checks).
var version = "1.0.0"

// Exit codes, for scripts and service managers.
const (
	exitOK          = 0
	exitFailure     = 1 // any other failure (health: the service answers but is not healthy)
	exitUsage       = 2 // unknown command, bad flag or argument, bad setting
	exitUnreachable = 3 // cannot reach the service, or it refused the credentials
	exitNotFound    = 4 // no such checkpoint, section or backup
	exitExists      = 5 // already exists: a backup name without --overwrite, a checkpoint without --replace
)

const exitCodesHelp = `Exit codes:
  0  success (health: healthy)
  1  failure (health: the service answers but is not healthy)
  2  usage error: unknown command, bad flag or argument, bad setting
  3  cannot reach the service, or it refused the credentials
  4  no such checkpoint, section or backup
  5  already exists (backup: a backup name in use without --overwrite; restore: a checkpoint of
     that name without --replace, or with other attributes)
  A damaged backup copy fails with 1 and says so.`

// commands are the constructors of the subcommands, registered by the files that define them.
var commands []func() *cobra.Command

func register(c ...func() *cobra.Command) { commands = append(commands, c...) }

// logLevel is --log-level (empty: CLCKPT_LOG_LEVEL, else the configuration's).
var logLevel string

func newRoot() *cobra.Command {
	root := &cobra.Command{
		Use:   "clckpt",
		Short: "Run and operate the checkpoint service",
		Long: `clckpt runs a node of the checkpoint service (clckpt serve) and inspects and changes the
checkpoints it holds. Client commands find the service the way programs do: CLCKPT_NATS_URL and its
credentials, else the server of CLCKPT_DATA_DIR on CLCKPT_PORT with the data directory's token and
certificate; --url, --token-file, --user, --password-file and --tls-ca override that.
Settings may also come from a TOML file (CLCKPT_CONFIG, or clckpt serve --config): flags override the
environment, which overrides the file, which overrides the defaults.

Checkpoint names and section ids are byte strings: give them with --hex as hexadecimal, and they are
printed escaped (Go-quoted) when not plain printable text.

` + exitCodesHelp,
		Version:       version,
		SilenceUsage:  true,
		SilenceErrors: true,
		Args:          cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cmd.SetOut(os.Stderr)
			_ = cmd.Help()
			return usageErr(errors.New("no command given"))
		},
	}
	root.PersistentFlags().StringVar(&logLevel, "log-level", "", "log level on stderr: error, warn, info or debug (default: CLCKPT_LOG_LEVEL, else warn)")
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageErr(err) })
	root.SetVersionTemplate("clckpt {{.Version}}\n")
	for _, c := range commands {
		root.AddCommand(c())
	}
	return root
}

func main() {
	os.Exit(run(os.Args[1:]))
}

// run runs the command line args and returns the exit code.
func run(args []string) int {
	root := newRoot()
	root.SetArgs(args)
	cmd, err := root.ExecuteC()
	if err == nil {
		return exitOK
	}
	code := exitCode(err)
	fmt.Fprintln(os.Stderr, "clckpt:", err)
	if code == exitUsage && cmd != nil {
		fmt.Fprintf(os.Stderr, "Run '%s --help' for usage.\n", cmd.CommandPath())
	}
	return code
}

// codedError carries an exit code.
type codedError struct {
	code int
	err  error
}

func (e *codedError) Error() string { return e.err.Error() }
func (e *codedError) Unwrap() error { return e.err }

func usageErr(err error) error       { return &codedError{exitUsage, err} }
func unreachableErr(err error) error { return &codedError{exitUnreachable, err} }

// ranErr marks an error returned by a command's work (as opposed to cobra's own errors: unknown
// commands, bad flags or arguments, which are usage errors).
type ranErr struct{ err error }

func (e *ranErr) Error() string { return e.err.Error() }
func (e *ranErr) Unwrap() error { return e.err }

// runE adapts a command's function: its errors are the command's, not usage errors.
func runE(fn func(cmd *cobra.Command, args []string) error) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, args []string) error {
		if err := fn(cmd, args); err != nil {
			return &ranErr{err}
		}
		return nil
	}
}

func exitCode(err error) int {
	var coded *codedError
	var ran *ranErr
	switch {
	case errors.As(err, &coded):
		return coded.code
	case errors.Is(err, ckpt.ErrNotExist):
		return exitNotFound
	case errors.Is(err, ckpt.ErrAlreadyExist):
		return exitExists
	case errors.Is(err, config.ErrBadSetting):
		return exitUsage
	case errors.As(err, &ran):
		return exitFailure
	}
	return exitUsage
}

// exactArgs and rangeArgs are cobra's checks, with the command's usage line in the message.
func rangeArgs(lo, hi int) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) < lo || len(args) > hi {
			want := fmt.Sprint(lo)
			if hi != lo {
				want = fmt.Sprintf("%d to %d", lo, hi)
			}
			return usageErr(fmt.Errorf("%s takes %s arguments, got %d (usage: %s)", cmd.Name(), want, len(args),
				strings.TrimSpace(cmd.UseLine())))
		}
		return nil
	}
}
