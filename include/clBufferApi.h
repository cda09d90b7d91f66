/*
 * clBufferApi.h - message buffers.
 *
 * This library provides no buffer functions.  The header exists because
 * the ASP include chain clCkptApi.h -> clIocApi.h -> clBufferApi.h is how
 * programs that include only clCkptApi.h obtain CL_OK and the common error
 * codes, and that chain is kept.
 */
#ifndef _CL_BUFFER_API_H_
#define _CL_BUFFER_API_H_

#include <clCommon.h>
#include <clCommonErrors.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Handle of a message buffer. */
typedef ClHandleT ClBufferHandleT;

#ifdef __cplusplus
}
#endif

#endif /* _CL_BUFFER_API_H_ */
