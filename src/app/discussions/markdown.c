/*
 * markdown.c — posts' Markdown to HTML with cmark-gfm (see markdown.h).
 *
 * Safety comes from cmark-gfm itself: without CMARK_OPT_UNSAFE it writes
 * "<!-- raw HTML omitted -->" for any HTML in the text and an empty href for
 * javascript:, vbscript:, file: and data: links. This file adds only the tree
 * changes cmark-gfm cannot be asked for (images to links, mentions to links).
 */
#include "app/discussions/markdown.h"

#include <cmark-gfm-core-extensions.h>
#include <cmark-gfm-extension_api.h>
#include <cmark-gfm.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/xmalloc.h"

#define OPTIONS           (CMARK_OPT_DEFAULT | CMARK_OPT_VALIDATE_UTF8)
#define MAX_MENTION_BYTES 200

static pthread_once_t registered = PTHREAD_ONCE_INIT;

/* cmark-gfm's registry is a global list without a lock: fill it once. */
static void register_extensions(void)
{
	cmark_gfm_core_extensions_ensure_registered();
}

size_t markdown_chars(const char *s)
{
	size_t n = 0;
	for (; s && *s; s++)
		n += ((unsigned char)*s & 0xC0) != 0x80;
	return n;
}

static bool inside_link(cmark_node *n)
{
	for (cmark_node *p = cmark_node_parent(n); p; p = cmark_node_parent(p))
		if (cmark_node_get_type(p) == CMARK_NODE_LINK)
			return true;
	return false;
}

/* An image becomes a link to the picture (or, inside a link, its description). */
static void image_to_link(cmark_node *img)
{
	cmark_node *to = img;
	if (!inside_link(img)) {
		to = cmark_node_new(CMARK_NODE_LINK);
		const char *url = cmark_node_get_url(img);
		cmark_node_set_url(to, url ? url : "");
		cmark_node_insert_before(img, to);
	}
	cmark_node *child;
	bool any = false;
	while ((child = cmark_node_first_child(img))) {
		cmark_node_unlink(child);
		if (to == img)
			cmark_node_insert_before(img, child);
		else
			cmark_node_append_child(to, child);
		any = true;
	}
	if (!any) {
		cmark_node *t = cmark_node_new(CMARK_NODE_TEXT);
		cmark_node_set_literal(t, "image");
		if (to == img)
			cmark_node_insert_before(img, t);
		else
			cmark_node_append_child(to, t);
	}
	cmark_node_free(img);
}

static void add_mention(struct markdown_result *r, int64_t id)
{
	for (size_t i = 0; i < r->n_mentions; i++)
		if (r->mentions[i] == id)
			return;
	r->mentions[r->n_mentions++] = id;
}

/* Splits "… @[Name] …" in a text node into text and links. 0, 1 (r->problem), < 0. */
static int mentions_in(cmark_node *text, markdown_resolve_fn resolve, void *ctx,
                       struct markdown_result *r)
{
	const char *lit = cmark_node_get_literal(text);
	if (!lit || !strstr(lit, "@["))
		return 0;
	char *s = xstrdup(lit);
	char *rest = s, *at;
	int rc = 0;
	while ((at = strstr(rest, "@["))) {
		char *name = at + 2, *end = strchr(name, ']');
		if (!end) /* no closing bracket: not a mention */
			break;
		size_t len = (size_t)(end - name);
		if (!len || len > MAX_MENTION_BYTES || memchr(name, '\n', len)) {
			rest = name;
			continue;
		}
		*end = '\0';
		int64_t id = 0;
		int found = resolve(ctx, name, &id);
		if (found < 0) {
			rc = found;
			break;
		}
		if (found != 1) {
			snprintf(r->problem, sizeof r->problem,
			         found == 0
			             ? "Nobody called %.200s can be mentioned: check the name, "
			               "as it appears in the directory"
			             : "More than one person is called %.200s: mention them by "
			               "name in the text instead",
			         name);
			rc = 1;
			break;
		}
		if (r->n_mentions >= MARKDOWN_MAX_MENTIONS) {
			snprintf(r->problem, sizeof r->problem,
			         "Mention no more than %d people in one post",
			         MARKDOWN_MAX_MENTIONS);
			rc = 1;
			break;
		}
		add_mention(r, id);
		*at = '\0';
		if (*rest) {
			cmark_node *before = cmark_node_new(CMARK_NODE_TEXT);
			cmark_node_set_literal(before, rest);
			cmark_node_insert_before(text, before);
		}
		char url[40], label[MAX_MENTION_BYTES + 2];
		snprintf(url, sizeof url, "/people/%lld", (long long)id);
		snprintf(label, sizeof label, "@%s", name);
		cmark_node *link = cmark_node_new(CMARK_NODE_LINK),
		           *t = cmark_node_new(CMARK_NODE_TEXT);
		cmark_node_set_url(link, url);
		cmark_node_set_literal(t, label);
		cmark_node_append_child(link, t);
		cmark_node_insert_before(text, link);
		rest = end + 1;
	}
	if (rc == 0)
		cmark_node_set_literal(text, rest);
	free(s);
	return rc;
}

