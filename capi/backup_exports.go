package main

/*
#include <stdlib.h>
#include <string.h>
#include "glue.h"
*/
import "C"

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/clckpt/libclckpt/backup"
	"github.com/clckpt/libclckpt/backup/archive"
	"github.com/clckpt/libclckpt/capi/handles"
	"github.com/clckpt/libclckpt/capi/rc"
	"github.com/clckpt/libclckpt/ckpt"
)

// The exports of clCkptBackup.h: backups and restores run as jobs of the backup package on the
// member this process is; each is followed through a wait object with an eventfd that becomes
// readable when the job ends. See clCkptBackup.h for the contract of each function.

// maxBackupItems bounds the checkpoints of one backup call and the copies of one delete.
const maxBackupItems = 1024

// backupObjs holds the wait objects and query handles (one table: a handle of the one kind is
// never taken for the other).
var backupObjs = handles.New[any](handles.Backup)

// running holds the wait objects whose job has not ended, and waits all the live ones, for
// endBackups.
var running, waits sync.Map // *waitObj -> struct{}

// waitObj follows one backup or restore.
type waitObj struct {
	fd        int
	restore   bool
	svc       *service       // a restore's: where its handle is registered
	openFlags ckpt.OpenFlags // a restore's: how its handle is open
	total     int64
	progress  func() int64
	cancel    func()
	cancelled atomic.Bool
	done      chan struct{}

	// Set when done is closed.
	code  rc.Code
	descs []backup.Descriptor
	size  int64 // a backup's bytes in the archive

	mu     sync.Mutex
	ck     ckpt.Checkpoint // a restore's handle, until handed over
	handed bool
}

// queryObj is the result of a query, walked by clCkptBackupQueryNext.
type queryObj struct {
	mu   sync.Mutex
	list []backup.Descriptor
	next int
}

// managers keeps one backup manager per archive of the current backend (a manager refuses a
// backup name while another backup of it is under way in this process).
var managers struct {
	sync.Mutex
	of  *engineService
	byA map[string]*backup.Manager
}

// archiveSpec parses an archive string of clCkptBackup.h.
func archiveSpec(p *C.char) (string, error) {
	if p == nil {
		return "", nil
	}
	s, ok := goString(p, 4096)
	switch {
	case !ok:
		return "", fmt.Errorf("%w: archive name too long", ckpt.ErrInvalidParameter)
	case s == "", strings.HasPrefix(s, "/"):
		return s, nil
	case strings.HasPrefix(s, "nats:") && len(s) > len("nats:"):
		return s, nil
	}
	return "", fmt.Errorf("%w: archive %q is neither a path nor nats:<bucket>", ckpt.ErrInvalidParameter, s)
}

// manager returns the backup manager of archive spec on the current backend.
func manager(ctx context.Context, spec string) (*backup.Manager, error) {
	b := backend.Load()
	if b == nil {
		return nil, ckpt.ErrClosed
	}
	src, ok := b.Service.(backup.Source)
	if !ok {
		return nil, fmt.Errorf("%w: this service cannot make backups", ckpt.ErrBadOperation)
	}
	managers.Lock()
	defer managers.Unlock()
	if managers.of != b {
		managers.of, managers.byA = b, map[string]*backup.Manager{}
	}
	if m := managers.byA[spec]; m != nil {
		return m, nil
	}
	var ar archive.Archive
	var err error
	switch {
	case spec == "":
		ar, err = archive.OpenDir(archive.DefaultDir(b.dataDir))
	case strings.HasPrefix(spec, "/"):
		ar, err = archive.OpenDir(spec)
	default:
		js, ok := b.Service.(interface {
			Archive() (jetstream.JetStream, int)
		})
		if !ok {
			return nil, fmt.Errorf("%w: no NATS cluster for archive %q", ckpt.ErrInvalidParameter, spec)
		}
		j, replicas := js.Archive()
		ar, err = archive.OpenObjectStore(ctx, j, strings.TrimPrefix(spec, "nats:"), replicas)
	}
	if err != nil {
		return nil, err
	}
	m := backup.New(src, ar)
	managers.byA[spec] = m
	return m, nil
}

// serviceManager looks up a service handle and the backup manager of archive spec; on failure the
// manager is nil and the code says why.
func serviceManager(svcH C.ClCkptSvcHdlT, spec string) (*service, *backup.Manager, C.ClRcT) {
	s, bad := lookupService(svcH)
	if s == nil {
		return nil, nil, bad
	}
	m, err := manager(bg, spec)
	if err != nil {
		return nil, nil, C.ClRcT(backupCode(err, false))
	}
	return s, m, 0
}

