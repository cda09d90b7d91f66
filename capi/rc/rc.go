// Package rc holds the return codes of both C APIs (ClRcT of clCommonErrors.h and clCkptErrors.h,
// SaAisErrorT of saAis.h) and the one table that maps engine errors to them.
package rc

import (
	"context"
	"errors"
	"runtime"
	"strings"

	"github.com/clckpt/libclckpt/ckpt"
)

// Code is a ClRcT.
type Code uint32

// Component ids and error numbers of clCommon.h and clCommonErrors.h.
const (
	cidVersion = 0x31
	cidCnt     = 0x18
	cidClist   = 0x26
	cidCkpt    = 0x16

	errNoMemory         = 0x01
	errInvalidParameter = 0x02
	errNullPointer      = 0x03
	errNotExist         = 0x04
	errInvalidHandle    = 0x05
	errNotInitialized   = 0x0e
	errVersionMismatch  = 0x0f
	errAlreadyExist     = 0x10
	errUnspecified      = 0x11
	errInvalidState     = 0x12
	errTimeout          = 0x14
	errTryAgain         = 0x16
	errInitialized      = 0x0c
	errNoResource       = 0x0b
	errOpNotPermitted   = 0x20
	errNoSpace          = 0x21
	errBadFlag          = 0x22
	errBadOperation     = 0x23
	ckptErrNoSections   = 0x101 // clCkptErrors.h: a code of the checkpoint component itself
)

func code(cid, err uint32) Code { return Code(cid<<16 | err&0xffff) }

// The codes the library returns.
var (
	OK              Code = 0
	NoMemory             = code(cidCkpt, errNoMemory)
	InvalidParam         = code(cidCkpt, errInvalidParameter)
	NullPointer          = code(cidCkpt, errNullPointer)
	NotExist             = code(cidCkpt, errNotExist)
	InvalidHandle        = code(cidCkpt, errInvalidHandle)
	NotInitialized       = code(cidCkpt, errNotInitialized)
	Initialized          = code(cidCkpt, errInitialized)
	AlreadyExist         = code(cidCkpt, errAlreadyExist)
	Unspecified          = code(cidCkpt, errUnspecified)
	InvalidState         = code(cidCkpt, errInvalidState)
	Timeout              = code(cidCkpt, errTimeout)
	TryAgain             = code(cidCkpt, errTryAgain)
	NoResource           = code(cidCkpt, errNoResource)
	OpNotPermitted       = code(cidCkpt, errOpNotPermitted)
	NoSpace              = code(cidCkpt, errNoSpace)
	BadFlag              = code(cidCkpt, errBadFlag)
	BadOperation         = code(cidCkpt, errBadOperation)
	NoSections           = code(cidCkpt, ckptErrNoSections)
	VersionMismatch      = code(cidVersion, errVersionMismatch) // CL_VERSION_RC, as the original
	MaxSectionsZero      = code(cidCnt, errInvalidParameter)    // the original's hash-table error
)

// Ais is a SaAisErrorT (saAis.h).
type Ais uint32

// The SaAisErrorT codes the SAF library returns.
const (
	AisOK           Ais = 1
	AisLibrary      Ais = 2
	AisVersion      Ais = 3
	AisInit         Ais = 4
	AisTimeout      Ais = 5
	AisTryAgain     Ais = 6
	AisInvalidParam Ais = 7
	AisNoMemory     Ais = 8
	AisBadHandle    Ais = 9
	AisAccess       Ais = 11
	AisNotExist     Ais = 12
	AisExist        Ais = 14
	AisNoSpace      Ais = 15
	AisNoResources  Ais = 18
	AisNotSupported Ais = 19
	AisBadOperation Ais = 20
	AisBadFlags     Ais = 25
	AisTooBig       Ais = 26
	AisNoSections   Ais = 27
)

// table maps each engine sentinel to its code in each API: every sentinel has exactly one code per
// API, and no error maps to success.
var table = []struct {
	err  error
	code Code
	ais  Ais
}{
	{ckpt.ErrNotExist, NotExist, AisNotExist},
	{ckpt.ErrAlreadyExist, AlreadyExist, AisExist},
	{ckpt.ErrInvalidParameter, InvalidParam, AisInvalidParam},
	{ckpt.ErrMissingArgument, NullPointer, AisInvalidParam},
	{ckpt.ErrBadHandle, InvalidHandle, AisBadHandle},
	{ckpt.ErrNotPermitted, OpNotPermitted, AisAccess},
	{ckpt.ErrNoSpace, NoSpace, AisNoSpace},
	{ckpt.ErrBadFlag, BadFlag, AisBadFlags},
	{ckpt.ErrBadOperation, BadOperation, AisBadOperation},
	{ckpt.ErrNoSections, NoSections, AisNoSections},
	{ckpt.ErrTimeout, Timeout, AisTimeout},
	{ckpt.ErrTryAgain, TryAgain, AisTryAgain},
	{ckpt.ErrMaxSectionsZero, MaxSectionsZero, AisInvalidParam},
	{ckpt.ErrClosed, NotInitialized, AisBadHandle},
	{ckpt.ErrStorage, NoResource, AisNoResources},
	{ckpt.ErrDiskFull, NoSpace, AisNoSpace},
}

// FromErrorAis returns the SaAisErrorT for err: AisOK for nil, the code of the engine sentinel it
// wraps, or AisLibrary for anything else.
func FromErrorAis(err error) Ais {
	if err == nil {
		return AisOK
	}
	for _, e := range table {
		if errors.Is(err, e.err) {
			return e.ais
		}
	}
	if internalDeadline(err) {
		return AisTryAgain
	}
	return AisLibrary
}

// internalDeadline: an error that is no engine sentinel but a deadline that passed. The caller's
// own timeouts come back as ckpt.ErrTimeout (matched above), so this one was the service's, given
// to a step inside the call (a directory request while JetStream is slow: a server taking over
// after the process hosting it died, a loaded machine): it passes, and the call may be tried again.
func internalDeadline(err error) bool { return errors.Is(err, context.DeadlineExceeded) }

// FromError returns the code for err: OK for nil, the code of the engine sentinel it wraps, or
// Unspecified for anything else.
func FromError(err error) Code {
	if err == nil {
		return OK
	}
	for _, e := range table {
		if errors.Is(err, e.err) {
			return e.code
		}
	}
	if internalDeadline(err) {
		return TryAgain
	}
	return Unspecified
}

// MemoryFault reports whether a panic recovered in an export is a memory fault, which the exports
// report as a bad argument: with debug.SetPanicOnFault, a fault at an address the caller passed
// (the error has Addr), or one near address zero (a small pointer of the caller's, which the runtime
// reports like a nil dereference). Other runtime errors (an index out of range, a bad type
// assertion) are the library's own.
func MemoryFault(r any) bool {
	var re runtime.Error
	err, ok := r.(error)
	if !ok || !errors.As(err, &re) {
		return false
	}
	if _, ok := re.(interface{ Addr() uintptr }); ok {
		return true
	}
	return strings.HasPrefix(re.Error(), "runtime error: invalid memory address")
}
