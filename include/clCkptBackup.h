/*
 * clCkptBackup.h - backup and restore of checkpoints into an archive with a
 * catalogue (an extension of clCkptApi.h; not in the original library).
 *
 * A backup copies checkpoints while programs go on writing them: each copy
 * is a consistent cut (every section as of one write of the checkpoint's
 * active replica, a multi-section write whole or not at all), taken without
 * blocking writers or readers, on whichever member the active replica is.
 * The copies of one backup call (a transaction) are committed to the
 * archive's catalogue together or not at all.  If the active replica changes
 * during the backup (its process dies, a switch-over), the backup fails with
 * CL_CKPT_ERR_TRY_AGAIN and commits nothing.  Every piece of a copy carries a
 * SHA-256; a restore checks them all before the restored checkpoint appears,
 * and refuses a damaged copy.
 *
 * Archives: NULL or "" is the directory "backups.d" in the data directory
 * (CLCKPT_DATA_DIR); a string starting with '/' is that directory; "nats:B"
 * is the JetStream object store bucket B of the service's NATS cluster.
 *
 * Backups and restores run in the background and are followed through a
 * wait object (ClCkptBackupWaitT): it can be waited on with a timeout,
 * asked for progress, cancelled, and has a file descriptor that poll() and
 * select() see readable once the work has ended.  A wait object stays valid
 * until clCkptBackupWaitFinalize, which every wait object needs (also after
 * it ended).  The last clCkptFinalize of the process cancels the work still
 * running and waits for its end; the wait objects then still answer, with
 * the error the work ended with.
 *
 * Every function may be called from any thread.  Strings passed in are
 * NUL-terminated and copied before the call returns.
 */
#ifndef CL_CKPT_BACKUP_H
#define CL_CKPT_BACKUP_H

#include <clCkptApi.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The version of the option, query and descriptor structures below. */
#define CL_CKPT_BACKUP_VERSION 1

/* Limits of the free-text fields, in bytes without the NUL (as XBSA's). */
#define CL_CKPT_BACKUP_MAX_DESCRIPTION 100
#define CL_CKPT_BACKUP_MAX_OBJECT_INFO 256

/* A backup or restore under way (or ended), until clCkptBackupWaitFinalize. */
typedef ClHandleT ClCkptBackupWaitT;

/* A walk through the copies a query found (clCkptBackupQueryInitialize). */
typedef ClHandleT ClCkptBackupQueryHdlT;

/* XBSA copy types. */
typedef enum {
    CL_CKPT_BACKUP_COPY_ANY = 0,     /* options: the default (BACKUP); query: any */
    CL_CKPT_BACKUP_COPY_BACKUP = 1,  /* the checkpoint is kept */
    CL_CKPT_BACKUP_COPY_ARCHIVE = 2, /* a long-term copy */
} ClCkptBackupCopyTypeT;

/* Whether a copy is the newest of its checkpoint and copy type. */
typedef enum {
    CL_CKPT_BACKUP_STATUS_ANY = 0,
    CL_CKPT_BACKUP_STATUS_MOST_RECENT = 1,
    CL_CKPT_BACKUP_STATUS_NOT_MOST_RECENT = 2,
} ClCkptBackupStatusT;

typedef enum {
    CL_CKPT_BACKUP_COMPRESS_NONE = 0,
    CL_CKPT_BACKUP_COMPRESS_ZSTD = 1,
} ClCkptBackupCompressionT;

/*
 * Options of clCkptBackupStart.  Set size to sizeof(ClCkptBackupOptionsT)
 * and version to CL_CKPT_BACKUP_VERSION; zero every field you do not use
 * (memset), so that later versions read defaults from them.
 */
