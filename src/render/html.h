/*
 * html.h — the escaping writer that every HTML byte built from data goes through.
 *
 * Templates (compiled by tools/tplc.c) call these for each {{ value }}, choosing
 * the function by where the value sits in the markup. Raw markup can only be
 * written through struct safe_html, which only the Markdown renderer and the
 * template engine produce: a plain char * is always escaped.
 */
#ifndef SHOAL_RENDER_HTML_H
#define SHOAL_RENDER_HTML_H

#include "core/buf.h"

/** Markup that is already safe (rendered by Shoal itself). Never built from user text directly. */
struct safe_html {
	const char *html;
};

/** Writes s as HTML text: & < > " ' are escaped. NULL writes nothing. */
void html_text(struct buf *out, const char *s);
/** Writes s for a quoted attribute value (same escaping as text). */
void html_attr(struct buf *out, const char *s);
/**
 * Writes s as a URL in a quoted attribute (href, src, action): relative URLs
 * and http:, https:, mailto: and tel: are kept; any other scheme (javascript:,
 * data:, …) is replaced by "#". The result is then attribute-escaped.
 */
void html_url(struct buf *out, const char *s);
/**
 * Content that a renderer (a compiled template) writes straight into the page at a
 * {{ slot }} of the page shell (docs/templates.md): shell and content share one
 * buffer, so a page's content is never rendered apart and copied in (an 80 KB copy
 * on a thread page). The renderer only writes what templates write: escaped values
 * and struct safe_html.
 */
struct html_slot {
	void (*render)(struct buf *out, const void *view);
	const void *view;
};

/** Writes a decimal integer. */
void html_int(struct buf *out, long long v);
/** Writes trusted markup as it is. */
void html_safe(struct buf *out, struct safe_html h);
/** Has the slot's renderer write its content (nothing when it has none). */
void html_slot(struct buf *out, struct html_slot s);

#endif
