/*
 * clCkptApi.h - the checkpoint service.
 *
 * A checkpoint is a named, cluster-wide store of sections.  A section is a
 * byte string identified by a section id (a byte string of up to
 * maxSectionIdSize bytes).  Processes open a checkpoint by name, write
 * sections, and read back what they or other processes wrote; a checkpoint
 * outlives the processes that use it for as long as its retention duration
 * says.  The usual pattern is an active process that writes its state and a
 * standby process that reads the state when it takes over.
 *
 * This header reproduces the OpenClovis ASP 6.x clCkptApi.h: names, types,
 * values, structure layouts and prototypes are identical, so programs
 * written for it compile unchanged and link with libclckpt.  Behaviour
 * follows the original except where a function's documentation below says
 * otherwise.
 *
 * Including this header is enough to use the service: it brings in
 * clCommon.h (types), clCommonErrors.h (CL_OK, CL_RC, CL_GET_ERROR_CODE,
 * CL_ERR_*), clCkptErrors.h (CL_CKPT_ERR_*) and clIocApi.h.
 *
 *
 * LIFECYCLE
 *
 *     clCkptInitialize          -> service handle
 *       clCkptCheckpointOpen    -> checkpoint handle
 *         clCkptSectionCreate / clCkptSectionOverwrite / clCkptCheckpointWrite
 *         clCkptCheckpointRead / clCkptSectionIterationInitialize ...
 *       clCkptCheckpointClose
 *     clCkptFinalize
 *
 * The library is initialized while at least one service handle exists.
 * Every function called before the first clCkptInitialize, or after the
 * last service handle has been finalized, returns
 * CL_CKPT_ERR_NOT_INITIALIZED.
 *
 *
 * HANDLES
 *
 * Service, checkpoint and section-iteration handles are ClUint64T values,
 * but they are always non-zero and below 2^32, so programs that keep them
 * in an unsigned int work.  A handle stays valid until the call that ends
 * it (clCkptFinalize, clCkptCheckpointClose,
 * clCkptSectionIterationFinalize) or until the handle it was obtained
 * through is ended.  A handle that was never handed out, has been ended,
 * or is of the wrong kind (for example a service handle passed where a
 * checkpoint handle is expected) makes the call return
 * CL_CKPT_ERR_INVALID_HANDLE; it never crashes the process.  Each handle
 * carries a generation count, so an ended handle is not confused with a
 * later one that reuses its slot.
 *
 *
 * RETURN CODES
 *
 * Every function returns CL_OK (0) on success.  Errors are full return
 * codes with the component id of the checkpoint service, CL_CID_CKPT
 * (0x16), for example CL_CKPT_ERR_NOT_EXIST == 0x160004.  The exceptions
 * are named in the function's documentation (a version mismatch has the
 * component id CL_CID_VERSION; the end of a section iteration is
 * CKPT_RC(CL_CKPT_ERR_NO_SECTIONS)).  Robust programs compare
 * CL_GET_ERROR_CODE(rc) with a CL_ERR_* code.
 *
 * Besides the errors listed for each function, any function that talks to
 * the checkpoint service may return CL_CKPT_ERR_TRY_AGAIN when the service
 * is temporarily unreachable, and CL_CKPT_ERR_NO_MEMORY or
 * CL_CKPT_ERR_NO_RESOURCE when the process runs out of memory or of system
 * resources.  Any function that changes a checkpoint (creates, writes,
 * overwrites or deletes a section, or sets its expiration) may return
 * CL_CKPT_ERR_NO_SPACE when the filesystem of the data directory has less
 * than CLCKPT_DISK_RESERVE free: the change was not made, and succeeds
 * again once space is freed, without a restart.
 *
 *
 * MEMORY
 *
 * - Everything passed in (names, attributes, section ids, data) is copied
 *   before the function returns; the caller keeps ownership and may reuse
 *   or free it at once.
 * - Memory the library allocates for the caller is owned by the caller and
 *   released with clHeapFree (clHeapApi.h): the buffer of a
 *   clCkptCheckpointRead element whose dataBuffer was NULL, the id of a
 *   generated section written back by clCkptSectionCreate, and the section
 *   id in a descriptor returned by clCkptSectionIterationNext.
 * - Pointers the library passes to a callback (the name and the I/O vector
 *   of a ClCkptNotificationCallbackT) are valid only until the callback
 *   returns.  Copy what is needed; do not free them.
 *
 *
 * THREADS
 *
 * Every function may be called from any thread, concurrently.  The open
 * and synchronize completion callbacks run only inside clCkptDispatch, on
 * the thread that calls it.  Immediate-consumption callbacks run on a
 * thread owned by the library (see clCkptImmediateConsumptionRegister).
 *
 *
 * FORK
 *
 * A process may fork before it calls clCkptInitialize (to daemonize, say):
 * the library starts its runtime only in clCkptInitialize, so parent and
 * child can each initialize and use the service like any process.  Once a
 * process has called clCkptInitialize, a child it forks cannot use the
 * library at all: the library's threads do not exist in the child.  Every
 * call such a child makes, clCkptInitialize included, returns
 * CL_CKPT_ERR_INVALID_STATE at once, and never acts on the parent's
 * checkpoints.  Such a child that needs the service execs a new program.
 */
#ifndef _CL_CKPT_API_H_
#define _CL_CKPT_API_H_

#include <clCommon.h>
#include <clIocApi.h>
#include <clCkptErrors.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------
 * Creation flags (ClCkptCheckpointCreationAttributesT.creationFlags)
 *
 * The update options are WR_ALL_REPLICAS, WR_ACTIVE_REPLICA,
 * WR_ACTIVE_REPLICA_WEAK and WR_ALL_SAFE; the other flags are OR-ed with
 * one of them.  A checkpoint without CL_CKPT_WR_ALL_REPLICAS is
 * asynchronous.
 * --------------------------------------------------------------------- */

/* Synchronous: a write returns when every replica has been updated. */
#define CL_CKPT_WR_ALL_REPLICAS             0X1

/*
 * Asynchronous: a write returns when the active replica has been updated;
 * the other replicas follow (see clCkptCheckpointSynchronize).
 */
#define CL_CKPT_WR_ACTIVE_REPLICA           0X2

/*
 * Asynchronous, and an update of the other replicas need not be atomic.
 * This library treats it exactly as CL_CKPT_WR_ACTIVE_REPLICA: no update
 * is ever applied partially.
 */
#define CL_CKPT_WR_ACTIVE_REPLICA_WEAK      0X4

/*
 * Collocated: the application chooses which replica is active by calling
 * clCkptActiveReplicaSet.  Only meaningful together with an asynchronous
 * update option; with CL_CKPT_WR_ALL_REPLICAS the checkpoint is not
 * collocated.
 */
#define CL_CKPT_CHECKPOINT_COLLOCATED       0X8

/*
 * Hot standby (OpenClovis extension): processes that registered with
 * clCkptImmediateConsumptionRegister are told about every write.  The
 * retention duration of such a checkpoint is always 0.
 */