typedef struct {
    ClUint32T size;
    ClUint32T version;
    /* How long the copies are kept: they expire that many nanoseconds after
     * they were made, and the archive's sweeper deletes them.  0: never. */
    ClTimeT retentionDuration;
    ClCkptBackupCopyTypeT copyType;
    ClCkptBackupCompressionT compression;
    /* Free text stored with every copy (NULL: none). */
    const char *description; /* at most CL_CKPT_BACKUP_MAX_DESCRIPTION bytes */
    const char *objectInfo;  /* at most CL_CKPT_BACKUP_MAX_OBJECT_INFO bytes */
    const char *archive;     /* see the top of this file */
    /* CL_TRUE: a backup name in use by a live copy is taken over (the old
     * copy is deleted in the same commit).  CL_FALSE: such a name fails. */
    ClBoolT overwrite;
} ClCkptBackupOptionsT;

/* Options of clCkptRestoreStart (size and version as above). */
typedef struct {
    ClUint32T size;
    ClUint32T version;
    const char *archive;
    /* CL_TRUE: a live checkpoint of the target name is replaced, if its
     * creation attributes equal the copy's.  CL_FALSE: such a name fails. */
    ClBoolT replace;
    /* How clCkptRestoreHandleGet's handle is opened (CL_CKPT_CHECKPOINT_READ,
     * _WRITE); 0: the restored checkpoint is not kept open (its retention
     * duration then runs as after a last close). */
    ClCkptOpenFlagsT openFlags;
} ClCkptRestoreOptionsT;

/* A query (size and version as above).  Zero fields match everything. */
typedef struct {
    ClUint32T size;
    ClUint32T version;
    const char *archive;
    /* Patterns on the checkpoint and backup names: '*' any run of bytes,
     * '?' one byte.  NULL or "": any. */
    const char *checkpointPattern;
    const char *backupPattern;
    ClCkptBackupCopyTypeT copyType;
    ClCkptBackupStatusT status;
    /* Creation time range, nanoseconds since 1970 UTC, inclusive; 0: open. */
    ClTimeT createdFrom;
    ClTimeT createdTo;
} ClCkptBackupQueryT;

/* One copy in the catalogue. */
typedef struct {
    ClUint64T copyId;         /* unique in the archive, never 0 */
    ClNameT checkpointName;   /* the checkpoint copied */
    ClNameT backupName;       /* unique among the live copies */
    char owner[64];           /* "uid:user" of the process that made it */
    ClTimeT createTime;       /* ns since 1970 UTC, when the cut was taken */
    ClTimeT expireTime;       /* ns since 1970 UTC; 0: never */
    ClUint64T size;           /* bytes in the archive */
    char digest[65];          /* hex SHA-256 of the archived object */
    ClCkptBackupCopyTypeT copyType;
    ClCkptBackupStatusT status;
    ClCkptBackupCompressionT compression;
    char description[CL_CKPT_BACKUP_MAX_DESCRIPTION + 1];
    char objectInfo[CL_CKPT_BACKUP_MAX_OBJECT_INFO + 1];
    ClUint64T epoch;          /* the position of the cut in the checkpoint */
    ClUint64T lsn;
} ClCkptBackupDescriptorT;

/*
 * clCkptBackupStart - start a backup of one or several open checkpoints.
 *
 * Copies the checkpoints of checkpointHandles[0..numberOfCheckpoints-1]
 * under the names backupNames[0..numberOfCheckpoints-1] into the archive
 * of *options, and returns at once; *wait follows the work.  All the copies
 * are committed together when all are stored, or none is.  Any handle
 * (read or write) will do; the checkpoint is found by its name.  A handle
 * closed during the backup does not stop it.
 *
 * Returns:
 *   CL_OK                          the backup is under way.
 *   CL_CKPT_ERR_NULL_POINTER       checkpointHandles, backupNames, options
 *                                  or wait is NULL.
 *   CL_CKPT_ERR_INVALID_PARAMETER  numberOfCheckpoints is 0 or above 1024;
 *                                  options->size is below the version-1
 *                                  size or options->version is not 1; a
 *                                  backup name is empty, too long or twice
 *                                  in the call; a description or object
 *                                  info is too long; copyType, compression
 *                                  or the archive is not one of the above.
 *   CL_CKPT_ERR_ALREADY_EXIST      a backup name is in use by a live copy
 *                                  (and overwrite is not set), or by a
 *                                  backup under way in this process.
 *   CL_CKPT_ERR_INVALID_HANDLE     a checkpoint handle is not live.
 *   CL_CKPT_ERR_NO_RESOURCE        the archive cannot be opened or read.
 *   CL_CKPT_ERR_TRY_AGAIN          the archive is not reachable now.
 *   CL_CKPT_ERR_NOT_INITIALIZED    the library is not initialized.
 * The errors of the work itself come from clCkptBackupWait.
 */
