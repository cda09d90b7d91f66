// Package ckpt is the checkpoint service's contract: the Service and Checkpoint interfaces, the
// types they take and return, and the errors they wrap, with the rules each call follows. It holds
// no implementation: engine.Local is the single-process one and replication.Join returns the
// replicated one. Callers of a service (the C libraries, the command line tool, backups) import
// this package and, to obtain a service, the one that provides it.
package ckpt

import (
	"context"
	"time"
)

// Service opens and deletes checkpoints. engine.Local is the single-process implementation; the
// replication package provides one whose checkpoints are replicated across members. Both follow the same rules,
// described on each method.
type Service interface {
	// Open opens the checkpoint called name and returns a new handle (every call returns a distinct
	// one). With OpenCreate, attrs are required and the checkpoint is created when missing; when it
	// exists, attrs must equal its attributes or Open fails with ErrAlreadyExist. Without OpenCreate,
	// attrs must be nil and the checkpoint must exist (ErrNotExist). Flags other than OpenRead,
	// OpenWrite and OpenCreate give ErrBadFlag. Opening cancels a pending retention. The context
	// bounds the wait (ErrTimeout).
	Open(ctx context.Context, name string, attrs *Attributes, flags OpenFlags) (Checkpoint, error)
	// Delete removes the name at once: a later Open without OpenCreate fails and one with OpenCreate
	// makes a new checkpoint. Open handles keep working on the deleted checkpoint, whose data is
	// destroyed at the last Close.
	Delete(ctx context.Context, name string) error
	// Close closes every handle (retention then applies to their checkpoints) and releases the
	// service. Later calls fail with ErrClosed.
	Close() error
}

// HandlesCloser is a Service that closes many of its handles together faster than one by one (the
// replicated one: one wait for the cluster's directory for all of them, not one per handle).
type HandlesCloser interface {
	// CloseHandles closes every handle of hs, as Close would each, and returns the first error.
	CloseHandles(hs []Checkpoint) error
}

// CloseHandles closes hs, together when svc is a HandlesCloser, else one by one. It returns the
// first error.
func CloseHandles(svc Service, hs []Checkpoint) error {
	if hc, ok := svc.(HandlesCloser); ok {
		return hc.CloseHandles(hs)
	}
	var first error
	for _, h := range hs {
		if err := h.Close(); err != nil && first == nil {
			first = err
		}
	}
	return first
}

// Checkpoint is an open handle on a checkpoint. Its methods are safe for concurrent use. Calls that
// change the checkpoint need a handle opened with OpenWrite or OpenCreate, Read needs OpenRead
// (ErrNotPermitted otherwise). On a collocated asynchronous checkpoint, data calls fail with
// ErrNotExist until some handle calls SetActiveReplica. No call keeps the slices it is given (ids,
// data, elements) once it returns: the caller may reuse them at once (the C library reuses its
// copies of the caller's data). A caller must not change them during the call.
type Checkpoint interface {
	// Name is the checkpoint's name.
	Name() string
	// Close releases the handle; later calls on it fail with ErrBadHandle. At the last close of a
	// deleted checkpoint its data is destroyed; otherwise its retention starts. The handle ends even
	// when the cluster cannot count its open closed now (the directory is being elected again): Close
	// then returns nil, and the open is counted closed when the member leaves (or its lease lapses
	// and it reconciles with the directory).
	Close() error
	// SetRetention changes the retention duration (and with it the attributes that a later
	// OpenCreate must match). ErrBadOperation once the checkpoint is deleted.
	SetRetention(ctx context.Context, d time.Duration) error
	// Status returns the attributes, the number of sections and the bytes they hold.
	Status(ctx context.Context) (Status, error)
	// SetActiveReplica makes the caller's replica the active one of a collocated checkpoint
	// (ErrBadOperation on other checkpoints).
	SetActiveReplica(ctx context.Context) error
	// Synchronize returns once every replica has every write made so far. ErrBadOperation on a
	// WriteAllReplicas checkpoint, whose writes are synchronous already.
	Synchronize(ctx context.Context) error
	// SynchronizeAsync is Synchronize without the wait: what Synchronize would refuse at once
	// (access, a synchronous checkpoint, no active replica) is its error; otherwise it returns nil
	// and done receives the outcome later, on another goroutine.
	SynchronizeAsync(ctx context.Context, done func(error)) error
	// CreateSection creates a section holding data. An empty id asks for a generated one
	// ("generatedSection<n>" plus a terminating NUL byte), which is returned; otherwise id is
	// returned. expiration is absolute; Never (or the zero Time) means the section never expires.
	CreateSection(ctx context.Context, id []byte, expiration time.Time, data []byte) ([]byte, error)
	// DeleteSection deletes a section. The default section cannot be deleted (ErrInvalidParameter).
	DeleteSection(ctx context.Context, id []byte) error
	// SetSectionExpiration changes when a section expires; Never cancels the expiration.
	SetSectionExpiration(ctx context.Context, id []byte, expiration time.Time) error
	// Write applies the elements in order. The first failing element stops the write, with an
	// *ElementError giving its index; the elements before it stay written.
	Write(ctx context.Context, elems []WriteElement) error
	// Overwrite replaces the whole content of a section with data (which must not be empty). An
	// empty id names the default section.
	Overwrite(ctx context.Context, id []byte, data []byte) error
	// Read fills every element (see ReadElement). When an element fails, Read returns an
	// *ElementError and copies nothing at all.
	Read(ctx context.Context, elems []ReadElement) error
	// Sections starts an iteration over the sections that match filter (t is the time the
	// expiration filters compare with), over a snapshot of their ids taken now.
	Sections(ctx context.Context, filter SectionFilter, t time.Time) (SectionIterator, error)
	// Subscribe registers fn to receive, on a goroutine of the service, every change that another
	// handle makes to this Distributed checkpoint (ErrNotPermitted on other checkpoints). A second
	// call replaces fn; nil cancels. Updates arrive in the order the changes were made.
	Subscribe(fn func(Update)) error
	// Follow is Subscribe for the SAF API's arrival and track callbacks, on any checkpoint: fn
	// receives every change another handle makes, section creations included (Update.Created), as
	// it is applied to the replica this process holds: always for Local; a replicated member that
	// holds none joins the replica set (with a catch-up copy) and returns once its replica is in
	// sync, and leaves the set when its last following handle stops following or closes. A handle
	// has one subscription: Follow replaces a Subscribe and the other way round; nil cancels.
	Follow(fn func(Update)) error
}

// SectionIterator walks the sections chosen by Checkpoint.Sections.
type SectionIterator interface {
	// Next returns the next section that still exists, or ErrNoSections at the end (and on every
	// later call).
	Next() (SectionDescriptor, error)
	// Close releases the iterator; later calls fail with ErrBadHandle.
	Close() error
}
