// Package backup makes point-in-time backups of checkpoints into an archive (archive.Dir or
// archive.ObjectStore), keeps an XBSA-like catalogue of them in the same archive, and restores
// them. FORMAT.md describes the archive layout and its invariants.
package backup

import (
	"context"
	"encoding/hex"
	"fmt"
	"os"
	"os/user"
	"sync"
	"sync/atomic"
	"time"

	"github.com/clckpt/libclckpt/backup/archive"
	"github.com/clckpt/libclckpt/ckpt"
	"github.com/clckpt/libclckpt/engine"
)

// Source is a checkpoint service that can cut consistent snapshots: engine.Local, and
// replication.Member (a cut of the active replica, wherever it is).
type Source interface {
	SnapshotCheckpoint(ctx context.Context, name string, header func(engine.SnapshotHeader) error, section func(*engine.SnapshotSection) error) error
}

// Restorer is a Source that can also restore snapshots atomically: engine.Local and
// replication.Member.
type Restorer interface {
	Source
	RestoreCheckpoint(ctx context.Context, name string, h engine.SnapshotHeader, replace bool, flags ckpt.OpenFlags, next func() (*engine.SnapshotSection, error)) (ckpt.Checkpoint, error)
}

// SetSource is a Source that can cut several checkpoints at one moment (engine.Local): a
// transaction then copies all its checkpoints as of one moment.
type SetSource interface {
	Source
	SnapshotCheckpoints(ctx context.Context, names []string, each func(i int, cut cutFunc) error) error
}

// cutFunc streams one checkpoint's copy: its header, then its sections.
type cutFunc = func(header func(engine.SnapshotHeader) error, section func(*engine.SnapshotSection) error) error

var (
	_ Restorer  = (*engine.Local)(nil)
	_ SetSource = (*engine.Local)(nil)
)

// Manager backs up and restores the checkpoints of one Source into one archive.
type Manager struct {
	src Source
	ar  archive.Archive

	mu       sync.Mutex
	reserved map[string]bool // backup names of transactions in progress here
}

// New returns a manager of src's backups in ar. Restore needs src to be a Restorer.
func New(src Source, ar archive.Archive) *Manager {
	return &Manager{src: src, ar: ar, reserved: map[string]bool{}}
}

// Item is one checkpoint of a backup transaction.
type Item struct {
	Checkpoint  string
	BackupName  string
	CopyType    CopyType // 0: CopyBackup
	Description string
	ObjectInfo  string
	Expires     time.Time // zero: never
}

// Request is a backup transaction: every item is committed to the catalogue together, or none.
type Request struct {
	Items       []Item
	Overwrite   bool // replace live copies of the same backup names (in the same commit)
	Compression Compression
}

// Progress of a job.
type Progress struct {
	ItemsDone, Items int
	Bytes            int64 // archive bytes written so far
}

// Job is a backup in progress.
type Job struct {
	cancel context.CancelFunc
	done   chan struct{}
	items  int
	idone  atomic.Int64
	bytes  atomic.Int64
	stages stageTimes
	res    []Descriptor
	err    error
}

// Done is closed when the job ends (a C wrapper can signal a wait-object fd from it).
func (j *Job) Done() <-chan struct{} { return j.done }

// Wait waits for the end of the job and returns the copies committed, or why none was.
func (j *Job) Wait(ctx context.Context) ([]Descriptor, error) {
	select {
	case <-j.done:
		return j.res, j.err
	case <-ctx.Done():
		return nil, fmt.Errorf("%w: %w", ckpt.ErrTimeout, ctx.Err())
	}
}

// Progress returns how far the job is.
func (j *Job) Progress() Progress {
	return Progress{ItemsDone: int(j.idone.Load()), Items: j.items, Bytes: j.bytes.Load()}
}

// Stages tells where a job's time went: how long each part of its pipeline was busy, and how long
// each waited for another, summed over its items (for measurements; read after the job ended, or
// as it goes).
type Stages struct {
	Cut         time.Duration // the cut, from its start to the end of its last section
	CutWaited   time.Duration // of which the cut waited for a free chunk (the archive behind)
	Hashing     time.Duration // hashers busy compressing and hashing chunks (summed over them)
	Archive     time.Duration // the archive's Put, from its start to its return
	ArchiveIdle time.Duration // of which the archive waited for the next chunk (the cut or hashing behind)
}

