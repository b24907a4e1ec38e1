/*
 * buf.h — a growable byte buffer with a hard cap (after curl's dynbuf).
 *
 * Every buffer that holds outside input or rendered output carries a cap, so
 * no request can make Shoal grow without bound. Appending past the cap fails
 * and leaves the buffer as it was; the caller turns that into a 4xx. Running
 * out of memory below the cap aborts (xmalloc), as Redis and h2o do.
 * The owner of a struct buf is whoever declared it; free with buf_free.
 */
#ifndef SHOAL_CORE_BUF_H
#define SHOAL_CORE_BUF_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct buf {
	char *data; /* always NUL-terminated when len > 0 or after buf_init */
	size_t len;
	size_t alloc;
	size_t cap;   /* the most bytes this buffer may ever hold */
	int overflow; /* set once an append was refused because of cap */
};

/** Prepares an empty buffer that may hold at most cap bytes. */
void buf_init(struct buf *b, size_t cap);
/** Releases the memory and leaves an empty buffer with the same cap. */
void buf_free(struct buf *b);
/** Empties the buffer, keeping its memory. */
void buf_clear(struct buf *b);
/** Makes room for n more bytes (one allocation for a body of known length); 0, or -1 past cap. */
int buf_reserve(struct buf *b, size_t n);
/** buf_add, not inline: its way when the buffer must grow, and the compiled templates'
 * for long literals, where a call costs little beside the copy. */
int buf_add_grow(struct buf *b, const void *p, size_t n);

/** Appends n bytes; returns 0, or -1 (and sets the sticky overflow flag) if the
 * cap would be passed. Writers may append freely and check overflow once at the end.
 * Inline because rendering calls it thousands of times a page (escaped values, markup),
 * almost always with room to spare: then it is a copy and no call. */
static inline int buf_add(struct buf *b, const void *p, size_t n)
{
	/* Room for n bytes and the NUL; alloc never passes cap + 1, so neither does len + n. */
	if (n < b->alloc - b->len) {
		if (n)
			memcpy(b->data + b->len, p, n);
		b->len += n;
		b->data[b->len] = '\0';
		return 0;
	}
	return buf_add_grow(b, p, n);
}

/** Appends a NUL-terminated string (NULL appends nothing). */
static inline int buf_puts(struct buf *b, const char *s)
{
	return s ? buf_add(b, s, strlen(s)) : 0;
}

/** Appends one byte. */
static inline int buf_putc(struct buf *b, char c)
{
	return buf_add(b, &c, 1);
}
/** Appends printf-formatted text. */
int buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/** Same, with a va_list. */
int buf_vprintf(struct buf *b, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));
/** Takes the data out of the buffer (caller frees it) and leaves it empty. */
char *buf_take(struct buf *b);

#endif