/*
 * Whether any line has more than MAX_TABLE_PIPES '|'. The table extension of the
 * cmark-gfm in Debian 12 (0.29.0.gfm.6) takes time quadratic in the cells of a
 * row: one 50,000-character line of pipes takes seconds. No real table has
 * hundreds of columns, so such a post is rendered without tables instead.
 */
#define MAX_TABLE_PIPES 128
static bool too_many_pipes(const char *s)
{
	size_t pipes = 0;
	for (; *s; s++) {
		if (*s == '\n')
			pipes = 0;
		else if (*s == '|' && ++pipes > MAX_TABLE_PIPES)
			return true;
	}
	return false;
}

int markdown_render(const char *source, markdown_resolve_fn resolve, void *ctx,
                    struct markdown_result *r)
{
	memset(r, 0, sizeof *r);
	pthread_once(&registered, register_extensions);
	cmark_parser *parser = cmark_parser_new(OPTIONS);
	static const char *const extensions[] = {"strikethrough", "autolink", "table"};
	size_t n_extensions = sizeof extensions / sizeof extensions[0] - too_many_pipes(source);
	for (size_t i = 0; i < n_extensions; i++) {
		cmark_syntax_extension *e = cmark_find_syntax_extension(extensions[i]);
		if (e)
			cmark_parser_attach_syntax_extension(parser, e);
	}
	cmark_parser_feed(parser, source, strlen(source));
	cmark_node *doc = cmark_parser_finish(parser);
	cmark_consolidate_text_nodes(doc);

	/* Collect first: the tree must not change under the iterator. */
	size_t n = 0, cap = 64;
	cmark_node **nodes = xmalloc(cap * sizeof *nodes);
	cmark_iter *it = cmark_iter_new(doc);
	cmark_event_type ev;
	while ((ev = cmark_iter_next(it)) != CMARK_EVENT_DONE) {
		cmark_node *node = cmark_iter_get_node(it);
		int type = cmark_node_get_type(node);
		if (ev != CMARK_EVENT_ENTER ||
		    !(type == CMARK_NODE_IMAGE || (type == CMARK_NODE_TEXT && resolve)))
			continue;
		if (n == cap)
			nodes = xrealloc(nodes, (cap *= 2) * sizeof *nodes);
		nodes[n++] = node;
	}
	cmark_iter_free(it);
	int rc = 0;
	/* Text first: an image's description may hold a mention, and images free their children. */
	for (size_t i = 0; rc == 0 && i < n; i++)
		if (cmark_node_get_type(nodes[i]) == CMARK_NODE_TEXT && !inside_link(nodes[i]))
			rc = mentions_in(nodes[i], resolve, ctx, r);
	for (size_t i = 0; rc == 0 && i < n; i++)
		if (cmark_node_get_type(nodes[i]) == CMARK_NODE_IMAGE)
			image_to_link(nodes[i]);
	free(nodes);
	if (rc == 0) {
		char *html =
		    cmark_render_html(doc, OPTIONS, cmark_parser_get_syntax_extensions(parser));
		r->html = xstrdup(html);
		free(html);
	}
	cmark_node_free(doc);
	cmark_parser_free(parser);
	return rc;
}

void markdown_result_free(struct markdown_result *r)
{
	free(r->html);
	r->html = NULL;
}
