package main

// The SAF side of the core (saCkpt.h): the state it adds to the shared service and checkpoint
// handles, and the conversions and checks the SAF calls share. The calls themselves are in the
// saf_*.go files, one per group.

/*
#include "saf_glue.h"
*/
import "C"

import (
	"context"
	"errors"
	"runtime/debug"
	"strings"
	"unsafe"

	"github.com/clckpt/libclckpt/capi/rc"
	"github.com/clckpt/libclckpt/ckpt"
)

// safClient is what saCkptInitialize adds to a service: the version the client declared, which
// decides how strict its calls are (saCkpt.h, VERSIONS), and its callbacks.
type safClient struct {
	major, minor uint8
	openCB       C.SaCkptCheckpointOpenCallbackT
	syncCB       C.SaCkptCheckpointSynchronizeCallbackT
	trackCB      C.SaCkptCheckpointTrackCallbackT
	notify       safNotify // guarded by the service's mu
}

// strict: a B.02 client, held to the OpenSAF rules.
func (s *safClient) strict() bool { return s.major >= 2 }

// safNamePrefix starts every checkpoint name of a B.02 client.
const safNamePrefix = "safCkpt="

// maxLentName is the longest name saAisNameLend may lend (SA_MAX_EXTENDED_NAME_LENGTH): the longest
// the engine stores.
const maxLentName = ckpt.MaxNameLength

// safLentName is the length saAisNameLend (capi/front/saf.c) gives a name it lends: no ordinary
// name is that long. The pointer to the lent string follows at offset 8.
const safLentName = 0xcd2b

func ais(c rc.Ais) C.SaAisErrorT { return C.SaAisErrorT(c) }

// aisErr maps an engine error to its SaAisErrorT (one table for both APIs: capi/rc).
func aisErr(err error) C.SaAisErrorT {
	c := rc.FromErrorAis(err)
	if c == rc.AisLibrary || c == rc.AisNoResources {
		log.Warn("call failed", "err", err)
	}
	return ais(c)
}

// safGuard is guard for the SAF exports (deferred by each): a panic becomes INVALID_PARAM (a bad
// pointer of the caller's) or LIBRARY, never the death of the host process.
func safGuard(res *C.SaAisErrorT, old bool) {
	debug.SetPanicOnFault(old)
	if r := recover(); r != nil {
		*res = ais(rc.AisLibrary)
		if badArgument(r) {
			*res = ais(rc.AisInvalidParam)
		}
	}
}

// safService finds a live SAF library handle.
func safService(h C.SaCkptHandleT) (*service, C.SaAisErrorT) {
	if current() == nil {
		return nil, ais(rc.AisBadHandle)
	}
	s, ok := services.Get(uint64(h))
	if !ok || s.saf == nil {
		return nil, ais(rc.AisBadHandle)
	}
	return s, 0
}

// safCheckpoint finds a live SAF checkpoint handle.
func safCheckpoint(h C.SaCkptCheckpointHandleT) (*checkpoint, C.SaAisErrorT) {
	if current() == nil {
		return nil, ais(rc.AisBadHandle)
	}
	c, ok := checkpoints.Get(uint64(h))
	if !ok || c.svc.saf == nil {
		return nil, ais(rc.AisBadHandle)
	}
	return c, 0
}

// safWriter finds a live SAF checkpoint handle opened with WRITE (SA_AIS_ERR_ACCESS otherwise:
// unlike the engine, SAF does not let CREATE alone write).
func safWriter(h C.SaCkptCheckpointHandleT) (*checkpoint, C.SaAisErrorT) {
	c, bad := safCheckpoint(h)
	if c != nil && c.flags&ckpt.OpenWrite == 0 {
		return nil, ais(rc.AisAccess)
	}
	return c, bad
}

