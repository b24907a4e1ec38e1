/*
 * markdown.h — posts' Markdown to HTML, once, when a post is saved.
 *
 * cmark-gfm with raw HTML off (it becomes a comment), its own filtering of
 * dangerous link schemes (javascript:, vbscript:, file:, data:), and the table,
 * strikethrough and autolink extensions. Two things are Shoal's own: images
 * become plain links (a picture from elsewhere would tell its host who read the
 * post), and @[Full name] mentions become links to /people/{id}, resolved by
 * the caller so that this file needs no database.
 *
 * The result is the only producer of struct safe_html from people's text.
 */
#ifndef SHOAL_APP_DISCUSSIONS_MARKDOWN_H
#define SHOAL_APP_DISCUSSIONS_MARKDOWN_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"

/* The most people one post may mention. */
#define MARKDOWN_MAX_MENTIONS 20

/**
 * Resolves a mentioned name to a person: returns 1 and sets *id when exactly one
 * active person has that name, 0 when nobody does, 2 when several do, < 0 on error.
 */
typedef int (*markdown_resolve_fn)(void *ctx, const char *name, int64_t *id);

struct markdown_result {
	char *html;                              /* owned: free with markdown_result_free */
	int64_t mentions[MARKDOWN_MAX_MENTIONS]; /* distinct people mentioned */
	size_t n_mentions;
	char problem[300]; /* when markdown_render returns 1: what to fix, for the form */
};

/**
 * Renders source (UTF-8, NUL-terminated) to HTML. resolve may be NULL (mentions
 * then stay text). Returns 0, 1 when the text has a problem the writer must fix
 * (an unknown or ambiguous mention, too many mentions; see r->problem), or < 0
 * when resolve failed.
 */
int markdown_render(const char *source, markdown_resolve_fn resolve, void *ctx,
                    struct markdown_result *r) __attribute__((warn_unused_result));
/** Frees what markdown_render allocated. */
void markdown_result_free(struct markdown_result *r);

/** Number of characters (UTF-8 code points) in s. */
size_t markdown_chars(const char *s);

#endif