// goString copies a NUL-terminated C string of at most max bytes (false: longer), reading it in Go
// so that a bad pointer faults where guard recovers it.
func goString(p *C.char, max int) (string, bool) {
	b := unsafe.Slice((*byte)(unsafe.Pointer(p)), max+1)
	for i := range b {
		if b[i] == 0 {
			return string(b[:i]), true
		}
	}
	return "", false
}

// optString is an optional string field of an options structure.
func optString(p *C.char, max int, what string) (string, error) {
	if p == nil {
		return "", nil
	}
	s, ok := goString(p, max)
	if !ok {
		return "", fmt.Errorf("%w: %s over %d bytes", ckpt.ErrInvalidParameter, what, max)
	}
	return s, nil
}

// structArchive checks the size and version fields that start every structure of clCkptBackup.h
// (v1: the size of version 1) and parses the structure's archive.
func structArchive(size, version C.ClUint32T, v1 uintptr, arch *C.char) (string, error) {
	if uintptr(size) < v1 || version != C.CL_CKPT_BACKUP_VERSION {
		return "", fmt.Errorf("%w: structure of %d bytes, version %d (want at least %d bytes, version %d)",
			ckpt.ErrInvalidParameter, size, version, v1, C.CL_CKPT_BACKUP_VERSION)
	}
	return archiveSpec(arch)
}

// backupCode maps the end of a job (or a failed call) to a code of clCkptBackup.h.
func backupCode(err error, cancelled bool) rc.Code {
	switch {
	case err == nil:
		return rc.OK
	case cancelled && errors.Is(err, context.Canceled):
		return rc.BadOperation
	case errors.Is(err, backup.ErrDamaged):
		return rc.NoResource
	case errors.Is(err, archive.ErrNotFound):
		return rc.NotExist
	}
	c := rc.FromError(err)
	if c == rc.Unspecified { // the archive's own errors (files, the object store)
		log.Warn("backup", "err", err)
		c = rc.NoResource
	}
	return c
}

// newWait registers a wait object with its eventfd.
func newWait(w *waitObj) (uint64, error) {
	fd, err := unix.Eventfd(0, unix.EFD_NONBLOCK|unix.EFD_CLOEXEC)
	if err != nil {
		return 0, fmt.Errorf("%w: eventfd: %w", ckpt.ErrStorage, err)
	}
	w.fd, w.done = fd, make(chan struct{})
	h, err := backupObjs.Add(w)
	if err != nil {
		unix.Close(fd)
		return 0, fmt.Errorf("%w: %w", ckpt.ErrStorage, err)
	}
	running.Store(w, struct{}{})
	waits.Store(w, struct{}{})
	return h, nil
}

// finish records the end of w's job and makes its descriptor readable.
func (w *waitObj) finish(code rc.Code) {
	w.code = code
	close(w.done)
	running.Delete(w)
	var one [8]byte
	binary.NativeEndian.PutUint64(one[:], 1)
	_, _ = unix.Write(w.fd, one[:])
}

func lookupWait(h C.ClCkptBackupWaitT) (*waitObj, C.ClRcT) {
	v, ok := backupObjs.Get(uint64(h))
	w, isWait := v.(*waitObj)
	if !ok || !isWait {
		return nil, code(rc.InvalidHandle)
	}
	return w, 0
}

// endBackups cancels every job still running and waits for their end; lifecycle is held and the
// backend is about to close. Restored handles never handed over are closed.
func endBackups() {
	running.Range(func(k, _ any) bool {
		w := k.(*waitObj)
		w.cancelled.Store(true)
		w.cancel()
		<-w.done
		return true
	})
	waits.Range(func(k, _ any) bool {
		w := k.(*waitObj)
		w.mu.Lock()
		if w.ck != nil && !w.handed {
			_ = w.ck.Close()
		}
		w.ck = nil
		w.mu.Unlock()
		return true
	})
	managers.Lock()
	managers.of, managers.byA = nil, nil
	managers.Unlock()
}

