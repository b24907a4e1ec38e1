/*
 * xmalloc.h — allocation that aborts on out-of-memory.
 *
 * Internal allocations never fail softly: a server that cannot allocate a few
 * bytes cannot answer correctly either, so it stops loudly (as Redis and h2o do).
 * Sizes that come from outside input are bounded by limits.h before they get here.
 */
#ifndef SHOAL_CORE_XMALLOC_H
#define SHOAL_CORE_XMALLOC_H

#include <stddef.h>

void *xmalloc(size_t n);
void *xcalloc(size_t count, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);

#endif
