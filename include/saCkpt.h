/*
 * saCkpt.h - the SA Forum AIS checkpoint service (SAF-AIS-CKPT B.02.02,
 * source compatible with B.01.01 programs).  Link with -lSaCkpt
 * (pkg-config SaCkpt).
 *
 * Types, values, layouts and prototypes are those of the B.02.02 header as
 * shipped by OpenSAF.  A B.01.01 program (OpenAIS) compiles unchanged: its
 * SaUint32T SectionCreate size and memoryUsed widen to SaSizeT without a
 * source change.  The B.02.03 track calls are in saCkpt_B_02_03.h and the
 * NCS arrival callback in cpsv_papi.h.
 *
 * One checkpoint service, two APIs: libSaCkpt and libclckpt (clCkptApi.h)
 * are two fronts over the same engine.  A checkpoint a SAF program opens
 * as "safCkpt=x" is the checkpoint a clCkpt program opens under the same
 * name (the same bytes), with the same data, sections and replicas; a
 * process may use both APIs at once.
 *
 *
 * VERSIONS (saCkptInitialize)
 *
 * releaseCode 'B' with majorVersion 1 or 2 and any minor version is
 * accepted; the version is written back as the highest this library
 * supports for that major version: {'B',1,1} or {'B',2,3}.  The version a
 * handle was initialized with decides how strict the calls made through it
 * (and through its checkpoint handles) are:
 *   - B.01 clients: any checkpoint name; a write whose dataOffset+dataSize
 *     passes maxSectionSize returns SA_AIS_ERR_INVALID_PARAM, a read only
 *     when its dataSize or dataOffset does; the section id in a
 *     descriptor returned by saCkptSectionIterationNext belongs to the
 *     library and is freed by saCkptSectionIterationFinalize (as in B.01);
 *     generated section ids and read buffers the library allocates are
 *     freed by the program with free().
 *   - B.02 clients: checkpoint names must start with "safCkpt=" (else
 *     SA_AIS_ERR_INVALID_PARAM); a write whose dataOffset+dataSize passes
 *     maxSectionSize returns SA_AIS_ERR_NO_RESOURCES; a read whose
 *     dataOffset+dataSize passes it SA_AIS_ERR_INVALID_PARAM; creation
 *     flags must hold exactly one of the three WR flags, COLLOCATED
 *     optional; the section ids returned by saCkptSectionIterationNext and
 *     saCkptSectionCreate (generated) are freed with saCkptSectionIdFree,
 *     read buffers allocated by the library with
 *     saCkptIOVectorElementDataFree.
 * Section ids may be up to maxSectionIdSize bytes for every client.
 *
 *
 * HANDLES AND RETURN CODES
 *
 * Every function returns SA_AIS_OK (1) on success.  A handle that was never
 * handed out, has been ended, or is of another kind gives
 * SA_AIS_ERR_BAD_HANDLE; before the first saCkptInitialize every call but
 * saCkptInitialize returns SA_AIS_ERR_BAD_HANDLE.  Every engine error maps
 * to exactly one SaAisErrorT, never SA_AIS_OK:
 *     no such checkpoint/section      SA_AIS_ERR_NOT_EXIST
 *     exists / other attributes       SA_AIS_ERR_EXIST
 *     bad argument                    SA_AIS_ERR_INVALID_PARAM
 *     handle lacks READ or WRITE      SA_AIS_ERR_ACCESS
 *     maxSections reached, disk full  SA_AIS_ERR_NO_SPACE
 *     bad open flags                  SA_AIS_ERR_BAD_FLAGS
 *     not allowed on this checkpoint  SA_AIS_ERR_BAD_OPERATION
 *     end of an iteration             SA_AIS_ERR_NO_SECTIONS
 *     timeout reached                 SA_AIS_ERR_TIMEOUT
 *     service unreachable for now     SA_AIS_ERR_TRY_AGAIN
 *     handle closed meanwhile         SA_AIS_ERR_BAD_HANDLE
 *     storage failure                 SA_AIS_ERR_NO_RESOURCES
 *     anything else                   SA_AIS_ERR_LIBRARY (logged)
 * Any call that talks to the service may also return SA_AIS_ERR_TRY_AGAIN,
 * SA_AIS_ERR_NO_MEMORY or SA_AIS_ERR_NO_RESOURCES.  A bad pointer the
 * library would have to read or write returns SA_AIS_ERR_INVALID_PARAM
 * instead of crashing when the fault is caught inside the Go core.
 *
 *
 * MEMORY
 *
 * Everything passed in (names, attributes, ids, data) is copied before the
 * call returns.  Memory the library hands out (generated section ids,
 * iteration section ids of B.02 clients, read buffers when dataBuffer is
 * NULL) comes from malloc: saCkptSectionIdFree and
 * saCkptIOVectorElementDataFree release it, and so does free().
 *
 *
 * THREADS, CALLBACKS AND FORK
 *
 * Every function may be called from any thread.  Callbacks (open,
 * synchronize, B.02.03 track, NCS arrival) run only inside saCkptDispatch,
 * on the thread that calls it.  The selection object is an eventfd, below
 * 1024, readable while a callback waits.  The Go core of the library is
 * loaded by the first saCkptInitialize (or clCkptInitialize), so a process
 * may fork before it; a child forked after it cannot use the library (every
 * call returns SA_AIS_ERR_LIBRARY), fork+exec is fine.
 *
 *
 * TIMEOUTS
 *
 * A timeout of 0 or below, or SA_TIME_END, means no limit; a positive one is
 * honoured (SA_AIS_ERR_TIMEOUT).
 */