// stageTimes are a job's Stages as they are summed, in nanoseconds.
type stageTimes struct{ cut, cutWaited, hashing, archive, archiveIdle atomic.Int64 }

// Stages returns where the job's time went so far.
func (j *Job) Stages() Stages {
	s := &j.stages
	return Stages{Cut: time.Duration(s.cut.Load()), CutWaited: time.Duration(s.cutWaited.Load()), Hashing: time.Duration(s.hashing.Load()),
		Archive: time.Duration(s.archive.Load()), ArchiveIdle: time.Duration(s.archiveIdle.Load())}
}

// since adds the time since start to a.
func since(a *atomic.Int64, start time.Time) { a.Add(int64(time.Since(start))) }

// Cancel stops the job: nothing is committed unless the commit was already made.
func (j *Job) Cancel() { j.cancel() }

func owner() string {
	name := "?"
	if u, err := user.Current(); err == nil {
		name = u.Username
	}
	return fmt.Sprintf("%d:%s", os.Getuid(), name)
}

func (m *Manager) checkRequest(req *Request) error {
	if len(req.Items) == 0 {
		return fmt.Errorf("%w: a backup needs at least one item", ckpt.ErrInvalidParameter)
	}
	seen := map[string]bool{}
	for i := range req.Items {
		it := &req.Items[i]
		switch {
		case it.Checkpoint == "" || len(it.Checkpoint) > ckpt.MaxNameLength:
			return fmt.Errorf("%w: checkpoint name of %d bytes", ckpt.ErrInvalidParameter, len(it.Checkpoint))
		case it.BackupName == "" || len(it.BackupName) > ckpt.MaxNameLength:
			return fmt.Errorf("%w: backup name of %d bytes", ckpt.ErrInvalidParameter, len(it.BackupName))
		case len(it.Description) > MaxDescription:
			return fmt.Errorf("%w: description over %d bytes", ckpt.ErrInvalidParameter, MaxDescription)
		case len(it.ObjectInfo) > MaxObjectInfo:
			return fmt.Errorf("%w: object info over %d bytes", ckpt.ErrInvalidParameter, MaxObjectInfo)
		case seen[it.BackupName]:
			return fmt.Errorf("%w: backup name %q twice in one request", ckpt.ErrInvalidParameter, it.BackupName)
		}
		if it.CopyType == 0 {
			it.CopyType = CopyBackup
		}
		if it.CopyType != CopyBackup && it.CopyType != CopyArchive {
			return fmt.Errorf("%w: copy type %d", ckpt.ErrInvalidParameter, it.CopyType)
		}
		seen[it.BackupName] = true
	}
	if req.Compression > CompressZstd {
		return fmt.Errorf("%w: compression %d", ckpt.ErrInvalidParameter, req.Compression)
	}
	return nil
}

// Start starts a backup transaction and returns at once. Backup names in use by live copies fail
// with ckpt.ErrAlreadyExist unless Overwrite is set; so do names of another transaction in
// progress in this manager. ctx bounds the whole job.
func (m *Manager) Start(ctx context.Context, req Request) (*Job, error) {
	req.Items = append([]Item(nil), req.Items...)
	if err := m.checkRequest(&req); err != nil {
		return nil, err
	}
	// Reserve the names first, then read the catalogue: a transaction of this manager that
	// committed one of them released it only after its commit, which the read then sees.
	m.mu.Lock()
	for _, it := range req.Items {
		if m.reserved[it.BackupName] {
			m.mu.Unlock()
			return nil, fmt.Errorf("%w: backup %q is being made", ckpt.ErrAlreadyExist, it.BackupName)
		}
	}
	for _, it := range req.Items {
		m.reserved[it.BackupName] = true
	}
	m.mu.Unlock()
	release := func() {
		m.mu.Lock()
		for _, it := range req.Items {
			delete(m.reserved, it.BackupName)
		}
		m.mu.Unlock()
	}
	cat, err := loadCatalog(ctx, m.ar)
	if err != nil {
		release()
		return nil, err
	}
	var replaced []uint64
	for _, it := range req.Items {
		if d := cat.byName(it.BackupName); d != nil {
			if !req.Overwrite {
				release()
				return nil, fmt.Errorf("%w: backup %q exists (copy %016x)", ckpt.ErrAlreadyExist, it.BackupName, d.CopyID)
			}
			replaced = append(replaced, d.CopyID)
		}
	}
	jctx, cancel := context.WithCancel(ctx)
	j := &Job{cancel: cancel, done: make(chan struct{}), items: len(req.Items)}
	go func() {
		defer close(j.done)
		defer cancel()
		j.res, j.err = m.run(jctx, j, req, cat, replaced)
		release()
	}()
	return j, nil
}

