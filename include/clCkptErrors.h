/*
 * clCkptErrors.h - return codes of the checkpoint service.
 *
 * Every CL_CKPT_ERR_* below, except CL_CKPT_ERR_NO_SECTIONS, is a complete
 * return code: CKPT_RC(CL_ERR_x), i.e. component CL_CID_CKPT (0x16) in the
 * upper 16 bits.  Compare a result with them directly (rc ==
 * CL_CKPT_ERR_NOT_EXIST) or, equivalently, compare CL_GET_ERROR_CODE(rc)
 * with the CL_ERR_* code.
 *
 * CL_CKPT_ERR_NO_SECTIONS is a raw error code without a component id.  The
 * API returns it as CKPT_RC(CL_CKPT_ERR_NO_SECTIONS) == 0x160101, so test it
 * with CL_GET_ERROR_CODE(rc) == CL_CKPT_ERR_NO_SECTIONS.
 */
#ifndef _CL_CKPT_ERRORS_H_
#define _CL_CKPT_ERRORS_H_

#include <clCommon.h>
#include <clCommonErrors.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Raw code: no more sections in a section iteration. */
#define CL_CKPT_ERR_NO_SECTIONS         0x101

/* Builds a checkpoint-service return code from an error code. */
#define CKPT_RC(ERR_ID)                 (CL_RC(CL_CID_CKPT, ERR_ID))

#define CL_CKPT_ERR_NO_MEMORY           CKPT_RC(CL_ERR_NO_MEMORY)          /* 0x160001 */
#define CL_CKPT_ERR_INVALID_PARAMETER   CKPT_RC(CL_ERR_INVALID_PARAMETER)  /* 0x160002 */
#define CL_CKPT_ERR_NULL_POINTER        CKPT_RC(CL_ERR_NULL_POINTER)       /* 0x160003 */
#define CL_CKPT_ERR_NOT_EXIST           CKPT_RC(CL_ERR_NOT_EXIST)          /* 0x160004 */
#define CL_CKPT_ERR_INVALID_HANDLE      CKPT_RC(CL_ERR_INVALID_HANDLE)     /* 0x160005 */
#define CL_CKPT_ERR_INVALID_BUFFER      CKPT_RC(CL_ERR_INVALID_BUFFER)     /* 0x160006 */
#define CL_CKPT_ERR_NOT_IMPLEMENTED     CKPT_RC(CL_ERR_NOT_IMPLEMENTED)    /* 0x160007 */
#define CL_CKPT_ERR_DUPLICATE           CKPT_RC(CL_ERR_DUPLICATE)          /* 0x160008 */
#define CL_CKPT_ERR_OUT_OF_RANGE        CKPT_RC(CL_ERR_OUT_OF_RANGE)       /* 0x16000a */
#define CL_CKPT_ERR_NO_RESOURCE         CKPT_RC(CL_ERR_NO_RESOURCE)        /* 0x16000b */
#define CL_CKPT_ERR_INITIALIZED         CKPT_RC(CL_ERR_INITIALIZED)        /* 0x16000c */
#define CL_CKPT_ERR_BUFFER_OVERRUN      CKPT_RC(CL_ERR_BUFFER_OVERRUN)     /* 0x16000d */
#define CL_CKPT_ERR_NOT_INITIALIZED     CKPT_RC(CL_ERR_NOT_INITIALIZED)    /* 0x16000e */
#define CL_CKPT_ERR_VERSION_MISMATCH    CKPT_RC(CL_ERR_VERSION_MISMATCH)   /* 0x16000f */
#define CL_CKPT_ERR_ALREADY_EXIST       CKPT_RC(CL_ERR_ALREADY_EXIST)      /* 0x160010 */
#define CL_CKPT_ERR_UNSPECIFIED         CKPT_RC(CL_ERR_UNSPECIFIED)        /* 0x160011 */
#define CL_CKPT_ERR_INVALID_STATE       CKPT_RC(CL_ERR_INVALID_STATE)      /* 0x160012 */
#define CL_CKPT_ERR_DOESNT_EXIST        CKPT_RC(CL_ERR_DOESNT_EXIST)       /* 0x160013 */
#define CL_CKPT_ERR_TIMEOUT             CKPT_RC(CL_ERR_TIMEOUT)            /* 0x160014 */
#define CL_CKPT_ERR_INUSE               CKPT_RC(CL_ERR_INUSE)              /* 0x160015 */
#define CL_CKPT_ERR_TRY_AGAIN           CKPT_RC(CL_ERR_TRY_AGAIN)          /* 0x160016 */
#define CL_CKPT_ERR_NO_CALLBACK         CKPT_RC(CL_ERR_NO_CALLBACK)        /* 0x160017 */
#define CL_CKPT_ERR_MUTEX_ERROR         CKPT_RC(CL_ERR_MUTEX_ERROR)        /* 0x160018 */
#define CL_CKPT_ERR_OP_NOT_PERMITTED    CKPT_RC(CL_ERR_OP_NOT_PERMITTED)   /* 0x160020 */
#define CL_CKPT_ERR_NO_SPACE            CKPT_RC(CL_ERR_NO_SPACE)           /* 0x160021 */
#define CL_CKPT_ERR_BAD_FLAG            CKPT_RC(CL_ERR_BAD_FLAG)           /* 0x160022 */
#define CL_CKPT_ERR_BAD_OPERATION       CKPT_RC(CL_ERR_BAD_OPERATION)      /* 0x160023 */

#ifdef __cplusplus
}
#endif

#endif /* _CL_CKPT_ERRORS_H_ */