#ifndef SA_CKPT_H
#define SA_CKPT_H

#include <saAis.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef SaUint64T SaCkptHandleT;
typedef SaUint64T SaCkptCheckpointHandleT;
typedef SaUint64T SaCkptSectionIterationHandleT;

#define SA_CKPT_WR_ALL_REPLICAS 0x1
#define SA_CKPT_WR_ACTIVE_REPLICA 0x2
#define SA_CKPT_WR_ACTIVE_REPLICA_WEAK 0x4
#define SA_CKPT_CHECKPOINT_COLLOCATED 0x8
typedef SaUint32T SaCkptCheckpointCreationFlagsT;

typedef struct {
    SaCkptCheckpointCreationFlagsT creationFlags;
    SaSizeT checkpointSize;   /* advisory: not enforced at write time */
    SaTimeT retentionDuration;
    SaUint32T maxSections;
    SaSizeT maxSectionSize;
    SaSizeT maxSectionIdSize;
} SaCkptCheckpointCreationAttributesT;

#define SA_CKPT_CHECKPOINT_READ 0x1
#define SA_CKPT_CHECKPOINT_WRITE 0x2
#define SA_CKPT_CHECKPOINT_CREATE 0x4
typedef SaUint32T SaCkptCheckpointOpenFlagsT;

/* Both are {0, NULL}: the default section when maxSections == 1, a
 * generated id in saCkptSectionCreate when maxSections > 1. */
#define SA_CKPT_DEFAULT_SECTION_ID {0, NULL}
#define SA_CKPT_GENERATED_SECTION_ID {0, NULL}

typedef struct {
    SaUint16T idLen;
    SaUint8T *id;
} SaCkptSectionIdT;

typedef struct {
    SaCkptSectionIdT *sectionId;
    SaTimeT expirationTime; /* absolute; SA_TIME_END: never */
} SaCkptSectionCreationAttributesT;

typedef enum {
    SA_CKPT_SECTION_VALID = 1,
    SA_CKPT_SECTION_CORRUPTED = 2 /* never reported */
} SaCkptSectionStateT;

typedef struct {
    SaCkptSectionIdT sectionId;
    SaTimeT expirationTime;
    SaSizeT sectionSize;
    SaCkptSectionStateT sectionState;
    SaTimeT lastUpdate;
} SaCkptSectionDescriptorT;

typedef enum {
    SA_CKPT_SECTIONS_FOREVER = 1,
    SA_CKPT_SECTIONS_LEQ_EXPIRATION_TIME = 2,
    SA_CKPT_SECTIONS_GEQ_EXPIRATION_TIME = 3,
    SA_CKPT_SECTIONS_CORRUPTED = 4,
    SA_CKPT_SECTIONS_ANY = 5
} SaCkptSectionsChosenT;

typedef struct {
    SaCkptSectionIdT sectionId;
    void *dataBuffer;
    SaSizeT dataSize;
    SaOffsetT dataOffset;
    SaSizeT readSize;
} SaCkptIOVectorElementT;

