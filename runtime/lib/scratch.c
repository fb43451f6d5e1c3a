/*===- scratch.c - Halide's heap scratch, kept per thread -----------------===*
 *
 * A kernel allocates its tile buffers (scores, probabilities, a head's
 * transposed K and V) per tile and frees them at the tile's end: thousands
 * of allocations of the same few sizes per call, the large ones above
 * glibc's mmap and trim thresholds. Through malloc, those pages went back
 * to the kernel and were faulted in (zeroed) again tile after tile,
 * depending on glibc's adaptive thresholds and the order of the calls:
 * full attention at L = 4096 ran 221 ms in one process and 172 ms once
 * the blocks were kept (Zen 5, one thread, Halide's profiler: the score
 * and probability stores took 3x as long). Each thread here keeps the
 * blocks it freed and hands back the smallest that fits: after a call's
 * first tiles a kernel allocates nothing.
 *
 *===----------------------------------------------------------------------===*/
#include "scratch.h"

#include <HalideRuntime.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#pragma weak halide_set_custom_malloc
#pragma weak halide_set_custom_free

enum {
  kSlots = 16,
  /* Halide may read 8 bytes before and after a buffer; a header of one
   * cache line keeps the returned pointer aligned for any vector. */
  kHeader = 64,
  kTail = 64,
};

/* Before each returned pointer: the block it lies in and the bytes usable
 * from the pointer on. */
typedef struct {
  void *block;
  size_t capacity;
} header_t;

static header_t *header_of(void *ptr) { return (header_t *)ptr - 1; }

/* A thread's freed blocks (as the pointers handed out) and their bytes. */
typedef struct {
  void *ptr[kSlots];
  size_t size[kSlots];
  int count;
  size_t bytes;
} cache_t;

static pthread_key_t cache_key;
static pthread_once_t cache_once = PTHREAD_ONCE_INIT;

/* Takes slot s out of the cache: its pointer, still allocated. */
static void *take(cache_t *c, int s) {
  void *ptr = c->ptr[s];
  c->bytes -= c->size[s];
  c->ptr[s] = c->ptr[c->count - 1];
  c->size[s] = c->size[c->count - 1];
  --c->count;
  return ptr;
}

static void drop(cache_t *c, int s) { free(header_of(take(c, s))->block); }

/* At thread exit (Halide's workers exit when the thread count changes). */
static void release_cache(void *p) {
  cache_t *c = p;
  while (c->count > 0)
    drop(c, 0);
  free(c);
}

static void make_key(void) { pthread_key_create(&cache_key, release_cache); }

static cache_t *thread_cache(void) {
  pthread_once(&cache_once, make_key);
  cache_t *c = pthread_getspecific(cache_key);
  if (!c) {
    c = calloc(1, sizeof *c);
    if (c && pthread_setspecific(cache_key, c) != 0) {
      free(c);
      c = NULL;
    }
  }
  return c;
}

void *attn_scratch_malloc(void *user_context, size_t size) {
  (void)user_context;
  cache_t *c = thread_cache();
  if (c) {
    /* The smallest cached block that fits, unless it is over twice the
     * size (a small buffer would pin a large one). */
    int best = -1;
    for (int s = 0; s < c->count; ++s)
      if (c->size[s] >= size && c->size[s] / 2 <= size &&
          (best < 0 || c->size[s] < c->size[best]))
        best = s;
    if (best >= 0)
      return take(c, best);
  }
  if (size > SIZE_MAX - kHeader - kTail - 63)
    return NULL;
  size_t capacity = (size + 63) & ~(size_t)63;
  char *block = aligned_alloc(64, kHeader + capacity + kTail);
  if (!block)
    return NULL;
  void *ptr = block + kHeader;
  header_of(ptr)->block = block;
  header_of(ptr)->capacity = capacity;
  return ptr;
}

void attn_scratch_free(void *user_context, void *ptr) {
  (void)user_context;
  if (!ptr)
    return;
  size_t capacity = header_of(ptr)->capacity;
  cache_t *c = thread_cache();
  if (!c || capacity > ATTN_SCRATCH_BYTES_PER_THREAD) {
    free(header_of(ptr)->block);
    return;
  }
  /* Full, or over budget: the smallest cached blocks go first (the large
   * ones are the costly ones to fault back in). */
  while (c->count > 0 && (c->count == kSlots ||
                          c->bytes + capacity > ATTN_SCRATCH_BYTES_PER_THREAD)) {
    int smallest = 0;
    for (int s = 1; s < c->count; ++s)
      if (c->size[s] < c->size[smallest])
        smallest = s;
    drop(c, smallest);
  }
  c->ptr[c->count] = ptr;
  c->size[c->count] = capacity;
  c->bytes += capacity;
  ++c->count;
}

size_t attn_scratch_cached_bytes(void) {
  cache_t *c = thread_cache();
  return c ? c->bytes : 0;
}

void attn_install_scratch(void) {
  /* ATTN_SCRATCH_CACHE=0: Halide's own malloc and free (to compare, or for
   * a program that wants every block back at once). */
  const char *env = getenv("ATTN_SCRATCH_CACHE");
  if (!halide_set_custom_malloc || !halide_set_custom_free ||
      (env && strcmp(env, "0") == 0))
    return;
  halide_set_custom_malloc(attn_scratch_malloc);
  halide_set_custom_free(attn_scratch_free);
}
