/*
 * test_layout.c - checks that the headers in include/ match the contract
 * of the original ASP clCkptApi.h: type sizes and signedness, structure
 * sizes, field offsets and field types (x86_64 / LP64), the values of all
 * macros, enumerators and error codes, the return-code composition macros,
 * the exact prototypes of the API functions, and that CL_IN, CL_OUT and
 * CL_INOUT expand to nothing.
 *
 * It needs no library: nothing here calls or takes the address of a
 * library function.  Most checks happen twice: at compile time (a failed
 * check stops the build) and at run time (a failed check prints a line).
 * Prototypes and field types are checked by the compiler only.
 *
 * Build and run, as C and as C++ (the C++ build also proves that every
 * header has working extern "C" guards: redeclaring a function with C
 * linkage after a declaration with C++ linkage is an error):
 *
 *     gcc -std=gnu99 -Wall -Werror -Iinclude ctests/test_layout.c -o test_layout && ./test_layout
 *     gcc -std=c99 -pedantic -Wall -Wextra -Werror -Iinclude ctests/test_layout.c -o test_layout && ./test_layout
 *     g++ -x c++ -Wall -Wextra -Werror -Iinclude ctests/test_layout.c -o test_layout_cxx && ./test_layout_cxx
 *
 * The last line of output is "N passed, M failed"; the exit status is 0
 * only when M is 0.  Build with -DTL_RUNTIME_ONLY to skip the static
 * assertions on values and layout and get the full list of failures at
 * run time instead.
 */

/* Every header of include/, each twice to exercise the include guards. */
#include <clCkptApi.h>
#include <clCommon.h>
#include <clArchHeaders.h>
#include <clCommonErrors.h>
#include <clCkptErrors.h>
#include <clIocApi.h>
#include <clBufferApi.h>
#include <clIocServices.h>
#include <clOsalApi.h>
#include <clOsalErrors.h>
#include <clTimerApi.h>
#include <clHeapApi.h>
#include <clAmsTypes.h>
#include <clCpmApi.h>
#include <clDebugApi.h>
#include <clRmdApi.h>
#include <clOmApi.h>
#include <clOampRtApi.h>
#include <clProvApi.h>
#include <clAlarmApi.h>
#include <clEoApi.h>
#include <clIdlApi.h>
#include <clCkptApi.h>
#include <clCommon.h>
#include <clArchHeaders.h>
#include <clCommonErrors.h>
#include <clCkptErrors.h>
#include <clIocApi.h>
#include <clBufferApi.h>
#include <clIocServices.h>
#include <clOsalApi.h>
#include <clOsalErrors.h>
#include <clTimerApi.h>
#include <clHeapApi.h>
#include <clAmsTypes.h>
#include <clCpmApi.h>
#include <clDebugApi.h>
#include <clRmdApi.h>
#include <clOmApi.h>
#include <clOampRtApi.h>
#include <clProvApi.h>
#include <clAlarmApi.h>
#include <clEoApi.h>
#include <clIdlApi.h>

#include <stddef.h>
#include <stdio.h>
#include <string.h>

/* ------------------------------------------------------------------------
 * Compile-time assertion that works in C99, C11 and C++.
 * --------------------------------------------------------------------- */
#define TL_CAT2(a, b) a##b
#define TL_CAT(a, b)  TL_CAT2(a, b)

#if defined(__cplusplus) && __cplusplus >= 201103L
#define STATIC_CHECK(cond, msg) static_assert((cond), msg)
#elif !defined(__cplusplus) && defined(__STDC_VERSION__) && __STDC_VERSION__ >= 201112L
#define STATIC_CHECK(cond, msg) _Static_assert((cond), msg)
#elif !defined(__cplusplus) && defined(__GNUC__)
/* C99 with GCC or Clang: the keyword exists; __extension__ keeps -pedantic quiet. */
#define STATIC_CHECK(cond, msg) __extension__ _Static_assert((cond), msg)
#else
#define STATIC_CHECK(cond, msg) \
    typedef char TL_CAT(static_check_, __COUNTER__)[(cond) ? 1 : -1]
#endif

#define TL_STR2(x) #x
#define TL_STR(x)  TL_STR2(x)
#define TL_STRV2(...) #__VA_ARGS__
#define TL_STRV(...)  TL_STRV2(__VA_ARGS__)

/*
 * 1 if integer type t is signed.  Written as a "greater than" test so that
 * -Wextra (-Wtype-limits) does not flag it for unsigned types.
 */
#define IS_SIGNED(t) (!((t)-1 > (t)0))

/* Field size, without needing an object. */
#define FIELD_SIZE(T, f) sizeof(((T *)0)->f)

/* ------------------------------------------------------------------------
 * Tables of checks.  Each is expanded twice: into static assertions and
 * into run-time checks.
 * --------------------------------------------------------------------- */