extern ClRcT clCkptBackupStart(CL_IN const ClCkptHdlT *checkpointHandles,
                               CL_IN const ClNameT *backupNames,
                               CL_IN ClUint32T numberOfCheckpoints,
                               CL_IN const ClCkptBackupOptionsT *options,
                               CL_OUT ClCkptBackupWaitT *wait);

/*
 * clCkptRestoreStart - start restoring a copy into a checkpoint.
 *
 * Chooses the newest live copy called *backupName, or (backupName NULL)
 * the copy copyId, and re-creates it exactly (attributes, section ids,
 * expiration times, data) as the checkpoint *targetName (NULL: the name of
 * the checkpoint copied).  The copy is checked as it is read; the restored
 * checkpoint appears only once all of it was checked, at once: readers see
 * the checkpoint of that name before or after, never a mix.  Replacing a
 * checkpoint works as clCkptCheckpointDelete does: handles open on the old
 * one keep it until they close; opens made afterwards get the restored one.
 *
 * Returns:
 *   CL_OK                          the restore is under way.
 *   CL_CKPT_ERR_NULL_POINTER       options or wait is NULL.
 *   CL_CKPT_ERR_INVALID_PARAMETER  backupName is NULL and copyId is 0; a
 *                                  name is empty or too long; targetName
 *                                  is NULL and the copy's checkpoint name
 *                                  is longer than CL_MAX_NAME_LENGTH (a
 *                                  saCkpt program's, up to 2048 bytes: give
 *                                  a targetName); options as for
 *                                  clCkptBackupStart; openFlags has a bit
 *                                  other than READ and WRITE.
 *   CL_CKPT_ERR_INVALID_HANDLE     ckptHandle is not a live service handle.
 *   CL_CKPT_ERR_NOT_INITIALIZED    the library is not initialized.
 * The errors of the work come from clCkptBackupWait: CL_CKPT_ERR_NOT_EXIST
 * (no such copy), CL_CKPT_ERR_ALREADY_EXIST (the target exists and replace
 * is not set, or its attributes differ), CL_CKPT_ERR_NO_RESOURCE (the copy
 * is damaged: a digest does not match, it is truncated or not a copy).
 */
extern ClRcT clCkptRestoreStart(CL_IN ClCkptSvcHdlT ckptHandle,
                                CL_IN const ClNameT *backupName,
                                CL_IN ClUint64T copyId,
                                CL_IN const ClNameT *targetName,
                                CL_IN const ClCkptRestoreOptionsT *options,
                                CL_OUT ClCkptBackupWaitT *wait);

/*
 * clCkptBackupWait - wait for the end of a backup or restore.
 *
 * Waits until the work has ended, at most timeout nanoseconds (0 or
 * CL_TIME_END: no limit), and returns how it ended.  May be called any
 * number of times, from any thread.
 *
 * Returns:
 *   CL_OK                          the work ended and succeeded.
 *   CL_CKPT_ERR_TIMEOUT            still running when timeout expired.
 *   CL_CKPT_ERR_INVALID_HANDLE     wait is not a live wait object.
 *   any other code                 the work failed with it (nothing was
 *                                  committed or restored);
 *                                  CL_CKPT_ERR_BAD_OPERATION after
 *                                  clCkptBackupCancel.
 */
extern ClRcT clCkptBackupWait(CL_IN ClCkptBackupWaitT wait, CL_IN ClTimeT timeout);

