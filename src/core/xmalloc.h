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

/*
 * Strings that are freed together, such as the post bodies of one thread page: copied
 * into a few 64 KB blocks rather than one malloc each. Under load, the 50 bodies' mallocs
 * and frees were the most contended lock in the server (make bench, perf on futex).
 * A zeroed struct strpool is empty; strpool_free frees every string it gave out.
 */
struct strpool {
	struct strpool_block *blocks;
};
const char *strpool_dup(struct strpool *pool, const char *s);
void strpool_free(struct strpool *pool);

#endif
