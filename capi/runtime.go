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
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/clckpt/libclckpt/capi/callbackq"
	"github.com/clckpt/libclckpt/capi/handles"
	"github.com/clckpt/libclckpt/capi/rc"
	"github.com/clckpt/libclckpt/ckpt"
	"github.com/clckpt/libclckpt/config"
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
	ckpt.Service
	stopStats  func()
	memProfile string // where to write a heap profile at the close (CLCKPT_MEMPROFILE)
	dataDir    string // CLCKPT_DATA_DIR: the default backup archive is under it
}

// service is what one clCkptInitialize or saCkptInitialize created. Both APIs share the table of
// service handles; saf is nil for a clCkpt service, and a handle of one API is a bad handle for the
// other.
type service struct {
	handle  uint64
	openCB  C.ClCkptCheckpointOpenCallbackT
	syncCB  C.ClCkptCheckpointSynchronizeCallbackT
	saf     *safClient
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
	ck     ckpt.Checkpoint
	closed atomic.Bool                     // no notification callback starts once set
	flags  ckpt.OpenFlags                  // as the caller opened it
	attrs  atomic.Pointer[ckpt.Attributes] // cached by the SAF calls (only the retention changes)

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
	it     ckpt.SectionIterator
	owned  []unsafe.Pointer // C memory handed out that the iteration frees at its end (B.01 ids)
}

// end closes the iteration and frees the memory it owns.
func (i *iteration) end() error {
	for _, p := range i.owned {
		C.free(p)
	}
	i.owned = nil
	return i.it.Close()
}

func current() ckpt.Service {
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
			return append([]slog.Attr{slog.Uint64("c_heap_used", uint64(used)), slog.Uint64("c_heap_held", uint64(held)),
				slog.Int("services", services.Len()), slog.Int("checkpoints", checkpoints.Len()),
				slog.Int("iterations", iterations.Len())}, m.Metrics().LogAttrs()...)
		})
	}
	backend.Store(b)
	return nil
}

// errNoHandle: a service handle could not be made (no file descriptor or handle number left).
var errNoHandle = errors.New("no service handle available")

// startService makes s a new service handle, joining the checkpoint service first if this is the
// first handle of the process. Errors: config.ErrBadSetting, ckpt.ErrStorage, ckpt.ErrDiskFull,
// ckpt.ErrTryAgain (the service cannot be reached, or lifecycle is busy), errNoHandle.
func startService(s *service) error {
	if !lockLifecycle() {
		return fmt.Errorf("%w: initialize or finalize in progress", ckpt.ErrTryAgain)
	}
	defer lifecycle.Unlock()
	if current() == nil {
		if err := openBackend(); err != nil {
			log.Error("initialize: the service cannot start", "err", err)
			if errors.Is(err, config.ErrBadSetting) || errors.Is(err, ckpt.ErrStorage) || errors.Is(err, ckpt.ErrDiskFull) {
				return err
			}
			return fmt.Errorf("%w: %v", ckpt.ErrTryAgain, err)
		}
	}
	if err := addService(s); err != nil {
		log.Error("initialize", "err", err)
		closeBackendIfIdle()
		return fmt.Errorf("%w: %v", errNoHandle, err)
	}
	return nil
}

// endService ends service handle h (wanted tells whether it is of the caller's API); lifecycle is
// taken here. Errors: ckpt.ErrTryAgain (lifecycle busy), ckpt.ErrClosed (no service),
// ckpt.ErrBadHandle, ckpt.ErrBadOperation (the last handle, from inside a notification).
func endService(h uint64, wanted func(*service) bool) error {
	if !lockLifecycle() {
		return ckpt.ErrTryAgain
	}
	defer lifecycle.Unlock()
	if current() == nil {
		return ckpt.ErrClosed
	}
	if s, ok := services.Get(h); !ok || !wanted(s) {
		return ckpt.ErrBadHandle
	}
	if inNotification() && services.Len() == 1 {
		// Ending the service waits for every notification callback to return, this one included.
		return ckpt.ErrBadOperation
	}
	s, ok := services.Remove(h)
	if !ok {
		return ckpt.ErrBadHandle
	}
	// The last service's handles are closed by the service as it leaves (with its other work).
	s.finalize(services.Len() > 0)
	closeBackendIfIdle()
	return nil
}

