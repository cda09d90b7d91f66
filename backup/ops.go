package backup

import (
	"context"
	"encoding/hex"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/clckpt/libclckpt/backup/archive"
	"github.com/clckpt/libclckpt/ckpt"
	"github.com/clckpt/libclckpt/engine"
)

// Query returns the live copies matching q, oldest first.
func (m *Manager) Query(ctx context.Context, q Query) (*Results, error) {
	cat, err := loadCatalog(ctx, m.ar)
	if err != nil {
		return nil, err
	}
	r := &Results{}
	for _, d := range cat.sorted() {
		ok, err := q.matches(&d)
		if err != nil {
			return nil, err
		}
		if ok {
			r.list = append(r.list, d)
		}
	}
	return r, nil
}

// Get returns the live copy of that id (ckpt.ErrNotExist).
func (m *Manager) Get(ctx context.Context, copyID uint64) (Descriptor, error) {
	cat, err := loadCatalog(ctx, m.ar)
	if err != nil {
		return Descriptor{}, err
	}
	d := cat.live[copyID]
	if d == nil {
		return Descriptor{}, fmt.Errorf("%w: no backup copy %016x", ckpt.ErrNotExist, copyID)
	}
	return *d, nil
}

// Delete deletes the copies, all in one commit: after it no query sees any of them; before it,
// all. Their archive objects go at once, or at the next Sweep. An id that is not live fails the
// whole call with ckpt.ErrNotExist.
func (m *Manager) Delete(ctx context.Context, copyIDs ...uint64) error {
	cat, err := loadCatalog(ctx, m.ar)
	if err != nil {
		return err
	}
	for _, id := range copyIDs {
		if cat.live[id] == nil {
			return fmt.Errorf("%w: no backup copy %016x", ckpt.ErrNotExist, id)
		}
	}
	if len(copyIDs) == 0 {
		return nil
	}
	if err := commit(ctx, m.ar, record{Deletes: copyIDs}); err != nil {
		return err
	}
	for _, id := range copyIDs {
		_ = m.ar.Delete(ctx, dataName(id))
	}
	return nil
}

// RestoreRequest chooses a copy (by BackupName, or by CopyID when BackupName is empty) and where
// it goes.
type RestoreRequest struct {
	BackupName string
	CopyID     uint64
	// Target is the checkpoint restored; empty: the checkpoint the copy was made of.
	Target string
	// Replace allows restoring over a live checkpoint of the Target name, whose attributes must
	// equal the copy's (ckpt.ErrAlreadyExist otherwise).
	Replace bool
	// Flags open the restored checkpoint (OpenRead, OpenWrite); the handle is returned.
	Flags ckpt.OpenFlags
}

// Restore verifies the copy while it reads it and re-creates the checkpoint exactly (attributes,
// sections with their ids, expirations, update times and data, position): the result appears
// atomically, only once the whole object verified (ErrDamaged otherwise, and nothing changes).
// The returned handle is open with req.Flags; the caller closes it.
func (m *Manager) Restore(ctx context.Context, req RestoreRequest) (ckpt.Checkpoint, error) {
	var read atomic.Int64
	return m.restore(ctx, req, &read)
}

// RestoreJob is a restore in progress.
type RestoreJob struct {
	cancel context.CancelFunc
	done   chan struct{}
	read   atomic.Int64
	ck     ckpt.Checkpoint
	err    error
}

// StartRestore starts Restore and returns at once.
func (m *Manager) StartRestore(ctx context.Context, req RestoreRequest) *RestoreJob {
	jctx, cancel := context.WithCancel(ctx)
	j := &RestoreJob{cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(j.done)
		defer cancel()
		j.ck, j.err = m.restore(jctx, req, &j.read)
	}()
	return j
}

// Done is closed when the restore ends.
func (j *RestoreJob) Done() <-chan struct{} { return j.done }

// Wait waits for the end of the restore and returns the restored checkpoint's handle (the caller
// closes it), or why nothing was restored.
func (j *RestoreJob) Wait(ctx context.Context) (ckpt.Checkpoint, error) {
	select {
	case <-j.done:
		return j.ck, j.err
	case <-ctx.Done():
		return nil, fmt.Errorf("%w: %w", ckpt.ErrTimeout, ctx.Err())
	}
}

// BytesRead is how much of the archive object the restore has read and verified so far.
func (j *RestoreJob) BytesRead() int64 { return j.read.Load() }

// Cancel stops the restore: nothing changes unless the restored checkpoint had already appeared.
func (j *RestoreJob) Cancel() { j.cancel() }

