/*
 * form.h — application/x-www-form-urlencoded bodies (HTML forms).
 *
 * Written by hand: libmicrohttpd's post processor is callback-driven and
 * incremental, which is more than bodies capped at LIMIT_BODY_BYTES need; this
 * parser is small enough to read at a glance and to fuzz. Names and values are
 * decoded ('+' and %XX) and must be valid UTF-8 without NUL bytes.
 */
#ifndef SHOAL_HTTP_FORM_H
#define SHOAL_HTTP_FORM_H

#include <stdbool.h>
#include <stddef.h>

#include "core/limits.h"

struct form {
	int n;
	char *names[LIMIT_FORM_FIELDS];
	char *values[LIMIT_FORM_FIELDS];
};

/** Parses a body. Returns 0, or -1 for malformed input (bad escapes, bad UTF-8, too many fields).
 */
int form_parse(struct form *f, const char *body, size_t len) __attribute__((warn_unused_result));
/** The first value of field name, or NULL. */
const char *form_get(const struct form *f, const char *name);
/** Frees what form_parse allocated. */
void form_free(struct form *f);
/** Whether s (length n) is valid UTF-8 with no NUL bytes. */
bool utf8_valid(const char *s, size_t n);

#endif
