/*
 * embedded.h — files compiled into the binary by tools/embed.c at build time
 * (SQL migrations, front-end assets), so one `shoal` file is the whole program.
 */
#ifndef SHOAL_CORE_EMBEDDED_H
#define SHOAL_CORE_EMBEDDED_H

#include <stddef.h>

struct embedded_file {
	const char *name;          /* the file's base name, e.g. "0001_foundation.sql" */
	const unsigned char *data; /* its bytes, followed by a NUL not counted in size */
	size_t size;
	const char
	    *hash; /* 16 hex digits of a 64-bit FNV-1a of the bytes, for cache-busting URLs */
};

#endif