#define CL_CKPT_DISTRIBUTED                 0X10

/*
 * "Safe asynchronous" (extension).  Accepted; like the original, this
 * library gives it no special behaviour: the checkpoint is asynchronous.
 */
#define CL_CKPT_WR_ALL_SAFE                 0X20

/* Every node that opens the checkpoint gets a replica (1+N redundancy). */
#define CL_CKPT_ALL_OPEN_ARE_REPLICAS       0x40

/* Hot-standby updates are sent from peer to peer. */
#define CL_CKPT_PEER_TO_PEER_REPLICA        0x80

/* With CL_CKPT_PEER_TO_PEER_REPLICA: no client-side cache. */
#define CL_CKPT_PEER_TO_PEER_CACHE_DISABLE  0x100

/* ------------------------------------------------------------------------
 * Open flags (checkpointOpenFlags of clCkptCheckpointOpen)
 * --------------------------------------------------------------------- */

/* Open for reading: needed by clCkptCheckpointRead. */
#define CL_CKPT_CHECKPOINT_READ             0X1

/* Open for writing: needed by every function that changes the checkpoint. */
#define CL_CKPT_CHECKPOINT_WRITE            0X2

/*
 * Create the checkpoint if it does not exist.  Also grants the rights of
 * CL_CKPT_CHECKPOINT_WRITE.
 */
#define CL_CKPT_CHECKPOINT_CREATE           0X4

/* ------------------------------------------------------------------------
 * Section id initializers
 * --------------------------------------------------------------------- */

/*
 * The default section: the only section of a checkpoint created with
 * maxSections == 1.  It exists from creation on, is empty at first, never
 * expires and cannot be deleted.  Use it with clCkptCheckpointRead,
 * clCkptCheckpointWrite and clCkptSectionOverwrite:
 *     ClCkptSectionIdT id = CL_CKPT_DEFAULT_SECTION_ID;
 */
#define CL_CKPT_DEFAULT_SECTION_ID          {0, NULL}

/*
 * Asks clCkptSectionCreate to choose the section id (same value as the
 * default section id; the meaning depends on the function):
 *     ClCkptSectionIdT id = CL_CKPT_GENERATED_SECTION_ID;
 */
#define CL_CKPT_GENERATED_SECTION_ID        {0, NULL}

/* ------------------------------------------------------------------------
 * Types
 * --------------------------------------------------------------------- */

/* Handle of an initialized checkpoint service (clCkptInitialize). */
typedef ClHandleT ClCkptSvcHdlT;

/* Handle of an open checkpoint (clCkptCheckpointOpen). */
typedef ClHandleT ClCkptHdlT;

/* Handle of a section iteration (clCkptSectionIterationInitialize). */
typedef ClHandleT ClCkptSecItrHdlT;

/* Creation flags: CL_CKPT_WR_*, CL_CKPT_CHECKPOINT_COLLOCATED, ... */
typedef ClUint32T ClCkptCreationFlagsT;

/* Open flags: CL_CKPT_CHECKPOINT_READ, _WRITE, _CREATE. */
typedef ClUint32T ClCkptOpenFlagsT;

/*
 * Not used by any function: clCkptSelectionObjectGet returns a
 * ClSelectionObjectT.  Kept for source compatibility.
 */
typedef ClUint32T ClCkptSelectionObjT;

/*
 * Properties of a checkpoint, fixed when it is created.  Sizes in bytes,
 * times in nanoseconds.
 */
typedef struct {
    /* CL_CKPT_WR_* update option, OR-ed with the other creation flags. */
    ClCkptCreationFlagsT creationFlags;

    /*
     * Intended total size of the data.  Checked only against
     * maxSections * maxSectionSize when the checkpoint is created; writes
     * are not limited by it.
     */
    ClSizeT              checkpointSize;

    /*
     * How long the checkpoint is kept after the last process closed it:
     * 0 deletes it at the last close, CL_TIME_END or any negative value
     * keeps it until clCkptCheckpointDelete.
     */
    ClTimeT              retentionDuration;

    /*
     * Maximum number of sections, at least 1.  With 1 the checkpoint has
     * only its default section (CL_CKPT_DEFAULT_SECTION_ID).
     */
    ClUint32T            maxSections;

    /* Maximum size of a section; 0 means no limit. */
    ClSizeT              maxSectionSize;

    /* Maximum length of a section id. */
    ClSizeT              maxSectionIdSize;
} ClCkptCheckpointCreationAttributesT;

/*
 * A section id: `idLen` bytes at `id`, compared byte for byte ("abc" with
 * idLen 3 and "abc\0" with idLen 4 are different sections).  The id need
 * not be NUL-terminated.  {0, NULL} is the default section or, for
 * clCkptSectionCreate, a request for a generated id.
 */
typedef struct {
    ClUint16T  idLen;
    ClUint8T  *id;
} ClCkptSectionIdT;

/* What clCkptSectionCreate needs to know about a new section. */
typedef struct {
    /*
     * The id of the new section.  For a generated id it points to a
     * writable {0, NULL}, which clCkptSectionCreate fills in.
     */
    ClCkptSectionIdT *sectionId;

    /*
     * Absolute time, in nanoseconds since the epoch, at which the section
     * is deleted; CL_TIME_END for never.
     */
    ClTimeT           expirationTime;
} ClCkptSectionCreationAttributesT;

/* State of a section. */
typedef enum {
    CL_CKPT_SECTION_VALID     = 1,  /* the section holds valid data */
    CL_CKPT_SECTION_CORRUPTED = 2   /* the section's data is not reliable */
} ClCkptSectionStateT;

/* A section as reported by clCkptSectionIterationNext. */
typedef struct {
    /* Id of the section; `id` is owned by the caller (clHeapFree). */
    ClCkptSectionIdT    sectionId;
    /* Absolute expiry, ns since the epoch, or CL_TIME_END. */
    ClTimeT             expirationTime;
    /* Current size of the section's data in bytes. */
    ClSizeT             sectionSize;
    /* State of the section. */
    ClCkptSectionStateT sectionState;
    /* Time of the last change, ns since the epoch. */
    ClTimeT             lastUpdate;
} ClCkptSectionDescriptorT;

/* Which sections a section iteration returns. */
typedef enum {
    /* Sections that never expire (expirationTime == CL_TIME_END). */
    CL_CKPT_SECTIONS_FOREVER              = 1,
    /* Sections whose expirationTime is <= the given time. */
    CL_CKPT_SECTIONS_LEQ_EXPIRATION_TIME  = 2,
    /* Sections whose expirationTime is >= the given time. */
    CL_CKPT_SECTIONS_GEQ_EXPIRATION_TIME  = 3,
    /* Sections in state CL_CKPT_SECTION_CORRUPTED. */
    CL_CKPT_SECTIONS_CORRUPTED            = 4,
    /* All sections. */
    CL_CKPT_SECTIONS_ANY                  = 5
} ClCkptSectionsChosenT;

