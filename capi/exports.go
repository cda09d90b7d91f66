package main

/*
#include <stdlib.h>
#include "glue.h"
*/
import "C"

import (
	"context"
	"errors"
	"runtime/debug"
	"unsafe"

	"github.com/clckpt/libclckpt/capi/rc"
	"github.com/clckpt/libclckpt/config"
	"github.com/clckpt/libclckpt/engine"
	"github.com/clckpt/libclckpt/internal/procstats"
)

// Each export: guard against panics, check the C arguments in the order the original client checked
// them, look up the handle, convert, call the engine, map the error. See clCkptApi.h for the
// contract of each function.

var bg = context.Background()

//export clckpt_initialize
func clckpt_initialize(out *C.ClCkptSvcHdlT, callbacks *C.ClCkptCallbacksT, version *C.ClVersionT) (res C.ClRcT) {
	defer guard(&res, debug.SetPanicOnFault(true))
	if out == nil || version == nil {
		return code(rc.NullPointer)
	}
	probeOutput(unsafe.Pointer(out))
	// Accepted: release 'B', major version up to 1. Either way the caller learns what we support.
	ok := version.releaseCode == 'B' && version.majorVersion <= 1
	version.releaseCode, version.majorVersion, version.minorVersion = 'B', 1, 1
	if !ok {
		return code(rc.VersionMismatch)
	}
	var openCB C.ClCkptCheckpointOpenCallbackT
	var syncCB C.ClCkptCheckpointSynchronizeCallbackT
	if callbacks != nil {
		openCB, syncCB = callbacks.checkpointOpenCallback, callbacks.checkpointSynchronizeCallback
	}
	if !lockLifecycle() {
		return code(rc.TryAgain)
	}
	defer lifecycle.Unlock()
	if current() == nil {
		if err := openBackend(); err != nil {
			log.Error("clCkptInitialize: the service cannot start", "err", err)
			switch {
			case errors.Is(err, config.ErrBadSetting): // retrying cannot cure it
				return code(rc.InvalidState)
			case errors.Is(err, engine.ErrStorage):
				return code(rc.NoResource)
			case errors.Is(err, engine.ErrDiskFull):
				return code(rc.NoSpace)
			}
			return code(rc.TryAgain)
		}
	}
	s, err := addService(openCB, syncCB)
	if err != nil {
		log.Error("clCkptInitialize", "err", err)
		closeBackendIfIdle()
		return code(rc.NoResource)
	}
	*out = C.ClCkptSvcHdlT(s.handle)
	return code(rc.OK)
}

// closeBackendIfIdle closes the engine once no service handle is left; lifecycle is held.
func closeBackendIfIdle() {
	if services.Len() > 0 {
		return
	}
	if b := backend.Load(); b != nil {
		endBackups() // their jobs use the service
	}
	if b := backend.Swap(nil); b != nil {
		b.stopStats()
		if b.memProfile != "" {
			if err := procstats.WriteHeapProfile(b.memProfile); err != nil {
				log.Warn("writing the heap profile", "path", b.memProfile, "err", err)
			}
		}
		if err := b.Close(); err != nil {
			log.Warn("closing the service", "err", err)
		}
	}
}

//export clckpt_finalize
func clckpt_finalize(h C.ClCkptSvcHdlT) (res C.ClRcT) {
	defer guard(&res, debug.SetPanicOnFault(true))
	if !lockLifecycle() {
		return code(rc.TryAgain)
	}
	defer lifecycle.Unlock()
	if current() == nil {
		return code(rc.NotInitialized)
	}
	if _, ok := services.Get(uint64(h)); !ok {
		return code(rc.InvalidHandle)
	}
	if inNotification() && services.Len() == 1 {
		// Ending the service waits for every notification callback to return, this one included.
		return code(rc.BadOperation)
	}
	s, ok := services.Remove(uint64(h))
	if !ok {
		return code(rc.InvalidHandle)
	}
	s.finalize()
	closeBackendIfIdle()
	return code(rc.OK)
}