typedef struct {
    SaCkptCheckpointCreationAttributesT checkpointCreationAttributes;
    SaUint32T numberOfSections;
    SaSizeT memoryUsed;
} SaCkptCheckpointDescriptorT;

typedef void (*SaCkptCheckpointOpenCallbackT)(SaInvocationT invocation,
                                              SaCkptCheckpointHandleT checkpointHandle,
                                              SaAisErrorT error);
typedef void (*SaCkptCheckpointSynchronizeCallbackT)(SaInvocationT invocation, SaAisErrorT error);

typedef struct {
    SaCkptCheckpointOpenCallbackT saCkptCheckpointOpenCallback;
    SaCkptCheckpointSynchronizeCallbackT saCkptCheckpointSynchronizeCallback;
} SaCkptCallbacksT;

/* Notification types of B.02.02 (no notification is sent). */
typedef enum {
    SA_CKPT_SECTION_RESOURCES_EXHAUSTED = 1,
    SA_CKPT_SECTION_RESOURCES_AVAILABLE = 2
} SaCkptCheckpointStatusT;

typedef enum {
    SA_CKPT_CHECKPOINT_STATUS = 1
} SaCkptStateT;

/*
 * saCkptInitialize - start using the service.
 *
 * Creates a library handle in *ckptHandle.  callbacks may be NULL, and each
 * member may be NULL; the table is copied.  *version: see VERSIONS above;
 * it is rewritten in every case (B.02.03 when refused).  The first call of
 * the process loads the Go core and joins the service.
 *
 * Returns:
 *   SA_AIS_OK
 *   SA_AIS_ERR_INVALID_PARAM  ckptHandle or version is NULL.
 *   SA_AIS_ERR_VERSION        version not supported.
 *   SA_AIS_ERR_TRY_AGAIN      the service cannot be reached now.
 *   SA_AIS_ERR_NO_RESOURCES   the data directory is damaged or unwritable.
 *   SA_AIS_ERR_NO_SPACE       no room for a new store.
 *   SA_AIS_ERR_LIBRARY        the core cannot be loaded, the CLCKPT_*
 *                             settings are wrong (logged to stderr), or
 *                             this is a child forked after the core was
 *                             loaded.
 * The handle lives until saCkptFinalize.
 */
extern SaAisErrorT saCkptInitialize(SaCkptHandleT *ckptHandle, const SaCkptCallbacksT *callbacks,
                                    SaVersionT *version);

/*
 * saCkptSelectionObjectGet - the descriptor to poll for pending callbacks.
 *
 * *selectionObject gets an eventfd (below 1024), readable while a callback
 * of this handle waits for saCkptDispatch.  It stays open until
 * saCkptFinalize; do not close or read it.
 *
 * Returns: SA_AIS_OK; SA_AIS_ERR_BAD_HANDLE; SA_AIS_ERR_INVALID_PARAM
 * (selectionObject NULL).
 */
extern SaAisErrorT saCkptSelectionObjectGet(SaCkptHandleT ckptHandle, SaSelectionObjectT *selectionObject);

/*
 * saCkptDispatch - run pending callbacks on this thread.
 *
 * SA_DISPATCH_ONE runs at most one, SA_DISPATCH_ALL those pending at the
 * call, SA_DISPATCH_BLOCKING runs them as they come until saCkptFinalize of
 * the handle (then it returns SA_AIS_OK).  Returning with nothing run is
 * not an error.
 *
 * Returns: SA_AIS_OK; SA_AIS_ERR_BAD_HANDLE; SA_AIS_ERR_INVALID_PARAM
 * (dispatchFlags not one of the three).
 */
extern SaAisErrorT saCkptDispatch(SaCkptHandleT ckptHandle, SaDispatchFlagsT dispatchFlags);

/*
 * saCkptFinalize - stop using a library handle.
 *
 * Closes every checkpoint handle opened through it (as saCkptCheckpointClose,
 * so retention applies) and their iterations, discards callbacks not yet
 * dispatched, cancels asynchronous calls' callbacks, closes the selection
 * object and ends a blocking saCkptDispatch.  The last handle of the process
 * (counting clCkpt service handles) leaves the service.
 *
 * Returns: SA_AIS_OK; SA_AIS_ERR_BAD_HANDLE.
 */
extern SaAisErrorT saCkptFinalize(SaCkptHandleT ckptHandle);