/*
 * One element of the I/O vector of clCkptCheckpointWrite and
 * clCkptCheckpointRead, also used to describe changes to an
 * immediate-consumption callback.
 */
typedef struct {
    /* The section to read or write. */
    ClCkptSectionIdT sectionId;
    /*
     * Write: the data.  Read: where to put the data, or NULL to have the
     * library allocate the buffer (see clCkptCheckpointRead).
     */
    ClPtrT           dataBuffer;
    /* Number of bytes to write, or the maximum number to read. */
    ClSizeT          dataSize;
    /* Byte offset within the section. */
    ClOffsetT        dataOffset;
    /* Read: set to the number of bytes read.  Write: ignored. */
    ClSizeT          readSize;
} ClCkptIOVectorElementT;

/* Status of a checkpoint (clCkptCheckpointStatusGet). */
typedef struct {
    /* The attributes the checkpoint was created with (current retention). */
    ClCkptCheckpointCreationAttributesT checkpointCreationAttributes;
    /* Number of sections, not counting the default section. */
    ClUint32T                           numberOfSections;
    /* Total size of the data of all sections in bytes. */
    ClUint32T                           memoryUsed;
} ClCkptCheckpointDescriptorT;

/*
 * Immediate-consumption callback (clCkptImmediateConsumptionRegister).
 *
 * Called after another handle changed a CL_CKPT_DISTRIBUTED checkpoint.
 * ckptHdl is the handle the callback was registered on, pName the
 * checkpoint's name (all its `length` bytes; `value` is NUL-terminated
 * only when the name is shorter than CL_MAX_NAME_LENGTH), pIOVector/numSections describe the change (see
 * clCkptImmediateConsumptionRegister), pCookie is the value given at
 * registration.  pName and pIOVector, including the data buffers, belong
 * to the library and are valid only until the callback returns.  The return
 * value is ignored.
 */
typedef ClRcT (*ClCkptNotificationCallbackT)(ClCkptHdlT ckptHdl,
                                             ClNameT *pName,
                                             ClCkptIOVectorElementT *pIOVector,
                                             ClUint32T numSections,
                                             ClPtrT pCookie);

/*
 * Completion of clCkptCheckpointOpenAsync, run by clCkptDispatch.
 * invocation is the caller's value; on success error is CL_OK and
 * checkpointHandle the new handle, owned by the program (close it with
 * clCkptCheckpointClose).  On failure error is the error code and
 * checkpointHandle is 0.
 */
typedef void (*ClCkptCheckpointOpenCallbackT)(ClInvocationT invocation,
                                              ClCkptHdlT checkpointHandle,
                                              ClRcT error);

/*
 * Completion of clCkptCheckpointSynchronizeAsync, run by clCkptDispatch:
 * invocation is the caller's value, error the outcome.
 */
typedef void (*ClCkptCheckpointSynchronizeCallbackT)(ClInvocationT invocation,
                                                     ClRcT error);

/*
 * Callbacks given to clCkptInitialize.  Either may be NULL; the table is
 * copied.
 */
typedef struct {
    ClCkptCheckpointOpenCallbackT        checkpointOpenCallback;
    ClCkptCheckpointSynchronizeCallbackT checkpointSynchronizeCallback;
} ClCkptCallbacksT;

/* ------------------------------------------------------------------------
 * Functions
 * --------------------------------------------------------------------- */

/*
 * clCkptInitialize - start using the checkpoint service.
 *
 * Creates a new service handle and stores it in *ckptSvcHandle.  Each call
 * creates another, independent service handle.  `callbacks` supplies the
 * completion callbacks of the asynchronous functions; it may be NULL, and
 * either member may be NULL.  The table is copied.
 *
 * *version is the version the program was written for.  A releaseCode of
 * 'B' with a majorVersion of at most 1 is accepted (the usual request is
 * {'B', 1, 1}).  On return *version always holds the version the library
 * implements, {'B', 1, 1}, whether or not the request was accepted.
 *
 * Returns:
 *   CL_OK
 *   CL_CKPT_ERR_NULL_POINTER   ckptSvcHandle or version is NULL.
 *   0x31000f                   the version is not supported:
 *                              CL_VERSION_RC(CL_ERR_VERSION_MISMATCH),
 *                              component CL_CID_VERSION, not CL_CID_CKPT.
 *   CL_CKPT_ERR_TRY_AGAIN      the checkpoint service cannot be reached now
 *                              (no server answers, or the cluster is electing
 *                              its leaders); a later call may succeed.  Or,
 *                              called from inside an immediate-consumption
 *                              callback, another thread is in
 *                              clCkptInitialize or clCkptFinalize (waiting
 *                              could deadlock: that thread may be waiting for
 *                              this callback to return).
 *   CL_CKPT_ERR_INVALID_STATE  the settings (CLCKPT_* environment variables)
 *                              are wrong, and retrying cannot help: a value
 *                              that does not parse, an unparsable
 *                              CLCKPT_NATS_URL or one whose hosts do not
 *                              exist, credentials or a certificate the
 *                              server or client rejects, a CLCKPT_LINK or
 *                              CLCKPT_METRICS_ADDR that cannot be bound,
 *                              or a server on CLCKPT_PORT
 *                              that is not this data directory's (it does
 *                              not present the directory's certificate, or
 *                              does not take its token: "token mismatch").
 *                              The cause is logged to stderr.
 *   CL_CKPT_ERR_NO_RESOURCE    the data directory (CLCKPT_DATA_DIR) is
 *                              damaged, foreign or not writable; the log
 *                              says what and where.
 *   CL_CKPT_ERR_NO_SPACE       the data directory's filesystem has less
 *                              than half of CLCKPT_DISK_RESERVE free (plus
 *                              room for the store's memtable) and the data
 *                              directory holds no store yet.  A store that
 *                              exists is opened read-only instead: its
 *                              checkpoints open and read, and every change
 *                              fails with CL_CKPT_ERR_NO_SPACE until the
 *                              process starts again with space.
 *
 * A NATS server that answers but is slow to serve its JetStream (just
 * started, or under a debugger or valgrind) is waited for, up to two
 * minutes; one that cannot be reached at all fails the call at once.
 *
 * It may be called from inside an immediate-consumption callback.
 * The handle lives until clCkptFinalize.  See FORK above for processes that
 * fork.
 */
extern ClRcT clCkptInitialize(CL_OUT ClCkptSvcHdlT *ckptSvcHandle,
                              CL_IN const ClCkptCallbacksT *callbacks,
                              CL_INOUT ClVersionT *version);

