/*
 * clCommonErrors.h - return-code layout and the error codes shared by all
 * ASP components.
 *
 * A ClRcT is CL_OK (0) on success.  Otherwise the upper 16 bits hold the
 * component id (ClCompIdT) of the component that produced the error and the
 * lower 16 bits the error code.  Codes 0x01-0xff (CL_ERR_*) mean the same
 * in every component; a component's own codes start at 0x100.  Test a
 * result against a code with CL_GET_ERROR_CODE:
 *
 *     if (CL_GET_ERROR_CODE(rc) == CL_ERR_ALREADY_EXIST) ...
 */
#ifndef _CL_COMMON_ERRORS_H_
#define _CL_COMMON_ERRORS_H_

#include <clCommon.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Success. */
#define CL_OK                       0x00

#define CL_CID_OFFSET               16
#define CL_ERROR_CODE_MASK          0xffff

/*
 * Builds a return code from a component id and an error code.  An error
 * code of CL_OK gives CL_OK whatever the component.
 */
#define CL_RC(CID, ERR)                                                      \
    ((ClUint32T)(((ERR) == CL_OK) ? (ClUint32T)CL_OK                         \
        : ((((ClUint32T)(CID)) << CL_CID_OFFSET) |                           \
           (((ClUint32T)(ERR)) & CL_ERROR_CODE_MASK))))

/* The error code (lower 16 bits) of a return code. */
#define CL_GET_ERROR_CODE(RC)   ((ClUint32T)((RC) & CL_ERROR_CODE_MASK))

/* The component id (upper 16 bits) of a return code. */
#define CL_GET_CID(RC)          ((ClUint32T)((RC) >> CL_CID_OFFSET))

/* ------------------------------------------------------------------------
 * Error codes common to all components
 * --------------------------------------------------------------------- */
#define CL_ERR_NO_MEMORY            0x01  /* memory allocation failed */
#define CL_ERR_INVALID_PARAMETER    0x02  /* an argument has a bad value */
#define CL_ERR_NULL_POINTER         0x03  /* a required pointer is NULL */
#define CL_ERR_NOT_EXIST            0x04  /* the object does not exist */
#define CL_ERR_INVALID_HANDLE       0x05  /* the handle is not valid */
#define CL_ERR_INVALID_BUFFER       0x06  /* the buffer is not valid */
#define CL_ERR_NOT_IMPLEMENTED      0x07  /* the function is not provided */
#define CL_ERR_DUPLICATE            0x08  /* a duplicate entry */
#define CL_ERR_QUEUE_NOT_AVAILABLE  0x09  /* no queue available */
#define CL_ERR_OUT_OF_RANGE         0x0a  /* a value is out of range */
#define CL_ERR_NO_RESOURCE          0x0b  /* a system resource is exhausted */
#define CL_ERR_INITIALIZED          0x0c  /* already initialized, or not set up */
#define CL_ERR_BUFFER_OVERRUN       0x0d  /* a buffer is too small */
#define CL_ERR_NOT_INITIALIZED      0x0e  /* the library is not initialized */
#define CL_ERR_VERSION_MISMATCH     0x0f  /* the version is not supported */
#define CL_ERR_ALREADY_EXIST        0x10  /* the object already exists */
#define CL_ERR_UNSPECIFIED          0x11  /* an unclassified error */
#define CL_ERR_INVALID_STATE        0x12  /* not allowed in the current state */
#define CL_ERR_DOESNT_EXIST         0x13  /* the object does not exist */
#define CL_ERR_TIMEOUT              0x14  /* the operation timed out */
#define CL_ERR_INUSE                0x15  /* the object is in use */
#define CL_ERR_TRY_AGAIN            0x16  /* temporarily unavailable: retry */
#define CL_ERR_NO_CALLBACK          0x17  /* no callback is registered */
#define CL_ERR_MUTEX_ERROR          0x18  /* a lock operation failed */
#define CL_ERR_NO_OP                0x19  /* nothing to do */
#define CL_ERR_NAME_TOO_LONG        0x1a  /* a name is too long */
#define CL_ERR_NAME_NOT_FOUND       0x1b  /* a name is not known */
#define CL_ERR_MESSAGE_ERROR        0x1c  /* a message could not be handled */
#define CL_ERR_TOO_BIG              0x1d  /* a value or object is too large */
#define CL_ERR_NO_SECTIONS          0x1e  /* no (more) sections */
#define CL_ERR_FAILED_OPERATION     0x1f  /* the operation failed */
#define CL_ERR_OP_NOT_PERMITTED     0x20  /* not permitted for this caller */
#define CL_ERR_NO_SPACE             0x21  /* no room left */
#define CL_ERR_BAD_FLAG             0x22  /* a flag argument is invalid */
#define CL_ERR_BAD_OPERATION        0x23  /* not valid for this object */
#define CL_ERR_LIBRARY              0x24  /* a library error */
#define CL_ERR_NOT_SUPPORTED        0x25  /* the feature is not supported */
#define CL_ERR_INTERRUPT            0x26  /* interrupted */
#define CL_ERR_CONTINUE             0x27  /* continue the operation */

/* The last code shared by all components; component codes start above. */
#define CL_ERR_COMMON_MAX           0xff

/*
 * Return codes of the version check (component CL_CID_VERSION).  A
 * clCkptInitialize with an unsupported version returns
 * CL_VERSION_RC(CL_ERR_VERSION_MISMATCH) == 0x31000f.
 */
#define CL_VERSION_RC(ERR)          (CL_RC(CL_CID_VERSION, (ERR)))

#ifdef __cplusplus
}
#endif

#endif /* _CL_COMMON_ERRORS_H_ */
