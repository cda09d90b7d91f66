package backup

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path"
	"sort"
	"strings"
	"time"

	"github.com/clckpt/libclckpt/backup/archive"
	"github.com/clckpt/libclckpt/ckpt"
)

// CopyType is the XBSA copy type of a backup.
type CopyType uint8

const (
	CopyBackup  CopyType = 1 // the source is kept
	CopyArchive CopyType = 2 // long-term copy; the source is typically deleted
)

// Status tells whether a copy is the most recent of its checkpoint and copy type.
type Status uint8

const (
	MostRecent    Status = 1
	NotMostRecent Status = 2
)

// Limits of the free-text fields, in bytes (as XBSA's).
const (
	MaxDescription = 100
	MaxObjectInfo  = 256
)

// Descriptor describes one committed backup copy in the catalogue.
type Descriptor struct {
	CopyID      uint64      // unique in the catalogue, never 0
	Checkpoint  string      // the object name: the checkpoint backed up
	BackupName  string      // unique among live copies
	Owner       string      // "uid:user" of the process that made it
	Created     time.Time   // UTC, when the cut was taken
	Size        int64       // bytes of the archive object
	Digest      string      // hex final digest of the archive object (FORMAT.md)
	CopyType    CopyType    //
	Status      Status      `json:"-"` // computed when the catalogue is read
	Description string      // at most MaxDescription bytes
	ObjectInfo  string      // at most MaxObjectInfo bytes
	Expires     time.Time   // zero: never
	Epoch, LSN  uint64      // the position of the cut
	Compression Compression //
}

// record is one catalogue object: a committed transaction. It adds the copies in Entries and
// removes the copies listed in Deletes, atomically (one archive Put).
type record struct {
	Format  int          `json:"format"`
	Txn     string       `json:"txn"`
	Time    time.Time    `json:"time"`
	Entries []Descriptor `json:"entries,omitempty"`
	Deletes []uint64     `json:"deletes,omitempty"`
}

const (
	catalogPrefix = "catalog/"
	dataPrefix    = "data/"
	recordFormat  = 1
)

func dataName(id uint64) string { return fmt.Sprintf("%s%016x", dataPrefix, id) }

func newTxn() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return time.Now().UTC().Format("20060102T150405.000000000Z") + "-" + hex.EncodeToString(b[:])
}

func newCopyID(taken map[uint64]bool) uint64 {
	for {
		var b [8]byte
		_, _ = rand.Read(b[:])
		if id := binary.LittleEndian.Uint64(b[:]); id != 0 && !taken[id] {
			return id
		}
	}
}

// catalog is the catalogue as read from the archive.
type catalog struct {
	records []namedRecord
	live    map[uint64]*Descriptor // committed, not deleted
	deleted map[uint64]bool        // deleted by a committed record, maybe not compacted yet
	ids     map[uint64]bool        // every id seen
}

type namedRecord struct {
	name string
	rec  record
}

// loadCatalog reads every catalogue record. A record that is not valid JSON of this format is an
// error naming its object: the catalogue is never guessed.
func loadCatalog(ctx context.Context, ar archive.Archive) (*catalog, error) {
	infos, err := ar.List(ctx, catalogPrefix)
	if err != nil {
		return nil, err
	}
	sort.Slice(infos, func(i, j int) bool { return infos[i].Name < infos[j].Name })
	c := &catalog{live: map[uint64]*Descriptor{}, deleted: map[uint64]bool{}, ids: map[uint64]bool{}}
	for _, in := range infos {
		rec, err := readRecord(ctx, ar, in.Name)
		if err != nil {
			return nil, err
		}
		c.records = append(c.records, namedRecord{in.Name, rec})
	}
	for _, nr := range c.records {
		for i := range nr.rec.Entries {
			d := nr.rec.Entries[i]
			c.ids[d.CopyID] = true
			c.live[d.CopyID] = &d
		}
	}
	for _, nr := range c.records {
		for _, id := range nr.rec.Deletes {
			c.deleted[id] = true
			delete(c.live, id)
		}
	}
	c.setStatus()
	return c, nil
}

func readRecord(ctx context.Context, ar archive.Archive, name string) (record, error) {
	var rec record
	rc, err := ar.Get(ctx, name)
	if err != nil {
		return rec, err
	}
	defer rc.Close()
	b, err := io.ReadAll(io.LimitReader(rc, 64<<20))
	if err != nil {
		return rec, err
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&rec); err != nil || rec.Format != recordFormat || rec.Txn == "" {
		return rec, fmt.Errorf("%w: catalogue object %s is not a catalogue record of format %d (foreign or damaged file in the archive)", ErrDamaged, name, recordFormat)
	}
	return rec, nil
}

