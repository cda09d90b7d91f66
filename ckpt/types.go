package ckpt

import (
	"math"
	"time"
)

// CreationFlags are a checkpoint's replication and update options (bit values of the C API).
type CreationFlags uint32

const (
	WriteAllReplicas       CreationFlags = 0x1   // a write returns once every replica has it
	WriteActiveReplica     CreationFlags = 0x2   // a write returns once the active replica has it
	WriteActiveReplicaWeak CreationFlags = 0x4   // behaves as WriteActiveReplica
	Collocated             CreationFlags = 0x8   // the application chooses the active replica
	Distributed            CreationFlags = 0x10  // hot standby: immediate-consumption notifications
	WriteAllSafe           CreationFlags = 0x20  // accepted; behaves as the other write flags say
	AllOpenAreReplicas     CreationFlags = 0x40  // every member that opens it holds a replica
	PeerToPeerReplica      CreationFlags = 0x80  // accepted for compatibility
	PeerToPeerCacheDisable CreationFlags = 0x100 // accepted for compatibility
)

// IsCollocated reports whether the checkpoint waits for SetActiveReplica: the Collocated bit without
// WriteAllReplicas.
func (f CreationFlags) IsCollocated() bool { return f&Collocated != 0 && f&WriteAllReplicas == 0 }

// OpenFlags say what a handle may do.
type OpenFlags uint32

const (
	OpenRead   OpenFlags = 0x1
	OpenWrite  OpenFlags = 0x2
	OpenCreate OpenFlags = 0x4

	openFlagsAll = OpenRead | OpenWrite | OpenCreate
)

// CanWrite reports whether the flags allow changes: OpenWrite or OpenCreate.
func (f OpenFlags) CanWrite() bool { return f&(OpenWrite|OpenCreate) != 0 }

// CanRead reports whether the flags allow Read: OpenRead.
func (f OpenFlags) CanRead() bool { return f&OpenRead != 0 }

// RetainForever as a retention duration keeps a checkpoint that nobody has open for ever. Any negative
// duration means the same.
const RetainForever = time.Duration(math.MaxInt64)

// Never is the expiration time of a section that does not expire (the C API's CL_TIME_END). The zero
// time.Time is accepted as Never on input.
var Never = time.Unix(0, math.MaxInt64)

// MaxNameLength is the longest checkpoint name, in bytes: SAF's extended names
// (SA_MAX_EXTENDED_NAME_LENGTH). The clCkpt C API's ClNameT holds at most CL_MAX_NAME_LENGTH (256)
// bytes, so longer names are reachable from Go and from saCkpt only.
const MaxNameLength = 2048

// MaxDataSize is the largest section the engine stores, whatever maxSectionSize says.
const MaxDataSize = 64 << 20

// MaxSectionIDLength is the longest section id the engine stores, whatever maxSectionIdSize says: an
// id is part of its store keys, and Badger refuses keys above 65000 bytes.
const MaxSectionIDLength = 64000

// Attributes are fixed when a checkpoint is created (except the retention, see SetRetention). An open
// with OpenCreate of an existing checkpoint must give the same six values.
type Attributes struct {
	Flags          CreationFlags
	CheckpointSize uint64 // advisory: not enforced
	// Retention is how long the checkpoint survives once nobody has it open: 0 deletes it at the last
	// close, negative or RetainForever keeps it. Distributed checkpoints always use 0.
	Retention        time.Duration
	MaxSections      uint32 // 1 means a single, default section (addressed with an empty id)
	MaxSectionSize   uint64 // 0 means no limit
	MaxSectionIDSize uint64
}

// SectionState is the state of a section.
type SectionState uint8

const (
	SectionValid     SectionState = 1
	SectionCorrupted SectionState = 2
)

// SectionFilter chooses the sections an iteration returns.
type SectionFilter int

const (
	SectionsForever               SectionFilter = 1 // expiration is Never
	SectionsExpiringNoLaterThan   SectionFilter = 2 // expiration <= the given time
	SectionsExpiringNoEarlierThan SectionFilter = 3 // expiration >= the given time
	SectionsCorrupted             SectionFilter = 4
	SectionsAny                   SectionFilter = 5
)

// SectionDescriptor describes one section, as returned by an iteration.
type SectionDescriptor struct {
	ID         []byte
	Expiration time.Time
	Size       uint64
	State      SectionState
	LastUpdate time.Time
}

// Status describes a checkpoint.
type Status struct {
	Attributes       Attributes
	NumberOfSections uint32 // sections created by the application; the default section is not counted
	MemoryUsed       uint64 // sum of the sizes of all sections
}

// WriteElement is one part of a vector write: Data goes to SectionID at Offset, growing the section
// (and zero-filling any gap) when needed.
type WriteElement struct {
	SectionID []byte
	Offset    int64
	Data      []byte
}

// ReadElement is one part of a vector read. Read copies from SectionID at Offset into Buffer, at most
// len(Buffer) bytes, and sets ReadSize. A nil Buffer asks for the whole section from Offset: Read
// allocates it.
type ReadElement struct {
	SectionID []byte
	Offset    int64
	Buffer    []byte
	ReadSize  int
}

// Update is an immediate-consumption notification: a change that another handle made to a
// Distributed checkpoint. For an overwrite, the element holds the whole new section; for a vector
// write, the written elements; for a deleted or expired section, an element with no data.
// The slices belong to the receiver but are shared between subscribers: do not modify them.
type Update struct {
	Name     string
	Elements []UpdateElement
	// Created: a section was created (with its initial data); only Follow receives these.
	Created bool
}

// UpdateElement is one changed section in an Update.
type UpdateElement struct {
	SectionID []byte
	Offset    int64
	Data      []byte
}
