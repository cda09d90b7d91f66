// Package engine is the machinery behind the checkpoint contract (package ckpt): Local, the
// single-process ckpt.Service; Replica, the per-checkpoint state machine that Local and the
// replication package drive; ops, snapshots and the data directory's format (FORMAT.md) on a store
// (engine/store).
package engine

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/clckpt/libclckpt/ckpt"
	"github.com/clckpt/libclckpt/engine/store"
)

// The contract's names, from package ckpt, under the names the engine's code uses. They are the same
// types and values (errors.Is(err, ckpt.ErrNotExist) holds for every engine error that wraps
// ErrNotExist). Callers that only use a service import ckpt, not this package.

type (
	Service           = ckpt.Service
	Checkpoint        = ckpt.Checkpoint
	SectionIterator   = ckpt.SectionIterator
	CreationFlags     = ckpt.CreationFlags
	OpenFlags         = ckpt.OpenFlags
	Attributes        = ckpt.Attributes
	SectionState      = ckpt.SectionState
	SectionFilter     = ckpt.SectionFilter
	SectionDescriptor = ckpt.SectionDescriptor
	Status            = ckpt.Status
	WriteElement      = ckpt.WriteElement
	ReadElement       = ckpt.ReadElement
	Update            = ckpt.Update
	UpdateElement     = ckpt.UpdateElement
	ElementError      = ckpt.ElementError
	Access            = ckpt.Access
)

const (
	WriteAllReplicas       = ckpt.WriteAllReplicas
	WriteActiveReplica     = ckpt.WriteActiveReplica
	WriteActiveReplicaWeak = ckpt.WriteActiveReplicaWeak
	Collocated             = ckpt.Collocated
	Distributed            = ckpt.Distributed
	WriteAllSafe           = ckpt.WriteAllSafe
	AllOpenAreReplicas     = ckpt.AllOpenAreReplicas
	PeerToPeerReplica      = ckpt.PeerToPeerReplica
	PeerToPeerCacheDisable = ckpt.PeerToPeerCacheDisable

	OpenRead   = ckpt.OpenRead
	OpenWrite  = ckpt.OpenWrite
	OpenCreate = ckpt.OpenCreate

	SectionValid     = ckpt.SectionValid
	SectionCorrupted = ckpt.SectionCorrupted

	SectionsForever               = ckpt.SectionsForever
	SectionsExpiringNoLaterThan   = ckpt.SectionsExpiringNoLaterThan
	SectionsExpiringNoEarlierThan = ckpt.SectionsExpiringNoEarlierThan
	SectionsCorrupted             = ckpt.SectionsCorrupted
	SectionsAny                   = ckpt.SectionsAny

	AnyAccess   = ckpt.AnyAccess
	WriteAccess = ckpt.WriteAccess
	ReadAccess  = ckpt.ReadAccess

	RetainForever      = ckpt.RetainForever
	MaxNameLength      = ckpt.MaxNameLength
	MaxDataSize        = ckpt.MaxDataSize
	MaxSectionIDLength = ckpt.MaxSectionIDLength
)

var (
	Never = ckpt.Never

	ErrNotExist         = ckpt.ErrNotExist
	ErrAlreadyExist     = ckpt.ErrAlreadyExist
	ErrInvalidParameter = ckpt.ErrInvalidParameter
	ErrMissingArgument  = ckpt.ErrMissingArgument
	ErrBadHandle        = ckpt.ErrBadHandle
	ErrNotPermitted     = ckpt.ErrNotPermitted
	ErrNoSpace          = ckpt.ErrNoSpace
	ErrBadFlag          = ckpt.ErrBadFlag
	ErrBadOperation     = ckpt.ErrBadOperation
	ErrNoSections       = ckpt.ErrNoSections
	ErrTimeout          = ckpt.ErrTimeout
	ErrTryAgain         = ckpt.ErrTryAgain
	ErrMaxSectionsZero  = ckpt.ErrMaxSectionsZero
	ErrClosed           = ckpt.ErrClosed
	ErrStorage          = ckpt.ErrStorage
	ErrDiskFull         = ckpt.ErrDiskFull
	AllErrors           = ckpt.AllErrors

	ValidateOpen = ckpt.ValidateOpen
	CheckAccess  = ckpt.CheckAccess
	NewIterator  = ckpt.NewIterator
)

var (
	errorf    = ckpt.Errorf
	checkName = ckpt.CheckName
)

// storageErr wraps a store failure so that it carries ErrStorage (or ErrDiskFull) and the cause.
func storageErr(op string, err error) error {
	if errors.Is(err, store.ErrDiskFull) {
		return fmt.Errorf("%w: %s: %w", ErrDiskFull, op, err)
	}
	return fmt.Errorf("%w: %s: %w", ErrStorage, op, err)
}

// StorageError is storageErr for the packages that open stores themselves.
func StorageError(op string, err error) error { return storageErr(op, err) }

// ctxErr converts a finished context into the engine's error.
func ctxErr(err error) error {
	if errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("%w: %w", ErrTimeout, err)
	}
	return fmt.Errorf("%w: %w", ErrTryAgain, err)
}

// nanos converts an expiration time to nanoseconds since the epoch; the zero Time is Never.
// Times beyond the int64 range are clamped to it.
func nanos(t time.Time) int64 {
	switch {
	case t.IsZero() || !t.Before(Never):
		return math.MaxInt64
	case t.Before(time.Unix(0, math.MinInt64)):
		return math.MinInt64
	}
	return t.UnixNano()
}

func fromNanos(ns int64) time.Time { return time.Unix(0, ns) }

const neverNanos = math.MaxInt64