/*
 * clCkptFinalize - stop using a service handle.
 *
 * Ends the service handle, and with it:
 * - every checkpoint handle opened through it, each closed as by
 *   clCkptCheckpointClose (so retention rules apply), and the section
 *   iteration handles of those checkpoints;
 * - the selection object: its eventfd is closed;
 * - completion callbacks not yet dispatched, which are discarded;
 * - a clCkptDispatch(CL_DISPATCH_BLOCKING) running on this handle in
 *   another thread, which returns CL_OK.
 *
 * When the last service handle of the process is finalized the library
 * returns to its uninitialized state.
 *
 * Like clCkptCheckpointClose, it returns only once no immediate-consumption
 * callback of those checkpoint handles is running or can start (except
 * the callback it is called from, if any).  From inside an
 * immediate-consumption callback it may end any service handle but the
 * last one: ending the last one stops the service, which waits for every
 * callback to return, this one included.
 *
 * Returns:
 *   CL_OK
 *   CL_CKPT_ERR_INVALID_HANDLE   ckptHandle is not a live service handle
 *                                (for example, already finalized).
 *   CL_CKPT_ERR_BAD_OPERATION    called from inside an immediate-
 *                                consumption callback for the last service
 *                                handle of the process; nothing changed.
 *                                Finalize it after the callback returned.
 *   CL_CKPT_ERR_TRY_AGAIN        called from inside an immediate-
 *                                consumption callback while another thread
 *                                is in clCkptInitialize or clCkptFinalize;
 *                                nothing changed.
 *   CL_CKPT_ERR_NOT_INITIALIZED  no service handle exists.
 */
extern ClRcT clCkptFinalize(CL_IN ClCkptSvcHdlT ckptHandle);

/*
 * clCkptCheckpointOpen - open a checkpoint, creating it if asked to.
 *
 * Opens the checkpoint named *ckeckpointName and stores a new checkpoint
 * handle in
 * *checkpointHandle.  Every successful call returns a new, distinct
 * handle, also when the same process opens the same checkpoint twice.
 *
 * checkpointOpenFlags is an OR of CL_CKPT_CHECKPOINT_READ, _WRITE and
 * _CREATE; 0 is allowed (the handle can then only query).  With
 * CL_CKPT_CHECKPOINT_CREATE and checkpointCreationAttributes:
 * - if no checkpoint of that name exists, it is created with those
 *   attributes;
 * - if one exists, all six attributes must equal the ones it was created
 *   with (with the current retention duration), or the call fails with
 *   CL_CKPT_ERR_ALREADY_EXIST.
 * Without CL_CKPT_CHECKPOINT_CREATE, checkpointCreationAttributes must be
 * NULL and the checkpoint must exist.
 *
 * A name is exactly the first `length` bytes of `value` (1 to
 * CL_MAX_NAME_LENGTH), all of them: any byte value is allowed, NUL
 * included, and names that differ in any byte or in length are different
 * checkpoints.  (The original stopped at the first NUL and at 255 bytes,
 * so that "a", "a\0b" and "a\0c" were one checkpoint.)
 *
 * Opening a checkpoint cancels a pending retention deadline, so its data
 * survives a reopen within the retention duration.
 *
 * timeout is a duration in nanoseconds.  0, a negative value and
 * CL_TIME_END mean no limit (real programs pass 0).  If the open has not
 * completed when a positive timeout expires the call returns
 * CL_CKPT_ERR_TIMEOUT and no handle is created.  (The original ignored the
 * timeout.)
 *
 * The name and the attributes are copied.  On failure *checkpointHandle is
 * not changed.
 *
 * Returns:
 *   CL_OK
 *   CL_CKPT_ERR_NULL_POINTER       checkpointHandle or ckeckpointName is
 *                                  NULL; or CREATE without attributes.
 *   CL_CKPT_ERR_BAD_FLAG           checkpointOpenFlags has a bit above 0x4.
 *   CL_CKPT_ERR_INVALID_PARAMETER  attributes given without CREATE; or
 *                                  checkpointSize and maxSectionSize are
 *                                  both non-zero and checkpointSize >
 *                                  maxSections * maxSectionSize; or the
 *                                  name's length is 0 or above
 *                                  CL_MAX_NAME_LENGTH.
 *   0x180002                       creating with maxSections == 0:
 *                                  CL_RC(CL_CID_CNT, CL_ERR_INVALID_PARAMETER),
 *                                  as in the original.
 *   CL_CKPT_ERR_NOT_EXIST          no checkpoint of that name and no CREATE
 *                                  (also after clCkptCheckpointDelete).
 *   CL_CKPT_ERR_ALREADY_EXIST      CREATE given, the checkpoint exists and
 *                                  an attribute differs.
 *   CL_CKPT_ERR_TIMEOUT            a positive timeout expired.
 *   CL_CKPT_ERR_INVALID_HANDLE     ckptHandle is not a live service handle.
 *   CL_CKPT_ERR_NOT_INITIALIZED    the library is not initialized.
 *
 * The parameter names, including "ckeckpointName" and the CL_IN on the
 * output parameter checkpointHandle, are those of the original.
 */
extern ClRcT clCkptCheckpointOpen(CL_IN ClCkptSvcHdlT ckptHandle,
                                  CL_IN const ClNameT *ckeckpointName,
                                  CL_IN const ClCkptCheckpointCreationAttributesT *checkpointCreationAttributes,
                                  CL_IN ClCkptOpenFlagsT checkpointOpenFlags,
                                  CL_IN ClTimeT timeout,
                                  CL_IN ClCkptHdlT *checkpointHandle);

/*
 * clCkptCheckpointOpenAsync - open a checkpoint without waiting.
 *
 * Starts the open described for clCkptCheckpointOpen, without a timeout,
 * and returns.  The outcome is delivered to the checkpointOpenCallback
 * given to clCkptInitialize, with `invocation`, the new handle and the
 * error code that clCkptCheckpointOpen would have returned.  The callback
 * runs only inside clCkptDispatch on this service handle, on the thread
 * that calls it; the selection object becomes readable when it is pending.
 * (In the original the callback ran on an internal thread until the
 * program had called clCkptSelectionObjectGet.)
 *
 * The name and attributes are copied before the call returns.  Argument
 * errors are returned directly, and then no callback follows.
 *
 * Returns:
 *   CL_OK                          the request is under way.
 *   CL_CKPT_ERR_INITIALIZED        no checkpointOpenCallback was given to
 *                                  clCkptInitialize (value of the original).
 *   CL_CKPT_ERR_NULL_POINTER       checkpointName is NULL; or CREATE
 *                                  without attributes.
 *   CL_CKPT_ERR_BAD_FLAG           checkpointOpenFlags has a bit above 0x4.
 *   CL_CKPT_ERR_INVALID_PARAMETER  as for clCkptCheckpointOpen.
 *   CL_CKPT_ERR_INVALID_HANDLE     ckptHandle is not a live service handle.
 *   CL_CKPT_ERR_NOT_INITIALIZED    the library is not initialized.
 * The errors that depend on the checkpoint (NOT_EXIST, ALREADY_EXIST, ...)
 * arrive through the callback.
 *
 * "checkpoiNtCreationAttributes" is the original's spelling.
 */
extern ClRcT clCkptCheckpointOpenAsync(CL_IN ClCkptSvcHdlT ckptHandle,
                                       CL_IN ClInvocationT invocation,
                                       CL_IN const ClNameT *checkpointName,
                                       CL_IN const ClCkptCheckpointCreationAttributesT *checkpoiNtCreationAttributes,
                                       CL_IN ClCkptOpenFlagsT checkpointOpenFlags);

