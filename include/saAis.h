/*
 * saAis.h - the SA Forum AIS base types, shared by every AIS service.
 *
 * Values and layouts are those of the SAF AIS B.02.02 saAis.h as shipped by
 * OpenSAF; OpenAIS (B.01.01) uses the same values, so programs written for
 * either compile unchanged.  Only the checkpoint service (saCkpt.h) is
 * implemented by this project (library libSaCkpt, pkg-config SaCkpt).
 *
 * Thread safety: the saAisName* helpers below are plain C, keep no state and
 * may be called from any thread, before or after saCkptInitialize.
 */
#ifndef SA_AIS_H
#define SA_AIS_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef int8_t SaInt8T;
typedef int16_t SaInt16T;
typedef int32_t SaInt32T;
typedef int64_t SaInt64T;
typedef uint8_t SaUint8T;
typedef uint16_t SaUint16T;
typedef uint32_t SaUint32T;
typedef uint64_t SaUint64T;

typedef float SaFloatT;
typedef double SaDoubleT;
typedef char *SaStringT;

typedef SaUint64T SaSizeT;
typedef SaUint64T SaOffsetT;
typedef SaUint64T SaInvocationT;
typedef SaUint64T SaSelectionObjectT;

/* Times and durations are in nanoseconds. */
typedef SaInt64T SaTimeT;

#define SA_TIME_END 0x7FFFFFFFFFFFFFFFLL
#define SA_TIME_MAX SA_TIME_END
#define SA_TIME_BEGIN 0x0LL
#define SA_TIME_UNKNOWN ((SaTimeT)0x8000000000000000ULL)

#define SA_TIME_ONE_MICROSECOND 1000LL
#define SA_TIME_ONE_MILLISECOND 1000000LL
#define SA_TIME_ONE_SECOND 1000000000LL
#define SA_TIME_ONE_MINUTE 60000000000LL
#define SA_TIME_ONE_HOUR 3600000000000LL
#define SA_TIME_ONE_DAY 86400000000000LL

typedef enum { SA_FALSE = 0, SA_TRUE = 1 } SaBoolT;

typedef enum {
    SA_DISPATCH_ONE = 1,
    SA_DISPATCH_ALL = 2,
    SA_DISPATCH_BLOCKING = 3
} SaDispatchFlagsT;

/* The AIS version a program is written for ({'B', 2, 2}, {'B', 1, 1}, ...). */
typedef struct {
    SaUint8T releaseCode;
    SaUint8T majorVersion;
    SaUint8T minorVersion;
} SaVersionT;

#define SA_MAX_NAME_LENGTH 256
#define SA_MAX_UNEXTENDED_NAME_LENGTH 256
/* The longest name saAisNameLend can lend (the extended-name limit). */
#define SA_MAX_EXTENDED_NAME_LENGTH 2048

/*
 * A name: its first `length` bytes of `value`, not NUL-terminated; a NUL
 * inside counts as a byte of the name.  With SA_EXTENDED_NAME_SOURCE defined
 * the structure is opaque (same size) and is filled with saAisNameLend.
 */
#ifdef SA_EXTENDED_NAME_SOURCE
typedef struct {
    SaUint16T _opaque[129];
} SaNameT;
#else
typedef struct {
    SaUint16T length;
    SaUint8T value[SA_MAX_NAME_LENGTH];
} SaNameT;
#endif

typedef struct {
    SaSizeT bufferSize;
    SaUint8T *bufferAddr;
} SaAnyT;

typedef enum {
    SA_LIMIT_VALUE_INT64 = 1,
    SA_LIMIT_VALUE_UINT64 = 2,
    SA_LIMIT_VALUE_FLOAT = 3,
    SA_LIMIT_VALUE_DOUBLE = 4
} SaLimitValueTypeT;

typedef union {
    SaInt64T int64Value;
    SaUint64T uint64Value;
    SaFloatT floatValue;
    SaDoubleT doubleValue;
} SaLimitValueT;

