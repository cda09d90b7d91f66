/*
 * clCommon.h - base types, constants and utilities shared by every ASP API.
 *
 * The names, types and values here match the OpenClovis ASP 6.x clCommon.h
 * so that programs written for it compile unchanged.  Note that, as in the
 * original, this header does NOT include clCommonErrors.h: include that (or
 * clCkptApi.h, which brings it in) for CL_OK and the error codes.
 */
#ifndef _CL_COMMON_H_
#define _CL_COMMON_H_

#include <clArchHeaders.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Parameter direction annotations.  They document whether a pointer
 * argument is read (CL_IN), written (CL_OUT) or both (CL_INOUT) by the
 * callee, and expand to nothing.
 */
#define CL_IN
#define CL_OUT
#define CL_INOUT

/* ------------------------------------------------------------------------
 * Base types
 * --------------------------------------------------------------------- */
typedef unsigned long long ClUint64T;
typedef signed long long   ClInt64T;
typedef unsigned int       ClUint32T;
typedef signed int         ClInt32T;
typedef unsigned short     ClUint16T;
typedef signed short       ClInt16T;
typedef unsigned char      ClUint8T;
typedef signed char        ClInt8T;
typedef char               ClCharT;
typedef signed int         ClFdT;
typedef unsigned long      ClWordT;

/* A boolean: CL_TRUE or CL_FALSE.  Two bytes wide, as in the original. */
typedef ClUint16T          ClBoolT;

typedef ClWordT            ClPidT;

/* A time or a duration in nanoseconds (see CL_TIME_END). */
typedef ClInt64T           ClTimeT;

/* An opaque handle to an object owned by a library. */
typedef ClUint64T          ClHandleT;

/* The size of a buffer or object, in bytes. */
typedef ClUint64T          ClSizeT;

/* The offset of a byte within a buffer or object. */
typedef ClInt64T           ClOffsetT;

/* Caller-chosen value that ties an asynchronous request to its callback. */
typedef ClUint64T          ClInvocationT;

/* A file descriptor that becomes readable when callbacks are pending. */
typedef ClUint64T          ClSelectionObjectT;

typedef ClUint64T          ClNtfIdentifierT;
typedef ClInt8T           *ClAddrT;
typedef void              *ClPtrT;

/*
 * Return code of every ASP function: CL_OK (0) for success, otherwise a
 * component id in the upper 16 bits and an error code in the lower 16 bits
 * (see CL_RC, CL_GET_ERROR_CODE and CL_GET_CID in clCommonErrors.h).
 */
typedef ClUint32T          ClRcT;

/* A generic callback taking one opaque argument. */
typedef ClRcT (*ClCallbackT)(CL_IN ClPtrT invocation);

/* A counted string; pValue need not be NUL-terminated. */
typedef struct {
    ClUint32T length;
    ClCharT  *pValue;
} ClStringT;

/* Up/down status of an entity. */
typedef enum {
    CL_STATUS_DOWN = 0,
    CL_STATUS_UP   = 1
} ClStatusT;

/* ------------------------------------------------------------------------
 * Constants
 * --------------------------------------------------------------------- */
#define CL_TRUE     1
#define CL_FALSE    0
#define CL_YES      1
#define CL_NO       0
#define CL_ENABLE   1
#define CL_DISABLE  0

/*
 * The largest ClTimeT.  As a timeout it means "never time out"; as an
 * absolute time (section expiry) it means "never expires".
 */
#define CL_TIME_END         0x7fffffffffffffffULL
#define CL_TIME_FOREVER     CL_TIME_END

/* Unit conversion factors; ClTimeT values are in nanoseconds. */
#define CL_MICRO_TO_NANO    1000ULL
#define CL_MILLI_TO_MICRO   1000ULL
#define CL_SEC_TO_MILLI     1000ULL
#define CL_MILLI_TO_NANO    (CL_MILLI_TO_MICRO * CL_MICRO_TO_NANO)
#define CL_SEC_TO_NANO      (CL_SEC_TO_MILLI * CL_MILLI_TO_NANO)

/* ------------------------------------------------------------------------
 * Names
 * --------------------------------------------------------------------- */
#define CL_MAX_NAME_LENGTH  256

/*
 * A name, such as a checkpoint name.  Only the first `length` bytes of
 * `value` are significant; `value` need not be NUL-terminated.  Functions
 * that take a ClNameT use at most 255 bytes of it.
 *
 * The field order is part of the contract: programs write
 *     ClNameT n = { strlen("x"), "x" };
 */
typedef struct {
    ClUint16T length;
    ClCharT   value[CL_MAX_NAME_LENGTH];
} ClNameT;

/*
 * Sets `name` from the NUL-terminated string `str`: at most 255 bytes are
 * copied, `value` is NUL-terminated and `length` is the number of bytes
 * copied (without the NUL).
 */
