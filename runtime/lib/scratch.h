/*===- scratch.h - internal: Halide's heap scratch, kept per thread -------===*/
#ifndef ATTNC_RUNTIME_SCRATCH_H
#define ATTNC_RUNTIME_SCRATCH_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* What a thread keeps of the blocks it freed, at most (docs/runtime.md). */
#define ATTN_SCRATCH_BYTES_PER_THREAD ((size_t)64 << 20)

/* Routes the linked Halide runtime's heap allocations through
 * attn_scratch_malloc/free. Called before the first kernel runs. */
void attn_install_scratch(void);

/* halide_malloc / halide_free with a per-thread cache of freed blocks:
 * 64-byte aligned, 64 readable bytes on either side. */
void *attn_scratch_malloc(void *user_context, size_t size);
void attn_scratch_free(void *user_context, void *ptr);
/* The bytes the calling thread keeps cached (for the tests). */
size_t attn_scratch_cached_bytes(void);

#ifdef __cplusplus
}
#endif

#endif