//export clckpt_checkpoint_open
func clckpt_checkpoint_open(svcH C.ClCkptSvcHdlT, name *C.ClNameT, attrs *C.ClCkptCheckpointCreationAttributesT,
	flags C.ClCkptOpenFlagsT, timeout C.ClTimeT, out *C.ClCkptHdlT) (res C.ClRcT) {
	defer guard(&res, debug.SetPanicOnFault(true))
	b := current()
	if b == nil {
		return code(rc.NotInitialized)
	}
	if out == nil || name == nil {
		return code(rc.NullPointer)
	}
	probeOutput(unsafe.Pointer(out))
	goName, a, err := openArgs(name, attrs, flags)
	if err != nil {
		return errCode(err)
	}
	s, bad := lookupService(svcH)
	if s == nil {
		return bad
	}
	ctx, cancel := timeoutContext(timeout)
	defer cancel()
	ck, err := b.Open(ctx, goName, a, engine.OpenFlags(flags))
	if err != nil {
		return errCode(err)
	}
	c, err := s.addCheckpoint(ck)
	if err != nil {
		return errCode(err)
	}
	*out = C.ClCkptHdlT(c.handle)
	return code(rc.OK)
}

// openArgs converts and checks the arguments of an open.
func openArgs(name *C.ClNameT, attrs *C.ClCkptCheckpointCreationAttributesT, flags C.ClCkptOpenFlagsT) (string, *engine.Attributes, error) {
	goName, ok := nameFromC(name)
	a := attrsFromC(attrs)
	err := engine.ValidateOpen(goName, a, engine.OpenFlags(flags))
	if err == nil && !ok {
		err = errors.Join(engine.ErrInvalidParameter, errors.New("name length above CL_MAX_NAME_LENGTH"))
	}
	return goName, a, err
}

//export clckpt_checkpoint_open_async
func clckpt_checkpoint_open_async(svcH C.ClCkptSvcHdlT, invocation C.ClInvocationT, name *C.ClNameT,
	attrs *C.ClCkptCheckpointCreationAttributesT, flags C.ClCkptOpenFlagsT) (res C.ClRcT) {
	defer guard(&res, debug.SetPanicOnFault(true))
	b := current()
	if b == nil {
		return code(rc.NotInitialized)
	}
	if name == nil {
		return code(rc.NullPointer)
	}
	goName, a, err := openArgs(name, attrs, flags)
	if err != nil {
		return errCode(err)
	}
	s, bad := lookupService(svcH)
	if s == nil {
		return bad
	}
	if s.openCB == nil {
		return code(rc.Initialized)
	}
	s.pending.Add(1)
	go func() {
		defer s.pending.Done()
		var handle uint64
		ck, err := b.Open(bg, goName, a, engine.OpenFlags(flags))
		if err == nil {
			var c *checkpoint
			if c, err = s.addCheckpoint(ck); err == nil {
				handle = c.handle
			}
		}
		result := rc.FromError(err)
		cb := s.openCB
		if s.queue.Push(func() { C.clckpt_call_open_cb(cb, invocation, C.ClCkptHdlT(handle), C.ClRcT(result)) }) != nil && handle != 0 {
			// The service was finalized: nobody will ever learn of this handle.
			if c, ok := checkpoints.Get(handle); ok {
				_ = c.close()
			}
		}
	}()
	return code(rc.OK)
}

//export clckpt_checkpoint_close
func clckpt_checkpoint_close(h C.ClCkptHdlT) (res C.ClRcT) {
	defer guard(&res, debug.SetPanicOnFault(true))
	c, bad := lookupCheckpoint(h)
	if c == nil {
		return bad
	}
	if _, ok := checkpoints.Remove(c.handle); !ok {
		return code(rc.InvalidHandle) // closed by another thread meanwhile
	}
	c.svc.mu.Lock()
	delete(c.svc.ckpts, c.handle)
	c.svc.mu.Unlock()
	return errCode(c.close())
}