/* VALUE(expression, expected value) */
#define VALUE_TABLE(V)                                                       \
    /* 1.1 clCkptApi.h macros */                                             \
    V(CL_CKPT_WR_ALL_REPLICAS, 0x1)                                          \
    V(CL_CKPT_WR_ACTIVE_REPLICA, 0x2)                                        \
    V(CL_CKPT_WR_ACTIVE_REPLICA_WEAK, 0x4)                                   \
    V(CL_CKPT_CHECKPOINT_COLLOCATED, 0x8)                                    \
    V(CL_CKPT_DISTRIBUTED, 0x10)                                             \
    V(CL_CKPT_WR_ALL_SAFE, 0x20)                                             \
    V(CL_CKPT_ALL_OPEN_ARE_REPLICAS, 0x40)                                   \
    V(CL_CKPT_PEER_TO_PEER_REPLICA, 0x80)                                    \
    V(CL_CKPT_PEER_TO_PEER_CACHE_DISABLE, 0x100)                             \
    V(CL_CKPT_CHECKPOINT_READ, 0x1)                                          \
    V(CL_CKPT_CHECKPOINT_WRITE, 0x2)                                         \
    V(CL_CKPT_CHECKPOINT_CREATE, 0x4)                                        \
    /* 1.4 enums */                                                          \
    V(CL_CKPT_SECTION_VALID, 1)                                              \
    V(CL_CKPT_SECTION_CORRUPTED, 2)                                          \
    V(CL_CKPT_SECTIONS_FOREVER, 1)                                           \
    V(CL_CKPT_SECTIONS_LEQ_EXPIRATION_TIME, 2)                               \
    V(CL_CKPT_SECTIONS_GEQ_EXPIRATION_TIME, 3)                               \
    V(CL_CKPT_SECTIONS_CORRUPTED, 4)                                         \
    V(CL_CKPT_SECTIONS_ANY, 5)                                               \
    /* 2.2 constants */                                                      \
    V(CL_TRUE, 1)                                                            \
    V(CL_FALSE, 0)                                                           \
    V(CL_YES, 1)                                                             \
    V(CL_NO, 0)                                                              \
    V(CL_ENABLE, 1)                                                          \
    V(CL_DISABLE, 0)                                                         \
    V(CL_TIME_END, 0x7fffffffffffffffULL)                                    \
    V(CL_TIME_FOREVER, 0x7fffffffffffffffULL)                                \
    V(sizeof(CL_TIME_END), 8)                                                \
    V(CL_MICRO_TO_NANO, 1000ULL)                                             \
    V(CL_MILLI_TO_MICRO, 1000ULL)                                            \
    V(CL_SEC_TO_MILLI, 1000ULL)                                              \
    V(CL_MILLI_TO_NANO, 1000000ULL)                                          \
    V(CL_SEC_TO_NANO, 1000000000ULL)                                         \
    V(CL_MAX_NAME_LENGTH, 256)                                               \
    V(CL_DISPATCH_ONE, 1)                                                    \
    V(CL_DISPATCH_ALL, 2)                                                    \
    V(CL_DISPATCH_BLOCKING, 3)                                               \
    V(CL_MIN(3, 7), 3)                                                       \
    V(CL_MAX(3, 7), 7)                                                       \
    V(CL_ROUNDUP(13, 8), 16)                                                 \
    V(CL_ROUNDUP(16, 8), 16)                                                 \
    V(CL_ROUNDDOWN(13, 8), 8)                                                \
    V(CL_BIT(0), 1)                                                          \
    V(CL_BIT(5), 32)                                                         \
    /* 2.3 component ids */                                                  \
    V(CL_CID_UNSPECIFIED, 0x00)                                              \
    V(CL_CID_OSAL, 0x01)                                                     \
    V(CL_CID_IOC, 0x05)                                                      \
    V(CL_CID_RMD, 0x06)                                                      \
    V(CL_CID_CKPT, 0x16)                                                     \
    V(CL_CID_CNT, 0x18)                                                      \
    V(CL_CID_CLIST, 0x26)                                                    \
    V(CL_CID_HANDLE, 0x30)                                                   \
    V(CL_CID_VERSION, 0x31)                                                  \
    V(CL_CID_IDL, 0x33)                                                      \
    V(CL_CID_HEAP, 0x34)                                                     \
    V(CL_CID_NF, 0x3e)                                                       \
    V(CL_CID_MAX, 0x3f)                                                      \
    /* 2.4 return-code composition and common codes */                       \
    V(CL_CID_OFFSET, 16)                                                     \
    V(CL_ERROR_CODE_MASK, 0xffff)                                            \
    V(CL_OK, 0x00)                                                           \
    V(CL_ERR_NO_MEMORY, 0x01)                                                \
    V(CL_ERR_INVALID_PARAMETER, 0x02)                                        \
    V(CL_ERR_NULL_POINTER, 0x03)                                             \
    V(CL_ERR_NOT_EXIST, 0x04)                                                \
    V(CL_ERR_INVALID_HANDLE, 0x05)                                           \
    V(CL_ERR_INVALID_BUFFER, 0x06)                                           \
    V(CL_ERR_NOT_IMPLEMENTED, 0x07)                                          \
    V(CL_ERR_DUPLICATE, 0x08)                                                \
    V(CL_ERR_QUEUE_NOT_AVAILABLE, 0x09)                                      \
    V(CL_ERR_OUT_OF_RANGE, 0x0a)                                             \
    V(CL_ERR_NO_RESOURCE, 0x0b)                                              \
    V(CL_ERR_INITIALIZED, 0x0c)                                              \
    V(CL_ERR_BUFFER_OVERRUN, 0x0d)                                           \
    V(CL_ERR_NOT_INITIALIZED, 0x0e)                                          \
    V(CL_ERR_VERSION_MISMATCH, 0x0f)                                         \
    V(CL_ERR_ALREADY_EXIST, 0x10)                                            \
    V(CL_ERR_UNSPECIFIED, 0x11)                                              \
    V(CL_ERR_INVALID_STATE, 0x12)                                            \
    V(CL_ERR_DOESNT_EXIST, 0x13)                                             \
    V(CL_ERR_TIMEOUT, 0x14)                                                  \
    V(CL_ERR_INUSE, 0x15)                                                    \
    V(CL_ERR_TRY_AGAIN, 0x16)                                                \
    V(CL_ERR_NO_CALLBACK, 0x17)                                              \
    V(CL_ERR_MUTEX_ERROR, 0x18)                                              \
    V(CL_ERR_NO_OP, 0x19)                                                    \
    V(CL_ERR_NAME_TOO_LONG, 0x1a)                                            \
    V(CL_ERR_NAME_NOT_FOUND, 0x1b)                                           \
    V(CL_ERR_MESSAGE_ERROR, 0x1c)                                            \
    V(CL_ERR_TOO_BIG, 0x1d)                                                  \
    V(CL_ERR_NO_SECTIONS, 0x1e)                                              \
    V(CL_ERR_FAILED_OPERATION, 0x1f)                                         \
    V(CL_ERR_OP_NOT_PERMITTED, 0x20)                                         \
    V(CL_ERR_NO_SPACE, 0x21)                                                 \
    V(CL_ERR_BAD_FLAG, 0x22)                                                 \
    V(CL_ERR_BAD_OPERATION, 0x23)                                            \
    V(CL_ERR_LIBRARY, 0x24)                                                  \
    V(CL_ERR_NOT_SUPPORTED, 0x25)                                            \
    V(CL_ERR_INTERRUPT, 0x26)                                                \
    V(CL_ERR_CONTINUE, 0x27)                                                 \
    V(CL_ERR_COMMON_MAX, 0xff)                                               \
    V(CL_RC(CL_CID_CKPT, CL_OK), 0)                                          \
    V(CL_RC(CL_CID_CKPT, CL_ERR_NOT_EXIST), 0x160004)                        \
    V(CL_RC(CL_CID_CNT, CL_ERR_INVALID_PARAMETER), 0x180002)                 \
    V(CL_RC(CL_CID_CLIST, CL_ERR_NOT_EXIST), 0x260004)                       \
    V(CL_RC(CL_CID_VERSION, CL_ERR_VERSION_MISMATCH), 0x31000f)              \
    V(CL_RC(CL_CID_CKPT, 0x12345), 0x162345)                                 \
    V(CL_RC(CL_CID_NF, 0xffff), 0x3effff)                                    \
    V(sizeof(CL_RC(CL_CID_CKPT, CL_ERR_NOT_EXIST)), 4)                       \
    V(CL_GET_ERROR_CODE(0x160101), 0x101)                                    \
    V(CL_GET_ERROR_CODE(0x31000f), CL_ERR_VERSION_MISMATCH)                  \
    V(CL_GET_CID(0x160101), CL_CID_CKPT)                                     \
    V(CL_GET_CID(0x31000f), CL_CID_VERSION)                                  \
    V(CL_GET_ERROR_CODE(CL_CKPT_ERR_ALREADY_EXIST), CL_ERR_ALREADY_EXIST)    \
    V(CL_VERSION_RC(CL_ERR_VERSION_MISMATCH), 0x31000f)                      \
    V(CL_OSAL_ERR_OS_ERROR, 0x100)                                           \
    V(CL_OSAL_RC(CL_OSAL_ERR_OS_ERROR), 0x10100)                             \
    V(CL_OSAL_RC(CL_OK), 0)                                                  \
    /* 2.5 clCkptErrors.h */                                                 \
    V(CL_CKPT_ERR_NO_SECTIONS, 0x101)                                        \
    V(CKPT_RC(CL_CKPT_ERR_NO_SECTIONS), 0x160101)                            \
    V(CKPT_RC(CL_OK), 0)                                                     \
    V(CL_GET_ERROR_CODE(CKPT_RC(CL_CKPT_ERR_NO_SECTIONS)),                   \
      CL_CKPT_ERR_NO_SECTIONS)                                               \
    V(CL_CKPT_ERR_NO_MEMORY, 0x160001)                                       \
    V(CL_CKPT_ERR_INVALID_PARAMETER, 0x160002)                               \
    V(CL_CKPT_ERR_NULL_POINTER, 0x160003)                                    \
    V(CL_CKPT_ERR_NOT_EXIST, 0x160004)                                       \
    V(CL_CKPT_ERR_INVALID_HANDLE, 0x160005)                                  \
    V(CL_CKPT_ERR_INVALID_BUFFER, 0x160006)                                  \
    V(CL_CKPT_ERR_NOT_IMPLEMENTED, 0x160007)                                 \
    V(CL_CKPT_ERR_DUPLICATE, 0x160008)                                       \
    V(CL_CKPT_ERR_OUT_OF_RANGE, 0x16000a)                                    \
    V(CL_CKPT_ERR_NO_RESOURCE, 0x16000b)                                     \
    V(CL_CKPT_ERR_INITIALIZED, 0x16000c)                                     \
    V(CL_CKPT_ERR_BUFFER_OVERRUN, 0x16000d)                                  \
    V(CL_CKPT_ERR_NOT_INITIALIZED, 0x16000e)                                 \
    V(CL_CKPT_ERR_VERSION_MISMATCH, 0x16000f)                                \
    V(CL_CKPT_ERR_ALREADY_EXIST, 0x160010)                                   \
    V(CL_CKPT_ERR_UNSPECIFIED, 0x160011)                                     \
    V(CL_CKPT_ERR_INVALID_STATE, 0x160012)                                   \
    V(CL_CKPT_ERR_DOESNT_EXIST, 0x160013)                                    \
    V(CL_CKPT_ERR_TIMEOUT, 0x160014)                                         \
    V(CL_CKPT_ERR_INUSE, 0x160015)                                           \
    V(CL_CKPT_ERR_TRY_AGAIN, 0x160016)                                       \
    V(CL_CKPT_ERR_NO_CALLBACK, 0x160017)                                     \
    V(CL_CKPT_ERR_MUTEX_ERROR, 0x160018)                                     \
    V(CL_CKPT_ERR_OP_NOT_PERMITTED, 0x160020)                                \
    V(CL_CKPT_ERR_NO_SPACE, 0x160021)                                        \
    V(CL_CKPT_ERR_BAD_FLAG, 0x160022)                                        \
    V(CL_CKPT_ERR_BAD_OPERATION, 0x160023)                                   \
    /* 2.6 AMF and IOC */                                                    \
    V(CL_AMS_HA_STATE_NONE, 0)                                               \
    V(CL_AMS_HA_STATE_ACTIVE, 1)                                             \
    V(CL_AMS_HA_STATE_STANDBY, 2)                                            \
    V(CL_AMS_HA_STATE_QUIESCED, 3)                                           \
    V(CL_AMS_HA_STATE_QUIESCING, 4)                                          \
    V(CL_IOC_CKPT_PORT, 0x000c)                                              \
    /* the direction annotations expand to nothing */                        \
    V(sizeof(TL_STR(CL_IN)), 1)                                              \
    V(sizeof(TL_STR(CL_OUT)), 1)                                             \
    V(sizeof(TL_STR(CL_INOUT)), 1)