//export clckpt_backup_start
func clckpt_backup_start(hs *C.ClCkptHdlT, names *C.ClNameT, n C.ClUint32T, opts *C.ClCkptBackupOptionsT, out *C.ClCkptBackupWaitT) (res C.ClRcT) {
	defer guard(&res, debug.SetPanicOnFault(true))
	if current() == nil {
		return code(rc.NotInitialized)
	}
	if hs == nil || names == nil || opts == nil || out == nil {
		return code(rc.NullPointer)
	}
	probeOutput(unsafe.Pointer(out))
	if n == 0 || n > maxBackupItems {
		return code(rc.InvalidParam)
	}
	spec, err := structArchive(opts.size, opts.version, unsafe.Sizeof(*opts), opts.archive)
	if err != nil {
		return errCode(err)
	}
	desc, err := optString(opts.description, backup.MaxDescription, "description")
	if err != nil {
		return errCode(err)
	}
	info, err := optString(opts.objectInfo, backup.MaxObjectInfo, "object info")
	if err != nil {
		return errCode(err)
	}
	if opts.copyType > C.CL_CKPT_BACKUP_COPY_ARCHIVE || opts.compression > C.CL_CKPT_BACKUP_COMPRESS_ZSTD || opts.retentionDuration < 0 {
		return code(rc.InvalidParam)
	}
	var expires time.Time
	if opts.retentionDuration > 0 {
		expires = time.Now().Add(time.Duration(opts.retentionDuration))
	}
	req := backup.Request{Overwrite: opts.overwrite != 0, Compression: backup.Compression(opts.compression)}
	ckpts := make([]*checkpoint, n)
	for i, h := range unsafe.Slice(hs, int(n)) {
		c, bad := lookupCheckpoint(h)
		if c == nil {
			return bad
		}
		ckpts[i] = c
	}
	for i, cn := range unsafe.Slice(names, int(n)) {
		name, ok := nameFromC(&cn)
		if !ok {
			return code(rc.InvalidParam)
		}
		req.Items = append(req.Items, backup.Item{Checkpoint: ckpts[i].ck.Name(), BackupName: name,
			CopyType: backup.CopyType(opts.copyType), Description: desc, ObjectInfo: info, Expires: expires})
	}
	var total int64
	for _, c := range ckpts {
		if st, err := c.ck.Status(bg); err == nil {
			total += int64(st.MemoryUsed)
		}
	}
	m, err := manager(bg, spec)
	if err != nil {
		return C.ClRcT(backupCode(err, false))
	}
	ctx, cancel := context.WithCancel(context.Background())
	job, err := m.Start(ctx, req)
	if err != nil {
		cancel()
		return C.ClRcT(backupCode(err, false))
	}
	w := &waitObj{total: total, progress: func() int64 { return job.Progress().Bytes }, cancel: cancel}
	h, err := newWait(w)
	if err != nil {
		job.Cancel()
		cancel()
		return errCode(err)
	}
	go func() {
		descs, err := job.Wait(context.Background())
		cancel()
		w.descs = descs
		for _, d := range descs {
			w.size += d.Size
		}
		w.finish(backupCode(err, w.cancelled.Load()))
	}()
	*out = C.ClCkptBackupWaitT(h)
	return code(rc.OK)
}

