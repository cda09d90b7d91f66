package engine_test

// The contract's behaviour table (package conformance) on the single-process service, once per
// store kind; every row runs on a fresh service.

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/clckpt/libclckpt/ckpt"
	"github.com/clckpt/libclckpt/engine"
	"github.com/clckpt/libclckpt/engine/clock"
	"github.com/clckpt/libclckpt/engine/conformance"
	"github.com/clckpt/libclckpt/engine/store"
)

func TestSpec(t *testing.T) {
	for _, kind := range []string{"memory", "badger"} {
		t.Run(kind, func(t *testing.T) {
			conformance.Run(t, func(t *testing.T) conformance.Target { return localTarget(t, kind) }, conformance.Options{})
		})
	}
}

// localTarget is a Local on a fake clock and a store of the kind given.
func localTarget(t *testing.T, kind string) conformance.Target {
	fake := clock.NewFake(conformance.T0)
	mem := store.NewMemory()
	dir := t.TempDir()
	var l *engine.Local
	var st store.Store
	open := func() ckpt.Service {
		st = mem
		if kind == "badger" {
			b, err := store.OpenBadger(store.BadgerOptions{Dir: dir, GCInterval: -1})
			require.NoError(t, err)
			st = b
		}
		var err error
		l, err = engine.OpenLocal(engine.Options{Store: st, Clock: fake, HeartbeatInterval: time.Minute})
		require.NoError(t, err)
		ll, s := l, st
		t.Cleanup(func() {
			_ = ll.Close()
			if kind == "badger" {
				_ = s.Close()
			}
		})
		return l
	}
	return conformance.Target{
		Service: open(),
		Advance: fake.Advance,
		Restart: func() ckpt.Service {
			engine.Crash(l)
			if kind == "badger" {
				require.NoError(t, st.Close())
			}
			return open()
		},
		Checkpoints: func() int { return engine.Kept(l) },
	}
}
