/*
 * clDebugApi.h - debug service.
 *
 * Provided so that programs written for ASP compile.  It includes
 * <stdio.h> because such programs call printf() and fflush() without
 * including it themselves.  This library has no debug functions.
 */
#ifndef _CL_DEBUG_API_H_
#define _CL_DEBUG_API_H_

#include <stdio.h>
#include <clCommon.h>

#ifdef __cplusplus
extern "C" {
#endif

/* No declarations. */

#ifdef __cplusplus
}
#endif

#endif /* _CL_DEBUG_API_H_ */