//export clckpt_restore_start
func clckpt_restore_start(svcH C.ClCkptSvcHdlT, name *C.ClNameT, copyID C.ClUint64T, target *C.ClNameT, opts *C.ClCkptRestoreOptionsT, out *C.ClCkptBackupWaitT) (res C.ClRcT) {
	defer guard(&res, debug.SetPanicOnFault(true))
	if current() == nil {
		return code(rc.NotInitialized)
	}
	if opts == nil || out == nil {
		return code(rc.NullPointer)
	}
	probeOutput(unsafe.Pointer(out))
	spec, err := structArchive(opts.size, opts.version, unsafe.Sizeof(*opts), opts.archive)
	if err != nil {
		return errCode(err)
	}
	req := backup.RestoreRequest{CopyID: uint64(copyID), Replace: opts.replace != 0, Flags: ckpt.OpenFlags(opts.openFlags)}
	if opts.openFlags&^C.ClCkptOpenFlagsT(ckpt.OpenRead|ckpt.OpenWrite) != 0 {
		return code(rc.InvalidParam)
	}
	if name != nil {
		n, ok := nameFromC(name)
		if !ok || n == "" {
			return code(rc.InvalidParam)
		}
		req.BackupName = n
	} else if copyID == 0 {
		return code(rc.InvalidParam)
	}
	if target != nil {
		t, ok := nameFromC(target)
		if !ok || t == "" {
			return code(rc.InvalidParam)
		}
		req.Target = t
	}
	s, m, bad := serviceManager(svcH, spec)
	if m == nil {
		return bad
	}
	var copied *backup.Descriptor // the copy the restore will take, when it is found now
	if req.BackupName != "" {
		if r, err := m.Query(bg, backup.Query{BackupName: req.BackupName, Status: backup.MostRecent}); err == nil {
			for _, d := range r.All() {
				if d.BackupName == req.BackupName {
					copied = &d
				}
			}
		}
	} else if d, err := m.Get(bg, req.CopyID); err == nil {
		copied = &d
	}
	var total int64
	if copied != nil {
		total = copied.Size
		if req.Target == "" && len(copied.Checkpoint) > C.CL_MAX_NAME_LENGTH {
			return code(rc.InvalidParam) // a checkpoint no ClNameT can name: restore it under another name
		}
	}
	job := m.StartRestore(context.Background(), req)
	w := &waitObj{restore: true, svc: s, total: total, progress: job.BytesRead, cancel: job.Cancel, openFlags: req.Flags}
	h, err := newWait(w)
	if err != nil {
		job.Cancel()
		return errCode(err)
	}
	go func() {
		ck, err := job.Wait(context.Background())
		if err == nil && req.Flags == 0 {
			_ = ck.Close() // not kept open
			ck = nil
		}
		w.mu.Lock()
		w.ck = ck
		w.mu.Unlock()
		w.finish(backupCode(err, w.cancelled.Load()))
	}()
	*out = C.ClCkptBackupWaitT(h)
	return code(rc.OK)
}

//export clckpt_backup_wait
func clckpt_backup_wait(h C.ClCkptBackupWaitT, timeout C.ClTimeT) (res C.ClRcT) {
	defer guard(&res, debug.SetPanicOnFault(true))
	w, bad := lookupWait(h)
	if w == nil {
		return bad
	}
	ctx, cancel := timeoutContext(timeout)
	defer cancel()
	select {
	case <-w.done:
		return code(w.code)
	case <-ctx.Done():
		return code(rc.Timeout)
	}
}

//export clckpt_backup_progress_get
func clckpt_backup_progress_get(h C.ClCkptBackupWaitT, done, total *C.ClUint64T) (res C.ClRcT) {
	defer guard(&res, debug.SetPanicOnFault(true))
	w, bad := lookupWait(h)
	if w == nil {
		return bad
	}
	d, t := w.progress(), w.total
	select {
	case <-w.done:
		if !w.restore && w.code == rc.OK {
			d, t = w.size, w.size
		}
	default:
	}
	if done != nil {
		*done = C.ClUint64T(d)
	}
	if total != nil {
		*total = C.ClUint64T(t)
	}
	return code(rc.OK)
}

//export clckpt_backup_cancel
func clckpt_backup_cancel(h C.ClCkptBackupWaitT) (res C.ClRcT) {
	defer guard(&res, debug.SetPanicOnFault(true))
	w, bad := lookupWait(h)
	if w == nil {
		return bad
	}
	w.cancelled.Store(true)
	w.cancel()
	return code(rc.OK)
}

//export clckpt_backup_selection_object_get
func clckpt_backup_selection_object_get(h C.ClCkptBackupWaitT, out *C.ClSelectionObjectT) (res C.ClRcT) {
	defer guard(&res, debug.SetPanicOnFault(true))
	w, bad := lookupWait(h)
	if w == nil {
		return bad
	}
	if out == nil {
		return code(rc.NullPointer)
	}
	*out = C.ClSelectionObjectT(w.fd)
	return code(rc.OK)
}

// ended returns the code to answer with while w runs or after it failed; 0 when it succeeded.
func ended(w *waitObj) C.ClRcT {
	select {
	case <-w.done:
		return code(w.code)
	default:
		return code(rc.TryAgain)
	}
}

//export clckpt_backup_result_get
func clckpt_backup_result_get(h C.ClCkptBackupWaitT, index C.ClUint32T, out *C.ClCkptBackupDescriptorT) (res C.ClRcT) {
	defer guard(&res, debug.SetPanicOnFault(true))
	w, bad := lookupWait(h)
	if w == nil {
		return bad
	}
	switch {
	case out == nil:
		return code(rc.NullPointer)
	case w.restore:
		return code(rc.BadOperation)
	}
	if c := ended(w); c != 0 {
		return c
	}
	if int(index) >= len(w.descs) {
		return code(rc.InvalidParam)
	}
	descriptorToC(&w.descs[index], out)
	return code(rc.OK)
}

