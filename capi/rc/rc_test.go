package rc

import (
	"context"
	"errors"
	"fmt"
	"os"
	"runtime/debug"
	"syscall"
	"testing"
	"unsafe"

	"github.com/clckpt/libclckpt/ckpt"
	"github.com/stretchr/testify/require"
)

func TestEveryEngineErrorHasItsOwnCode(t *testing.T) {
	seen := map[Code]error{}
	for _, err := range ckpt.AllErrors {
		code := FromError(fmt.Errorf("context: %w", err))
		require.NotEqual(t, Unspecified, code, "%v is not mapped", err)
		if err == ckpt.ErrDiskFull {
			// Deliberately shared: NO_SPACE is the code C programs know for "no room".
			require.Equal(t, NoSpace, code)
			continue
		}
		require.NotContains(t, seen, code, "%v and %v share a code", err, seen[code])
		seen[code] = err
	}
	require.Equal(t, len(table), len(ckpt.AllErrors))
}

func TestCodesMatchTheHeaders(t *testing.T) {
	// Values from clCkptErrors.h and spec section 2.
	require.Equal(t, Code(0x160101), NoSections)
	require.Equal(t, Code(0x160004), NotExist)
	require.Equal(t, Code(0x160010), AlreadyExist)
	require.Equal(t, Code(0x160020), OpNotPermitted)
	require.Equal(t, Code(0x160021), NoSpace)
	require.Equal(t, Code(0x31000f), VersionMismatch)
	require.Equal(t, Code(0x180002), MaxSectionsZero)
	require.Equal(t, Code(0x16000c), Initialized)
	require.Equal(t, OK, FromError(nil))
	require.Equal(t, Unspecified, FromError(fmt.Errorf("something else")))
	elem := &ckpt.ElementError{Index: 3, Err: fmt.Errorf("x: %w", ckpt.ErrNotExist)}
	require.Equal(t, NotExist, FromError(elem))
}

func TestEveryEngineErrorHasAnAisCode(t *testing.T) {
	for _, err := range ckpt.AllErrors {
		ais := FromErrorAis(fmt.Errorf("context: %w", err))
		require.NotEqual(t, AisLibrary, ais, "%v is not mapped", err)
		require.NotEqual(t, AisOK, ais, "%v maps to SA_AIS_OK", err)
	}
	require.Equal(t, AisOK, FromErrorAis(nil))
	require.Equal(t, AisLibrary, FromErrorAis(fmt.Errorf("something else")))
	elem := &ckpt.ElementError{Index: 1, Err: fmt.Errorf("x: %w", ckpt.ErrNotPermitted)}
	require.Equal(t, AisAccess, FromErrorAis(elem))
	// Values of saAis.h.
	require.Equal(t, Ais(27), AisNoSections)
	require.Equal(t, Ais(11), AisAccess)
	require.Equal(t, Ais(26), AisTooBig)
}

// TestAnInternalDeadlineIsTryAgain: a step of a call that outlived the service's own deadline (a
// directory request while JetStream is slow) is TRY_AGAIN in both APIs, never an unlisted code:
// saCkptActiveReplicaSet returned SA_AIS_ERR_LIBRARY for "directory: context deadline exceeded"
// during a take-over. The caller's own timeout stays TIMEOUT.
func TestAnInternalDeadlineIsTryAgain(t *testing.T) {
	err := fmt.Errorf("directory: %w", context.DeadlineExceeded)
	require.Equal(t, TryAgain, FromError(err))
	require.Equal(t, AisTryAgain, FromErrorAis(err))
	timeout := fmt.Errorf("%w: %w", ckpt.ErrTimeout, context.DeadlineExceeded)
	require.Equal(t, Timeout, FromError(timeout))
	require.Equal(t, AisTimeout, FromErrorAis(timeout))
	require.Equal(t, Unspecified, FromError(errors.New("something else")))
}

// TestOnlyMemoryFaultsAreBadArguments: the exports answer INVALID_PARAMETER for a panic only when
// it is the call touching memory it was given; the library's own runtime errors (an index out of
// range) are internal errors, reported as such, not blamed on the caller.
func TestOnlyMemoryFaultsAreBadArguments(t *testing.T) {
	recovered := func(f func()) (r any) {
		defer func() { r = recover() }()
		f()
		return nil
	}
	// A fault at an address of the caller's: a page mapped without access.
	page, err := syscall.Mmap(-1, 0, os.Getpagesize(), syscall.PROT_NONE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
	require.NoError(t, err)
	defer syscall.Munmap(page)
	old := debug.SetPanicOnFault(true)
	fault := recovered(func() { _ = *(*byte)(unsafe.Pointer(unsafe.SliceData(page))) })
	debug.SetPanicOnFault(old)
	require.NotNil(t, fault)
	require.True(t, MemoryFault(fault), "%v", fault)

	var small *[64]byte // near address zero, as a small bogus pointer is
	require.True(t, MemoryFault(recovered(func() { _ = small[8] })))

	var s []int
	i := 3
	require.False(t, MemoryFault(recovered(func() { _ = s[i] })), "index out of range")
	var v any = "x"
	require.False(t, MemoryFault(recovered(func() { _ = v.(int) })), "type assertion")
	require.False(t, MemoryFault("a panic with a string"))
	require.False(t, MemoryFault(errors.New("a panic with an error")))
}