/*
 * clCkptCheckpointClose - close a checkpoint handle.
 *
 * Ends the handle; later calls with it return CL_CKPT_ERR_INVALID_HANDLE.
 * Section iteration handles opened through it are ended too.  An
 * immediate-consumption callback registered on it does not start once
 * the close has begun, and one already running is waited for: when this
 * function returns none is running, so the cookie may be freed.  Called
 * from inside that very callback it does not wait for it (the callback's
 * arguments stay valid until it returns).
 *
 * When the last handle to the checkpoint (in any process) is closed:
 * - if clCkptCheckpointDelete was called, the checkpoint is destroyed;
 * - otherwise its retention duration decides: 0 destroys it now; a
 *   negative value or CL_TIME_END keeps it until clCkptCheckpointDelete;
 *   any other value destroys it that many nanoseconds later unless it is
 *   opened again before.  The deadline survives the processes: if none is
 *   running when it passes, the checkpoint is destroyed when the service is
 *   next started.  A CL_CKPT_DISTRIBUTED checkpoint always uses 0.
 *
 * Returns:
 *   CL_OK
 *   CL_CKPT_ERR_INVALID_HANDLE   not a live checkpoint handle (for example,
 *                                already closed).
 *   CL_CKPT_ERR_NOT_INITIALIZED  the library is not initialized.
 */
extern ClRcT clCkptCheckpointClose(CL_IN ClCkptHdlT checkpointHandle);

/*
 * clCkptCheckpointDelete - remove a checkpoint's name.
 *
 * The name is removed at once: a later open without CREATE fails with
 * CL_CKPT_ERR_NOT_EXIST, and an open with CREATE makes a new, empty
 * checkpoint.  If no handle to the old checkpoint is open it is destroyed
 * now; otherwise the open handles keep working on it and it is destroyed
 * at the last close.  The name is copied; names are compared as for
 * clCkptCheckpointOpen (all `length` bytes).
 *
 * Returns:
 *   CL_OK
 *   CL_CKPT_ERR_NULL_POINTER     checkpointName is NULL.
 *   CL_CKPT_ERR_INVALID_PARAMETER
 *                                the name's length is 0 or above
 *                                CL_MAX_NAME_LENGTH.
 *   CL_CKPT_ERR_NOT_EXIST        no checkpoint has that name.
 *   CL_CKPT_ERR_INVALID_HANDLE   ckptHandle is not a live service handle.
 *   CL_CKPT_ERR_NOT_INITIALIZED  the library is not initialized.
 */
extern ClRcT clCkptCheckpointDelete(CL_IN ClCkptSvcHdlT ckptHandle,
                                    CL_IN const ClNameT *checkpointName);

/*
 * clCkptCheckpointRetentionDurationSet - change the retention duration.
 *
 * Sets the checkpoint's retention duration (see clCkptCheckpointClose for
 * its meaning).  It is stored as the creation attribute, so a later open
 * with CREATE must pass the new value to match.
 *
 * Returns:
 *   CL_OK
 *   CL_CKPT_ERR_BAD_OPERATION    the checkpoint has been deleted
 *                                (clCkptCheckpointDelete) and awaits its
 *                                last close.
 *   CL_CKPT_ERR_INVALID_HANDLE   not a live checkpoint handle.
 *   CL_CKPT_ERR_NOT_INITIALIZED  the library is not initialized.
 */
extern ClRcT clCkptCheckpointRetentionDurationSet(CL_IN ClCkptHdlT checkpointHandle,
                                                  CL_IN ClTimeT retentionDuration);

/*
 * clCkptActiveReplicaSet - make the caller's replica the active one.
 *
 * For a collocated checkpoint (CL_CKPT_CHECKPOINT_COLLOCATED without
 * CL_CKPT_WR_ALL_REPLICAS): the replica used by this process becomes the
 * active replica, which receives writes and serves reads.  A collocated
 * checkpoint has no active replica until this is called, and until then
 * section and data operations (SectionCreate, SectionDelete,
 * SectionExpirationTimeSet, SectionIterationInitialize, CheckpointWrite,
 * SectionOverwrite, CheckpointRead, CheckpointStatusGet,
 * CheckpointSynchronize and CheckpointSynchronizeAsync) fail with
 * CL_CKPT_ERR_NOT_EXIST.  The same holds after the active replica's
 * process died, until a process calls this function again.  A process
 * that becomes active calls it first; calling it again is harmless.
 *
 * Returns:
 *   CL_OK
 *   CL_CKPT_ERR_BAD_OPERATION     the checkpoint is not collocated.
 *   CL_CKPT_ERR_OP_NOT_PERMITTED  the handle was opened without WRITE or
 *                                 CREATE.
 *   CL_CKPT_ERR_INVALID_HANDLE    not a live checkpoint handle.
 *   CL_CKPT_ERR_NOT_INITIALIZED   the library is not initialized.
 */
extern ClRcT clCkptActiveReplicaSet(CL_IN ClCkptHdlT checkpointHandle);

/*
 * clCkptCheckpointStatusGet - describe a checkpoint.
 *
 * Fills *checkpointStatus with the creation attributes (with the current
 * retention duration), the number of sections not counting the default
 * section, and memoryUsed: the sum of the data sizes of all sections,
 * including the default section, capped at 0xFFFFFFFF.  (The original
 * always reported 0.)  Needs no open flag.  The counts come from the active
 * replica, so a collocated checkpoint needs one (see clCkptActiveReplicaSet).
 *
 * Returns:
 *   CL_OK
 *   CL_CKPT_ERR_NULL_POINTER     checkpointStatus is NULL.
 *   CL_CKPT_ERR_NOT_EXIST        collocated checkpoint without an active
 *                                replica.
 *   CL_CKPT_ERR_INVALID_HANDLE   not a live checkpoint handle.
 *   CL_CKPT_ERR_NOT_INITIALIZED  the library is not initialized.
 */
extern ClRcT clCkptCheckpointStatusGet(CL_IN ClCkptHdlT checkpointHandle,
                                       CL_OUT ClCkptCheckpointDescriptorT *checkpointStatus);