/*
 * clCkptBackupProgressGet - how far the work is.
 *
 * *bytesDone: bytes written to the archive (a backup) or read from it and
 * checked (a restore) so far.  *bytesTotal: the expected total: the size
 * of the copy for a restore; for a backup, the memory the checkpoints used
 * when it started (compression may end the backup below it).  Once a
 * backup succeeded both are its size in the archive.  Either pointer may
 * be NULL.
 *
 * Returns:
 *   CL_OK
 *   CL_CKPT_ERR_INVALID_HANDLE     wait is not a live wait object.
 */
extern ClRcT clCkptBackupProgressGet(CL_IN ClCkptBackupWaitT wait,
                                     CL_OUT ClUint64T *bytesDone,
                                     CL_OUT ClUint64T *bytesTotal);

/*
 * clCkptBackupCancel - stop the work.
 *
 * Nothing is committed (a backup) or changed (a restore) unless the commit
 * or the switch to the restored checkpoint was already made, in which case
 * the work ends with CL_OK.  Returns at once; clCkptBackupWait tells the end.
 *
 * Returns:
 *   CL_OK
 *   CL_CKPT_ERR_INVALID_HANDLE     wait is not a live wait object.
 */
extern ClRcT clCkptBackupCancel(CL_IN ClCkptBackupWaitT wait);

/*
 * clCkptBackupSelectionObjectGet - the descriptor that tells the end.
 *
 * Stores in *selectionObject a file descriptor (an eventfd) that poll()
 * and select() see readable once the work has ended (select() takes only
 * descriptors below FD_SETSIZE).  Do not read from it or close it;
 * clCkptBackupWaitFinalize closes it.
 *
 * Returns:
 *   CL_OK
 *   CL_CKPT_ERR_NULL_POINTER       selectionObject is NULL.
 *   CL_CKPT_ERR_INVALID_HANDLE     wait is not a live wait object.
 */
extern ClRcT clCkptBackupSelectionObjectGet(CL_IN ClCkptBackupWaitT wait,
                                            CL_OUT ClSelectionObjectT *selectionObject);

/*
 * clCkptBackupResultGet - a copy a backup committed.
 *
 * Fills *descriptor with the copy of the index-th checkpoint of the
 * backup (the order of clCkptBackupStart).
 *
 * Returns:
 *   CL_OK
 *   CL_CKPT_ERR_NULL_POINTER       descriptor is NULL.
 *   CL_CKPT_ERR_INVALID_PARAMETER  index is not below the number of
 *                                  checkpoints.
 *   CL_CKPT_ERR_TRY_AGAIN          the backup is still running.
 *   CL_CKPT_ERR_BAD_OPERATION      a restore's wait object.
 *   CL_CKPT_ERR_INVALID_HANDLE     wait is not a live wait object.
 *   any other code                 the backup failed with it.
 */
extern ClRcT clCkptBackupResultGet(CL_IN ClCkptBackupWaitT wait, CL_IN ClUint32T index,
                                   CL_OUT ClCkptBackupDescriptorT *descriptor);

/*
 * clCkptRestoreHandleGet - the restored checkpoint.
 *
 * Stores the handle of the restored checkpoint, opened with the restore's
 * openFlags, in *checkpointHandle.  The caller owns it and closes it with
 * clCkptCheckpointClose; the first successful call hands it over, later
 * ones return CL_CKPT_ERR_NOT_EXIST.  clCkptBackupWaitFinalize closes a
 * handle never handed over.
 *
 * Returns:
 *   CL_OK
 *   CL_CKPT_ERR_NULL_POINTER       checkpointHandle is NULL.
 *   CL_CKPT_ERR_NOT_EXIST          openFlags was 0, or handed over already.
 *   CL_CKPT_ERR_TRY_AGAIN          the restore is still running.
 *   CL_CKPT_ERR_BAD_OPERATION      a backup's wait object.
 *   CL_CKPT_ERR_INVALID_HANDLE     wait is not a live wait object.
 *   any other code                 the restore failed with it.
 */
extern ClRcT clCkptRestoreHandleGet(CL_IN ClCkptBackupWaitT wait, CL_OUT ClCkptHdlT *checkpointHandle);