// addService registers s (its callbacks set) under a new service handle, with a queue of its own.
func addService(s *service) error {
	q, err := callbackq.New()
	if err != nil {
		return err
	}
	s.queue, s.ckpts = q, make(map[uint64]*checkpoint)
	if s.handle, err = services.Add(s); err != nil {
		q.Close()
		return err
	}
	return nil
}

// finalize ends a service: its queue and its checkpoint handles, which it closes in the backend
// too when closeHandles (else the backend closing next closes them).
func (s *service) finalize(closeHandles bool) {
	s.mu.Lock()
	s.closed = true
	ckpts := s.ckpts
	s.ckpts = nil
	s.mu.Unlock()
	s.queue.Close()
	// The handles end here, then the service closes them together: its directory takes them all
	// at once (ckpt.CloseHandles). The callback this thread may be running in is known here
	// (clckpt_delivering is the calling thread's).
	delivering := C.clckpt_delivering()
	hs := make([]ckpt.Checkpoint, 0, len(ckpts))
	for _, c := range ckpts {
		hs = append(hs, c.detach(delivering))
	}
	if closeHandles {
		_ = ckpt.CloseHandles(current(), hs)
	}
	s.pending.Wait()
}

// addCheckpoint registers a handle for ck, or closes ck if the service ended meanwhile.
func (s *service) addCheckpoint(ck ckpt.Checkpoint, flags ckpt.OpenFlags) (*checkpoint, error) {
	c := &checkpoint{svc: s, ck: ck, flags: flags, iters: make(map[uint64]*iteration)}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		_ = ck.Close()
		return nil, ckpt.ErrBadHandle
	}
	h, err := checkpoints.Add(c)
	if err != nil {
		_ = ck.Close()
		return nil, fmt.Errorf("%w: %v", ckpt.ErrTryAgain, err)
	}
	c.handle = h
	s.ckpts[h] = c
	return c, nil
}

// close ends a checkpoint handle and its iterations, on the caller's thread.
func (c *checkpoint) close() error { return c.detach(C.clckpt_delivering()).Close() }

// detach ends checkpoint handle c and its iterations for a caller whose thread runs the callback of
// handle delivering (0: none), and returns the service's handle, for the caller to close.
func (c *checkpoint) detach(delivering C.ClCkptHdlT) ckpt.Checkpoint {
	c.closed.Store(true)
	checkpoints.Remove(c.handle)
	c.mu.Lock()
	iters := c.iters
	c.iters = nil
	c.mu.Unlock()
	for h, it := range iters {
		iterations.Remove(h)
		_ = it.end()
	}
	// Once closed is set no callback starts (notify checks it under notifyMu). One running now
	// is waited for, so that the caller may free its cookie when close returns, unless this thread
	// is inside that very callback: then it frees the block when it ends.
	if delivering != C.ClCkptHdlT(c.handle) {
		c.notifyMu.Lock()
		c.freeScratchLocked()
		c.notifyMu.Unlock()
	}
	return c.ck
}

// addIteration registers a handle for it, or closes it if c was closed meanwhile.
func (c *checkpoint) addIteration(it ckpt.SectionIterator) (*iteration, error) {
	i := &iteration{ckpt: c, it: it}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.iters == nil { // the checkpoint handle was closed meanwhile
		_ = it.Close()
		return nil, ckpt.ErrBadHandle
	}
	h, err := iterations.Add(i)
	if err != nil {
		_ = it.Close()
		return nil, fmt.Errorf("%w: %v", ckpt.ErrStorage, err)
	}
	i.handle = h
	c.iters[h] = i
	return i, nil
}