/*
 * clCkptSectionCreate - create a section.
 *
 * Creates the section *sectionCreationAttributes->sectionId, expiring at
 * sectionCreationAttributes->expirationTime (absolute ns since the epoch,
 * or CL_TIME_END), holding a copy of the initialDataSize bytes at
 * initialData.  initialData NULL with size 0 creates an empty section.
 *
 * Generated ids: if the section id is {0, NULL}
 * (CL_CKPT_GENERATED_SECTION_ID), the library names the section
 * "generatedSection<N>", N counting from 0 per checkpoint, and writes the
 * id back into *sectionCreationAttributes->sectionId: `id` points to a new
 * buffer holding the NUL-terminated name and `idLen` is its length
 * including the NUL.  The caller owns that buffer and releases it with
 * clHeapFree.  This also works on a checkpoint with maxSections == 1.
 * An id with idLen 0 and a non-NULL `id` is a generated id as well: the
 * library replaces the `id` pointer with its new buffer and neither reads,
 * changes nor frees the memory the old pointer pointed to, so a caller
 * that owned it must have kept another pointer to it to release it.
 *
 * Returns:
 *   CL_OK
 *   CL_CKPT_ERR_NULL_POINTER       sectionCreationAttributes or its
 *                                  sectionId is NULL; the id is NULL with a
 *                                  non-zero idLen; initialData is NULL with
 *                                  a non-zero size.
 *   CL_CKPT_ERR_INVALID_PARAMETER  initialData is not NULL but the size is
 *                                  0; idLen > maxSectionIdSize, or above
 *                                  64000 (the longest id stored);
 *                                  maxSectionSize is non-zero and
 *                                  initialDataSize exceeds it;
 *                                  expirationTime is not CL_TIME_END and
 *                                  already past (at one-second resolution).
 *   CL_CKPT_ERR_ALREADY_EXIST      a section with this id exists, or an
 *                                  explicit id was given on a checkpoint
 *                                  with maxSections == 1.
 *   CL_CKPT_ERR_NO_SPACE           the checkpoint already has maxSections
 *                                  sections.
 *   CL_CKPT_ERR_OP_NOT_PERMITTED   opened without WRITE or CREATE.
 *   CL_CKPT_ERR_NOT_EXIST          collocated checkpoint without an active
 *                                  replica (see clCkptActiveReplicaSet).
 *   CL_CKPT_ERR_INVALID_HANDLE     not a live checkpoint handle.
 *   CL_CKPT_ERR_NOT_INITIALIZED    the library is not initialized.
 *
 * When the section expires it is deleted.
 */
extern ClRcT clCkptSectionCreate(CL_IN ClCkptHdlT checkpointHandle,
                                 CL_IN ClCkptSectionCreationAttributesT *sectionCreationAttributes,
                                 CL_IN const ClUint8T *initialData,
                                 CL_IN ClSizeT initialDataSize);

/*
 * clCkptSectionDelete - delete a section.
 *
 * Deletes the section *sectionId.  The default section cannot be deleted.
 * Iterations in progress skip it from then on.  On a CL_CKPT_DISTRIBUTED
 * checkpoint, the registered immediate-consumption callbacks are told with
 * an element of size 0 (see clCkptImmediateConsumptionRegister).  The id
 * is copied.
 *
 * Returns:
 *   CL_OK
 *   CL_CKPT_ERR_NULL_POINTER       sectionId is NULL.
 *   CL_CKPT_ERR_INVALID_PARAMETER  idLen is 0 or id is NULL.
 *   CL_CKPT_ERR_NOT_EXIST          no such section; or collocated
 *                                  checkpoint without an active replica.
 *   CL_CKPT_ERR_OP_NOT_PERMITTED   opened without WRITE or CREATE.
 *   CL_CKPT_ERR_INVALID_HANDLE     not a live checkpoint handle.
 *   CL_CKPT_ERR_NOT_INITIALIZED    the library is not initialized.
 */
extern ClRcT clCkptSectionDelete(CL_IN ClCkptHdlT checkpointHandle,
                                 CL_IN const ClCkptSectionIdT *sectionId);

/*
 * clCkptSectionExpirationTimeSet - change when a section expires.
 *
 * expirationTime is absolute, in nanoseconds since the epoch;
 * CL_TIME_END makes the section permanent.
 *
 * Returns:
 *   CL_OK
 *   CL_CKPT_ERR_NULL_POINTER       sectionId is NULL.
 *   CL_CKPT_ERR_INVALID_PARAMETER  idLen is 0 or id is NULL; the
 *                                  checkpoint has maxSections == 1; the
 *                                  time is already past.
 *   CL_CKPT_ERR_NOT_EXIST          no such section; or collocated
 *                                  checkpoint without an active replica.
 *   CL_CKPT_ERR_OP_NOT_PERMITTED   opened without WRITE or CREATE.
 *   CL_CKPT_ERR_INVALID_HANDLE     not a live checkpoint handle.
 *   CL_CKPT_ERR_NOT_INITIALIZED    the library is not initialized.
 */
extern ClRcT clCkptSectionExpirationTimeSet(CL_IN ClCkptHdlT checkpointHandle,
                                            CL_IN const ClCkptSectionIdT* sectionId,
                                            CL_IN ClTimeT expirationTime);

/*
 * clCkptSectionIterationInitialize - start listing sections.
 *
 * Takes a snapshot of the ids of the sections chosen by sectionsChosen
 * (expirationTime is the reference time of the LEQ and GEQ choices and is
 * ignored otherwise) and stores a new iteration handle in
 * *sectionIterationHandle.  An empty checkpoint gives an iteration with no
 * entries.  The order of the entries is unspecified.  End the iteration
 * with clCkptSectionIterationFinalize.
 *
 * Returns:
 *   CL_OK
 *   CL_CKPT_ERR_NULL_POINTER       sectionIterationHandle is NULL.
 *   CL_CKPT_ERR_INVALID_PARAMETER  sectionsChosen is not one of the
 *                                  ClCkptSectionsChosenT values.
 *   CL_CKPT_ERR_OP_NOT_PERMITTED   the checkpoint holds only its default
 *                                  section (maxSections == 1), as in the
 *                                  original.
 *   CL_CKPT_ERR_NOT_EXIST          collocated checkpoint without an active
 *                                  replica.
 *   CL_CKPT_ERR_INVALID_HANDLE     not a live checkpoint handle.
 *   CL_CKPT_ERR_NOT_INITIALIZED    the library is not initialized.
 */
extern ClRcT clCkptSectionIterationInitialize(CL_IN ClCkptHdlT checkpointHandle,
                                              CL_IN ClCkptSectionsChosenT sectionsChosen,
                                              CL_IN ClTimeT expirationTime,
                                              CL_OUT ClHandleT *sectionIterationHandle);

/*
 * clCkptSectionIterationNext - get the next section of an iteration.
 *
 * Fills *sectionDescriptor with the next section of the snapshot.
 * Sections deleted since the iteration began are skipped; sections created
 * since are not returned.  sectionDescriptor->sectionId.id is a new buffer
 * of exactly idLen bytes (not NUL-terminated unless the id contains the
 * NUL) owned by the caller, who releases it with clHeapFree.
 *
 * Returns:
 *   CL_OK
 *   0x160101 = CKPT_RC(CL_CKPT_ERR_NO_SECTIONS)
 *                                  no more sections; repeated calls keep
 *                                  returning it.  Test it with
 *                                  CL_GET_ERROR_CODE(rc) ==
 *                                  CL_CKPT_ERR_NO_SECTIONS.
 *   CL_CKPT_ERR_NULL_POINTER       sectionDescriptor is NULL.
 *   CL_CKPT_ERR_INVALID_HANDLE     not a live iteration handle.
 *   CL_CKPT_ERR_NOT_INITIALIZED    the library is not initialized.
 */