extern void clNameSet(ClNameT *name, const char *str);

/*
 * Copies `in` to `out`: `in->length` bytes (at most 255) are copied,
 * `out->value` is NUL-terminated and `out->length` is the copied length.
 */
extern void clNameCopy(ClNameT *nameOut, const ClNameT *nameIn);

/*
 * Sets `nameOut` to the concatenation of `prefix`, `mid` and `suffix`,
 * truncated to 255 bytes and NUL-terminated.  Any of the three may be NULL,
 * which stands for an empty part.  `nameOut` may not alias an input.
 */
extern void clNameConcat(ClNameT *nameOut, const ClNameT *prefix,
                         const ClCharT *mid, const ClNameT *suffix);

/*
 * Returns a copy of the NUL-terminated string `str` in memory from
 * clHeapAllocate(); the caller releases it with clHeapFree().  Returns NULL
 * if `str` is NULL or memory is exhausted.
 */
extern ClCharT *clStrdup(const ClCharT *str);

/*
 * clNamePrintf(name, fmt, ...) formats into the ClNameT lvalue `name` like
 * snprintf, truncating to 255 bytes, and sets name.length to the number of
 * bytes stored (without the terminating NUL).
 */
#define clNamePrintf(name, ...)                                              \
    do {                                                                     \
        int clNamePrintfLen_ = snprintf((name).value, CL_MAX_NAME_LENGTH,    \
                                        __VA_ARGS__);                        \
        if (clNamePrintfLen_ < 0)                                            \
            clNamePrintfLen_ = 0;                                            \
        if (clNamePrintfLen_ > CL_MAX_NAME_LENGTH - 1)                       \
            clNamePrintfLen_ = CL_MAX_NAME_LENGTH - 1;                       \
        (name).length = (ClUint16T)clNamePrintfLen_;                         \
    } while (0)

/* ------------------------------------------------------------------------
 * Versions and dispatch
 * --------------------------------------------------------------------- */

/*
 * A service version: release code (a letter, 'B' for the checkpoint
 * service), major and minor version.  Three bytes, no padding.
 */
typedef struct {
    ClUint8T releaseCode;
    ClUint8T majorVersion;
    ClUint8T minorVersion;
} ClVersionT;

/* How much work a dispatch call does (see clCkptDispatch). */
typedef enum {
    CL_DISPATCH_ONE      = 1,   /* run at most one pending callback */
    CL_DISPATCH_ALL      = 2,   /* run every callback pending now */
    CL_DISPATCH_BLOCKING = 3    /* keep running callbacks until finalize */
} ClDispatchFlagsT;

/* ------------------------------------------------------------------------
 * Component ids: the upper 16 bits of a ClRcT (see CL_RC).
 *
 * Only the ids that appear in return codes of this library are named; the
 * other values between them are used by ASP components that this library
 * does not provide.
 * --------------------------------------------------------------------- */
typedef enum {
    CL_CID_UNSPECIFIED = 0x00,
    CL_CID_OSAL        = 0x01,
    CL_CID_IOC         = 0x05,
    CL_CID_RMD         = 0x06,
    CL_CID_CKPT        = 0x16,
    CL_CID_CNT         = 0x18,
    CL_CID_CLIST       = 0x26,
    CL_CID_HANDLE      = 0x30,
    CL_CID_VERSION     = 0x31,
    CL_CID_IDL         = 0x33,
    CL_CID_HEAP        = 0x34,
    CL_CID_NF          = 0x3e,
    CL_CID_MAX                  /* one past the last component id */
} ClCompIdT;

/* ------------------------------------------------------------------------
 * Utility macros
 * --------------------------------------------------------------------- */
#define CL_MIN(a, b)            (((a) < (b)) ? (a) : (b))
#define CL_MAX(a, b)            (((a) > (b)) ? (a) : (b))
/* Round `val` up / down to a multiple of `base` (base > 0). */
#define CL_ROUNDUP(val, base)   ((((val) + (base) - 1) / (base)) * (base))
#define CL_ROUNDDOWN(val, base) (((val) / (base)) * (base))
#define CL_SIZEOF_ARRAY(arr)    (sizeof(arr) / sizeof((arr)[0]))
#define CL_BIT(X)               (0x1 << (X))

#if defined(__GNUC__)
#define CL_WEAK                  __attribute__((weak))
#define CL_DEPRECATED            __attribute__((deprecated))
#define CL_PRINTF_FORMAT(f, a)   __attribute__((format(printf, f, a)))
#else
#define CL_WEAK
#define CL_DEPRECATED
#define CL_PRINTF_FORMAT(f, a)
#endif

#ifdef __cplusplus
}
#endif

#endif /* _CL_COMMON_H_ */
