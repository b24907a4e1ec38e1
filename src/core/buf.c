/*
 * buf.c — growable byte buffer with a hard cap (see buf.h).
 */
#include "core/buf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/xmalloc.h"

void buf_init(struct buf *b, size_t cap)
{
	b->data = NULL;
	b->len = 0;
	b->alloc = 0;
	b->cap = cap;
	b->overflow = 0;
}

void buf_free(struct buf *b)
{
	free(b->data);
	buf_init(b, b->cap);
}

void buf_clear(struct buf *b)
{
	b->len = 0;
	b->overflow = 0;
	if (b->data)
		b->data[0] = '\0';
}

/* Makes room for n more bytes plus the terminating NUL. */
int buf_reserve(struct buf *b, size_t n)
{
	if (n > b->cap || b->len > b->cap - n) {
		b->overflow = 1;
		return -1;
	}
	size_t need = b->len + n + 1;
	if (need <= b->alloc)
		return 0;
	size_t alloc = b->alloc ? b->alloc : 256;
	while (alloc < need)
		alloc *= 2;
	if (alloc > b->cap + 1)
		alloc = b->cap + 1;
	b->data = xrealloc(b->data, alloc);
	b->alloc = alloc;
	return 0;
}

int buf_add_grow(struct buf *b, const void *p, size_t n)
{
	/* Templates call this directly for long literals, which mostly fit. */
	if (n >= b->alloc - b->len && buf_reserve(b, n) < 0)
		return -1;
	if (n)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
	return 0;
}

int buf_vprintf(struct buf *b, const char *fmt, va_list ap)
{
	char small[256];
	va_list copy;
	va_copy(copy, ap);
	int n = vsnprintf(small, sizeof small, fmt, copy);
	va_end(copy);
	if (n < 0)
		return -1;
	if ((size_t)n < sizeof small)
		return buf_add(b, small, (size_t)n);
	if (buf_reserve(b, (size_t)n) < 0)
		return -1;
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	b->len += (size_t)n;
	return 0;
}

int buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int rc = buf_vprintf(b, fmt, ap);
	va_end(ap);
	return rc;
}

char *buf_take(struct buf *b)
{
	char *p = b->data ? b->data : xstrdup("");
	buf_init(b, b->cap);
	return p;
}
