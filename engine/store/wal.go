package store

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
)

// The Badger store's write-ahead log. Apply appends a batch here with one write(2) on the caller's
// own thread and returns; a background goroutine commits it to Badger. Committing to Badger directly
// needs several goroutine hand-offs inside Badger, which are cheap in a Go program but cost tens of
// microseconds each on a thread that C called in on (the C library's case), where the runtime cannot
// run the other goroutines on the same thread. A batch in the log survives the death of the process
// (it is in the page cache; with SyncWrites, on disk), and the next open replays the log into Badger.
//
// Record: uint32 length of the payload | uint32 CRC-32C of the payload | payload.
// Payload: uint32 op count, then per op: uint8 kind (0 set, 1 delete) | uvarint key length | key |
//          (set only) uvarint value length | value.
// A record whose length or checksum does not match ends the log (a write the process did not
// finish); the log is truncated there.

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
	return &wal{f: f, sync: sync}, nil
}

// encodeRecord encodes a batch as one log record (header included).
func encodeRecord(b *Batch) []byte {
	n := walHeader + 4
	for _, op := range b.ops {
		n += 1 + binary.MaxVarintLen64 + len(op.Key) + binary.MaxVarintLen64 + len(op.Value)
	}
	rec := make([]byte, walHeader, n)
	rec = binary.LittleEndian.AppendUint32(rec, uint32(len(b.ops)))
	for _, op := range b.ops {
		if op.Delete {
			rec = append(rec, 1)
			rec = binary.AppendUvarint(rec, uint64(len(op.Key)))
			rec = append(rec, op.Key...)
			continue
		}
		rec = append(rec, 0)
		rec = binary.AppendUvarint(rec, uint64(len(op.Key)))
		rec = append(rec, op.Key...)
		rec = binary.AppendUvarint(rec, uint64(len(op.Value)))
		rec = append(rec, op.Value...)
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
		if !ok || kind > 1 {
			return nil, bad
		}
		op := Op{Key: key, Delete: kind == 1}
		if !op.Delete {
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

// replay calls fn for every complete record from the start, then truncates whatever follows the
// last complete record.
func (w *wal) replay(fn func(ops []Op) error) error {
	if _, err := w.f.Seek(0, io.SeekStart); err != nil {
		return err
	}
	r := bufio.NewReaderSize(w.f, 1<<20)
	var off int64
	var hdr [walHeader]byte
	for {
		if _, err := io.ReadFull(r, hdr[:]); err != nil {
			break // end of the log, or a torn header
		}
		n := binary.LittleEndian.Uint32(hdr[0:])
		if n > 1<<30 {
			break
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
		if err := fn(ops); err != nil {
			return err
		}
		off += walHeader + int64(n)
	}
	w.size = off
	return w.f.Truncate(off)
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