typedef enum {
    SA_AIS_OK = 1,
    SA_AIS_ERR_LIBRARY = 2,
    SA_AIS_ERR_VERSION = 3,
    SA_AIS_ERR_INIT = 4,
    SA_AIS_ERR_TIMEOUT = 5,
    SA_AIS_ERR_TRY_AGAIN = 6,
    SA_AIS_ERR_INVALID_PARAM = 7,
    SA_AIS_ERR_NO_MEMORY = 8,
    SA_AIS_ERR_BAD_HANDLE = 9,
    SA_AIS_ERR_BUSY = 10,
    SA_AIS_ERR_ACCESS = 11,
    SA_AIS_ERR_NOT_EXIST = 12,
    SA_AIS_ERR_NAME_TOO_LONG = 13,
    SA_AIS_ERR_EXIST = 14,
    SA_AIS_ERR_NO_SPACE = 15,
    SA_AIS_ERR_INTERRUPT = 16,
    SA_AIS_ERR_NAME_NOT_FOUND = 17,
    SA_AIS_ERR_NO_RESOURCES = 18,
    SA_AIS_ERR_NOT_SUPPORTED = 19,
    SA_AIS_ERR_BAD_OPERATION = 20,
    SA_AIS_ERR_FAILED_OPERATION = 21,
    SA_AIS_ERR_MESSAGE_ERROR = 22,
    SA_AIS_ERR_QUEUE_FULL = 23,
    SA_AIS_ERR_QUEUE_NOT_AVAILABLE = 24,
    SA_AIS_ERR_BAD_FLAGS = 25,
    SA_AIS_ERR_TOO_BIG = 26,
    SA_AIS_ERR_NO_SECTIONS = 27,
    SA_AIS_ERR_NO_OP = 28,
    SA_AIS_ERR_REPAIR_PENDING = 29,
    SA_AIS_ERR_NO_BINDINGS = 30,
    SA_AIS_ERR_UNAVAILABLE = 31,
    SA_AIS_ERR_CAMPAIGN_ERROR_DETECTED = 32,
    SA_AIS_ERR_CAMPAIGN_PROC_FAILED = 33,
    SA_AIS_ERR_CAMPAIGN_CANCELED = 34,
    SA_AIS_ERR_CAMPAIGN_FAILED = 35,
    SA_AIS_ERR_CAMPAIGN_SUSPENDED = 36,
    SA_AIS_ERR_CAMPAIGN_SUSPENDING = 37,
    SA_AIS_ERR_ACCESS_DENIED = 38,
    SA_AIS_ERR_NOT_READY = 39,
    SA_AIS_ERR_DEPLOYMENT = 40
} SaAisErrorT;

/* OpenAIS: the value no handle ever has. */
#define SA_HANDLE_INVALID 0

/*
 * saAisNameLend - make *name refer to the C string `value`.
 *
 * A string shorter than SA_MAX_UNEXTENDED_NAME_LENGTH bytes is copied into
 * the name (length = strlen(value)).  A longer one is not copied: the name
 * keeps a pointer to `value`, which must stay valid and unchanged for as
 * long as the name is used.  Such names (up to SA_MAX_EXTENDED_NAME_LENGTH
 * bytes) are accepted by saCkptCheckpointOpen, OpenAsync and Unlink, which
 * return SA_AIS_ERR_TOO_BIG for a longer one.  NULL arguments: nothing is
 * done.
 */
extern void saAisNameLend(const char *value, SaNameT *name);

/*
 * saAisNameBorrow - the name as a C string.
 *
 * Returns the string a lent long name points to, or a pointer into
 * name->value for a short one.  A short name is NUL-terminated only if its
 * value has a NUL after `length` bytes (saAisNameLend writes one when
 * there is room); NULL if name is NULL.  The memory stays the caller's.
 */
extern const char *saAisNameBorrow(const SaNameT *name);

#ifdef __cplusplus
}
#endif

#endif /* SA_AIS_H */
