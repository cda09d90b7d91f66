package store

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
)

// The Badger store's write-ahead log. Apply appends a batch here with one write(2) on the caller's
// own thread and returns; a background goroutine commits it to Badger. Committing to Badger directly
// needs several goroutine hand-offs inside Badger, which are cheap in a Go program but cost tens of
// microseconds each on a thread that C called in on (the C library's case), where the runtime cannot
// run the other goroutines on the same thread. A batch in the log survives the death of the process
// (it is in the page cache; with SyncWrites, on disk), and the next open replays the log into Badger.
//
// Record: uint32 length of the payload | uint32 CRC-32C of the payload | payload.
// Payload: uint32 op count, then per op: uint8 kind (0 set, 1 delete, 2 barrier) | uvarint key
//          length | key | (set only) uvarint value length | value.
// A record whose length or checksum does not match ends the log (a write the process did not
// finish); the log is truncated there.
//
// A bulk batch bypasses the log (see Badger.Apply): once everything logged before it is in Badger,
// a barrier record naming its keys is logged, then the batch is committed to Badger. Replay skips
// every op on a key that precedes the key's last barrier: Badger already holds that op and perhaps
// the newer bulk value, which an old op from the log must not overwrite.

var crcTable = crc32.MakeTable(crc32.Castagnoli)

const walHeader = 8

type wal struct {
	f    *os.File
	sync bool
	size int64
}

func openWAL(path string, sync bool) (*wal, error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, err
	}
	if sync { // the log's directory entry too: a log lost with its directory entry loses its writes
		if err := syncDir(filepath.Dir(path)); err != nil {
			f.Close()
			return nil, err
		}
	}
	return &wal{f: f, sync: sync}, nil
}

// syncDir flushes a directory's entries to disk.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// Op kinds in a log record.
const (
	kindSet     = 0
	kindDelete  = 1
	kindBarrier = 2
)

// encodeRecord encodes a batch as one log record (header included).
func encodeRecord(b *Batch) []byte { return encodeOps(b.ops, false) }

// encodeBarrier encodes the barrier record of a bulk batch: its keys.
func encodeBarrier(b *Batch) []byte { return encodeOps(b.ops, true) }

func encodeOps(ops []Op, barrier bool) []byte {
	n := walHeader + 4
	for _, op := range ops {
		n += 1 + binary.MaxVarintLen64 + len(op.Key)
		if !barrier {
			n += binary.MaxVarintLen64 + len(op.Value)
		}
	}
	rec := make([]byte, walHeader, n)
	rec = binary.LittleEndian.AppendUint32(rec, uint32(len(ops)))
	for _, op := range ops {
		kind := byte(kindSet)
		switch {
		case barrier || op.barrier:
			kind = kindBarrier
		case op.Delete:
			kind = kindDelete
		}
		rec = append(rec, kind)
		rec = binary.AppendUvarint(rec, uint64(len(op.Key)))
		rec = append(rec, op.Key...)
		if kind == kindSet {
			rec = binary.AppendUvarint(rec, uint64(len(op.Value)))
			rec = append(rec, op.Value...)
		}
	}
	payload := rec[walHeader:]
	binary.LittleEndian.PutUint32(rec[0:], uint32(len(payload)))
	binary.LittleEndian.PutUint32(rec[4:], crc32.Checksum(payload, crcTable))
	return rec
}