// run stores every item's object, then commits one catalogue record naming them all.
func (m *Manager) run(ctx context.Context, j *Job, req Request, cat *catalog, replaced []uint64) ([]Descriptor, error) {
	own := owner()
	var out []Descriptor
	fail := func(err error) ([]Descriptor, error) {
		dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		for _, d := range out {
			_ = m.ar.Delete(dctx, dataName(d.CopyID)) // what stays is swept as an orphan
		}
		return nil, err
	}
	storeItem := func(i int, cut cutFunc) error {
		it := req.Items[i]
		id := newCopyID(cat.ids)
		cat.ids[id] = true
		d, err := m.store(ctx, j, it, id, req.Compression, cut)
		if err != nil {
			return fmt.Errorf("%q as %q: %w", it.Checkpoint, it.BackupName, err)
		}
		d.Owner = own
		out = append(out, d)
		j.idone.Add(1)
		return nil
	}
	var err error
	if ss, ok := m.src.(SetSource); ok {
		names := make([]string, len(req.Items))
		for i, it := range req.Items {
			names[i] = it.Checkpoint
		}
		err = ss.SnapshotCheckpoints(ctx, names, storeItem)
	} else {
		for i, it := range req.Items {
			err = storeItem(i, func(header func(engine.SnapshotHeader) error, section func(*engine.SnapshotSection) error) error {
				return m.src.SnapshotCheckpoint(ctx, it.Checkpoint, header, section)
			})
			if err != nil {
				break
			}
		}
	}
	if err != nil {
		return fail(fmt.Errorf("backup: %w", err))
	}
	if err := commit(ctx, m.ar, record{Entries: out, Deletes: replaced}); err != nil {
		// The record may be in place all the same (a failed sync after the rename): the objects
		// stay, and Sweep removes them if no record refers to them.
		return nil, fmt.Errorf("backup commit: %w", err)
	}
	for _, id := range replaced {
		_ = m.ar.Delete(ctx, dataName(id)) // what stays is swept as an orphan
	}
	for i := range out {
		out[i].Status = MostRecent
	}
	return out, nil
}

// store cuts the checkpoint with cut and streams it into the archive object of copy id. It
// returns only once cut has returned.
func (m *Manager) store(ctx context.Context, j *Job, it Item, id uint64, comp Compression, cut cutFunc) (Descriptor, error) {
	d := Descriptor{CopyID: id, Checkpoint: it.Checkpoint, BackupName: it.BackupName, CopyType: it.CopyType,
		Description: it.Description, ObjectInfo: it.ObjectInfo, Expires: it.Expires.UTC(), Compression: comp}
	if it.Expires.IsZero() {
		d.Expires = time.Time{}
	}
	obj := newObjectStream(ctx, comp, &j.stages)
	cutDone := make(chan struct{})
	go func() {
		defer close(cutDone)
		defer since(&j.stages.cut, time.Now())
		err := cut(func(h engine.SnapshotHeader) error {
			d.Created, d.Epoch, d.LSN = time.Now().UTC(), h.Epoch, h.LSN
			return writeHeader(obj, h)
		}, func(s *engine.SnapshotSection) error {
			if err := ctx.Err(); err != nil {
				return err
			}
			return writeSection(obj, s)
		})
		if err == nil {
			err = writeEnd(obj)
		}
		obj.Close(err)
	}()
	putStart := time.Now()
	err := m.ar.Put(ctx, dataName(id), selfChecked{countReader{obj, &j.bytes}})
	since(&j.stages.archive, putStart)
	obj.stop()
	<-cutDone
	obj.wait()
	if err != nil {
		return Descriptor{}, err
	}
	size, digest, ok := obj.finished()
	if !ok {
		return Descriptor{}, fmt.Errorf("backup: the archive stored %q before its end", dataName(id))
	}
	d.Size, d.Digest = size, hex.EncodeToString(digest[:])
	return d, nil
}
