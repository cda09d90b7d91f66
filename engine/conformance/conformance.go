// Package conformance is the behaviour table of the checkpoint contract (ckpt.Service and
// ckpt.Checkpoint; spec sections 4 and 5): one row per rule, each with the exact error it gives.
// Every implementation of the contract runs the same table: engine.Local in the engine's tests, and
// replicated members in the replication package's tests, since the libraries ship those.
package conformance

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/clckpt/libclckpt/ckpt"
)

// T0 is the time a target's clock reads when a row starts: a whole second, so that the rules with a
// resolution of one second are easy to hit.
var T0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// Target is one fresh service for one row, made by the caller of Run.
type Target struct {
	// Service is the service the row calls.
	Service ckpt.Service
	// Advance moves the clock of the service's section expirations, retentions and time stamps
	// (which reads T0 at the start) forward by d. When it returns, what fell due is done.
	Advance func(d time.Duration)
	// Restart ends the service as the death of its process would (nothing is settled) and returns
	// a service started anew on the same data.
	Restart func() ckpt.Service
	// Checkpoints returns how many checkpoints the service keeps: live ones, and deleted ones that
	// a handle still has open.
	Checkpoints func() int
}

// Options say how Run runs the table on a kind of target.
type Options struct {
	// KnownFailures names the rows ("Group/row name") that fail on this kind of target, each with
	// the reason. Such a row must still fail: Run reports it when it passes, so that its entry goes.
	KnownFailures map[string]string
	// Parallel is how many rows run at once (0 or 1: one after the other).
	Parallel int
}

// Row is one rule of the contract: run does what the rule is about on a fresh service and returns
// the error of the call the rule is about.
type Row struct {
	Name string
	Run  func(t T, e *Env) error
	Want error // nil: the call succeeds
}

// T is what a row needs of its test (a *testing.T has it).
type T interface {
	Errorf(format string, args ...any)
	FailNow()
	Helper()
}

// Env is what a row runs on: the target's service and its clock.
type Env struct {
	ckpt.Service
	t      T
	target Target
}

// Advance moves the service's clock forward (see Target.Advance).
func (e *Env) Advance(d time.Duration) { e.target.Advance(d) }

// Restart ends the service as a killed process would end and starts it again on the same data.
func (e *Env) Restart() { e.Service = e.target.Restart() }

// Group is a part of the table: the rows of one call or one topic of the contract.
type Group struct {
	Name string
	Rows func() []Row
}

// Groups is the whole table.
var Groups = []Group{
	{"Open", rowsOpen},
	{"Close", rowsClose},
	{"Delete", rowsDelete},
	{"RetentionDurationSet", rowsRetentionDurationSet},
	{"Status", rowsStatus},
	{"Permissions", rowsPermissions},
	{"DefaultSection", rowsDefaultSection},
	{"SectionCreate", rowsSectionCreate},
	{"SectionDeleteAndExpiration", rowsSectionDeleteAndExpiration},
	{"Read", rowsRead},
	{"Write", rowsWrite},
	{"Overwrite", rowsOverwrite},
	{"Iteration", rowsIteration},
	{"Collocated", rowsCollocated},
}

// Run runs every row of the table as a subtest "Group/row name", each on a target of its own that
// newTarget makes (with the row's test).
func Run(t *testing.T, newTarget func(t *testing.T) Target, o Options) {
	type named struct {
		group string
		row   Row
	}
	var all []named
	names := map[string]bool{}
	for _, g := range Groups {
		for _, r := range g.Rows() {
			full := g.Name + "/" + r.Name
			require.False(t, names[full], "two rows called %q", full)
			names[full] = true
			all = append(all, named{g.Name, r})
		}
	}
	for name := range o.KnownFailures {
		if !names[name] {
			t.Errorf("a known failure names no row of the table: %q", name)
		}
	}
	workers := max(o.Parallel, 1)
	next := make(chan named)
	var wg sync.WaitGroup
	var ran, passed, failedAsKnown atomic.Int64 // rows the -run pattern left out are not counted
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := range next {
				full := n.group + "/" + n.row.Name
				reason, known := o.KnownFailures[full]
				t.Run(full, func(t *testing.T) {
					ran.Add(1)
					e := &Env{t: t, target: newTarget(t)}
					e.Service = e.target.Service
					if !known {
						check(t, n.row, e)
						passed.Add(1) // not reached when the row fails
						return
					}
					rec := &recorder{}
					done := make(chan struct{})
					go func() {
						defer close(done)
						e.t = rec
						check(rec, n.row, e)
					}()
					<-done
					if len(rec.msgs) == 0 {
						t.Errorf("this row passes now: remove it from the known failures (%s)", reason)
						return
					}
					failedAsKnown.Add(1)
					t.Logf("fails as known (%s):\n%s", reason, strings.Join(rec.msgs, "\n"))
				})
			}
		}()
	}
	for _, n := range all {
		next <- n
	}
	close(next)
	wg.Wait()
	t.Logf("%d rows in the table, %d run: %d passed, %d failed as known", len(all), ran.Load(), passed.Load(), failedAsKnown.Load())
}

// check runs a row and compares its error with the one the row wants, which must be the only
// sentinel the error matches (a timeout may also say try again).
func check(t T, r Row, e *Env) {
	t.Helper()
	err := r.Run(t, e)
	if r.Want == nil {
		require.NoError(t, err)
		return
	}
	require.ErrorIs(t, err, r.Want)
	for _, other := range ckpt.AllErrors {
		if other != r.Want && !(r.Want == ckpt.ErrTimeout && other == ckpt.ErrTryAgain) {
			require.False(t, errors.Is(err, other), "%v also matches %v", err, other)
		}
	}
}

// recorder is the T of a row that is known to fail: it keeps the failures instead of reporting them.
type recorder struct {
	mu   sync.Mutex
	msgs []string
}

func (r *recorder) Errorf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.msgs = append(r.msgs, fmt.Sprintf(format, args...))
}

func (r *recorder) FailNow() { runtime.Goexit() }

func (r *recorder) Helper() {}

var bg = context.Background()

const rwc = ckpt.OpenRead | ckpt.OpenWrite | ckpt.OpenCreate

func sec(s string) []byte { return []byte(s) }

func attrs(maxSections uint32) *ckpt.Attributes {
	return &ckpt.Attributes{
		Flags:            ckpt.WriteAllReplicas,
		CheckpointSize:   0,
		Retention:        ckpt.RetainForever,
		MaxSections:      maxSections,
		MaxSectionSize:   0,
		MaxSectionIDSize: 64,
	}
}

func (e *Env) create(name string, a *ckpt.Attributes) ckpt.Checkpoint {
	e.t.Helper()
	h, err := e.Open(bg, name, a, rwc)
	require.NoError(e.t, err)
	return h
}

func (e *Env) exists(name string) bool {
	e.t.Helper()
	h, err := e.Open(bg, name, nil, ckpt.OpenRead)
	if err != nil {
		require.ErrorIs(e.t, err, ckpt.ErrNotExist)
		return false
	}
	require.NoError(e.t, h.Close())
	return true
}

func readAll(t T, h ckpt.Checkpoint, id string) string {
	t.Helper()
	el := []ckpt.ReadElement{{SectionID: []byte(id)}}
	require.NoError(t, h.Read(bg, el))
	return string(el[0].Buffer[:el[0].ReadSize])
}

// elemIndex returns the index an *ckpt.ElementError carries.
func elemIndex(t T, err error) int {
	t.Helper()
	var ee *ckpt.ElementError
	require.ErrorAs(t, err, &ee)
	return ee.Index
}
