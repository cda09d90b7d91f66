package main

/*
#include <stdlib.h>
#include <malloc.h>
#include "glue.h"

// The C heap of the host process (every arena): bytes in use and bytes held from the OS.
static void clckpt_c_heap(size_t *used, size_t *held) {
	struct mallinfo2 mi = mallinfo2();
	*used = mi.uordblks + mi.hblkhd;
	*held = mi.arena + mi.hblkhd;
}
*/
import "C"

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"os"
	"runtime"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/clckpt/libclckpt/capi/callbackq"
	"github.com/clckpt/libclckpt/capi/handles"
	"github.com/clckpt/libclckpt/capi/rc"
	"github.com/clckpt/libclckpt/config"
	"github.com/clckpt/libclckpt/engine"
	"github.com/clckpt/libclckpt/internal/procstats"
	"github.com/clckpt/libclckpt/replication"
)

// The library's state. The backend (the engine service) is open while at least one service handle
// exists. Lock order: lifecycle, then a service's mu, then a checkpoint's mu.
var (
	lifecycle sync.Mutex // serialises Initialize and Finalize
	backend   atomic.Pointer[engineService]
	log       = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))

	services    = handles.New[*service](handles.Service)
	checkpoints = handles.New[*checkpoint](handles.Checkpoint)
	iterations  = handles.New[*iteration](handles.Iterator)
)

// engineService is the backend and, when CLCKPT_STATS_INTERVAL is set, the stop of its stats line.
type engineService struct {
	engine.Service
	stopStats  func()
	memProfile string // where to write a heap profile at the close (CLCKPT_MEMPROFILE)
	dataDir    string // CLCKPT_DATA_DIR: the default backup archive is under it
}

// service is what one clCkptInitialize created.
type service struct {
	handle  uint64
	openCB  C.ClCkptCheckpointOpenCallbackT
	syncCB  C.ClCkptCheckpointSynchronizeCallbackT
	queue   *callbackq.Queue
	pending sync.WaitGroup // asynchronous calls in flight

	mu     sync.Mutex
	ckpts  map[uint64]*checkpoint
	closed bool
}

// checkpoint is one open checkpoint handle.
type checkpoint struct {
	handle uint64
	svc    *service
	ck     engine.Checkpoint
	closed atomic.Bool // no notification callback starts once set

	mu    sync.Mutex
	iters map[uint64]*iteration

	// notifyMu serializes notification callbacks and guards scratch, the C block they get their
	// data in (see notify).
	notifyMu   sync.Mutex
	scratch    unsafe.Pointer
	scratchCap int
}

// iteration is one section iteration handle.
type iteration struct {
	handle uint64
	ckpt   *checkpoint
	it     engine.SectionIterator
}

func current() engine.Service {
	if b := backend.Load(); b != nil {
		return b.Service
	}
	return nil
}

// joinTimeout bounds clCkptInitialize's wait for the cluster: generous, since a server that answers
// but is slow to serve JetStream (just started, or under valgrind) is waited for, not given up on.
// A server that cannot be reached at all fails the call at once.
const joinTimeout = 2 * time.Minute

// openBackend makes this process a member of the checkpoint service; lifecycle is held.
func openBackend() error {
	cfg, err := config.FromEnv()
	if err != nil {
		return err // an ErrBadSetting
	}
	log = cfg.Logger("libclckpt")
	ctx, cancel := context.WithTimeout(context.Background(), joinTimeout)
	defer cancel()
	m, err := replication.Join(ctx, replication.Options{Config: cfg, Logger: log})
	if err != nil {
		return err
	}
	log.Info("joined the checkpoint service", "member", m.Name(), "data", cfg.DataDir)
	b := &engineService{Service: m, stopStats: func() {}, memProfile: cfg.MemProfile, dataDir: cfg.DataDir}
	if cfg.StatsInterval > 0 {
		// Its own logger: the line is wanted whatever CLCKPT_LOG_LEVEL says.
		statsLog := slog.New(slog.NewTextHandler(os.Stderr, nil)).With("component", "libclckpt", "member", m.Name())
		b.stopStats = procstats.Start(cfg.StatsInterval, cfg.StatsCollect, statsLog, func() []slog.Attr {
			var used, held C.size_t
			C.clckpt_c_heap(&used, &held)
			followed, replicas := m.Counts()
			return []slog.Attr{slog.Uint64("c_heap_used", uint64(used)), slog.Uint64("c_heap_held", uint64(held)),
				slog.Int("services", services.Len()), slog.Int("checkpoints", checkpoints.Len()),
				slog.Int("iterations", iterations.Len()), slog.Int("followed", followed), slog.Int("replicas", replicas)}
		})
	}
	backend.Store(b)
	return nil
}