// safName returns the checkpoint name of n for client s: its length bytes exactly, or the string a
// lent name points to. Errors: INVALID_PARAM (length 0, no "safCkpt=" for a B.02 client) and
// TOO_BIG (a lent name above 2048 bytes).
func safName(s *safClient, n *C.SaNameT) (string, C.SaAisErrorT) {
	var name string
	if n.length == safLentName { // read here, not in C: a bad pointer faults where safGuard recovers
		p := *(*unsafe.Pointer)(unsafe.Pointer(&n.value[8-unsafe.Offsetof(n.value)]))
		var b []byte
		for i := 0; ; i++ {
			c := *(*byte)(unsafe.Add(p, i))
			if c == 0 {
				break
			}
			if i == maxLentName {
				return "", ais(rc.AisTooBig)
			}
			b = append(b, c)
		}
		name = string(b)
	} else {
		var ok bool
		if name, ok = nameFromC((*C.ClNameT)(unsafe.Pointer(n))); !ok {
			return "", ais(rc.AisInvalidParam)
		}
	}
	switch {
	case len(name) == 0:
		return "", ais(rc.AisInvalidParam)
	case s.strict() && !strings.HasPrefix(name, safNamePrefix):
		return "", ais(rc.AisInvalidParam)
	}
	return name, 0
}

// safFlagsOK checks creation flags: a B.02 client must give exactly one WR flag and may add
// COLLOCATED; no client may give bits above COLLOCATED (they have engine meanings SAF lacks).
func safFlagsOK(s *safClient, f ckpt.CreationFlags) bool {
	const wr = ckpt.WriteAllReplicas | ckpt.WriteActiveReplica | ckpt.WriteActiveReplicaWeak
	if f&^(wr|ckpt.Collocated) != 0 {
		return false
	}
	w := f & wr
	return !s.strict() || (w != 0 && w&(w-1) == 0)
}

// safOpenArgs checks and converts the arguments of an open, in the order OpenSAF reports them.
func safOpenArgs(s *safClient, name *C.SaNameT, attrs *C.SaCkptCheckpointCreationAttributesT,
	flags C.SaCkptCheckpointOpenFlagsT) (string, *ckpt.Attributes, C.SaAisErrorT) {
	if name == nil {
		return "", nil, ais(rc.AisInvalidParam)
	}
	goName, bad := safName(s, name)
	if bad != 0 {
		return "", nil, bad
	}
	f := ckpt.OpenFlags(flags)
	if f == 0 || f&^(ckpt.OpenRead|ckpt.OpenWrite|ckpt.OpenCreate) != 0 {
		return "", nil, ais(rc.AisBadFlags)
	}
	a := attrsFromC((*C.ClCkptCheckpointCreationAttributesT)(unsafe.Pointer(attrs)))
	if a != nil && !safFlagsOK(s, a.Flags) {
		return "", nil, ais(rc.AisInvalidParam)
	}
	if err := ckpt.ValidateOpen(goName, a, f); err != nil {
		return "", nil, aisErr(err)
	}
	return goName, a, 0
}

// safOpen opens a checkpoint for a SAF client: like the engine's Open, except that the retention
// duration is not compared when an existing checkpoint is opened with attributes.
func safOpen(b ckpt.Service, ctx context.Context, name string, a *ckpt.Attributes, flags ckpt.OpenFlags) (ckpt.Checkpoint, error) {
	ck, err := b.Open(ctx, name, a, flags)
	if err == nil || a == nil || !errors.Is(err, ckpt.ErrAlreadyExist) {
		return ck, err
	}
	// Exists with other attributes: the same but for the retention is a match.
	plain := flags&^ckpt.OpenCreate | ckpt.OpenWrite
	ck, err2 := b.Open(ctx, name, nil, plain)
	if err2 != nil {
		return nil, err
	}
	st, err2 := ck.Status(ctx)
	if err2 != nil {
		_ = ck.Close()
		return nil, err
	}
	want, have := *a, st.Attributes
	want.Retention, have.Retention = 0, 0
	if want != have {
		_ = ck.Close()
		return nil, err
	}
	return ck, nil
}

// safAttrs returns the attributes of c's checkpoint (fixed but for the retention), nil when they
// cannot be read now (a collocated checkpoint without its active replica).
func safAttrs(c *checkpoint) *ckpt.Attributes {
	if a := c.attrs.Load(); a != nil {
		return a
	}
	st, err := c.ck.Status(bg)
	if err != nil {
		return nil
	}
	c.attrs.Store(&st.Attributes)
	return &st.Attributes
}
