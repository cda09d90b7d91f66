/*
 * clOsalErrors.h - return codes of the operating system abstraction layer.
 *
 * OSAL codes use component id CL_CID_OSAL (0x01).  Besides the common
 * CL_ERR_* codes, OSAL has codes of its own, numbered from 0x100 upwards
 * (above CL_ERR_COMMON_MAX), like every component.
 */
#ifndef _CL_OSAL_ERRORS_H_
#define _CL_OSAL_ERRORS_H_

#include <clCommon.h>
#include <clCommonErrors.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Builds an OSAL return code from an error code. */
#define CL_OSAL_RC(ERR_ID)          (CL_RC(CL_CID_OSAL, (ERR_ID)))

/* A call to the operating system failed (CL_OSAL_RC gives 0x10100). */
#define CL_OSAL_ERR_OS_ERROR        0x100

#ifdef __cplusplus
}
#endif

#endif /* _CL_OSAL_ERRORS_H_ */
