package engine

import (
	"sync"
	"time"

	"github.com/clckpt/libclckpt/engine/clock"
)

// checkpoint is one checkpoint of a Local service: its attributes, its sections' metadata (the data
// stays in the store) and its lifecycle. See Local for the locking rules.
type checkpoint struct {
	l    *Local
	id   uint64
	name string

	// Lifecycle, guarded by Local.mu.
	opens    int
	handles  map[*handle]struct{}
	retTimer clock.Timer

	// Content, guarded by mu. unlinked and deadline also need Local.mu to change.
	mu        sync.RWMutex
	attrs     Attributes
	unlinked  bool
	deadline  int64
	active    bool
	gen       uint32
	lsn       uint64
	sections  map[string]*section
	users     int    // sections other than the default one
	used      uint64 // bytes in all sections
	destroyed bool

	subMu sync.Mutex
	subs  map[*handle]*mailbox
}

// section is the in-memory metadata of one section.
type section struct {
	id   []byte // empty for the default section
	mkey []byte // metadata key
	dkey []byte // data key
	meta
	timer clock.Timer // expiration
}

func newCheckpoint(l *Local, r *record) *checkpoint {
	return &checkpoint{
		l:        l,
		id:       r.id,
		name:     r.name,
		handles:  make(map[*handle]struct{}),
		attrs:    r.attrs,
		unlinked: r.unlinked,
		deadline: r.deadline,
		active:   r.active,
		gen:      r.gen,
		lsn:      r.lsn,
		sections: make(map[string]*section),
	}
}

// record returns the persistent part of c; c.mu is held.
func (c *checkpoint) record() *record {
	return &record{id: c.id, name: c.name, attrs: c.attrs, unlinked: c.unlinked, active: c.active,
		deadline: c.deadline, gen: c.gen, lsn: c.lsn}
}

// newSection adds a section to c's map (not to the store); c.mu is held or c is not shared yet.
func (c *checkpoint) newSection(id []byte, m meta) *section {
	id = append([]byte(nil), id...)
	s := &section{id: id, mkey: sectionKey(prefixMeta, c.id, id), dkey: sectionKey(prefixData, c.id, id), meta: m}
	c.sections[string(id)] = s
	if len(id) > 0 {
		c.users++
	}
	c.used += m.size
	return s
}

// removeSection drops s from c's map; c.mu is held.
func (c *checkpoint) removeSection(s *section) {
	if s.timer != nil {
		s.timer.Stop()
		s.timer = nil
	}
	delete(c.sections, string(s.id))
	if len(s.id) > 0 {
		c.users--
	}
	c.used -= s.size
}

// effectiveRetention is the retention that applies at the last close: Distributed checkpoints
// always use 0.
func (c *checkpoint) effectiveRetention() time.Duration {
	if c.attrs.Flags&Distributed != 0 {
		return 0
	}
	return c.attrs.Retention
}

// checkActive fails data calls on a collocated asynchronous checkpoint without an active replica;
// c.mu is held.
func (c *checkpoint) checkActive() error {
	if c.attrs.Flags.IsCollocated() && !c.active {
		return errorf(ErrNotExist, "checkpoint %q has no active replica: call SetActiveReplica first", c.name)
	}
	return nil
}

// lookup finds the section a caller names; an empty id is the default section, which only
// single-section checkpoints have (noDefault is the error otherwise). c.mu is held.
func (c *checkpoint) lookup(id []byte, noDefault error) (*section, error) {
	if len(id) == 0 && c.attrs.MaxSections > 1 {
		return nil, errorf(noDefault, "checkpoint %q has no default section: a section id is required", c.name)
	}
	s := c.sections[string(id)]
	if s == nil {
		return nil, errorf(ErrNotExist, "no section %q in checkpoint %q", id, c.name)
	}
	return s, nil
}

// scheduleExpiry arms s's expiration timer; c.mu is held.
func (c *checkpoint) scheduleExpiry(s *section) {
	if s.timer != nil {
		s.timer.Stop()
		s.timer = nil
	}
	if s.expiration == neverNanos {
		return
	}
	exp := s.expiration
	s.timer = c.l.clock.AfterFunc(time.Duration(exp-c.l.now()), func() { c.expire(s, exp) })
}

// expire deletes s when its expiration (still exp) has come.
func (c *checkpoint) expire(s *section, exp int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.destroyed || c.l.closed.Load() || c.sections[string(s.id)] != s || s.expiration != exp {
		return
	}
	if err := c.deleteSection(s); err != nil {
		c.l.log.Warn("expiration: section not deleted; retrying at the next start", "name", c.name, "err", err)
		return
	}
	c.notify(nil, Update{Name: c.name, Elements: []UpdateElement{{SectionID: s.id}}})
}