func (m *Manager) restore(ctx context.Context, req RestoreRequest, read *atomic.Int64) (ckpt.Checkpoint, error) {
	rs, ok := m.src.(Restorer)
	if !ok {
		return nil, fmt.Errorf("%w: this service cannot restore checkpoints", ckpt.ErrBadOperation)
	}
	cat, err := loadCatalog(ctx, m.ar)
	if err != nil {
		return nil, err
	}
	var d *Descriptor
	if req.BackupName != "" {
		d = cat.byName(req.BackupName)
	} else {
		d = cat.live[req.CopyID]
	}
	if d == nil {
		return nil, fmt.Errorf("%w: no backup %q (copy %016x)", ckpt.ErrNotExist, req.BackupName, req.CopyID)
	}
	target := req.Target
	if target == "" {
		target = d.Checkpoint
	}
	want, err := hex.DecodeString(d.Digest)
	if err != nil || len(want) != 32 {
		return nil, damaged("catalogue digest of copy %016x", d.CopyID)
	}
	rc, err := m.ar.Get(ctx, dataName(d.CopyID))
	if err != nil {
		return nil, fmt.Errorf("backup %q: %w", d.BackupName, err)
	}
	defer rc.Close()
	or, err := newObjectReader(countReader{rc, read}, want)
	if err != nil {
		return nil, fmt.Errorf("backup %q: %w", d.BackupName, err)
	}
	defer or.close()
	h, err := readHeader(or)
	if err != nil {
		return nil, fmt.Errorf("backup %q: %w", d.BackupName, err)
	}
	next := func() (*engine.SnapshotSection, error) {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		s, err := readSection(or)
		if err != nil || s != nil {
			return s, err
		}
		// The end record: read on to the trailer, which checks the whole object, before the
		// restored checkpoint may appear.
		if n, err := io.Copy(io.Discard, or); err != nil || n != 0 {
			if err == nil {
				err = damaged("content after the end record")
			}
			return nil, err
		}
		return nil, nil
	}
	ck, err := rs.RestoreCheckpoint(ctx, target, h, req.Replace, req.Flags, next)
	if err != nil {
		return nil, fmt.Errorf("restore of backup %q into %q: %w", d.BackupName, target, err)
	}
	return ck, nil
}

// Attributes returns the creation attributes of the checkpoint a copy holds, from its object's
// header (the rest of the object is not read, so not verified: Restore does that).
func (m *Manager) Attributes(ctx context.Context, copyID uint64) (ckpt.Attributes, error) {
	cat, err := loadCatalog(ctx, m.ar)
	if err != nil {
		return ckpt.Attributes{}, err
	}
	d := cat.live[copyID]
	if d == nil {
		return ckpt.Attributes{}, fmt.Errorf("%w: no backup copy %016x", ckpt.ErrNotExist, copyID)
	}
	want, err := hex.DecodeString(d.Digest)
	if err != nil || len(want) != 32 {
		return ckpt.Attributes{}, damaged("catalogue digest of copy %016x", d.CopyID)
	}
	rc, err := m.ar.Get(ctx, dataName(d.CopyID))
	if err != nil {
		return ckpt.Attributes{}, fmt.Errorf("backup %q: %w", d.BackupName, err)
	}
	defer rc.Close()
	or, err := newObjectReader(rc, want)
	if err != nil {
		return ckpt.Attributes{}, fmt.Errorf("backup %q: %w", d.BackupName, err)
	}
	defer or.close()
	h, err := readHeader(or)
	if err != nil {
		return ckpt.Attributes{}, fmt.Errorf("backup %q: %w", d.BackupName, err)
	}
	return h.Attrs, nil
}

// isDataName tells whether name is that of a backup object (data/ and 16 hex digits): other
// files are not the manager's, and Sweep leaves them.
func isDataName(name string) bool {
	id, ok := strings.CutPrefix(name, dataPrefix)
	if !ok || len(id) != 16 {
		return false
	}
	_, err := strconv.ParseUint(id, 16, 64)
	return err == nil
}

// countReader counts the bytes read: from the archive for a restore's progress, and by the
// archive for a backup's.
type countReader struct {
	r io.Reader
	n *atomic.Int64
}

func (c countReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	return n, err
}

// WriteTo passes on the reader's own WriteTo (a backup object's), counting what it writes.
func (c countReader) WriteTo(w io.Writer) (int64, error) {
	if wt, ok := c.r.(io.WriterTo); ok {
		return wt.WriteTo(countWriter{w, c.n})
	}
	return io.Copy(w, struct{ io.Reader }{c})
}

// selfChecked is a backup object as its archive reads it: its chunk digests and final digest,
// verified by a restore, are its integrity checks (the object store does not hash it again).
type selfChecked struct{ countReader }