/* TYPE(type, size, is_signed) for integer types; is_signed -1 = pointer */
#define TYPE_TABLE(T)                                                        \
    T(ClUint64T, 8, 0)                                                       \
    T(ClInt64T, 8, 1)                                                        \
    T(ClUint32T, 4, 0)                                                       \
    T(ClInt32T, 4, 1)                                                        \
    T(ClUint16T, 2, 0)                                                       \
    T(ClInt16T, 2, 1)                                                        \
    T(ClUint8T, 1, 0)                                                        \
    T(ClInt8T, 1, 1)                                                         \
    T(ClFdT, 4, 1)                                                           \
    T(ClWordT, sizeof(long), 0)                                              \
    T(ClBoolT, 2, 0)                                                         \
    T(ClPidT, sizeof(long), 0)                                               \
    T(ClTimeT, 8, 1)                                                         \
    T(ClHandleT, 8, 0)                                                       \
    T(ClSizeT, 8, 0)                                                         \
    T(ClOffsetT, 8, 1)                                                       \
    T(ClInvocationT, 8, 0)                                                   \
    T(ClSelectionObjectT, 8, 0)                                              \
    T(ClNtfIdentifierT, 8, 0)                                                \
    T(ClRcT, 4, 0)                                                           \
    T(ClCkptSvcHdlT, 8, 0)                                                   \
    T(ClCkptHdlT, 8, 0)                                                      \
    T(ClCkptSecItrHdlT, 8, 0)                                                \
    T(ClCkptCreationFlagsT, 4, 0)                                            \
    T(ClCkptOpenFlagsT, 4, 0)                                                \
    T(ClCkptSelectionObjT, 4, 0)                                             \
    T(ClIocNodeAddressT, 4, 0)                                               \
    T(ClIocPortT, 4, 0)

