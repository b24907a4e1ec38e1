/*
 * xmalloc.c — allocation that aborts on out-of-memory (see xmalloc.h for why).
 */
#include "core/xmalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void out_of_memory(size_t n)
{
	fprintf(stderr, "shoal: out of memory allocating %zu bytes\n", n);
	abort();
}

void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (!p)
		out_of_memory(n);
	return p;
}

void *xcalloc(size_t count, size_t size)
{
	void *p = calloc(count ? count : 1, size ? size : 1);
	if (!p)
		out_of_memory(count * size);
	return p;
}

void *xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);
	if (!q)
		out_of_memory(n);
	return q;
}

char *xstrdup(const char *s)
{
	return xstrndup(s, strlen(s));
}

char *xstrndup(const char *s, size_t n)
{
	char *p = xmalloc(n + 1);
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

enum { STRPOOL_BLOCK = 64 << 10 };

struct strpool_block {
	struct strpool_block *next;
	size_t used, cap;
	char data[];
};

const char *strpool_dup(struct strpool *pool, const char *s)
{
	size_t n = strlen(s) + 1;
	struct strpool_block *b = pool->blocks;
	if (!b || b->cap - b->used < n) {
		size_t cap = n > STRPOOL_BLOCK ? n : STRPOOL_BLOCK;
		b = xmalloc(sizeof *b + cap);
		b->used = 0;
		b->cap = cap;
		b->next = pool->blocks;
		pool->blocks = b;
	}
	char *p = b->data + b->used;
	memcpy(p, s, n);
	b->used += n;
	return p;
}

void strpool_free(struct strpool *pool)
{
	for (struct strpool_block *b = pool->blocks, *next; b; b = next) {
		next = b->next;
		free(b);
	}
	pool->blocks = NULL;
}