func (selfChecked) SelfChecked() {}

var _ archive.SelfChecked = selfChecked{}

// countWriter counts the bytes written.
type countWriter struct {
	w io.Writer
	n *atomic.Int64
}

func (c countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n.Add(int64(n))
	return n, err
}

// SweepOptions drive Sweep.
type SweepOptions struct {
	// KeepLast, when positive, keeps only the newest KeepLast copies of each checkpoint and copy
	// type; older ones are deleted.
	KeepLast int
	// Grace protects archive objects younger than this from being taken for orphans: a backup in
	// progress (here or in another process) writes its objects before it commits. Default 1 h.
	Grace time.Duration
	// Now is the time expiry is judged against (default: the current time).
	Now time.Time
}

// SweepReport says what a sweep removed.
type SweepReport struct {
	Expired, Pruned int // copies deleted for their expiry, or by KeepLast
	Orphans         int // archive objects and pieces that no live copy refers to
	Compacted       int // catalogue records rewritten or removed
}

// Sweep applies retention: it deletes expired copies and those beyond KeepLast (in one commit),
// removes archive objects no live copy refers to (the remains of a failed or killed backup, or of
// a deletion), and compacts the catalogue.
func (m *Manager) Sweep(ctx context.Context, o SweepOptions) (SweepReport, error) {
	var rep SweepReport
	if o.Grace == 0 {
		o.Grace = time.Hour
	}
	if o.Now.IsZero() {
		o.Now = time.Now()
	}
	cat, err := loadCatalog(ctx, m.ar)
	if err != nil {
		return rep, err
	}
	var del []uint64
	groups := map[string][]Descriptor{}
	for _, d := range cat.sorted() {
		if !d.Expires.IsZero() && !d.Expires.After(o.Now) {
			del = append(del, d.CopyID)
			rep.Expired++
			continue
		}
		k := fmt.Sprintf("%d/%s", d.CopyType, d.Checkpoint)
		groups[k] = append(groups[k], d)
	}
	if o.KeepLast > 0 {
		for _, g := range groups {
			for i := 0; i < len(g)-o.KeepLast; i++ { // oldest first
				del = append(del, g[i].CopyID)
				rep.Pruned++
			}
		}
	}
	if len(del) > 0 {
		sort.Slice(del, func(i, j int) bool { return del[i] < del[j] })
		if err := commit(ctx, m.ar, record{Deletes: del}); err != nil {
			return rep, err
		}
		if cat, err = loadCatalog(ctx, m.ar); err != nil {
			return rep, err
		}
	}
	before := o.Now.Add(-o.Grace)
	infos, err := m.ar.List(ctx, dataPrefix)
	if err != nil {
		return rep, err
	}
	referenced := map[string]bool{}
	for id := range cat.live {
		referenced[dataName(id)] = true
	}
	for _, in := range infos {
		if isDataName(in.Name) && !referenced[in.Name] && in.ModTime.Before(before) {
			if err := m.ar.Delete(ctx, in.Name); err != nil {
				return rep, err
			}
			rep.Orphans++
		}
	}
	n, err := m.ar.Sweep(ctx, before)
	rep.Orphans += n
	if err != nil {
		return rep, err
	}
	c, err := m.compact(ctx, cat)
	rep.Compacted = c
	return rep, err
}

// compact rewrites the catalogue records that name deleted copies without them (first all of
// them), then drops the deletions from the records that carry them. Every step leaves a catalogue
// that reads the same, so a crash anywhere is harmless.
func (m *Manager) compact(ctx context.Context, cat *catalog) (int, error) {
	n := 0
	keep := make([][]Descriptor, len(cat.records))
	for i, nr := range cat.records {
		for _, d := range nr.rec.Entries {
			if !cat.deleted[d.CopyID] {
				keep[i] = append(keep[i], d)
			}
		}
	}
	write := func(nr namedRecord, entries []Descriptor, deletes []uint64) error {
		n++
		if len(entries) == 0 && len(deletes) == 0 {
			return m.ar.Delete(ctx, nr.name)
		}
		rec := nr.rec
		rec.Entries, rec.Deletes = entries, deletes
		return commit(ctx, m.ar, rec) // the same txn: the same object name
	}
	for i, nr := range cat.records {
		if len(keep[i]) != len(nr.rec.Entries) {
			if err := write(nr, keep[i], nr.rec.Deletes); err != nil {
				return n, err
			}
		}
	}
	for i, nr := range cat.records {
		if len(nr.rec.Deletes) > 0 {
			if err := write(nr, keep[i], nil); err != nil {
				return n, err
			}
		}
	}
	return n, nil
}