// addService registers a new service handle.
func addService(openCB C.ClCkptCheckpointOpenCallbackT, syncCB C.ClCkptCheckpointSynchronizeCallbackT) (*service, error) {
	q, err := callbackq.New()
	if err != nil {
		return nil, err
	}
	s := &service{openCB: openCB, syncCB: syncCB, queue: q, ckpts: make(map[uint64]*checkpoint)}
	if s.handle, err = services.Add(s); err != nil {
		q.Close()
		return nil, err
	}
	return s, nil
}

// finalize ends a service: its queue, its checkpoint handles, and the backend with the last one.
func (s *service) finalize() {
	s.mu.Lock()
	s.closed = true
	ckpts := s.ckpts
	s.ckpts = nil
	s.mu.Unlock()
	s.queue.Close()
	for _, c := range ckpts {
		c.close()
	}
	s.pending.Wait()
}

// addCheckpoint registers a handle for ck, or closes ck if the service ended meanwhile.
func (s *service) addCheckpoint(ck engine.Checkpoint) (*checkpoint, error) {
	c := &checkpoint{svc: s, ck: ck, iters: make(map[uint64]*iteration)}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		_ = ck.Close()
		return nil, engine.ErrBadHandle
	}
	h, err := checkpoints.Add(c)
	if err != nil {
		_ = ck.Close()
		return nil, fmt.Errorf("%w: %v", engine.ErrTryAgain, err)
	}
	c.handle = h
	s.ckpts[h] = c
	return c, nil
}

// close ends a checkpoint handle and its iterations.
func (c *checkpoint) close() error {
	c.closed.Store(true)
	checkpoints.Remove(c.handle)
	c.mu.Lock()
	iters := c.iters
	c.iters = nil
	c.mu.Unlock()
	for h, it := range iters {
		iterations.Remove(h)
		_ = it.it.Close()
	}
	// Once closed is set no callback starts (notify checks it under notifyMu). One running now
	// is waited for, so that the caller may free its cookie when close returns, unless this thread
	// is inside that very callback: then it frees the block when it ends.
	if C.clckpt_delivering() != C.ClCkptHdlT(c.handle) {
		c.notifyMu.Lock()
		c.freeScratchLocked()
		c.notifyMu.Unlock()
	}
	return c.ck.Close()
}

// inNotification tells whether this thread is running an immediate-consumption callback.
func inNotification() bool { return C.clckpt_delivering() != 0 }

// lockLifecycle takes lifecycle. Inside a notification callback it only tries: the holder may be
// a Finalize waiting for this very callback to return, so waiting would never end. false: busy.
func lockLifecycle() bool {
	if inNotification() {
		return lifecycle.TryLock()
	}
	lifecycle.Lock()
	return true
}

// guard turns a panic in an export into an error code instead of the death of the host process.
// With SetPanicOnFault, a bad pointer from the caller becomes a panic too.
func guard(code *C.ClRcT, old bool) {
	debug.SetPanicOnFault(old)
	r := recover()
	if r == nil {
		return
	}
	var re runtime.Error
	if err, ok := r.(error); ok && errors.As(err, &re) {
		log.Error("bad argument: the call touched invalid memory", "panic", r)
		*code = C.ClRcT(rc.InvalidParam)
		return
	}
	log.Error("internal error", "panic", r, "stack", string(debug.Stack()))
	*code = C.ClRcT(rc.Unspecified)
}

func code(c rc.Code) C.ClRcT { return C.ClRcT(c) }

func errCode(err error) C.ClRcT {
	c := rc.FromError(err)
	if c == rc.Unspecified || c == rc.NoResource {
		log.Warn("call failed", "err", err)
	}
	return C.ClRcT(c)
}

// timeoutContext honours a ClTimeT timeout: 0, negative or CL_TIME_END means no limit (real
// programs pass 0, which the original ignored like every other value).
func timeoutContext(t C.ClTimeT) (context.Context, context.CancelFunc) {
	if t <= 0 || int64(t) == math.MaxInt64 {
		return context.Background(), func() {}
	}
	return context.WithTimeout(context.Background(), time.Duration(t))
}

// lookupCheckpoint finds a live checkpoint handle.
func lookupCheckpoint(h C.ClCkptHdlT) (*checkpoint, C.ClRcT) {
	if current() == nil {
		return nil, code(rc.NotInitialized)
	}
	c, ok := checkpoints.Get(uint64(h))
	if !ok {
		return nil, code(rc.InvalidHandle)
	}
	return c, 0
}

func lookupService(h C.ClCkptSvcHdlT) (*service, C.ClRcT) {
	if current() == nil {
		return nil, code(rc.NotInitialized)
	}
	s, ok := services.Get(uint64(h))
	if !ok {
		return nil, code(rc.InvalidHandle)
	}
	return s, 0
}
