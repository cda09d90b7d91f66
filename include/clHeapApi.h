/*
 * clHeapApi.h - memory allocation.
 *
 * Memory that the checkpoint library allocates on behalf of the caller
 * (the buffer of a clCkptCheckpointRead with dataBuffer == NULL, a
 * generated section id written back by clCkptSectionCreate, the section id
 * in a descriptor from clCkptSectionIterationNext, a string from clStrdup)
 * comes from clHeapAllocate/clHeapCalloc, and the caller releases it with
 * clHeapFree.  These functions are backed by the C library's malloc family,
 * so a buffer from clHeapAllocate may also be released with free(), but
 * portable programs use clHeapFree.
 *
 * All four functions are thread-safe.
 */
#ifndef _CL_HEAP_API_H_
#define _CL_HEAP_API_H_

#include <clCommon.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Allocates `size` bytes, not initialized.  Returns NULL when memory is
 * exhausted.  A size of 0 returns either NULL or a pointer that may be
 * passed to clHeapFree.
 */
extern ClPtrT clHeapAllocate(ClUint32T size);

/*
 * Releases memory from clHeapAllocate, clHeapCalloc, clHeapRealloc or a
 * checkpoint function that hands a buffer to the caller.  NULL is ignored.
 */
extern void clHeapFree(ClPtrT pAddress);

/*
 * Allocates numChunks * chunkSize bytes set to zero.  Returns NULL when
 * memory is exhausted or the product overflows.
 */
extern ClPtrT clHeapCalloc(ClUint32T numChunks, ClUint32T chunkSize);

/*
 * Resizes `pAddress` (which may be NULL) to `size` bytes, keeping the
 * contents up to the smaller of the two sizes.  Returns the new pointer, or
 * NULL when memory is exhausted; the old block is then left unchanged.
 */
extern ClPtrT clHeapRealloc(ClPtrT pAddress, ClUint32T size);

#ifdef __cplusplus
}
#endif

#endif /* _CL_HEAP_API_H_ */