extern ClRcT clCkptSectionIterationNext(CL_IN ClHandleT sectionIterationHandle,
                                        CL_OUT ClCkptSectionDescriptorT *sectionDescriptor);

/*
 * clCkptSectionIterationFinalize - end an iteration.
 *
 * Releases the snapshot and ends the handle.  Section ids already returned
 * by clCkptSectionIterationNext stay with the caller.
 *
 * Returns:
 *   CL_OK
 *   CL_CKPT_ERR_INVALID_HANDLE     not a live iteration handle.
 *   CL_CKPT_ERR_NOT_INITIALIZED    the library is not initialized.
 */
extern ClRcT clCkptSectionIterationFinalize(CL_IN ClHandleT sectionIterationHandle);

/*
 * clCkptCheckpointWrite - write data into one or more sections.
 *
 * For each of the numberOfElements elements of ioVector, in order, writes
 * dataSize bytes from dataBuffer at dataOffset in the section sectionId
 * (readSize is ignored).  A write beyond the end grows the section to
 * dataOffset + dataSize, filling any gap with zero bytes; otherwise the
 * bytes are replaced in place.  {0, NULL} is the default section of a
 * checkpoint with maxSections == 1.  checkpointSize does not limit writes.
 *
 * The elements are applied one after the other and are not rolled back:
 * when an element fails, the earlier ones stay written, the later ones are
 * not applied, and its index is stored in *erroneousVectorIndex
 * (erroneousVectorIndex may be NULL).  The data is copied before the call
 * returns.  Other handles with an immediate-consumption callback on a
 * CL_CKPT_DISTRIBUTED checkpoint are told about the written elements.
 *
 * Returns:
 *   CL_OK
 *   CL_CKPT_ERR_INVALID_PARAMETER  ioVector is NULL or numberOfElements is
 *                                  0 (as in the original: not NULL_POINTER);
 *                                  checkpointHandle is 0; an element goes
 *                                  past maxSectionSize (when non-zero:
 *                                  dataOffset + dataSize > maxSectionSize);
 *                                  an element's id is NULL on a checkpoint
 *                                  with maxSections > 1.
 *   CL_CKPT_ERR_NULL_POINTER       an element's dataBuffer is NULL with a
 *                                  non-zero dataSize (the elements before
 *                                  it are written).
 *   CL_CKPT_ERR_NOT_EXIST          an element's section does not exist; or
 *                                  collocated checkpoint without an active
 *                                  replica.
 *   CL_CKPT_ERR_OP_NOT_PERMITTED   opened without WRITE or CREATE.
 *   CL_CKPT_ERR_INVALID_HANDLE     not a live checkpoint handle.
 *   CL_CKPT_ERR_NOT_INITIALIZED    the library is not initialized.
 */
extern ClRcT clCkptCheckpointWrite(CL_IN ClCkptHdlT checkpointHandle,
                                   CL_IN const ClCkptIOVectorElementT *ioVector,
                                   CL_IN ClUint32T numberOfElements,
                                   CL_OUT ClUint32T *erroneousVectorIndex);

/*
 * clCkptSectionOverwrite - replace the whole contents of a section.
 *
 * The section *sectionId afterwards holds exactly the dataSize bytes at
 * dataBuffer.  {0, NULL} is the default section of a checkpoint with
 * maxSections == 1.  The data is copied before the call returns.  Other
 * handles with an immediate-consumption callback on a CL_CKPT_DISTRIBUTED
 * checkpoint receive the new contents.
 *
 * Returns:
 *   CL_OK
 *   CL_CKPT_ERR_NULL_POINTER       sectionId or dataBuffer is NULL.
 *   CL_CKPT_ERR_INVALID_PARAMETER  dataSize is 0; maxSectionSize is
 *                                  non-zero and dataSize exceeds it; the id
 *                                  is NULL on a checkpoint with
 *                                  maxSections > 1.
 *   CL_CKPT_ERR_NOT_EXIST          no such section; or collocated
 *                                  checkpoint without an active replica.
 *   CL_CKPT_ERR_OP_NOT_PERMITTED   opened without WRITE or CREATE.
 *   CL_CKPT_ERR_INVALID_HANDLE     not a live checkpoint handle.
 *   CL_CKPT_ERR_NOT_INITIALIZED    the library is not initialized.
 */
extern ClRcT clCkptSectionOverwrite(CL_IN ClCkptHdlT checkpointHandle,
                                    CL_IN const ClCkptSectionIdT *sectionId,
                                    CL_IN const void *dataBuffer,
                                    CL_IN ClSizeT dataSize);

/*
 * clCkptCheckpointRead - read data from one or more sections.
 *
 * For each of the numberOfElements elements of ioVector, reads up to
 * dataSize bytes of the section sectionId starting at dataOffset into
 * dataBuffer.  {0, NULL} is the default section of a checkpoint with
 * maxSections == 1.  Reading past the end is not an error: if dataOffset
 * is beyond the end nothing is read, otherwise the read stops at the end.
 *
 * *erroneousVectorIndex is set to 0 first (erroneousVectorIndex may be
 * NULL).  Either every element is read or, on error, nothing is copied to
 * any element and the failing element's index is stored in
 * *erroneousVectorIndex.  On success, for every element, readSize is the
 * number of bytes read, dataSize is set to the same value, and dataOffset
 * is unchanged.
 *
 * Library-allocated buffers: an element whose dataBuffer is NULL receives
 * the whole section from dataOffset to the end (its dataSize is ignored),
 * in a new buffer of readSize + 1 bytes that the library stores in
 * dataBuffer, also when readSize is 0.  The caller owns the buffer and
 * releases it with clHeapFree.  No buffer is allocated when the call fails.
 *
 * Returns:
 *   CL_OK
 *   CL_CKPT_ERR_NULL_POINTER       ioVector is NULL; an element's id is
 *                                  NULL on a checkpoint with
 *                                  maxSections > 1.
 *   CL_CKPT_ERR_INVALID_PARAMETER  numberOfElements is 0; maxSectionSize
 *                                  is non-zero and an element's dataSize or
 *                                  dataOffset exceeds it.
 *   CL_CKPT_ERR_NOT_EXIST          an element's section does not exist; or
 *                                  collocated checkpoint without an active
 *                                  replica.
 *   CL_CKPT_ERR_OP_NOT_PERMITTED   opened without READ.
 *   CL_CKPT_ERR_INVALID_HANDLE     not a live checkpoint handle.
 *   CL_CKPT_ERR_NOT_INITIALIZED    the library is not initialized.
 */
extern ClRcT clCkptCheckpointRead(CL_IN ClCkptHdlT checkpointHandle,
                                  CL_INOUT ClCkptIOVectorElementT *ioVector,
                                  CL_IN ClUint32T numberOfElements,
                                  CL_OUT ClUint32T *erroneousVectorIndex);