/*
 * saCkptCheckpointOpen - open a checkpoint, creating it with CREATE.
 *
 * Stores a new, distinct checkpoint handle in *checkpointHandle.  The name
 * is its `length` bytes exactly.  With SA_CKPT_CHECKPOINT_CREATE the
 * attributes are required and the checkpoint is created when missing; an
 * existing one must have the same attributes except retentionDuration,
 * which is not compared.  CREATE alone does not allow writing: the handle
 * may write only with SA_CKPT_CHECKPOINT_WRITE, read only with _READ.
 * maxSections == 1 makes a checkpoint with a single default section
 * (SA_CKPT_DEFAULT_SECTION_ID), created with it.
 *
 * Returns, in the order checked:
 *   SA_AIS_OK
 *   SA_AIS_ERR_BAD_HANDLE     ckptHandle is not a live library handle.
 *   SA_AIS_ERR_INVALID_PARAM  checkpointName or checkpointHandle NULL; name
 *                             length 0; B.02 client and a name not starting
 *                             with "safCkpt="; CREATE without attributes
 *                             or attributes without CREATE; creation flags
 *                             invalid (B.02: not exactly one WR flag, or
 *                             bits above 0xF; B.01: bits above 0xF);
 *                             maxSections 0; checkpointSize above
 *                             maxSections * maxSectionSize.
 *   SA_AIS_ERR_TOO_BIG        a lent name above 2048 bytes.
 *   SA_AIS_ERR_BAD_FLAGS      none of READ, WRITE, CREATE, or other bits.
 *   SA_AIS_ERR_NOT_EXIST      missing, without CREATE.
 *   SA_AIS_ERR_EXIST          exists with other attributes.
 *   SA_AIS_ERR_TIMEOUT        the positive timeout elapsed.
 * Names of 257 to 2048 bytes (saAisNameLend) are checkpoints like any
 * other, every byte significant; a clCkpt program cannot name them
 * (ClNameT holds 256 bytes), so only saCkpt programs reach them.
 */
extern SaAisErrorT saCkptCheckpointOpen(SaCkptHandleT ckptHandle, const SaNameT *checkpointName,
                                        const SaCkptCheckpointCreationAttributesT *checkpointCreationAttributes,
                                        SaCkptCheckpointOpenFlagsT checkpointOpenFlags, SaTimeT timeout,
                                        SaCkptCheckpointHandleT *checkpointHandle);

/*
 * saCkptCheckpointOpenAsync - saCkptCheckpointOpen, completed by callback.
 *
 * The arguments are checked now (the errors of saCkptCheckpointOpen that do
 * not need the service); then the call returns SA_AIS_OK and the open
 * callback receives `invocation`, the handle and the outcome (SA_AIS_OK,
 * NOT_EXIST, EXIST...) in a later saCkptDispatch.  If the library handle is
 * finalized first, the callback never runs and the checkpoint is closed.
 *
 * Returns: SA_AIS_OK; SA_AIS_ERR_BAD_HANDLE; SA_AIS_ERR_INIT (no open
 * callback was given to saCkptInitialize); SA_AIS_ERR_INVALID_PARAM,
 * SA_AIS_ERR_TOO_BIG, SA_AIS_ERR_BAD_FLAGS as saCkptCheckpointOpen.
 */
extern SaAisErrorT saCkptCheckpointOpenAsync(SaCkptHandleT ckptHandle, SaInvocationT invocation,
                                             const SaNameT *checkpointName,
                                             const SaCkptCheckpointCreationAttributesT *checkpointCreationAttributes,
                                             SaCkptCheckpointOpenFlagsT checkpointOpenFlags);

/*
 * saCkptCheckpointClose - release a checkpoint handle.
 *
 * Later use of the handle gives SA_AIS_ERR_BAD_HANDLE; its iterations end,
 * and its callbacks not yet dispatched (synchronize, arrival, track) are
 * cancelled.
 * At the last close of the checkpoint in the cluster its retention starts
 * (an unlinked checkpoint is deleted).
 *
 * Returns: SA_AIS_OK; SA_AIS_ERR_BAD_HANDLE.
 */
extern SaAisErrorT saCkptCheckpointClose(SaCkptCheckpointHandleT checkpointHandle);