//export clckpt_checkpoint_delete
func clckpt_checkpoint_delete(svcH C.ClCkptSvcHdlT, name *C.ClNameT) (res C.ClRcT) {
	defer guard(&res, debug.SetPanicOnFault(true))
	b := current()
	if b == nil {
		return code(rc.NotInitialized)
	}
	if name == nil {
		return code(rc.NullPointer)
	}
	if s, bad := lookupService(svcH); s == nil {
		return bad
	}
	goName, ok := nameFromC(name)
	if !ok {
		return code(rc.InvalidParam)
	}
	return errCode(b.Delete(bg, goName))
}

//export clckpt_checkpoint_retention_duration_set
func clckpt_checkpoint_retention_duration_set(h C.ClCkptHdlT, retention C.ClTimeT) (res C.ClRcT) {
	defer guard(&res, debug.SetPanicOnFault(true))
	c, bad := lookupCheckpoint(h)
	if c == nil {
		return bad
	}
	return errCode(c.ck.SetRetention(bg, timeDuration(retention)))
}

//export clckpt_active_replica_set
func clckpt_active_replica_set(h C.ClCkptHdlT) (res C.ClRcT) {
	defer guard(&res, debug.SetPanicOnFault(true))
	c, bad := lookupCheckpoint(h)
	if c == nil {
		return bad
	}
	return errCode(c.ck.SetActiveReplica(bg))
}

//export clckpt_checkpoint_status_get
func clckpt_checkpoint_status_get(h C.ClCkptHdlT, out *C.ClCkptCheckpointDescriptorT) (res C.ClRcT) {
	defer guard(&res, debug.SetPanicOnFault(true))
	if current() != nil && out == nil {
		return code(rc.NullPointer)
	}
	c, bad := lookupCheckpoint(h)
	if c == nil {
		return bad
	}
	st, err := c.ck.Status(bg)
	if err != nil {
		return errCode(err)
	}
	attrsToC(&st.Attributes, &out.checkpointCreationAttributes)
	out.numberOfSections = C.ClUint32T(st.NumberOfSections)
	out.memoryUsed = C.ClUint32T(min(st.MemoryUsed, 0xFFFFFFFF))
	return code(rc.OK)
}

// genSectionLength is the size of the buffer a generated section id is returned in
// (CL_CKPT_GEN_SEC_LENGTH of the original).
const genSectionLength = 30

//export clckpt_section_create
func clckpt_section_create(h C.ClCkptHdlT, attrs *C.ClCkptSectionCreationAttributesT, data *C.ClUint8T, size C.ClSizeT) (res C.ClRcT) {
	defer guard(&res, debug.SetPanicOnFault(true))
	if current() == nil {
		return code(rc.NotInitialized)
	}
	switch {
	case attrs == nil || attrs.sectionId == nil:
		return code(rc.NullPointer)
	case attrs.sectionId.id == nil && attrs.sectionId.idLen != 0:
		return code(rc.NullPointer)
	case data != nil && size == 0:
		return code(rc.InvalidParam)
	case data == nil && size > 0:
		return code(rc.NullPointer)
	case size > engine.MaxDataSize:
		return code(rc.InvalidParam)
	}
	c, bad := lookupCheckpoint(h)
	if c == nil {
		return bad
	}
	sid := attrs.sectionId
	if sid.idLen == 0 { // a generated id is written back: a place that cannot take it fails now
		probeOutput(unsafe.Pointer(sid))
		probeOutput(unsafe.Pointer(&sid.id))
	}
	var initial []byte
	if data != nil {
		initial = goBytes(unsafe.Pointer(data), size)
	}
	id, err := c.ck.CreateSection(bg, sectionID(sid), timeFromC(attrs.expirationTime), initial)
	if err != nil {
		return errCode(err)
	}
	if sid.idLen == 0 { // generated: the caller owns the id we write back
		sid.id = (*C.ClUint8T)(cCopy(id, genSectionLength))
		sid.idLen = C.ClUint16T(len(id))
	}
	return code(rc.OK)
}