// endIteration ends iteration handle i at the caller's request.
func endIteration(i *iteration) error {
	if _, ok := iterations.Remove(i.handle); !ok {
		return ckpt.ErrBadHandle
	}
	i.ckpt.mu.Lock()
	delete(i.ckpt.iters, i.handle)
	i.ckpt.mu.Unlock()
	return i.end()
}

// closeHandle ends checkpoint handle c at the caller's request.
func closeHandle(c *checkpoint) error {
	if _, ok := checkpoints.Remove(c.handle); !ok {
		return ckpt.ErrBadHandle // closed by another thread meanwhile
	}
	c.svc.mu.Lock()
	delete(c.svc.ckpts, c.handle)
	c.svc.mu.Unlock()
	return c.close()
}

// openAsync opens a checkpoint on a goroutine of its own and queues deliver(handle, err) for s's
// dispatch; if s ends first, the handle is closed and deliver never runs.
func openAsync(s *service, open func() (ckpt.Checkpoint, error), flags ckpt.OpenFlags, deliver func(handle uint64, err error)) {
	s.pending.Add(1)
	go func() {
		defer s.pending.Done()
		var handle uint64
		ck, err := open()
		if err == nil {
			var c *checkpoint
			if c, err = s.addCheckpoint(ck, flags); err == nil {
				handle = c.handle
			}
		}
		if s.queue.Push(func() { deliver(handle, err) }) != nil && handle != 0 {
			// The service was finalized: nobody will ever learn of this handle.
			if c, ok := checkpoints.Get(handle); ok {
				_ = c.close()
			}
		}
	}()
}

// dispatch runs s's pending callbacks right here, on the caller's thread, as flags say (the same
// values in both APIs: 1 one, 2 all, 3 blocking); false for another value.
func dispatch(s *service, flags int) bool {
	switch flags {
	case C.CL_DISPATCH_ONE:
		s.queue.DispatchOne()
	case C.CL_DISPATCH_ALL:
		s.queue.DispatchAll()
	case C.CL_DISPATCH_BLOCKING:
		s.queue.DispatchBlocking()
	default:
		return false
	}
	return true
}

// synchronizeAsync starts a synchronization of c's checkpoint whose outcome deliver receives in a
// dispatch of c's service; what Synchronize refuses at once is the error, with no callback.
func synchronizeAsync(c *checkpoint, deliver func(error)) error {
	s := c.svc
	s.pending.Add(1)
	err := c.ck.SynchronizeAsync(bg, func(err error) {
		defer s.pending.Done()
		_ = s.queue.Push(func() { deliver(err) })
	})
	if err != nil {
		s.pending.Done()
	}
	return err
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
// recover only works when the deferred function itself calls it, so each API has its own guard
// (guard here, safGuard for the SAF exports) and both share badArgument.
func guard(code *C.ClRcT, old bool) {
	debug.SetPanicOnFault(old)
	if r := recover(); r != nil {
		*code = C.ClRcT(rc.Unspecified)
		if badArgument(r) {
			*code = C.ClRcT(rc.InvalidParam)
		}
	}
}

// badArgument logs a recovered panic and tells whether it was the call touching invalid memory (a
// bad pointer of the caller's) rather than an internal error.
func badArgument(r any) bool {
	if rc.MemoryFault(r) {
		log.Error("bad argument: the call touched invalid memory", "panic", r)
		return true
	}
	log.Error("internal error", "panic", r, "stack", string(debug.Stack()))
	return false
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
	if !ok || c.svc.saf != nil {
		return nil, code(rc.InvalidHandle)
	}
	return c, 0
}

func lookupService(h C.ClCkptSvcHdlT) (*service, C.ClRcT) {
	if current() == nil {
		return nil, code(rc.NotInitialized)
	}
	s, ok := services.Get(uint64(h))
	if !ok || s.saf != nil {
		return nil, code(rc.InvalidHandle)
	}
	return s, 0
}