/*
 * saCkptCheckpointUnlink - remove a checkpoint's name.
 *
 * The name is free at once: an open with CREATE makes a new checkpoint.
 * Handles open on the old one keep working; it is deleted at its last close.
 *
 * Returns: SA_AIS_OK; SA_AIS_ERR_BAD_HANDLE; SA_AIS_ERR_INVALID_PARAM (name
 * NULL or invalid, as for open); SA_AIS_ERR_TOO_BIG; SA_AIS_ERR_NOT_EXIST.
 */
extern SaAisErrorT saCkptCheckpointUnlink(SaCkptHandleT ckptHandle, const SaNameT *checkpointName);

/*
 * saCkptCheckpointRetentionDurationSet - change how long the checkpoint
 * outlives its last close (SA_TIME_END: for ever; 0: deleted at once).
 *
 * Returns: SA_AIS_OK; SA_AIS_ERR_BAD_HANDLE; SA_AIS_ERR_ACCESS (no WRITE);
 * SA_AIS_ERR_BAD_OPERATION (the checkpoint is unlinked).
 */
extern SaAisErrorT saCkptCheckpointRetentionDurationSet(SaCkptCheckpointHandleT checkpointHandle,
                                                        SaTimeT retentionDuration);

/*
 * saCkptActiveReplicaSet - make this process's replica the active one.
 *
 * Only for COLLOCATED checkpoints written asynchronously (ACTIVE_REPLICA or
 * _WEAK); until it is called once, their data calls return
 * SA_AIS_ERR_NOT_EXIST.
 *
 * Returns: SA_AIS_OK; SA_AIS_ERR_BAD_HANDLE; SA_AIS_ERR_ACCESS (no WRITE);
 * SA_AIS_ERR_BAD_OPERATION (not collocated, or ALL_REPLICAS).
 */
extern SaAisErrorT saCkptActiveReplicaSet(SaCkptCheckpointHandleT checkpointHandle);

/*
 * saCkptCheckpointStatusGet - attributes and usage.
 *
 * numberOfSections counts the default section of a maxSections == 1
 * checkpoint; memoryUsed is the sum of the section sizes.
 *
 * Returns: SA_AIS_OK; SA_AIS_ERR_BAD_HANDLE; SA_AIS_ERR_INVALID_PARAM
 * (checkpointStatus NULL); SA_AIS_ERR_NOT_EXIST (collocated, no active
 * replica yet).
 */
extern SaAisErrorT saCkptCheckpointStatusGet(SaCkptCheckpointHandleT checkpointHandle,
                                             SaCkptCheckpointDescriptorT *checkpointStatus);

/*
 * saCkptSectionCreate - create a section holding initialData.
 *
 * sectionCreationAttributes->sectionId {0, NULL} on a checkpoint with
 * maxSections > 1 asks for a generated id (as OpenSAF: a number, big-endian,
 * in min(maxSectionIdSize, 4) bytes): the library writes it back into
 * *sectionId, in memory from malloc that the program releases with
 * saCkptSectionIdFree (or free()).  Creating again with that id gives
 * SA_AIS_ERR_EXIST.  A maxSectionIdSize of 0 leaves no room for one
 * (SA_AIS_ERR_INVALID_PARAM).
 *
 * Returns:
 *   SA_AIS_OK
 *   SA_AIS_ERR_BAD_HANDLE
 *   SA_AIS_ERR_INVALID_PARAM  attributes or sectionId NULL; idLen 0 with a
 *                             non-NULL id; idLen > maxSectionIdSize;
 *                             initialData NULL with a size; size above
 *                             maxSectionSize; expirationTime in the past.
 *   SA_AIS_ERR_ACCESS         the handle lacks WRITE.
 *   SA_AIS_ERR_EXIST          the id exists, or maxSections == 1.
 *   SA_AIS_ERR_NO_SPACE       maxSections sections exist already.
 *   SA_AIS_ERR_NOT_EXIST      collocated, no active replica yet.
 */
extern SaAisErrorT saCkptSectionCreate(SaCkptCheckpointHandleT checkpointHandle,
                                       SaCkptSectionCreationAttributesT *sectionCreationAttributes,
                                       const void *initialData, SaSizeT initialDataSize);

/*
 * saCkptSectionDelete - delete a section.
 *
 * Returns: SA_AIS_OK; SA_AIS_ERR_BAD_HANDLE; SA_AIS_ERR_INVALID_PARAM
 * (sectionId NULL, or the default section); SA_AIS_ERR_ACCESS (no WRITE);
 * SA_AIS_ERR_NOT_EXIST (no such section).
 */
