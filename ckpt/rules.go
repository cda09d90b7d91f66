package ckpt

import (
	"math/bits"
	"sync"
)

// The rules below are shared by every Service implementation, so that each reports the same error
// for the same call.

// ValidateOpen applies the argument rules of Open, in the order the C API reports them, without
// opening anything.
func ValidateOpen(name string, attrs *Attributes, flags OpenFlags) error {
	if flags&^openFlagsAll != 0 {
		return Errorf(ErrBadFlag, "open flags %#x", uint32(flags))
	}
	if flags&OpenCreate != 0 && attrs == nil {
		return Errorf(ErrMissingArgument, "OpenCreate needs creation attributes")
	}
	if flags&OpenCreate == 0 && attrs != nil {
		return Errorf(ErrInvalidParameter, "creation attributes given without OpenCreate")
	}
	if attrs != nil && attrs.CheckpointSize != 0 && attrs.MaxSectionSize != 0 {
		hi, total := bits.Mul64(uint64(attrs.MaxSections), attrs.MaxSectionSize)
		if hi == 0 && attrs.CheckpointSize > total {
			return Errorf(ErrInvalidParameter, "checkpointSize %d exceeds maxSections %d x maxSectionSize %d",
				attrs.CheckpointSize, attrs.MaxSections, attrs.MaxSectionSize)
		}
	}
	return CheckName(name)
}

// CheckName checks the length of a checkpoint name: 1 to MaxNameLength bytes (ErrInvalidParameter).
func CheckName(name string) error {
	if len(name) == 0 || len(name) > MaxNameLength {
		return Errorf(ErrInvalidParameter, "checkpoint name of %d bytes (1 to %d allowed)", len(name), MaxNameLength)
	}
	return nil
}

// Access is what a call needs from the handle's open flags.
type Access int

const (
	AnyAccess   Access = iota // no flag
	WriteAccess               // OpenWrite or OpenCreate
	ReadAccess                // OpenRead
)

// CheckAccess applies the handle rules every service shares: a closed service, then a closed
// handle, then the open flags the call needs.
func CheckAccess(serviceClosed, handleClosed bool, flags OpenFlags, need Access, name string) error {
	switch {
	case serviceClosed:
		return ErrClosed
	case handleClosed:
		return ErrBadHandle
	case need == WriteAccess && !flags.CanWrite():
		return Errorf(ErrNotPermitted, "checkpoint %q was not opened for writing", name)
	case need == ReadAccess && !flags.CanRead():
		return Errorf(ErrNotPermitted, "checkpoint %q was not opened for reading", name)
	}
	return nil
}

// iterator walks a snapshot of section ids. Sections deleted since are skipped; sections created
// since are not returned.
type iterator struct {
	describe func(id []byte) (SectionDescriptor, bool, error)
	usable   func() error // fails once the handle or the service is closed

	mu     sync.Mutex
	ids    [][]byte
	next   int
	closed bool
}

// NewIterator returns a SectionIterator over ids, describing each with describe (which reports
// false for a section that no longer exists, and an error when it cannot tell: Next then returns
// the error and tries the same section again on the next call) while usable returns nil.
func NewIterator(ids [][]byte, describe func(id []byte) (SectionDescriptor, bool, error), usable func() error) SectionIterator {
	return &iterator{ids: ids, describe: describe, usable: usable}
}

func (it *iterator) Next() (SectionDescriptor, error) {
	it.mu.Lock()
	defer it.mu.Unlock()
	if it.closed {
		return SectionDescriptor{}, ErrBadHandle
	}
	if err := it.usable(); err != nil {
		return SectionDescriptor{}, err
	}
	for it.next < len(it.ids) {
		d, ok, err := it.describe(it.ids[it.next])
		if err != nil {
			return SectionDescriptor{}, err
		}
		it.next++
		if ok {
			return d, nil
		}
	}
	return SectionDescriptor{}, ErrNoSections
}

func (it *iterator) Close() error {
	it.mu.Lock()
	defer it.mu.Unlock()
	if it.closed {
		return ErrBadHandle
	}
	it.closed = true
	it.ids = nil
	return nil
}
