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
	"github.com/clckpt/libclckpt/ckpt"
	"github.com/clckpt/libclckpt/config"
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
	s := &service{openCB: openCB, syncCB: syncCB}
	if err := startService(s); err != nil {
		switch {
		case errors.Is(err, config.ErrBadSetting): // retrying cannot cure it
			return code(rc.InvalidState)
		case errors.Is(err, errNoHandle):
			return code(rc.NoResource)
		}
		return errCode(err)
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
	switch err := endService(uint64(h), func(s *service) bool { return s.saf == nil }); {
	case errors.Is(err, ckpt.ErrClosed):
		return code(rc.NotInitialized)
	case err != nil:
		return errCode(err)
	}
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
	ck, err := b.Open(ctx, goName, a, ckpt.OpenFlags(flags))
	if err != nil {
		return errCode(err)
	}
	c, err := s.addCheckpoint(ck, ckpt.OpenFlags(flags))
	if err != nil {
		return errCode(err)
	}
	*out = C.ClCkptHdlT(c.handle)
	return code(rc.OK)
}

// openArgs converts and checks the arguments of an open.
func openArgs(name *C.ClNameT, attrs *C.ClCkptCheckpointCreationAttributesT, flags C.ClCkptOpenFlagsT) (string, *ckpt.Attributes, error) {
	goName, ok := nameFromC(name)
	a := attrsFromC(attrs)
	err := ckpt.ValidateOpen(goName, a, ckpt.OpenFlags(flags))
	if err == nil && !ok {
		err = errors.Join(ckpt.ErrInvalidParameter, errors.New("name length above CL_MAX_NAME_LENGTH"))
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
	cb := s.openCB
	openAsync(s, func() (ckpt.Checkpoint, error) { return b.Open(bg, goName, a, ckpt.OpenFlags(flags)) }, ckpt.OpenFlags(flags),
		func(handle uint64, err error) {
			C.clckpt_call_open_cb(cb, invocation, C.ClCkptHdlT(handle), C.ClRcT(rc.FromError(err)))
		})
	return code(rc.OK)
}

//export clckpt_checkpoint_close
func clckpt_checkpoint_close(h C.ClCkptHdlT) (res C.ClRcT) {
	defer guard(&res, debug.SetPanicOnFault(true))
	c, bad := lookupCheckpoint(h)
	if c == nil {
		return bad
	}
	return errCode(closeHandle(c))
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
	case size > ckpt.MaxDataSize:
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
	c, id, bad := namedSection(h, sid)
	if c == nil {
		return bad
	}
	return errCode(c.ck.DeleteSection(bg, id))
}

// namedSection checks the arguments of a call on one named section (not the default one) of
// checkpoint handle h.
func namedSection(h C.ClCkptHdlT, sid *C.ClCkptSectionIdT) (*checkpoint, []byte, C.ClRcT) {
	if current() == nil {
		return nil, nil, code(rc.NotInitialized)
	}
	if sid == nil {
		return nil, nil, code(rc.NullPointer)
	}
	if sid.idLen == 0 || sid.id == nil {
		return nil, nil, code(rc.InvalidParam)
	}
	c, bad := lookupCheckpoint(h)
	if c == nil {
		return nil, nil, bad
	}
	return c, sectionID(sid), code(rc.OK)
}

//export clckpt_section_expiration_time_set
func clckpt_section_expiration_time_set(h C.ClCkptHdlT, sid *C.ClCkptSectionIdT, expiration C.ClTimeT) (res C.ClRcT) {
	defer guard(&res, debug.SetPanicOnFault(true))
	c, id, bad := namedSection(h, sid)
	if c == nil {
		return bad
	}
	return errCode(c.ck.SetSectionExpiration(bg, id, timeFromC(expiration)))
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
	it, err := c.ck.Sections(bg, ckpt.SectionFilter(chosen), timeFromC(expiration))
	if err != nil {
		return errCode(err)
	}
	i, err := c.addIteration(it)
	if err != nil {
		return errCode(err)
	}
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
	if !ok || i.ckpt.svc.saf != nil {
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
	i, ok := iterations.Get(uint64(h))
	if !ok || i.ckpt.svc.saf != nil {
		return code(rc.InvalidHandle)
	}
	return errCode(endIteration(i))
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
	stopAt, stop := len(in), C.ClRcT(0)
	for i, e := range in {
		if e.dataBuffer == nil && e.dataSize > 0 {
			stopAt, stop = i, code(rc.NullPointer)
			break
		}
		if e.dataSize > ckpt.MaxDataSize {
			stopAt, stop = i, code(rc.InvalidParam)
			break
		}
	}
	if err := writeVector(c, in[:stopAt], errIndex); err != nil {
		return errCode(err)
	}
	if stop != 0 && errIndex != nil {
		*errIndex = C.ClUint32T(stopAt)
	}
	return stop
}

// writeVector writes the elements (checked by the caller) with the engine; on an element's error
// *errIndex (if not NULL) gets its index.
func writeVector(c *checkpoint, in []C.ClCkptIOVectorElementT, errIndex *C.ClUint32T) error {
	if len(in) == 0 {
		return nil
	}
	elems := make([]ckpt.WriteElement, 0, len(in))
	var bufs []*[]byte
	defer func() {
		for _, b := range bufs {
			release(b)
		}
	}()
	for _, e := range in {
		data, buf := copyIn(unsafe.Pointer(e.dataBuffer), e.dataSize)
		if buf != nil {
			bufs = append(bufs, buf)
		}
		elems = append(elems, ckpt.WriteElement{SectionID: sectionID(&e.sectionId), Offset: int64(e.dataOffset), Data: data})
	}
	err := c.ck.Write(bg, elems)
	setIndex(errIndex, err)
	return err
}

func setIndex(errIndex *C.ClUint32T, err error) {
	var ee *ckpt.ElementError
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
	case size == 0 || size > ckpt.MaxDataSize:
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
	elems := []ckpt.ReadElement{{SectionID: sectionID(sid), Buffer: []byte{}}}
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
	if err := readVector(c, elements(iov, n), errIndex, true); err != nil {
		return errCode(err)
	}
	return code(rc.OK)
}

// readVector reads the elements with the engine. An element with no buffer gets the section from
// its offset in new C memory; every element gets its readSize (and its dataSize too with
// setDataSize). On an element's error *errIndex (if not NULL) gets its index and nothing is copied.
func readVector(c *checkpoint, in []C.ClCkptIOVectorElementT, errIndex *C.ClUint32T, setDataSize bool) error {
	var one [1]ckpt.ReadElement
	elems := one[:0]
	if len(in) > 1 {
		elems = make([]ckpt.ReadElement, 0, len(in))
	}
	for i := range in {
		e := &in[i]
		el := ckpt.ReadElement{SectionID: sectionID(&e.sectionId), Offset: int64(e.dataOffset)}
		if e.dataBuffer != nil {
			// No section is larger than MaxDataSize: a larger request reads at most that much.
			el.Buffer = cBuffer(unsafe.Pointer(e.dataBuffer), min(e.dataSize, ckpt.MaxDataSize+1))
		}
		elems = append(elems, el)
	}
	if err := c.ck.Read(bg, elems); err != nil {
		setIndex(errIndex, err)
		return err
	}
	for i := range in {
		e, el := &in[i], &elems[i]
		if e.dataBuffer == nil { // the library allocates the whole section for the caller
			e.dataBuffer = C.ClPtrT(cCopy(el.Buffer[:el.ReadSize], el.ReadSize+1))
		}
		e.readSize = C.ClSizeT(el.ReadSize)
		if setDataSize {
			e.dataSize = C.ClSizeT(el.ReadSize)
		}
	}
	return nil
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
	return errCode(synchronizeAsync(c, func(err error) { C.clckpt_call_sync_cb(cb, invocation, C.ClRcT(rc.FromError(err))) }))
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
	return errCode(c.ck.Subscribe(func(u ckpt.Update) { c.notify(callback, cookie, u) }))
}

// notify runs an immediate-consumption callback on the delivering goroutine, with the update copied
// into C memory that stays valid until the callback returns. The memory is one block per handle,
// reused from one update to the next: no malloc per update, so nothing fills the allocator's
// per-thread caches (a goroutine may run its cgo calls on any thread, and glibc keeps freed chunks
// in a cache of the freeing thread).
//
// The closed check is made under notifyMu, which close takes after setting closed: once close has
// taken it, no callback of this handle runs or starts (see close).
func (c *checkpoint) notify(callback C.ClCkptNotificationCallbackT, cookie C.ClPtrT, u ckpt.Update) {
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
	if !dispatch(s, int(flags)) {
		return code(rc.InvalidParam)
	}
	return code(rc.OK)
}