extern SaAisErrorT saCkptSectionDelete(SaCkptCheckpointHandleT checkpointHandle, const SaCkptSectionIdT *sectionId);

/*
 * saCkptSectionIdFree - release a section id the library allocated
 * (generated by saCkptSectionCreate, or in a B.02 iteration descriptor).
 *
 * Returns: SA_AIS_OK; SA_AIS_ERR_BAD_HANDLE; SA_AIS_ERR_INVALID_PARAM (id
 * NULL).  Nothing is freed on an error.
 */
extern SaAisErrorT saCkptSectionIdFree(SaCkptCheckpointHandleT checkpointHandle, SaUint8T *id);

/*
 * saCkptSectionExpirationTimeSet - change a section's absolute expiration
 * (SA_TIME_END: never).  An expired section is deleted.
 *
 * Returns: SA_AIS_OK; SA_AIS_ERR_BAD_HANDLE; SA_AIS_ERR_INVALID_PARAM
 * (sectionId NULL, the default section, a time in the past);
 * SA_AIS_ERR_ACCESS (no WRITE); SA_AIS_ERR_NOT_EXIST.
 */
extern SaAisErrorT saCkptSectionExpirationTimeSet(SaCkptCheckpointHandleT checkpointHandle,
                                                  const SaCkptSectionIdT *sectionId, SaTimeT expirationTime);

/*
 * saCkptSectionIterationInitialize - start walking the sections.
 *
 * FOREVER: expiration SA_TIME_END; LEQ/GEQ: expiration <= / >= the given
 * time (GEQ includes SA_TIME_END); CORRUPTED: none; ANY: all.  The ids are
 * taken now; sections deleted meanwhile are skipped.  A checkpoint with a
 * single default section has nothing to iterate (the first Next returns
 * SA_AIS_ERR_NO_SECTIONS).
 *
 * Returns: SA_AIS_OK; SA_AIS_ERR_BAD_HANDLE; SA_AIS_ERR_INVALID_PARAM
 * (sectionIterationHandle NULL, sectionsChosen out of range);
 * SA_AIS_ERR_NOT_EXIST (collocated, no active replica yet: the ids are the
 * active replica's, as for saCkptCheckpointStatusGet).
 */
extern SaAisErrorT saCkptSectionIterationInitialize(SaCkptCheckpointHandleT checkpointHandle,
                                                    SaCkptSectionsChosenT sectionsChosen, SaTimeT expirationTime,
                                                    SaCkptSectionIterationHandleT *sectionIterationHandle);

/*
 * saCkptSectionIterationNext - the next section.
 *
 * sectionDescriptor->sectionId.id is malloc'ed: B.02 clients free it with
 * saCkptSectionIdFree; for B.01 clients it is freed by
 * saCkptSectionIterationFinalize (or the close of the checkpoint handle).
 *
 * Returns: SA_AIS_OK; SA_AIS_ERR_BAD_HANDLE; SA_AIS_ERR_INVALID_PARAM
 * (sectionDescriptor NULL); SA_AIS_ERR_NO_SECTIONS (the end, and every
 * later call).
 */
extern SaAisErrorT saCkptSectionIterationNext(SaCkptSectionIterationHandleT sectionIterationHandle,
                                              SaCkptSectionDescriptorT *sectionDescriptor);

/*
 * saCkptSectionIterationFinalize - end an iteration.
 *
 * Returns: SA_AIS_OK; SA_AIS_ERR_BAD_HANDLE (also when already finalized).
 */
extern SaAisErrorT saCkptSectionIterationFinalize(SaCkptSectionIterationHandleT sectionIterationHandle);

/*
 * saCkptCheckpointWrite - write data into sections.
 *
 * Each element writes dataSize bytes of dataBuffer at dataOffset of its
 * section, growing the section (zero-filled) as needed.  The elements are
 * checked in order; on an error *erroneousVectorIndex (may be NULL) gets the
 * index of the failing element and the elements before it stay written.
 *
 * Returns:
 *   SA_AIS_OK
 *   SA_AIS_ERR_BAD_HANDLE
 *   SA_AIS_ERR_INVALID_PARAM  ioVector NULL or numberOfElements 0; an
 *                             element with dataBuffer NULL and a size; a
 *                             dataSize above maxSectionSize; B.01: offset +
 *                             size above maxSectionSize.
 *   SA_AIS_ERR_NO_RESOURCES   B.02: offset + size above maxSectionSize.
 *   SA_AIS_ERR_ACCESS         the handle lacks WRITE.
 *   SA_AIS_ERR_NOT_EXIST      no such section; collocated, no active replica.
 */