/*
 * clCkptCheckpointSynchronize - bring all replicas up to date.
 *
 * For an asynchronous checkpoint, returns once every replica holds all the
 * writes made before the call.  Returns CL_OK at once if there is no other
 * replica.
 *
 * timeout is a duration in nanoseconds; 0, a negative value and
 * CL_TIME_END mean no limit.  (The original ignored the timeout.)
 *
 * Returns:
 *   CL_OK
 *   CL_CKPT_ERR_TIMEOUT            the replicas were not all updated
 *                                  before a positive timeout expired.
 *   CL_CKPT_ERR_BAD_OPERATION      the checkpoint is CL_CKPT_WR_ALL_REPLICAS
 *                                  (always synchronous).
 *   CL_CKPT_ERR_OP_NOT_PERMITTED   opened without WRITE or CREATE.
 *   CL_CKPT_ERR_NOT_EXIST          collocated checkpoint without an active
 *                                  replica.
 *   CL_CKPT_ERR_INVALID_HANDLE     not a live checkpoint handle.
 *   CL_CKPT_ERR_NOT_INITIALIZED    the library is not initialized.
 *
 * "ckeckpointHandle" is the original's spelling.
 */
extern ClRcT clCkptCheckpointSynchronize(CL_IN ClCkptHdlT ckeckpointHandle,
                                         CL_IN ClTimeT timeout);

/*
 * clCkptCheckpointSynchronizeAsync - bring all replicas up to date without
 * waiting.
 *
 * Starts what clCkptCheckpointSynchronize does, without a time limit, and
 * returns.  The outcome is delivered to the checkpointSynchronizeCallback
 * given to clCkptInitialize, with `invocation`; it runs only inside
 * clCkptDispatch on the service handle the checkpoint was opened through.
 *
 * Returns:
 *   CL_OK                          the request is under way.
 *   CL_CKPT_ERR_INITIALIZED        no checkpointSynchronizeCallback was
 *                                  given to clCkptInitialize (value of the
 *                                  original).
 *   CL_CKPT_ERR_BAD_OPERATION      the checkpoint is CL_CKPT_WR_ALL_REPLICAS.
 *   CL_CKPT_ERR_OP_NOT_PERMITTED   opened without WRITE or CREATE.
 *   CL_CKPT_ERR_NOT_EXIST          collocated checkpoint without an active
 *                                  replica.
 *   CL_CKPT_ERR_INVALID_HANDLE     not a live checkpoint handle.
 *   CL_CKPT_ERR_NOT_INITIALIZED    the library is not initialized.
 */
extern ClRcT clCkptCheckpointSynchronizeAsync(CL_IN ClCkptHdlT checkpointHandle,
                                              CL_IN ClInvocationT invocation);

/*
 * clCkptImmediateConsumptionRegister - be told about changes at once.
 *
 * For a CL_CKPT_DISTRIBUTED (hot-standby) checkpoint: registers `callback`
 * with `pCookie` on this handle.  Registering again replaces the previous
 * callback and cookie; a NULL callback turns delivery to this handle off.
 * There is no separate deregister function: closing the handle ends
 * delivery.
 *
 * After any handle changes the checkpoint, the callback of every other
 * handle that has one, in this process or another, is called.  The handle
 * that made the change is not called; other handles of the same process
 * are (in the original, the whole writing process was skipped).  The
 * callback runs on a thread owned by the library, without any
 * clCkptDispatch, and should return promptly.  It may call any function
 * of the library, with these rules: clCkptCheckpointClose of its own
 * handle works and ends delivery to it; closing another handle (or
 * finalizing a service handle) waits for that handle's callback if one is
 * running on another thread, so two callbacks that close each other's
 * handles deadlock; clCkptFinalize of the last service handle returns
 * CL_CKPT_ERR_BAD_OPERATION (see clCkptFinalize).  Its arguments:
 * - after clCkptSectionOverwrite: numSections 1, one element with the
 *   section id, dataBuffer holding the whole new contents, dataSize and
 *   readSize their length, dataOffset 0;
 * - after clCkptCheckpointWrite: the written elements as written (section
 *   id, data, dataSize, dataOffset);
 * - after clCkptSectionDelete: one element with the section id and
 *   dataSize 0.
 * All pointers in the arguments are valid only until the callback returns.
 *
 * Returns:
 *   CL_OK
 *   CL_CKPT_ERR_OP_NOT_PERMITTED   the checkpoint is not
 *                                  CL_CKPT_DISTRIBUTED.
 *   CL_CKPT_ERR_INVALID_HANDLE     not a live checkpoint handle.
 *   CL_CKPT_ERR_NOT_INITIALIZED    the library is not initialized.
 */
extern ClRcT clCkptImmediateConsumptionRegister(CL_IN ClCkptHdlT checkpointHandle,
                                                CL_IN ClCkptNotificationCallbackT callback,
                                                CL_IN ClPtrT pCookie);

/*
 * clCkptSelectionObjectGet - get the file descriptor that signals pending
 * callbacks.
 *
 * Stores in *selectionObject a file descriptor (an eventfd; the original
 * used the read end of a pipe) that is readable while completion
 * callbacks of this service handle are waiting for clCkptDispatch.  Use it with poll() or select(); do not read
 * from it or close it.  Every call for the same service handle returns the
 * same descriptor; clCkptFinalize closes it.
 *
 * Returns:
 *   CL_OK
 *   CL_CKPT_ERR_NULL_POINTER       selectionObject is NULL.
 *   CL_CKPT_ERR_NO_RESOURCE        the eventfd could not be created.
 *   CL_CKPT_ERR_INVALID_HANDLE     not a live service handle.
 *   CL_CKPT_ERR_NOT_INITIALIZED    the library is not initialized.
 */
extern ClRcT clCkptSelectionObjectGet(CL_IN ClCkptSvcHdlT ckptHandle,
                                      CL_OUT ClSelectionObjectT *selectionObject);

/*
 * clCkptDispatch - run pending completion callbacks.
 *
 * Runs the pending open and synchronize completion callbacks of this
 * service handle on the calling thread:
 * - CL_DISPATCH_ONE: at most one; CL_OK also when none is pending (the
 *   original returned an error then);
 * - CL_DISPATCH_ALL: all those pending when the call starts; CL_OK also
 *   when none is pending;
 * - CL_DISPATCH_BLOCKING: waits for callbacks and runs them until
 *   clCkptFinalize is called on this service handle (from another thread
 *   or from a callback), then returns CL_OK.  (The original never
 *   returned.)
 * clCkptSelectionObjectGet need not have been called first.
 *
 * Returns:
 *   CL_OK
 *   CL_CKPT_ERR_INVALID_PARAMETER  dispatchFlags is not a
 *                                  ClDispatchFlagsT value.
 *   CL_CKPT_ERR_INVALID_HANDLE     not a live service handle.
 *   CL_CKPT_ERR_NOT_INITIALIZED    the library is not initialized.
 */
extern ClRcT clCkptDispatch(CL_IN ClCkptSvcHdlT ckptHandle,
                            CL_IN ClDispatchFlagsT dispatchFlags);

#ifdef __cplusplus
}
#endif

#endif /* _CL_CKPT_API_H_ */