//export clckpt_section_delete
func clckpt_section_delete(h C.ClCkptHdlT, sid *C.ClCkptSectionIdT) (res C.ClRcT) {
	defer guard(&res, debug.SetPanicOnFault(true))
	if current() == nil {
		return code(rc.NotInitialized)
	}
	if sid == nil {
		return code(rc.NullPointer)
	}
	if sid.idLen == 0 || sid.id == nil {
		return code(rc.InvalidParam)
	}
	c, bad := lookupCheckpoint(h)
	if c == nil {
		return bad
	}
	return errCode(c.ck.DeleteSection(bg, sectionID(sid)))
}

//export clckpt_section_expiration_time_set
func clckpt_section_expiration_time_set(h C.ClCkptHdlT, sid *C.ClCkptSectionIdT, expiration C.ClTimeT) (res C.ClRcT) {
	defer guard(&res, debug.SetPanicOnFault(true))
	if current() == nil {
		return code(rc.NotInitialized)
	}
	if sid == nil {
		return code(rc.NullPointer)
	}
	if sid.idLen == 0 || sid.id == nil {
		return code(rc.InvalidParam)
	}
	c, bad := lookupCheckpoint(h)
	if c == nil {
		return bad
	}
	return errCode(c.ck.SetSectionExpiration(bg, sectionID(sid), timeFromC(expiration)))
}

//export clckpt_section_iteration_initialize
func clckpt_section_iteration_initialize(h C.ClCkptHdlT, chosen C.ClCkptSectionsChosenT, expiration C.ClTimeT, out *C.ClHandleT) (res C.ClRcT) {
	defer guard(&res, debug.SetPanicOnFault(true))
	if current() == nil {
		return code(rc.NotInitialized)
	}
	if out == nil {
		return code(rc.NullPointer)
	}
	probeOutput(unsafe.Pointer(out))
	if chosen < C.CL_CKPT_SECTIONS_FOREVER || chosen > C.CL_CKPT_SECTIONS_ANY {
		return code(rc.InvalidParam)
	}
	c, bad := lookupCheckpoint(h)
	if c == nil {
		return bad
	}
	it, err := c.ck.Sections(bg, engine.SectionFilter(chosen), timeFromC(expiration))
	if err != nil {
		return errCode(err)
	}
	i := &iteration{ckpt: c, it: it}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.iters == nil { // the checkpoint handle was closed meanwhile
		_ = it.Close()
		return code(rc.InvalidHandle)
	}
	if i.handle, err = iterations.Add(i); err != nil {
		_ = it.Close()
		return code(rc.NoResource)
	}
	c.iters[i.handle] = i
	*out = C.ClHandleT(i.handle)
	return code(rc.OK)
}

//export clckpt_section_iteration_next
func clckpt_section_iteration_next(h C.ClHandleT, out *C.ClCkptSectionDescriptorT) (res C.ClRcT) {
	defer guard(&res, debug.SetPanicOnFault(true))
	if current() == nil {
		return code(rc.NotInitialized)
	}
	if out == nil {
		return code(rc.NullPointer)
	}
	i, ok := iterations.Get(uint64(h))
	if !ok {
		return code(rc.InvalidHandle)
	}
	d, err := i.it.Next()
	if err != nil {
		return errCode(err)
	}
	out.sectionId.idLen = C.ClUint16T(len(d.ID))
	out.sectionId.id = nil
	if len(d.ID) > 0 { // the caller owns the copy of the id
		out.sectionId.id = (*C.ClUint8T)(cCopy(d.ID, len(d.ID)))
	}
	out.expirationTime = timeToC(d.Expiration)
	out.sectionSize = C.ClSizeT(d.Size)
	out.sectionState = C.ClCkptSectionStateT(d.State)
	out.lastUpdate = timeToC(d.LastUpdate)
	return code(rc.OK)
}

//export clckpt_section_iteration_finalize
func clckpt_section_iteration_finalize(h C.ClHandleT) (res C.ClRcT) {
	defer guard(&res, debug.SetPanicOnFault(true))
	if current() == nil {
		return code(rc.NotInitialized)
	}
	i, ok := iterations.Remove(uint64(h))
	if !ok {
		return code(rc.InvalidHandle)
	}
	i.ckpt.mu.Lock()
	delete(i.ckpt.iters, i.handle)
	i.ckpt.mu.Unlock()
	return errCode(i.it.Close())
}