extern SaAisErrorT saCkptCheckpointWrite(SaCkptCheckpointHandleT checkpointHandle,
                                         const SaCkptIOVectorElementT *ioVector, SaUint32T numberOfElements,
                                         SaUint32T *erroneousVectorIndex);

/*
 * saCkptSectionOverwrite - replace a whole section (the default section
 * with SA_CKPT_DEFAULT_SECTION_ID).
 *
 * Returns: SA_AIS_OK; SA_AIS_ERR_BAD_HANDLE; SA_AIS_ERR_INVALID_PARAM
 * (sectionId or dataBuffer NULL, dataSize 0 or above maxSectionSize);
 * SA_AIS_ERR_ACCESS (no WRITE); SA_AIS_ERR_NOT_EXIST.
 */
extern SaAisErrorT saCkptSectionOverwrite(SaCkptCheckpointHandleT checkpointHandle, const SaCkptSectionIdT *secId,
                                          const void *dataBuffer, SaSizeT dataSize);

/*
 * saCkptCheckpointRead - read sections.
 *
 * Each element reads up to dataSize bytes from dataOffset into dataBuffer
 * and sets readSize.  With dataBuffer NULL the library allocates (malloc) a
 * buffer holding the section from dataOffset to its end, stores it in
 * dataBuffer and its size in readSize; release it with
 * saCkptIOVectorElementDataFree (or free()).  On an error nothing is
 * copied and *erroneousVectorIndex (may be NULL) names the element.
 *
 * Returns: SA_AIS_OK; SA_AIS_ERR_BAD_HANDLE; SA_AIS_ERR_INVALID_PARAM
 * (ioVector NULL or numberOfElements 0; dataSize above maxSectionSize;
 * dataOffset above it; B.02: dataOffset + dataSize above it);
 * SA_AIS_ERR_ACCESS (no READ); SA_AIS_ERR_NOT_EXIST.
 */
extern SaAisErrorT saCkptCheckpointRead(SaCkptCheckpointHandleT checkpointHandle, SaCkptIOVectorElementT *ioVector,
                                        SaUint32T numberOfElements, SaUint32T *erroneousVectorIndex);

/*
 * saCkptIOVectorElementDataFree - release a read buffer the library
 * allocated.
 *
 * Returns: SA_AIS_OK; SA_AIS_ERR_BAD_HANDLE; SA_AIS_ERR_INVALID_PARAM (data
 * NULL).  Nothing is freed on an error.
 */
extern SaAisErrorT saCkptIOVectorElementDataFree(SaCkptCheckpointHandleT checkpointHandle, void *data);

/*
 * saCkptCheckpointSynchronize - wait until every replica has every write
 * made so far (ACTIVE_REPLICA and _WEAK checkpoints).
 *
 * Returns: SA_AIS_OK (also with no sections); SA_AIS_ERR_BAD_HANDLE;
 * SA_AIS_ERR_ACCESS (no WRITE); SA_AIS_ERR_BAD_OPERATION (ALL_REPLICAS);
 * SA_AIS_ERR_NOT_EXIST (collocated, no active replica);
 * SA_AIS_ERR_TIMEOUT.
 */
extern SaAisErrorT saCkptCheckpointSynchronize(SaCkptCheckpointHandleT checkpointHandle, SaTimeT timeout);

/*
 * saCkptCheckpointSynchronizeAsync - saCkptCheckpointSynchronize completed
 * by the synchronize callback in saCkptDispatch.
 *
 * If the checkpoint handle is closed before the callback is dispatched, the
 * callback does not run.
 *
 * Returns: SA_AIS_OK; SA_AIS_ERR_BAD_HANDLE; SA_AIS_ERR_INIT (no
 * synchronize callback); then the refusals of saCkptCheckpointSynchronize
 * (ACCESS, BAD_OPERATION, NOT_EXIST), with no callback.
 */
extern SaAisErrorT saCkptCheckpointSynchronizeAsync(SaCkptCheckpointHandleT checkpointHandle,
                                                    SaInvocationT invocation);

#ifdef __cplusplus
}
#endif

#endif /* SA_CKPT_H */
