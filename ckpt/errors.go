package ckpt

import (
	"errors"
	"fmt"
)

// The service's errors. Every error a Service, Checkpoint or SectionIterator call returns wraps exactly one of these, so callers test
// with errors.Is; the C library maps each to one CL_CKPT_ERR_* code in a single table.
var (
	// ErrNotExist: no checkpoint of that name, no such section, or (collocated asynchronous
	// checkpoints) no active replica yet.
	ErrNotExist = errors.New("does not exist")
	// ErrAlreadyExist: a section with that id exists, or CREATE found a checkpoint of that name
	// created with different attributes.
	ErrAlreadyExist = errors.New("already exists")
	// ErrInvalidParameter: an argument is out of its allowed range.
	ErrInvalidParameter = errors.New("invalid parameter")
	// ErrMissingArgument: a required argument is absent (the C API's NULL pointer).
	ErrMissingArgument = errors.New("required argument missing")
	// ErrBadHandle: the checkpoint handle or iterator is closed.
	ErrBadHandle = errors.New("handle is closed")
	// ErrNotPermitted: the handle was not opened with the access the call needs, or the call is not
	// allowed on this kind of checkpoint.
	ErrNotPermitted = errors.New("operation not permitted")
	// ErrNoSpace: the checkpoint already holds maxSections sections.
	ErrNoSpace = errors.New("no space for another section")
	// ErrBadFlag: unknown open flags.
	ErrBadFlag = errors.New("bad flag")
	// ErrBadOperation: the call makes no sense for this checkpoint (Synchronize on a synchronous
	// checkpoint, ActiveReplicaSet on a non-collocated one, changes to a deleted checkpoint).
	ErrBadOperation = errors.New("bad operation")
	// ErrNoSections: an iteration has returned every section.
	ErrNoSections = errors.New("no more sections")
	// ErrTimeout: the context's deadline passed before the call could complete.
	ErrTimeout = errors.New("timed out")
	// ErrTryAgain: the service cannot serve the call right now; retrying later may succeed.
	ErrTryAgain = errors.New("try again")
	// ErrMaxSectionsZero: a checkpoint cannot be created with maxSections == 0.
	ErrMaxSectionsZero = errors.New("maxSections must be at least 1")
	// ErrClosed: the service has been closed.
	ErrClosed = errors.New("service is closed")
	// ErrStorage: the data directory could not be read or written (disk full, I/O error, corrupt or
	// foreign data). Nothing was changed by the failed call.
	ErrStorage = errors.New("storage failure")
	// ErrDiskFull: the data directory's filesystem is (nearly) full. The failed change was not made
	// and may be retried once space is freed; every change acknowledged before is kept.
	ErrDiskFull = errors.New("disk full")
)

// AllErrors lists every sentinel above; the C library's error table is checked against it.
var AllErrors = []error{ErrNotExist, ErrAlreadyExist, ErrInvalidParameter, ErrMissingArgument, ErrBadHandle,
	ErrNotPermitted, ErrNoSpace, ErrBadFlag, ErrBadOperation, ErrNoSections, ErrTimeout, ErrTryAgain,
	ErrMaxSectionsZero, ErrClosed, ErrStorage, ErrDiskFull}

// ElementError reports which element of an I/O vector made Read or Write fail. It wraps the element's
// error, so errors.Is(err, ErrNotExist) works on it directly.
type ElementError struct {
	Index int
	Err   error
}

func (e *ElementError) Error() string { return fmt.Sprintf("element %d: %v", e.Index, e.Err) }

// Unwrap returns the element's error.
func (e *ElementError) Unwrap() error { return e.Err }

// Errorf wraps one of the sentinels with a message.
func Errorf(sentinel error, format string, args ...any) error {
	return fmt.Errorf("%w: %s", sentinel, fmt.Sprintf(format, args...))
}