// decodePayload returns the ops of a record's payload; keys and values point into payload.
func decodePayload(p []byte) ([]Op, error) {
	bad := errors.New("store: malformed log record")
	if len(p) < 4 {
		return nil, bad
	}
	n := binary.LittleEndian.Uint32(p)
	p = p[4:]
	if uint64(n) > uint64(len(p)) { // every op takes at least one byte
		return nil, bad
	}
	ops := make([]Op, 0, n)
	field := func() ([]byte, bool) {
		l, k := binary.Uvarint(p)
		if k <= 0 || l > uint64(len(p)-k) {
			return nil, false
		}
		v := p[k : k+int(l) : k+int(l)]
		p = p[k+int(l):]
		return v, true
	}
	for i := uint32(0); i < n; i++ {
		if len(p) == 0 {
			return nil, bad
		}
		kind := p[0]
		p = p[1:]
		key, ok := field()
		if !ok || kind > kindBarrier {
			return nil, bad
		}
		op := Op{Key: key, Delete: kind == kindDelete, barrier: kind == kindBarrier}
		if kind == kindSet {
			if op.Value, ok = field(); !ok {
				return nil, bad
			}
		}
		ops = append(ops, op)
	}
	if len(p) != 0 {
		return nil, bad
	}
	return ops, nil
}

// append writes one record at the end of the log.
func (w *wal) append(rec []byte) error {
	if _, err := w.f.WriteAt(rec, w.size); err != nil {
		return err
	}
	if w.sync {
		if err := w.f.Sync(); err != nil {
			return err
		}
	}
	w.size += int64(len(rec))
	return nil
}

// replay calls fn with the ops of every complete record from the start, in order, leaving out the
// barriers and the ops that a later barrier covers; then it truncates whatever follows the last
// complete record.
func (w *wal) replay(fn func(ops []Op) error) error {
	end, err := w.read(fn)
	if err != nil {
		return err
	}
	w.size = end
	return w.f.Truncate(end)
}

// read is replay without the truncation: it returns where the complete records end.
func (w *wal) read(fn func(ops []Op) error) (int64, error) {
	// Pass 1: where the complete records end, and the last barrier of each key.
	lastBarrier := map[string]int{}
	end, err := w.records(-1, func(i int, ops []Op) error {
		for _, op := range ops {
			if op.barrier {
				lastBarrier[string(op.Key)] = i
			}
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	// Pass 2: the ops no barrier covers.
	if _, err := w.records(end, func(i int, ops []Op) error {
		keep := ops[:0]
		for _, op := range ops {
			if b, ok := lastBarrier[string(op.Key)]; op.barrier || (ok && b > i) {
				continue
			}
			keep = append(keep, op)
		}
		if len(keep) == 0 {
			return nil
		}
		return fn(keep)
	}); err != nil {
		return 0, err
	}
	return end, nil
}

// records calls fn with the number and the ops of every complete record from the start, up to end
// (-1: as far as records are complete), and returns the offset after the last one.
func (w *wal) records(end int64, fn func(i int, ops []Op) error) (int64, error) {
	if _, err := w.f.Seek(0, io.SeekStart); err != nil {
		return 0, err
	}
	st, err := w.f.Stat()
	if err != nil {
		return 0, err
	}
	r := bufio.NewReaderSize(w.f, 1<<20)
	var off int64
	var hdr [walHeader]byte
	for i := 0; end < 0 || off < end; i++ {
		if _, err := io.ReadFull(r, hdr[:]); err != nil {
			break // end of the log, or a torn header
		}
		n := binary.LittleEndian.Uint32(hdr[0:])
		if int64(n) > st.Size()-off-walHeader {
			break // a torn or garbled length: never allocate past the file's end
		}
		payload := make([]byte, n)
		if _, err := io.ReadFull(r, payload); err != nil {
			break
		}
		if crc32.Checksum(payload, crcTable) != binary.LittleEndian.Uint32(hdr[4:]) {
			break
		}
		ops, err := decodePayload(payload)
		if err != nil {
			break
		}
		if err := fn(i, ops); err != nil {
			return 0, err
		}
		off += walHeader + int64(n)
	}
	return off, nil
}

// reset empties the log: everything in it is in Badger.
func (w *wal) reset() error {
	if err := w.f.Truncate(0); err != nil {
		return err
	}
	w.size = 0
	if w.sync {
		return w.f.Sync()
	}
	return nil
}

func (w *wal) close() error { return w.f.Close() }

func walError(op string, err error) error {
	return fmt.Errorf("store: write-ahead log: %s: %w", op, err)
}