/*
 * clCkptBackupWaitFinalize - end a wait object.
 *
 * Cancels the work if it is still running and waits for its end, then
 * frees the wait object and closes its descriptor.
 *
 * Returns:
 *   CL_OK
 *   CL_CKPT_ERR_INVALID_HANDLE     wait is not a live wait object.
 */
extern ClRcT clCkptBackupWaitFinalize(CL_IN ClCkptBackupWaitT wait);

/*
 * clCkptBackupQueryInitialize - find the live copies matching a query.
 *
 * Reads the archive's catalogue once and keeps the copies that match
 * *query, oldest first, for clCkptBackupQueryNext.  Copies whose checkpoint
 * or backup name is longer than CL_MAX_NAME_LENGTH (a checkpoint a saCkpt
 * program named with up to 2048 bytes) are left out: a ClNameT cannot hold
 * their names.
 *
 * Returns:
 *   CL_OK
 *   CL_CKPT_ERR_NULL_POINTER       query or queryHandle is NULL.
 *   CL_CKPT_ERR_INVALID_PARAMETER  size or version as for clCkptBackupStart;
 *                                  a bad pattern; copyType or status out
 *                                  of range; a bad archive.
 *   CL_CKPT_ERR_INVALID_HANDLE     ckptHandle is not a live service handle.
 *   CL_CKPT_ERR_NO_RESOURCE        the catalogue cannot be read.
 *   CL_CKPT_ERR_NOT_INITIALIZED    the library is not initialized.
 */
extern ClRcT clCkptBackupQueryInitialize(CL_IN ClCkptSvcHdlT ckptHandle,
                                         CL_IN const ClCkptBackupQueryT *query,
                                         CL_OUT ClCkptBackupQueryHdlT *queryHandle);

/*
 * clCkptBackupQueryNext - the next copy found.
 *
 * Returns:
 *   CL_OK                          *descriptor is the next copy.
 *   CL_CKPT_ERR_NOT_EXIST          no more copies.
 *   CL_CKPT_ERR_NULL_POINTER       descriptor is NULL.
 *   CL_CKPT_ERR_INVALID_HANDLE     not a live query handle.
 */
extern ClRcT clCkptBackupQueryNext(CL_IN ClCkptBackupQueryHdlT queryHandle,
                                   CL_OUT ClCkptBackupDescriptorT *descriptor);

/*
 * clCkptBackupQueryFinalize - end a query handle.
 *
 * Returns:
 *   CL_OK
 *   CL_CKPT_ERR_INVALID_HANDLE     not a live query handle.
 */
extern ClRcT clCkptBackupQueryFinalize(CL_IN ClCkptBackupQueryHdlT queryHandle);

/*
 * clCkptBackupDelete - delete copies from the catalogue.
 *
 * Deletes the copies copyIds[0..numberOfCopies-1] of the archive (NULL:
 * the default one) in one commit: a query sees all of them before, none
 * after.  Their archive objects are removed then, or by the next sweep.
 *
 * Returns:
 *   CL_OK
 *   CL_CKPT_ERR_NULL_POINTER       copyIds is NULL.
 *   CL_CKPT_ERR_INVALID_PARAMETER  numberOfCopies is 0 or above 1024; a bad
 *                                  archive.
 *   CL_CKPT_ERR_NOT_EXIST          a copy is not live (then none is deleted).
 *   CL_CKPT_ERR_INVALID_HANDLE     ckptHandle is not a live service handle.
 *   CL_CKPT_ERR_NO_RESOURCE        the catalogue cannot be read or written.
 *   CL_CKPT_ERR_NOT_INITIALIZED    the library is not initialized.
 */
extern ClRcT clCkptBackupDelete(CL_IN ClCkptSvcHdlT ckptHandle, CL_IN const char *archive,
                                CL_IN const ClUint64T *copyIds, CL_IN ClUint32T numberOfCopies);

#ifdef __cplusplus
}
#endif

#endif /* CL_CKPT_BACKUP_H */