func elements(iov *C.ClCkptIOVectorElementT, n C.ClUint32T) []C.ClCkptIOVectorElementT {
	return unsafe.Slice(iov, int(n))
}

//export clckpt_checkpoint_write
func clckpt_checkpoint_write(h C.ClCkptHdlT, iov *C.ClCkptIOVectorElementT, n C.ClUint32T, errIndex *C.ClUint32T) (res C.ClRcT) {
	defer guard(&res, debug.SetPanicOnFault(true))
	if current() == nil {
		return code(rc.NotInitialized)
	}
	if n == 0 || iov == nil || h == 0 {
		return code(rc.InvalidParam)
	}
	if errIndex != nil {
		*errIndex = 0
	}
	c, bad := lookupCheckpoint(h)
	if c == nil {
		return bad
	}
	// Elements the C layer can already refuse stop the vector there: the ones before still apply.
	in := elements(iov, n)
	elems := make([]engine.WriteElement, 0, len(in))
	var bufs []*[]byte
	defer func() {
		for _, b := range bufs {
			release(b)
		}
	}()
	var stop C.ClRcT
	for _, e := range in {
		if e.dataBuffer == nil && e.dataSize > 0 {
			stop = code(rc.NullPointer)
			break
		}
		if e.dataSize > engine.MaxDataSize {
			stop = code(rc.InvalidParam)
			break
		}
		data, buf := copyIn(unsafe.Pointer(e.dataBuffer), e.dataSize)
		if buf != nil {
			bufs = append(bufs, buf)
		}
		elems = append(elems, engine.WriteElement{SectionID: sectionID(&e.sectionId), Offset: int64(e.dataOffset), Data: data})
	}
	if len(elems) > 0 {
		if err := c.ck.Write(bg, elems); err != nil {
			setIndex(errIndex, err)
			return errCode(err)
		}
	}
	if stop != 0 && errIndex != nil {
		*errIndex = C.ClUint32T(len(elems))
	}
	return stop
}

func setIndex(errIndex *C.ClUint32T, err error) {
	var ee *engine.ElementError
	if errIndex != nil && errors.As(err, &ee) {
		*errIndex = C.ClUint32T(ee.Index)
	}
}

//export clckpt_section_overwrite
func clckpt_section_overwrite(h C.ClCkptHdlT, sid *C.ClCkptSectionIdT, data unsafe.Pointer, size C.ClSizeT) (res C.ClRcT) {
	defer guard(&res, debug.SetPanicOnFault(true))
	if current() == nil {
		return code(rc.NotInitialized)
	}
	switch {
	case sid == nil || data == nil:
		return code(rc.NullPointer)
	case size == 0 || size > engine.MaxDataSize:
		return code(rc.InvalidParam)
	}
	c, bad := lookupCheckpoint(h)
	if c == nil {
		return bad
	}
	in, buf := copyIn(data, size)
	defer release(buf)
	return errCode(c.ck.Overwrite(bg, sectionID(sid), in))
}

//export clckpt_section_check
func clckpt_section_check(h C.ClCkptHdlT, sid *C.ClCkptSectionIdT) (res C.ClRcT) {
	defer guard(&res, debug.SetPanicOnFault(true))
	if current() == nil {
		return code(rc.NotInitialized)
	}
	if sid == nil {
		return code(rc.InvalidParam)
	}
	c, bad := lookupCheckpoint(h)
	if c == nil {
		return bad
	}
	// A read of no bytes: the section's existence, with the errors of a read.
	elems := []engine.ReadElement{{SectionID: sectionID(sid), Buffer: []byte{}}}
	return errCode(c.ck.Read(bg, elems))
}

