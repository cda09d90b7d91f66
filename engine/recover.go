package engine

import (
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"github.com/clckpt/libclckpt/engine/store"
)

func encodeNanos(ns int64) []byte { return binary.LittleEndian.AppendUint64(nil, uint64(ns)) }

func decodeNanos(v []byte) (int64, error) {
	if len(v) != 8 {
		return 0, fmt.Errorf("%w: timestamp of %d bytes", errCorrupt, len(v))
	}
	return int64(binary.LittleEndian.Uint64(v)), nil
}

// recover loads the store into memory and settles what happened while no process had it open.
func (l *Local) recover() error {
	if err := l.checkFormat(); err != nil {
		return err
	}
	// Checkpoint records.
	err := l.store.Scan([]byte{prefixRecord}, func(k, v []byte) error {
		if len(k) != 9 {
			return fmt.Errorf("%w: checkpoint key of %d bytes", errCorrupt, len(k))
		}
		id := binary.BigEndian.Uint64(k[1:])
		r, err := decodeRecord(id, v)
		if err != nil {
			return fmt.Errorf("checkpoint %016x: %w", id, err)
		}
		c := newCheckpoint(l, r)
		l.all[id] = c
		if !r.unlinked {
			if l.byName[r.name] != nil {
				return fmt.Errorf("%w: two live checkpoints named %q", errCorrupt, r.name)
			}
			l.byName[r.name] = c
		}
		return nil
	})
	if err != nil {
		return storageErr("load checkpoints", err)
	}
	// Section metadata. Sections whose checkpoint record is gone were left by a destruction that
	// a crash interrupted.
	var orphans [][]byte
	err = l.store.Scan([]byte{prefixMeta}, func(k, v []byte) error {
		id, sid, err := splitSectionKey(k)
		if err != nil {
			return err
		}
		c := l.all[id]
		if c == nil {
			orphans = append(orphans, append([]byte(nil), k...))
			return nil
		}
		m, err := decodeMeta(v)
		if err != nil {
			return fmt.Errorf("checkpoint %q section %q: %w", c.name, sid, err)
		}
		c.newSection(sid, m)
		c.lsn = max(c.lsn, m.lsn)
		return nil
	})
	if err != nil {
		return storageErr("load sections", err)
	}
	if err := l.removeOrphans(orphans); err != nil {
		return err
	}

	lastAlive := int64(0)
	switch err := l.store.Get(keyHeartbeat, func(v []byte) (err error) { lastAlive, err = decodeNanos(v); return }); {
	case errors.Is(err, store.ErrNotFound):
	case err != nil:
		return storageErr("read heartbeat", err)
	}
	now := l.now()
	if lastAlive == 0 || lastAlive > now {
		lastAlive = now
	}

	if err := l.settleAll(lastAlive, now); err != nil {
		return err
	}
	l.beat()
	return nil
}

func (l *Local) settleAll(lastAlive, now int64) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, c := range l.all {
		if err := l.settle(c, lastAlive, now); err != nil {
			return err
		}
	}
	return nil
}

// checkFormat refuses a store written in another format, or by something else.
func (l *Local) checkFormat() error {
	var version uint32
	err := l.store.Get(keyFormat, func(v []byte) (err error) { version, err = decodeFormat(v); return })
	switch {
	case err == nil && version == formatVersion:
		return nil
	case err == nil:
		return fmt.Errorf("%w: the data directory has format version %d; this build reads version %d", ErrStorage, version, formatVersion)
	case !errors.Is(err, store.ErrNotFound):
		return storageErr("read format record", err)
	}
	empty := true
	if err := l.store.Scan(nil, func(k, v []byte) error { empty = false; return errStopScan }); err != nil && !errors.Is(err, errStopScan) {
		return storageErr("inspect data directory", err)
	}
	if !empty {
		return fmt.Errorf("%w: the data directory holds data that clckpt did not write (no format record)", ErrStorage)
	}
	var b store.Batch
	b.Set(keyFormat, encodeFormat())
	if err := l.store.Apply(&b); err != nil {
		return storageErr("write format record", err)
	}
	return nil
}

var errStopScan = errors.New("stop scan")

func (l *Local) removeOrphans(keys [][]byte) error {
	var b store.Batch
	for i, k := range keys {
		b.Delete(k)
		d := append([]byte(nil), k...)
		d[0] = prefixData
		b.Delete(d)
		if b.Len() >= destroyChunk || i == len(keys)-1 {
			if err := l.store.Apply(&b); err != nil {
				return storageErr("remove orphan sections", err)
			}
			b.Reset()
		}
	}
	return nil
}

// settle applies to c what the time without a live process implies: every handle is closed, so a
// deleted checkpoint goes, and retention counts from the last heartbeat; sections past their
// expiration go. l.mu is held.
func (l *Local) settle(c *checkpoint, lastAlive, now int64) error {
	if c.unlinked {
		return l.destroy(c)
	}
	deadline := c.deadline
	if deadline == 0 {
		r := c.effectiveRetention()
		switch {
		case r < 0 || r == RetainForever:
		case r > time.Duration(maxInt64-lastAlive):
		default:
			deadline = lastAlive + int64(r)
		}
	}
	if deadline != 0 && deadline <= now {
		return l.destroy(c)
	}
	if deadline != 0 {
		if deadline != c.deadline {
			c.mu.Lock()
			r := c.record()
			r.deadline = deadline
			err := l.putRecord(r)
			if err == nil {
				c.deadline = deadline
			}
			c.mu.Unlock()
			if err != nil {
				return err
			}
		}
		l.scheduleRetention(c, deadline)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, s := range c.sections {
		if s.expiration != neverNanos && s.expiration <= now {
			if err := c.deleteSection(s); err != nil {
				return err
			}
			continue
		}
		c.scheduleExpiry(s)
	}
	return nil
}

const maxInt64 = 1<<63 - 1