/* STRUCT(type, size) and FIELD(type, field, offset, size), LP64 */
#define STRUCT_TABLE(S, F)                                                   \
    S(ClNameT, 258)                                                          \
    F(ClNameT, length, 0, 2)                                                 \
    F(ClNameT, value, 2, 256)                                                \
    S(ClVersionT, 3)                                                         \
    F(ClVersionT, releaseCode, 0, 1)                                         \
    F(ClVersionT, majorVersion, 1, 1)                                        \
    F(ClVersionT, minorVersion, 2, 1)                                        \
    S(ClStringT, 16)                                                         \
    F(ClStringT, length, 0, 4)                                               \
    F(ClStringT, pValue, 8, 8)                                               \
    S(ClTimerTimeOutT, 8)                                                    \
    F(ClTimerTimeOutT, tsSec, 0, 4)                                          \
    F(ClTimerTimeOutT, tsMilliSec, 4, 4)                                     \
    S(ClCkptCheckpointCreationAttributesT, 48)                               \
    F(ClCkptCheckpointCreationAttributesT, creationFlags, 0, 4)              \
    F(ClCkptCheckpointCreationAttributesT, checkpointSize, 8, 8)             \
    F(ClCkptCheckpointCreationAttributesT, retentionDuration, 16, 8)         \
    F(ClCkptCheckpointCreationAttributesT, maxSections, 24, 4)               \
    F(ClCkptCheckpointCreationAttributesT, maxSectionSize, 32, 8)            \
    F(ClCkptCheckpointCreationAttributesT, maxSectionIdSize, 40, 8)          \
    S(ClCkptSectionIdT, 16)                                                  \
    F(ClCkptSectionIdT, idLen, 0, 2)                                         \
    F(ClCkptSectionIdT, id, 8, 8)                                            \
    S(ClCkptSectionCreationAttributesT, 16)                                  \
    F(ClCkptSectionCreationAttributesT, sectionId, 0, 8)                     \
    F(ClCkptSectionCreationAttributesT, expirationTime, 8, 8)                \
    S(ClCkptSectionDescriptorT, 48)                                          \
    F(ClCkptSectionDescriptorT, sectionId, 0, 16)                            \
    F(ClCkptSectionDescriptorT, expirationTime, 16, 8)                       \
    F(ClCkptSectionDescriptorT, sectionSize, 24, 8)                          \
    F(ClCkptSectionDescriptorT, sectionState, 32, 4)                         \
    F(ClCkptSectionDescriptorT, lastUpdate, 40, 8)                           \
    S(ClCkptIOVectorElementT, 48)                                            \
    F(ClCkptIOVectorElementT, sectionId, 0, 16)                              \
    F(ClCkptIOVectorElementT, dataBuffer, 16, 8)                             \
    F(ClCkptIOVectorElementT, dataSize, 24, 8)                               \
    F(ClCkptIOVectorElementT, dataOffset, 32, 8)                             \
    F(ClCkptIOVectorElementT, readSize, 40, 8)                               \
    S(ClCkptCheckpointDescriptorT, 56)                                       \
    F(ClCkptCheckpointDescriptorT, checkpointCreationAttributes, 0, 48)      \
    F(ClCkptCheckpointDescriptorT, numberOfSections, 48, 4)                  \
    F(ClCkptCheckpointDescriptorT, memoryUsed, 52, 4)                        \
    S(ClCkptCallbacksT, 16)                                                  \
    F(ClCkptCallbacksT, checkpointOpenCallback, 0, 8)                        \
    F(ClCkptCallbacksT, checkpointSynchronizeCallback, 8, 8)                 \
    S(ClCkptSectionStateT, 4)                                                \
    S(ClCkptSectionsChosenT, 4)                                              \
    S(ClDispatchFlagsT, 4)                                                   \
    S(ClAmsHAStateT, 4)