//export clckpt_checkpoint_read
func clckpt_checkpoint_read(h C.ClCkptHdlT, iov *C.ClCkptIOVectorElementT, n C.ClUint32T, errIndex *C.ClUint32T) (res C.ClRcT) {
	defer guard(&res, debug.SetPanicOnFault(true))
	if current() == nil {
		return code(rc.NotInitialized)
	}
	if errIndex != nil {
		*errIndex = 0
	}
	if iov == nil {
		return code(rc.NullPointer)
	}
	if n == 0 {
		return code(rc.InvalidParam)
	}
	c, bad := lookupCheckpoint(h)
	if c == nil {
		return bad
	}
	in := elements(iov, n)
	var one [1]engine.ReadElement
	elems := one[:0]
	if n > 1 {
		elems = make([]engine.ReadElement, 0, n)
	}
	for i := range in {
		e := &in[i]
		el := engine.ReadElement{SectionID: sectionID(&e.sectionId), Offset: int64(e.dataOffset)}
		if e.dataBuffer != nil {
			// No section is larger than MaxDataSize: a larger request reads at most that much.
			el.Buffer = cBuffer(unsafe.Pointer(e.dataBuffer), min(e.dataSize, engine.MaxDataSize+1))
		}
		elems = append(elems, el)
	}
	if err := c.ck.Read(bg, elems); err != nil {
		setIndex(errIndex, err)
		return errCode(err)
	}
	for i := range in {
		e, el := &in[i], &elems[i]
		if e.dataBuffer == nil { // the library allocates the whole section for the caller
			e.dataBuffer = C.ClPtrT(cCopy(el.Buffer[:el.ReadSize], el.ReadSize+1))
		}
		e.readSize = C.ClSizeT(el.ReadSize)
		e.dataSize = C.ClSizeT(el.ReadSize)
	}
	return code(rc.OK)
}

//export clckpt_checkpoint_synchronize
func clckpt_checkpoint_synchronize(h C.ClCkptHdlT, timeout C.ClTimeT) (res C.ClRcT) {
	defer guard(&res, debug.SetPanicOnFault(true))
	c, bad := lookupCheckpoint(h)
	if c == nil {
		return bad
	}
	ctx, cancel := timeoutContext(timeout)
	defer cancel()
	return errCode(c.ck.Synchronize(ctx))
}

//export clckpt_checkpoint_synchronize_async
func clckpt_checkpoint_synchronize_async(h C.ClCkptHdlT, invocation C.ClInvocationT) (res C.ClRcT) {
	defer guard(&res, debug.SetPanicOnFault(true))
	c, bad := lookupCheckpoint(h)
	if c == nil {
		return bad
	}
	s := c.svc
	if s.syncCB == nil {
		return code(rc.Initialized)
	}
	// What Synchronize refuses (no WRITE, a synchronous checkpoint, no active replica) is this call's
	// own error, with no callback; the outcome of an accepted one is delivered through dispatch.
	cb := s.syncCB
	s.pending.Add(1)
	err := c.ck.SynchronizeAsync(bg, func(err error) {
		defer s.pending.Done()
		result := rc.FromError(err)
		_ = s.queue.Push(func() { C.clckpt_call_sync_cb(cb, invocation, C.ClRcT(result)) })
	})
	if err != nil {
		s.pending.Done()
		return errCode(err)
	}
	return code(rc.OK)
}

//export clckpt_immediate_consumption_register
func clckpt_immediate_consumption_register(h C.ClCkptHdlT, callback C.ClCkptNotificationCallbackT, cookie C.ClPtrT) (res C.ClRcT) {
	defer guard(&res, debug.SetPanicOnFault(true))
	c, bad := lookupCheckpoint(h)
	if c == nil {
		return bad
	}
	if callback == nil {
		return errCode(c.ck.Subscribe(nil))
	}
	// The cookie is the caller's pointer (C memory or any value), passed back untouched.
	return errCode(c.ck.Subscribe(func(u engine.Update) { c.notify(callback, cookie, u) }))
}