// setStatus marks the newest copy of each checkpoint and copy type most recent.
func (c *catalog) setStatus() {
	newest := map[string]*Descriptor{}
	for _, d := range c.live {
		k := fmt.Sprintf("%d/%s", d.CopyType, d.Checkpoint)
		d.Status = NotMostRecent
		if n := newest[k]; n == nil || newer(d, n) {
			newest[k] = d
		}
	}
	for _, d := range newest {
		d.Status = MostRecent
	}
}

// byName returns the live copy called backupName; should two processes have committed the same
// name at once, the newest.
func (c *catalog) byName(backupName string) *Descriptor {
	var found *Descriptor
	for _, d := range c.live {
		if d.BackupName == backupName && (found == nil || newer(d, found)) {
			found = d
		}
	}
	return found
}

func newer(a, b *Descriptor) bool {
	return a.Created.After(b.Created) || a.Created.Equal(b.Created) && a.CopyID > b.CopyID
}

// sorted returns the live copies, oldest first.
func (c *catalog) sorted() []Descriptor {
	out := make([]Descriptor, 0, len(c.live))
	for _, d := range c.live {
		out = append(out, *d)
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].Created.Equal(out[j].Created) {
			return out[i].Created.Before(out[j].Created)
		}
		return out[i].CopyID < out[j].CopyID
	})
	return out
}

// commit writes one record: the transaction is then committed, whole.
func commit(ctx context.Context, ar archive.Archive, rec record) error {
	rec.Format = recordFormat
	if rec.Txn == "" {
		rec.Txn = newTxn()
	}
	rec.Time = time.Now().UTC()
	b, err := json.Marshal(rec)
	if err != nil {
		return err
	}
	return ar.Put(ctx, catalogPrefix+rec.Txn+".json", bytes.NewReader(b))
}

// Query chooses copies. Empty patterns and zero values match everything. Patterns use '*' (any
// run of bytes) and '?' (one byte) as path.Match does, with '/' matched like any other byte.
type Query struct {
	Checkpoint string // pattern on the checkpoint name
	BackupName string // pattern on the backup name
	CopyType   CopyType
	Status     Status
	From, To   time.Time // create-time range, inclusive; zero: open
}

func match(pattern, s string) (bool, error) {
	if pattern == "" {
		return true, nil
	}
	// path.Match stops '*' at '/': match the bytes with '/' mapped away, in both.
	const slash = "\x00"
	ok, err := path.Match(strings.ReplaceAll(pattern, "/", slash), strings.ReplaceAll(s, "/", slash))
	if err != nil {
		return false, fmt.Errorf("%w: pattern %q: %v", ckpt.ErrInvalidParameter, pattern, err)
	}
	return ok, nil
}

func (q *Query) matches(d *Descriptor) (bool, error) {
	for _, m := range [][2]string{{q.Checkpoint, d.Checkpoint}, {q.BackupName, d.BackupName}} {
		ok, err := match(m[0], m[1])
		if !ok || err != nil {
			return false, err
		}
	}
	switch {
	case q.CopyType != 0 && q.CopyType != d.CopyType,
		q.Status != 0 && q.Status != d.Status,
		!q.From.IsZero() && d.Created.Before(q.From),
		!q.To.IsZero() && d.Created.After(q.To):
		return false, nil
	}
	return true, nil
}

// Results is the outcome of a query, walked with First and Next (oldest first).
type Results struct {
	list []Descriptor
	pos  int
}

// errNoMore ends an iteration.
var errNoMore = fmt.Errorf("%w: no more backups match", ckpt.ErrNotExist)

// First returns the first match, or an error wrapping ckpt.ErrNotExist when none.
func (r *Results) First() (Descriptor, error) {
	r.pos = 0
	return r.Next()
}

// Next returns the next match, or an error wrapping ckpt.ErrNotExist at the end.
func (r *Results) Next() (Descriptor, error) {
	if r.pos >= len(r.list) {
		return Descriptor{}, errNoMore
	}
	r.pos++
	return r.list[r.pos-1], nil
}

// All returns every match.
func (r *Results) All() []Descriptor { return r.list }

// IsEnd tells whether err is the end of an iteration.
func IsEnd(err error) bool { return errors.Is(err, errNoMore) }