/* Alignment of a type, measured the portable way. */
struct tl_align_name    { char c; ClNameT x; };
struct tl_align_version { char c; ClVersionT x; };

#define ALIGN_TABLE(A)                                                       \
    A(offsetof(struct tl_align_name, x), 2)                                  \
    A(offsetof(struct tl_align_version, x), 1)

/* ------------------------------------------------------------------------
 * Compile-time checks
 * --------------------------------------------------------------------- */
#ifndef TL_RUNTIME_ONLY
#define STATIC_VALUE(e, v) \
    STATIC_CHECK((unsigned long long)(e) == (unsigned long long)(v), #e " == " #v);
VALUE_TABLE(STATIC_VALUE)
ALIGN_TABLE(STATIC_VALUE)

#define STATIC_TYPE(t, size, sgn)                                            \
    STATIC_CHECK(sizeof(t) == (size), "sizeof(" #t ") == " #size);           \
    STATIC_CHECK(IS_SIGNED(t) == (sgn), #t " signedness");
TYPE_TABLE(STATIC_TYPE)

STATIC_CHECK(sizeof(ClAddrT) == sizeof(void *), "sizeof(ClAddrT)");
STATIC_CHECK(sizeof(ClPtrT) == sizeof(void *), "sizeof(ClPtrT)");
STATIC_CHECK(sizeof(ClCharT) == 1, "sizeof(ClCharT)");

#if defined(__LP64__) || defined(_LP64)
#define STATIC_STRUCT(t, size) \
    STATIC_CHECK(sizeof(t) == (size), "sizeof(" #t ") == " #size);
#define STATIC_FIELD(t, f, off, size)                                        \
    STATIC_CHECK(offsetof(t, f) == (off), "offsetof(" #t ", " #f ")");       \
    STATIC_CHECK(FIELD_SIZE(t, f) == (size), "size of " #t "." #f);
STRUCT_TABLE(STATIC_STRUCT, STATIC_FIELD)
#endif
#endif /* TL_RUNTIME_ONLY */

#if defined(__LP64__) || defined(_LP64)
#define TL_LAYOUT_CHECKED 1
#else
#define TL_LAYOUT_CHECKED 0
#endif

/* ------------------------------------------------------------------------
 * Prototypes: redeclaring each function with the exact types of the
 * original is an error if the header's declaration differs (in C++, also
 * if the header's declaration lacks C linkage).
 * --------------------------------------------------------------------- */
#ifdef __cplusplus
extern "C" {
#endif

ClRcT clCkptInitialize(ClCkptSvcHdlT *, const ClCkptCallbacksT *, ClVersionT *);
ClRcT clCkptFinalize(ClCkptSvcHdlT);
ClRcT clCkptCheckpointOpen(ClCkptSvcHdlT, const ClNameT *,
                           const ClCkptCheckpointCreationAttributesT *,
                           ClCkptOpenFlagsT, ClTimeT, ClCkptHdlT *);
ClRcT clCkptCheckpointOpenAsync(ClCkptSvcHdlT, ClInvocationT, const ClNameT *,
                                const ClCkptCheckpointCreationAttributesT *,
                                ClCkptOpenFlagsT);
ClRcT clCkptCheckpointClose(ClCkptHdlT);
ClRcT clCkptCheckpointDelete(ClCkptSvcHdlT, const ClNameT *);
ClRcT clCkptCheckpointRetentionDurationSet(ClCkptHdlT, ClTimeT);
ClRcT clCkptActiveReplicaSet(ClCkptHdlT);
ClRcT clCkptCheckpointStatusGet(ClCkptHdlT, ClCkptCheckpointDescriptorT *);
ClRcT clCkptSectionCreate(ClCkptHdlT, ClCkptSectionCreationAttributesT *,
                          const ClUint8T *, ClSizeT);
ClRcT clCkptSectionDelete(ClCkptHdlT, const ClCkptSectionIdT *);
ClRcT clCkptSectionExpirationTimeSet(ClCkptHdlT, const ClCkptSectionIdT *, ClTimeT);
ClRcT clCkptSectionIterationInitialize(ClCkptHdlT, ClCkptSectionsChosenT,
                                       ClTimeT, ClHandleT *);
ClRcT clCkptSectionIterationNext(ClHandleT, ClCkptSectionDescriptorT *);
ClRcT clCkptSectionIterationFinalize(ClHandleT);
ClRcT clCkptCheckpointWrite(ClCkptHdlT, const ClCkptIOVectorElementT *,
                            ClUint32T, ClUint32T *);
ClRcT clCkptSectionOverwrite(ClCkptHdlT, const ClCkptSectionIdT *,
                             const void *, ClSizeT);
ClRcT clCkptCheckpointRead(ClCkptHdlT, ClCkptIOVectorElementT *,
                           ClUint32T, ClUint32T *);
ClRcT clCkptCheckpointSynchronize(ClCkptHdlT, ClTimeT);
ClRcT clCkptCheckpointSynchronizeAsync(ClCkptHdlT, ClInvocationT);
ClRcT clCkptImmediateConsumptionRegister(ClCkptHdlT, ClCkptNotificationCallbackT,
                                         ClPtrT);
ClRcT clCkptSelectionObjectGet(ClCkptSvcHdlT, ClSelectionObjectT *);
ClRcT clCkptDispatch(ClCkptSvcHdlT, ClDispatchFlagsT);

ClPtrT clHeapAllocate(ClUint32T);
void clHeapFree(ClPtrT);
ClPtrT clHeapCalloc(ClUint32T, ClUint32T);
ClPtrT clHeapRealloc(ClPtrT, ClUint32T);

ClRcT clOsalPrintf(const ClCharT *, ...);
ClTimeT clOsalStopWatchTimeGet(void);
ClRcT clOsalTaskDelay(ClTimerTimeOutT);

void clNameSet(ClNameT *, const char *);
void clNameCopy(ClNameT *, const ClNameT *);
ClCharT *clStrdup(const ClCharT *);

#ifdef __cplusplus
}
#endif

/* ------------------------------------------------------------------------
 * Exact types of typedefs, fields and callbacks.  Initializing a pointer
 * to the expected type with the address of an object of the actual type
 * is an error (with -Werror in C, always in C++) if the types differ, even
 * between types of equal size such as unsigned long and unsigned long long.
 * --------------------------------------------------------------------- */
#define SAME_TYPE(actual, expected)                                          \
    { static actual obj_; expected *p_ = &obj_; (void)p_; }
#define FIELD_TYPE(t, f, expected)                                           \
    { static t obj_; expected *p_ = &obj_.f; (void)p_; }

typedef ClCharT tl_name_value_t[CL_MAX_NAME_LENGTH];

static ClRcT tl_notify(ClCkptHdlT h, ClNameT *n, ClCkptIOVectorElementT *v,
                       ClUint32T count, ClPtrT cookie)
{
    (void)h; (void)n; (void)v; (void)count; (void)cookie;
    return CL_OK;
}
static void tl_open_cb(ClInvocationT inv, ClCkptHdlT h, ClRcT err)
{
    (void)inv; (void)h; (void)err;
}
static void tl_sync_cb(ClInvocationT inv, ClRcT err)
{
    (void)inv; (void)err;
}
static ClRcT tl_generic_cb(ClPtrT invocation)
{
    (void)invocation;
    return CL_OK;
}

static void compile_time_type_checks(void)
{
    SAME_TYPE(ClUint64T, unsigned long long)
    SAME_TYPE(ClInt64T, signed long long)
    SAME_TYPE(ClUint32T, unsigned int)
    SAME_TYPE(ClInt32T, signed int)
    SAME_TYPE(ClUint16T, unsigned short)
    SAME_TYPE(ClInt16T, signed short)
    SAME_TYPE(ClUint8T, unsigned char)
    SAME_TYPE(ClInt8T, signed char)
    SAME_TYPE(ClCharT, char)
    SAME_TYPE(ClFdT, signed int)
    SAME_TYPE(ClWordT, unsigned long)
    SAME_TYPE(ClBoolT, ClUint16T)
    SAME_TYPE(ClPidT, ClWordT)
    SAME_TYPE(ClTimeT, ClInt64T)
    SAME_TYPE(ClHandleT, ClUint64T)
    SAME_TYPE(ClSizeT, ClUint64T)
    SAME_TYPE(ClOffsetT, ClInt64T)
    SAME_TYPE(ClInvocationT, ClUint64T)
    SAME_TYPE(ClSelectionObjectT, ClUint64T)
    SAME_TYPE(ClNtfIdentifierT, ClUint64T)
    SAME_TYPE(ClAddrT, ClInt8T *)
    SAME_TYPE(ClPtrT, void *)
    SAME_TYPE(ClRcT, ClUint32T)
    SAME_TYPE(ClCkptSvcHdlT, ClHandleT)
    SAME_TYPE(ClCkptHdlT, ClHandleT)
    SAME_TYPE(ClCkptSecItrHdlT, ClHandleT)
    SAME_TYPE(ClCkptCreationFlagsT, ClUint32T)
    SAME_TYPE(ClCkptOpenFlagsT, ClUint32T)
    SAME_TYPE(ClCkptSelectionObjT, ClUint32T)
    SAME_TYPE(ClIocNodeAddressT, ClUint32T)
    SAME_TYPE(ClIocPortT, ClUint32T)

    FIELD_TYPE(ClNameT, length, ClUint16T)
    FIELD_TYPE(ClNameT, value, tl_name_value_t)
    FIELD_TYPE(ClVersionT, releaseCode, ClUint8T)
    FIELD_TYPE(ClVersionT, majorVersion, ClUint8T)
    FIELD_TYPE(ClVersionT, minorVersion, ClUint8T)
    FIELD_TYPE(ClStringT, length, ClUint32T)
    FIELD_TYPE(ClStringT, pValue, ClCharT *)
    FIELD_TYPE(ClTimerTimeOutT, tsSec, ClUint32T)
    FIELD_TYPE(ClTimerTimeOutT, tsMilliSec, ClUint32T)
    FIELD_TYPE(ClCkptCheckpointCreationAttributesT, creationFlags, ClCkptCreationFlagsT)
    FIELD_TYPE(ClCkptCheckpointCreationAttributesT, checkpointSize, ClSizeT)
    FIELD_TYPE(ClCkptCheckpointCreationAttributesT, retentionDuration, ClTimeT)
    FIELD_TYPE(ClCkptCheckpointCreationAttributesT, maxSections, ClUint32T)
    FIELD_TYPE(ClCkptCheckpointCreationAttributesT, maxSectionSize, ClSizeT)
    FIELD_TYPE(ClCkptCheckpointCreationAttributesT, maxSectionIdSize, ClSizeT)
    FIELD_TYPE(ClCkptSectionIdT, idLen, ClUint16T)
    FIELD_TYPE(ClCkptSectionIdT, id, ClUint8T *)
    FIELD_TYPE(ClCkptSectionCreationAttributesT, sectionId, ClCkptSectionIdT *)
    FIELD_TYPE(ClCkptSectionCreationAttributesT, expirationTime, ClTimeT)
    FIELD_TYPE(ClCkptSectionDescriptorT, sectionId, ClCkptSectionIdT)
    FIELD_TYPE(ClCkptSectionDescriptorT, expirationTime, ClTimeT)
    FIELD_TYPE(ClCkptSectionDescriptorT, sectionSize, ClSizeT)
    FIELD_TYPE(ClCkptSectionDescriptorT, sectionState, ClCkptSectionStateT)
    FIELD_TYPE(ClCkptSectionDescriptorT, lastUpdate, ClTimeT)
    FIELD_TYPE(ClCkptIOVectorElementT, sectionId, ClCkptSectionIdT)
    FIELD_TYPE(ClCkptIOVectorElementT, dataBuffer, ClPtrT)
    FIELD_TYPE(ClCkptIOVectorElementT, dataSize, ClSizeT)
    FIELD_TYPE(ClCkptIOVectorElementT, dataOffset, ClOffsetT)
    FIELD_TYPE(ClCkptIOVectorElementT, readSize, ClSizeT)
    FIELD_TYPE(ClCkptCheckpointDescriptorT, checkpointCreationAttributes,
               ClCkptCheckpointCreationAttributesT)
    FIELD_TYPE(ClCkptCheckpointDescriptorT, numberOfSections, ClUint32T)
    FIELD_TYPE(ClCkptCheckpointDescriptorT, memoryUsed, ClUint32T)
    FIELD_TYPE(ClCkptCallbacksT, checkpointOpenCallback, ClCkptCheckpointOpenCallbackT)
    FIELD_TYPE(ClCkptCallbacksT, checkpointSynchronizeCallback,
               ClCkptCheckpointSynchronizeCallbackT)

    {
        ClCkptNotificationCallbackT notify = tl_notify;
        ClCkptCheckpointOpenCallbackT open_cb = tl_open_cb;
        ClCkptCheckpointSynchronizeCallbackT sync_cb = tl_sync_cb;
        ClCallbackT generic = tl_generic_cb;
        (void)notify; (void)open_cb; (void)sync_cb; (void)generic;
    }
}

/* ------------------------------------------------------------------------
 * Run-time checks
 * --------------------------------------------------------------------- */
static unsigned passed, failed;

static void check_eq(const char *what, unsigned long long got,
                     unsigned long long expected, int line)
{
    if (got == expected) {
        passed++;
    } else {
        failed++;
        printf("FAIL line %d: %s: got 0x%llx, expected 0x%llx\n",
               line, what, got, expected);
    }
}

static void check_true(const char *what, int ok, int line)
{
    check_eq(what, (unsigned long long)(ok != 0), 1ULL, line);
}

#define RUN_VALUE(e, v) \
    check_eq(#e, (unsigned long long)(e), (unsigned long long)(v), __LINE__);
#define RUN_TYPE(t, size, sgn)                                               \
    check_eq("sizeof(" #t ")", sizeof(t), (size), __LINE__);                 \
    check_eq(#t " is signed", IS_SIGNED(t), (sgn), __LINE__);
#define RUN_STRUCT(t, size) \
    check_eq("sizeof(" #t ")", sizeof(t), (size), __LINE__);
#define RUN_FIELD(t, f, off, size)                                           \
    check_eq("offsetof(" #t ", " #f ")", offsetof(t, f), (off), __LINE__);   \
    check_eq("sizeof(" #t "." #f ")", FIELD_SIZE(t, f), (size), __LINE__);

static void run_value_checks(void)
{
    VALUE_TABLE(RUN_VALUE)
    ALIGN_TABLE(RUN_VALUE)
#if defined(__GNUC__)
    check_eq("__alignof__(ClNameT)", __alignof__(ClNameT), 2, __LINE__);
    check_eq("__alignof__(ClVersionT)", __alignof__(ClVersionT), 1, __LINE__);
#endif
}

static void run_type_checks(void)
{
    TYPE_TABLE(RUN_TYPE)
    check_eq("sizeof(ClAddrT)", sizeof(ClAddrT), sizeof(void *), __LINE__);
    check_eq("sizeof(ClPtrT)", sizeof(ClPtrT), sizeof(void *), __LINE__);
}

static void run_layout_checks(void)
{
#if TL_LAYOUT_CHECKED
    STRUCT_TABLE(RUN_STRUCT, RUN_FIELD)
#else
    printf("note: not an LP64 target, structure layout not checked\n");
#endif
}

static void run_macro_checks(void)
{
    /* The direction annotations expand to nothing. */
    check_true("CL_IN is empty", strcmp(TL_STR(CL_IN), "") == 0, __LINE__);
    check_true("CL_OUT is empty", strcmp(TL_STR(CL_OUT), "") == 0, __LINE__);
    check_true("CL_INOUT is empty", strcmp(TL_STR(CL_INOUT), "") == 0, __LINE__);

    /* Section id initializers. */
    {
        ClCkptSectionIdT def = CL_CKPT_DEFAULT_SECTION_ID;
        ClCkptSectionIdT gen = CL_CKPT_GENERATED_SECTION_ID;
        check_eq("CL_CKPT_DEFAULT_SECTION_ID.idLen", def.idLen, 0, __LINE__);
        check_true("CL_CKPT_DEFAULT_SECTION_ID.id == NULL", def.id == NULL, __LINE__);
        check_eq("CL_CKPT_GENERATED_SECTION_ID.idLen", gen.idLen, 0, __LINE__);
        check_true("CL_CKPT_GENERATED_SECTION_ID.id == NULL", gen.id == NULL, __LINE__);
        check_true("initializer texts are identical",
                   strcmp(TL_STRV(CL_CKPT_DEFAULT_SECTION_ID),
                          TL_STRV(CL_CKPT_GENERATED_SECTION_ID)) == 0, __LINE__);
    }

    /* Positional initializers as written by existing programs. */
    {
        static char sid_name[] = "1";
        ClCkptSectionIdT sid = { (ClUint16T)(sizeof(sid_name) - 1), (ClUint8T *)sid_name };
        ClNameT name = { 14, "SampleCkptTest" };
        ClVersionT version = { 'B', 1, 1 };
        check_eq("positional ClCkptSectionIdT.idLen", sid.idLen, 1, __LINE__);
        check_true("positional ClCkptSectionIdT.id", sid.id == (ClUint8T *)sid_name, __LINE__);
        check_eq("positional ClNameT.length", name.length, 14, __LINE__);
        check_true("positional ClNameT.value",
                   memcmp(name.value, "SampleCkptTest", 15) == 0, __LINE__);
        check_eq("positional ClVersionT.releaseCode", version.releaseCode, 'B', __LINE__);
        check_eq("positional ClVersionT.majorVersion", version.majorVersion, 1, __LINE__);
        check_eq("positional ClVersionT.minorVersion", version.minorVersion, 1, __LINE__);
    }

    /* clNamePrintf is a macro: it needs no library. */
    {
        ClNameT name;
        char longer[400];
        memset(longer, 'x', sizeof(longer) - 1);
        longer[sizeof(longer) - 1] = '\0';
        clNamePrintf(name, "ckpt-%d", 42);
        check_eq("clNamePrintf length", name.length, 7, __LINE__);
        check_true("clNamePrintf value", strcmp(name.value, "ckpt-42") == 0, __LINE__);
        clNamePrintf(name, "%s", longer);
        check_eq("clNamePrintf truncated length", name.length, CL_MAX_NAME_LENGTH - 1, __LINE__);
        check_eq("clNamePrintf truncated NUL", (unsigned char)name.value[CL_MAX_NAME_LENGTH - 1],
                 0, __LINE__);
    }

    /* CL_SIZEOF_ARRAY */
    {
        int arr[7];
        (void)arr;
        check_eq("CL_SIZEOF_ARRAY(int[7])", CL_SIZEOF_ARRAY(arr), 7, __LINE__);
    }
}

int main(void)
{
    compile_time_type_checks();
    run_value_checks();
    run_type_checks();
    run_layout_checks();
    run_macro_checks();
    printf("%u passed, %u failed\n", passed, failed);
    return failed ? 1 : 0;
}
