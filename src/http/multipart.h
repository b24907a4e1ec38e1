/*
 * multipart.h — multipart/form-data bodies (RFC 7578): HTML forms that carry files.
 *
 * Strict and zero-copy: each part's data is a pointer into the request body,
 * which the caller keeps for as long as it reads the parts, so a 20 MB upload
 * is held once. Only the small things (names, file names, types) are copied,
 * into fixed fields. Anything a browser would not send is refused with a
 * one-line reason: a preamble, bare LF line ends, a missing final boundary,
 * a part without Content-Disposition: form-data and a name, oversized headers,
 * too many parts. Text fields reach handlers through struct form (form.h), so
 * form_get reads a field the same way whichever encoding the browser used.
 */
#ifndef SHOAL_HTTP_MULTIPART_H
#define SHOAL_HTTP_MULTIPART_H

#include <stdbool.h>
#include <stddef.h>

#include "http/form.h"

#define MULTIPART_MAX_PARTS        32   /* parts in one body, files and fields together */
#define MULTIPART_MAX_HEADER_BYTES 1024 /* one part's header lines together */
#define MULTIPART_MAX_BOUNDARY     70   /* RFC 2046 */
#define MULTIPART_NAME_BYTES       64   /* a field's name, with its NUL */
#define MULTIPART_FILENAME_BYTES   256  /* a file's name as sent, with its NUL */
#define MULTIPART_TYPE_BYTES       128  /* a part's Content-Type, with its NUL */

struct multipart_part {
	char name[MULTIPART_NAME_BYTES];
	char filename[MULTIPART_FILENAME_BYTES]; /* as sent (may hold a path); "" if none */
	bool is_file;                            /* the part had a filename parameter */
	char content_type[MULTIPART_TYPE_BYTES]; /* as sent, never trusted; "" if none */
	const char *data;                        /* into the body: not NUL-terminated */
	size_t len;
};

struct multipart {
	int n;
	struct multipart_part parts[MULTIPART_MAX_PARTS];
};

/** Whether a Content-Type header names multipart/form-data. */
bool multipart_is_form_data(const char *content_type);
/**
 * Copies the boundary parameter of a multipart Content-Type into out (at least
 * MULTIPART_MAX_BOUNDARY + 1 bytes). Returns 0, or -1 when missing or invalid.
 */
int multipart_boundary(const char *content_type, char *out, size_t outlen);
/**
 * Parses body[0..len) as multipart/form-data with the boundary of content_type.
 * Returns 0, or -1 with a one-line reason in err. m's parts point into body.
 */
int multipart_parse(struct multipart *m, const char *content_type, const char *body, size_t len,
                    char *err, size_t errlen) __attribute__((warn_unused_result));
/**
 * Adds every part that is not a file to f as a field (copied, so f owns them),
 * after whatever f holds already. Returns 0, or -1 when a value is not valid
 * UTF-8 (or holds NUL) or there are more than LIMIT_FORM_FIELDS fields.
 */
int multipart_form(const struct multipart *m, struct form *f) __attribute__((warn_unused_result));

#endif