// notify runs an immediate-consumption callback on the delivering goroutine, with the update copied
// into C memory that stays valid until the callback returns. The memory is one block per handle,
// reused from one update to the next: no malloc per update, so nothing fills the allocator's
// per-thread caches (a goroutine may run its cgo calls on any thread, and glibc keeps freed chunks
// in a cache of the freeing thread).
//
// The closed check is made under notifyMu, which close takes after setting closed: once close has
// taken it, no callback of this handle runs or starts (see close).
func (c *checkpoint) notify(callback C.ClCkptNotificationCallbackT, cookie C.ClPtrT, u engine.Update) {
	c.notifyMu.Lock()
	defer func() {
		if c.closed.Load() { // the callback closed its own handle: close left the block to us
			c.freeScratchLocked()
		}
		c.notifyMu.Unlock()
	}()
	if c.closed.Load() {
		return
	}
	n := len(u.Elements)
	align := func(v int) int { return (v + 7) &^ 7 }
	nameSize, iovSize := align(int(C.sizeof_ClNameT)), align(max(n, 1)*int(C.sizeof_ClCkptIOVectorElementT))
	need := nameSize + iovSize
	for _, e := range u.Elements {
		need += align(len(e.SectionID)) + align(len(e.Data))
	}
	if need > c.scratchCap {
		c.freeScratchLocked()
		size := max(need, 2*c.scratchCap, 4096)
		c.scratch = C.malloc(C.size_t(size))
		if c.scratch == nil {
			panic("out of memory")
		}
		c.scratchCap = size
	}
	block := unsafe.Slice((*byte)(c.scratch), need)
	clear(block[:nameSize+iovSize])
	name := (*C.ClNameT)(c.scratch)
	name.length = C.ClUint16T(copy(unsafe.Slice((*byte)(unsafe.Pointer(&name.value[0])), C.CL_MAX_NAME_LENGTH), u.Name))
	iov := (*C.ClCkptIOVectorElementT)(unsafe.Pointer(&block[nameSize]))
	out := unsafe.Slice(iov, n)
	at := nameSize + iovSize
	place := func(b []byte) unsafe.Pointer {
		if len(b) == 0 {
			return nil
		}
		p := unsafe.Pointer(&block[at])
		copy(block[at:], b)
		at += align(len(b))
		return p
	}
	for i, e := range u.Elements {
		o := &out[i]
		o.sectionId.idLen = C.ClUint16T(len(e.SectionID))
		o.sectionId.id = (*C.ClUint8T)(place(e.SectionID))
		o.dataBuffer = C.ClPtrT(place(e.Data))
		o.dataSize = C.ClSizeT(len(e.Data))
		o.readSize = C.ClSizeT(len(e.Data))
		o.dataOffset = C.ClOffsetT(e.Offset)
	}
	C.clckpt_call_notify_cb(callback, C.ClCkptHdlT(c.handle), name, iov, C.ClUint32T(n), cookie)
}

// freeScratchLocked frees the notification block; c.notifyMu is held.
func (c *checkpoint) freeScratchLocked() {
	if c.scratch != nil {
		C.free(c.scratch)
		c.scratch, c.scratchCap = nil, 0
	}
}

//export clckpt_selection_object_get
func clckpt_selection_object_get(h C.ClCkptSvcHdlT, out *C.ClSelectionObjectT) (res C.ClRcT) {
	defer guard(&res, debug.SetPanicOnFault(true))
	if current() != nil && out == nil {
		return code(rc.NullPointer)
	}
	s, bad := lookupService(h)
	if s == nil {
		return bad
	}
	*out = C.ClSelectionObjectT(s.queue.FD())
	return code(rc.OK)
}

//export clckpt_dispatch
func clckpt_dispatch(h C.ClCkptSvcHdlT, flags C.ClDispatchFlagsT) (res C.ClRcT) {
	defer guard(&res, debug.SetPanicOnFault(true))
	s, bad := lookupService(h)
	if s == nil {
		return bad
	}
	// Callbacks run right here, on the caller's thread.
	switch flags {
	case C.CL_DISPATCH_ONE:
		s.queue.DispatchOne()
	case C.CL_DISPATCH_ALL:
		s.queue.DispatchAll()
	case C.CL_DISPATCH_BLOCKING:
		s.queue.DispatchBlocking()
	default:
		return code(rc.InvalidParam)
	}
	return code(rc.OK)
}