//export clckpt_restore_handle_get
func clckpt_restore_handle_get(h C.ClCkptBackupWaitT, out *C.ClCkptHdlT) (res C.ClRcT) {
	defer guard(&res, debug.SetPanicOnFault(true))
	w, bad := lookupWait(h)
	if w == nil {
		return bad
	}
	switch {
	case out == nil:
		return code(rc.NullPointer)
	case !w.restore:
		return code(rc.BadOperation)
	}
	probeOutput(unsafe.Pointer(out))
	if c := ended(w); c != 0 {
		return c
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.ck == nil || w.handed {
		return code(rc.NotExist)
	}
	c, err := w.svc.addCheckpoint(w.ck, w.openFlags)
	if err != nil {
		return errCode(err) // the service was finalized: the handle stays with the wait object
	}
	w.handed = true
	*out = C.ClCkptHdlT(c.handle)
	return code(rc.OK)
}

//export clckpt_backup_wait_finalize
func clckpt_backup_wait_finalize(h C.ClCkptBackupWaitT) (res C.ClRcT) {
	defer guard(&res, debug.SetPanicOnFault(true))
	w, bad := lookupWait(h)
	if w == nil {
		return bad
	}
	if _, ok := backupObjs.Remove(uint64(h)); !ok {
		return code(rc.InvalidHandle) // finalized by another thread meanwhile
	}
	w.cancelled.Store(true)
	w.cancel()
	<-w.done
	w.mu.Lock()
	if w.ck != nil && !w.handed {
		_ = w.ck.Close()
	}
	w.ck = nil
	w.mu.Unlock()
	waits.Delete(w)
	unix.Close(w.fd)
	return code(rc.OK)
}

//export clckpt_backup_query_initialize
func clckpt_backup_query_initialize(svcH C.ClCkptSvcHdlT, q *C.ClCkptBackupQueryT, out *C.ClCkptBackupQueryHdlT) (res C.ClRcT) {
	defer guard(&res, debug.SetPanicOnFault(true))
	if current() == nil {
		return code(rc.NotInitialized)
	}
	if q == nil || out == nil {
		return code(rc.NullPointer)
	}
	probeOutput(unsafe.Pointer(out))
	spec, err := structArchive(q.size, q.version, unsafe.Sizeof(*q), q.archive)
	if err != nil {
		return errCode(err)
	}
	var query backup.Query
	if query.Checkpoint, err = optString(q.checkpointPattern, C.CL_MAX_NAME_LENGTH, "checkpoint pattern"); err != nil {
		return errCode(err)
	}
	if query.BackupName, err = optString(q.backupPattern, C.CL_MAX_NAME_LENGTH, "backup pattern"); err != nil {
		return errCode(err)
	}
	if q.copyType > C.CL_CKPT_BACKUP_COPY_ARCHIVE || q.status > C.CL_CKPT_BACKUP_STATUS_NOT_MOST_RECENT {
		return code(rc.InvalidParam)
	}
	query.CopyType, query.Status = backup.CopyType(q.copyType), backup.Status(q.status)
	if q.createdFrom != 0 {
		query.From = time.Unix(0, int64(q.createdFrom))
	}
	if q.createdTo != 0 {
		query.To = time.Unix(0, int64(q.createdTo))
	}
	_, m, bad := serviceManager(svcH, spec)
	if m == nil {
		return bad
	}
	r, err := m.Query(bg, query)
	if err != nil {
		return C.ClRcT(backupCode(err, false))
	}
	// A ClNameT holds CL_MAX_NAME_LENGTH bytes: copies whose names are longer (checkpoints named
	// through saCkpt or Go) are left out rather than listed under a name cut short.
	list := slices.DeleteFunc(r.All(), func(d backup.Descriptor) bool {
		return len(d.Checkpoint) > C.CL_MAX_NAME_LENGTH || len(d.BackupName) > C.CL_MAX_NAME_LENGTH
	})
	h, err := backupObjs.Add(&queryObj{list: list})
	if err != nil {
		return code(rc.NoResource)
	}
	*out = C.ClCkptBackupQueryHdlT(h)
	return code(rc.OK)
}

func lookupQuery(h C.ClCkptBackupQueryHdlT) (*queryObj, C.ClRcT) {
	v, ok := backupObjs.Get(uint64(h))
	q, isQuery := v.(*queryObj)
	if !ok || !isQuery {
		return nil, code(rc.InvalidHandle)
	}
	return q, 0
}

//export clckpt_backup_query_next
func clckpt_backup_query_next(h C.ClCkptBackupQueryHdlT, out *C.ClCkptBackupDescriptorT) (res C.ClRcT) {
	defer guard(&res, debug.SetPanicOnFault(true))
	q, bad := lookupQuery(h)
	if q == nil {
		return bad
	}
	if out == nil {
		return code(rc.NullPointer)
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.next >= len(q.list) {
		return code(rc.NotExist)
	}
	descriptorToC(&q.list[q.next], out)
	q.next++
	return code(rc.OK)
}

//export clckpt_backup_query_finalize
func clckpt_backup_query_finalize(h C.ClCkptBackupQueryHdlT) (res C.ClRcT) {
	defer guard(&res, debug.SetPanicOnFault(true))
	if q, bad := lookupQuery(h); q == nil {
		return bad
	}
	if _, ok := backupObjs.Remove(uint64(h)); !ok {
		return code(rc.InvalidHandle)
	}
	return code(rc.OK)
}

//export clckpt_backup_delete
func clckpt_backup_delete(svcH C.ClCkptSvcHdlT, arch *C.char, ids *C.ClUint64T, n C.ClUint32T) (res C.ClRcT) {
	defer guard(&res, debug.SetPanicOnFault(true))
	if current() == nil {
		return code(rc.NotInitialized)
	}
	if ids == nil {
		return code(rc.NullPointer)
	}
	if n == 0 || n > maxBackupItems {
		return code(rc.InvalidParam)
	}
	spec, err := archiveSpec(arch)
	if err != nil {
		return errCode(err)
	}
	copies := make([]uint64, n)
	for i, id := range unsafe.Slice(ids, int(n)) {
		copies[i] = uint64(id)
	}
	_, m, bad := serviceManager(svcH, spec)
	if m == nil {
		return bad
	}
	return C.ClRcT(backupCode(m.Delete(bg, copies...), false))
}

// descriptorToC fills a ClCkptBackupDescriptorT.
func descriptorToC(d *backup.Descriptor, out *C.ClCkptBackupDescriptorT) {
	C.memset(unsafe.Pointer(out), 0, C.sizeof_ClCkptBackupDescriptorT)
	out.copyId = C.ClUint64T(d.CopyID)
	nameToC(d.Checkpoint, &out.checkpointName)
	nameToC(d.BackupName, &out.backupName)
	cString(d.Owner, unsafe.Pointer(&out.owner[0]), len(out.owner))
	out.createTime = C.ClTimeT(d.Created.UnixNano())
	if !d.Expires.IsZero() {
		out.expireTime = C.ClTimeT(d.Expires.UnixNano())
	}
	out.size = C.ClUint64T(d.Size)
	cString(d.Digest, unsafe.Pointer(&out.digest[0]), len(out.digest))
	out.copyType = C.ClCkptBackupCopyTypeT(d.CopyType)
	out.status = C.ClCkptBackupStatusT(d.Status)
	out.compression = C.ClCkptBackupCompressionT(d.Compression)
	cString(d.Description, unsafe.Pointer(&out.description[0]), len(out.description))
	cString(d.ObjectInfo, unsafe.Pointer(&out.objectInfo[0]), len(out.objectInfo))
	out.epoch, out.lsn = C.ClUint64T(d.Epoch), C.ClUint64T(d.LSN)
	C.clckpt_written(unsafe.Pointer(out), C.sizeof_ClCkptBackupDescriptorT)
}

// cString copies s, cut to size-1 bytes, and a NUL into the size bytes at p.
func cString(s string, p unsafe.Pointer, size int) {
	b := unsafe.Slice((*byte)(p), size)
	n := copy(b[:size-1], s)
	b[n] = 0
}

// nameToC stores a name of at most CL_MAX_NAME_LENGTH bytes (the query leaves longer ones out).
func nameToC(s string, out *C.ClNameT) {
	n := copy(unsafe.Slice((*byte)(unsafe.Pointer(&out.value[0])), len(out.value)), s)
	out.length = C.ClUint16T(n)
}
