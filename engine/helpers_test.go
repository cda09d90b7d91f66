package engine

import (
	"context"
	"testing"
	"time"

	"github.com/clckpt/libclckpt/engine/clock"
	"github.com/clckpt/libclckpt/engine/store"
	"github.com/stretchr/testify/require"
)

// t0 is the fake clock's start: a whole second, so that one-second-resolution rules are easy to hit.
var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

var bg = context.Background()

// heartbeat is the tests' heartbeat interval: coarse, so that advancing the fake clock by hours does
// not write thousands of heartbeats.
const heartbeat = time.Minute

// env is a Local service on a fake clock and a store of one of the kinds below.
type env struct {
	*Local
	t     *testing.T
	kind  string
	clock *clock.Fake
	store store.Store
	dir   string
}

var storeKinds = []string{"memory", "badger"}

func newEnv(t *testing.T) *env { return newEnvOn(t, "memory") }

func newEnvOn(t *testing.T, kind string) *env {
	t.Helper()
	e := &env{t: t, kind: kind, clock: clock.NewFake(t0)}
	if kind == "memory" {
		e.store = store.NewMemory()
	} else {
		e.dir = t.TempDir()
	}
	e.open()
	return e
}

func (e *env) open() {
	e.t.Helper()
	if e.kind == "badger" {
		s, err := store.OpenBadger(store.BadgerOptions{Dir: e.dir, GCInterval: -1})
		require.NoError(e.t, err)
		e.store = s
	}
	l, err := OpenLocal(Options{Store: e.store, Clock: e.clock, HeartbeatInterval: heartbeat})
	require.NoError(e.t, err)
	e.Local = l
	st := e.store
	e.t.Cleanup(func() {
		_ = l.Close()
		if e.kind == "badger" {
			_ = st.Close()
		}
	})
}

// restart simulates the death of the process (no Close: nothing is settled) and a new process
// opening the same data.
func (e *env) restart() {
	e.t.Helper()
	e.Local.crash()
	if e.kind == "badger" {
		require.NoError(e.t, e.store.Close())
	}
	e.open()
}

// forEachKind runs test on a fresh env of every store kind.
func forEachKind(t *testing.T, test func(t *testing.T, e *env)) {
	for _, kind := range storeKinds {
		t.Run(kind, func(t *testing.T) { test(t, newEnvOn(t, kind)) })
	}
}

// crash stops the service as a killed process would stop: timers and deliveries end, nothing more
// is written.
func (l *Local) crash() {
	l.closed.Store(true)
	l.stop()
}

func attrs(maxSections uint32) *Attributes {
	return &Attributes{
		Flags:            WriteAllReplicas,
		CheckpointSize:   0,
		Retention:        RetainForever,
		MaxSections:      maxSections,
		MaxSectionSize:   0,
		MaxSectionIDSize: 64,
	}
}

const rwc = OpenRead | OpenWrite | OpenCreate

func (e *env) create(name string, a *Attributes) Checkpoint {
	e.t.Helper()
	h, err := e.Open(bg, name, a, rwc)
	require.NoError(e.t, err)
	return h
}

func (e *env) exists(name string) bool {
	e.t.Helper()
	h, err := e.Open(bg, name, nil, OpenRead)
	if err != nil {
		require.ErrorIs(e.t, err, ErrNotExist)
		return false
	}
	require.NoError(e.t, h.Close())
	return true
}

func readAll(t *testing.T, h Checkpoint, id string) string {
	t.Helper()
	el := []ReadElement{{SectionID: []byte(id)}}
	require.NoError(t, h.Read(bg, el))
	return string(el[0].Buffer[:el[0].ReadSize])
}

func sec(s string) []byte { return []byte(s) }
