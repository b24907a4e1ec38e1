/*
 * tplc.c — build-time template compiler: turns HTML templates into C functions.
 *
 * Usage: tplc OUT.c OUT.h TEMPLATE.html...
 * Each NAME.html becomes void tpl_NAME(struct buf *out, const struct VIEW *v), declared in
 * OUT.h and defined in OUT.c, that appends the page to out. Every {{ value }} is escaped for
 * the place in the markup where it sits (text, attribute value, URL): tplc follows the markup
 * with a small HTML tokenizer at build time, so pages pay nothing for it at run time, and a
 * value where no escaper is safe (script, style, tag or attribute name, unquoted value,
 * comment) is a compile error. Syntax and rules: docs/templates.md.
 *
 * Written by hand because no Debian-packaged C template engine does context-aware escaping
 * into compiled C. A build tool that stops at its first error, printing "FILE:LINE: message"
 * and exiting 1; the outputs are written to temporary files and renamed only after every
 * template has been checked, so a failed run leaves nothing behind. Memory is released by
 * exiting.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_DEPTH    64   /* nested {% if %} and {% for %} blocks */
#define MAX_CONTEXTS 16   /* HTML contexts one point of a template may be in, across branches */
#define LITERAL_MAX  4000 /* bytes per string literal: C17 promises 4095 characters */

enum token_kind { TOK_TEXT, TOK_VALUE, TOK_IF, TOK_ELIF, TOK_ELSE, TOK_END, TOK_FOR, TOK_INCLUDE };
enum value_kind { VALUE_STRING, VALUE_INT, VALUE_HTML, VALUE_SLOT };

struct token {
	enum token_kind kind;
	enum value_kind value; /* TOK_VALUE: which {{ }} form */
	const char *escaper;   /* TOK_VALUE: html_* function chosen from the HTML context */
	int line;
	const char *text; /* TOK_TEXT: literal bytes in the template source */
	size_t len;
	char *expr;  /* value, condition, array, or include argument (NULL when none) */
	char *count; /* TOK_FOR: number of elements */
	char *name;  /* TOK_FOR: loop variable; TOK_INCLUDE: template name */
	size_t next; /* if/elif/else: the next elif, else or end; for: its end */
};

struct template_file {
	const char *path;
	char *name;    /* file name without .html: the function is tpl_NAME */
	char *src;     /* whole file, NUL-terminated */
	int last_line; /* for errors at the end of the file */
	char *view;    /* struct name, or NULL for {% view none %} */
	char *view_header;
	struct token *tokens;
	size_t count, alloc;
};

static struct template_file *templates;
static size_t n_templates;

/* The HTML tokenizer states that matter for escaping (after the WHATWG tokenizer, simplified). */
enum html_state {
	HTML_TEXT,         /* between tags */
	HTML_LT,           /* after '<' */
	HTML_TAG_NAME,     /* in a start or end tag name */
	HTML_IN_TAG,       /* between attributes */
	HTML_ATTR_NAME,    /* in an attribute name */
	HTML_AFTER_NAME,   /* after an attribute name: '=' or another name follows */
	HTML_BEFORE_VALUE, /* after '=' */
	HTML_VALUE_DQ,     /* in a "quoted" attribute value */
	HTML_VALUE_SQ,     /* in a 'quoted' attribute value */
	HTML_VALUE_UNQ,    /* in an unquoted attribute value */
	HTML_DECL,         /* after "<!": a comment or a declaration */
	HTML_COMMENT,      /* in <!-- … --> */
	HTML_BOGUS,        /* in <!DOCTYPE …> or <?…>, up to '>' */
	HTML_RAW,          /* in <script> or <style>, up to its end tag */
};

enum attr_kind { ATTR_PLAIN, ATTR_URL, ATTR_REFUSED };

/*
 * Where the tokenizer is. Fields a state does not use are kept zero, so two contexts
 * can be compared field by field. Names are stored lowercased and cut short: only
 * short ones (script, style, href, …) are ever looked at, and the lengths are exact.
 */
struct html_ctx {
	enum html_state state;
	char tag[8];
	size_t tag_len;
	int end_tag;
	char attr[12];
	size_t attr_len;
	enum attr_kind attr_kind; /* of the value being read */
	int url_start;            /* in a URL value with nothing but whitespace written yet */
	size_t matched;           /* dashes seen (comments), or bytes of "</tag" seen (raw) */
};

/* Every context a point of a template may be in, one per path through {% if %}s and loops. */
struct ctx_set {
	size_t n;
	struct html_ctx c[MAX_CONTEXTS];
};

/* Reports an error in a template and stops: see the header comment for why exiting is enough. */
__attribute__((format(printf, 3, 4), noreturn)) static void fail_at(const char *path, int line,
                                                                    const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "%s:%d: ", path, line);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	/* Nothing is open for writing yet, and a sanitizer's leak report must not change the
	 * status. */
	_Exit(1);
}

/* realloc that stops the tool when memory runs out. */
static void *grow(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (!p) {
		perror("tplc");
		exit(1);
	}
	return p;
}

/* A copy of [s, e) with surrounding whitespace removed. */
static char *trimmed_copy(const char *s, const char *e)
{
	while (s < e && (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r'))
		s++;
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\n' || e[-1] == '\r'))
		e--;
	char *copy = grow(NULL, (size_t)(e - s) + 1);
	memcpy(copy, s, (size_t)(e - s));
	copy[e - s] = '\0';
	return copy;
}

static const char *skip_space(const char *s)
{
	while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
		s++;
	return s;
}

/* If s starts with the word w (followed by whitespace or the end), the text after it; else NULL. */
static const char *after_word(const char *s, const char *w)
{
	size_t n = strlen(w);
	if (strncmp(s, w, n) != 0 || (s[n] && s[n] != ' ' && s[n] != '\t' && s[n] != '\n'))
		return NULL;
	return skip_space(s + n);
}

/* Length of the C identifier at s (0 if there is none); lower_only restricts it to [a-z0-9_]. */
static size_t ident_len(const char *s, int lower_only)
{
	size_t n = 0;
	while ((s[n] >= 'a' && s[n] <= 'z') || (s[n] >= '0' && s[n] <= '9') || s[n] == '_' ||
	       (!lower_only && s[n] >= 'A' && s[n] <= 'Z'))
		n++;
	/* Template names may start with a digit: tpl_ comes before them. */
	return !lower_only && s[0] >= '0' && s[0] <= '9' ? 0 : n;
}

static struct template_file *find_template(const char *name)
{
	for (size_t i = 0; i < n_templates; i++)
		if (templates[i].name && strcmp(templates[i].name, name) == 0)
			return &templates[i];
	return NULL;
}

/* Reads the file and names the template after it; the name must be a plain C identifier. */
static void load_template(struct template_file *t, const char *path)
{
	t->path = path;
	FILE *f = fopen(path, "rb");
	if (!f) {
		perror(path);
		exit(1);
	}
	size_t len = 0, alloc = 4096, got;
	t->src = grow(NULL, alloc);
	while ((got = fread(t->src + len, 1, alloc - len - 1, f)) > 0)
		if ((len += got) == alloc - 1)
			t->src = grow(t->src, alloc *= 2);
	int bad = ferror(f);
	fclose(f);
	if (bad) {
		perror(path);
		exit(1);
	}
	t->src[len] = '\0';
	t->last_line = 1;
	for (size_t i = 0; i < len; i++)
		t->last_line += t->src[i] == '\n' && i + 1 < len;
	if (strlen(t->src) != len)
		fail_at(path, 1, "template holds a NUL byte");

	const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
	size_t n = ident_len(base, 1);
	if (n == 0 || strcmp(base + n, ".html") != 0)
		fail_at(path, 1, "template file name must be [a-z0-9_]+.html");
	char *name = trimmed_copy(base, base + n);
	if (find_template(name))
		fail_at(path, 1, "a template named %s is already in this build", name);
	t->name = name;
}

/* Parses the first line, {% view struct NAME "header.h" %} or {% view none %}; returns the body. */
static const char *parse_view(struct template_file *t)
{
	static const char usage[] =
	    "the first line must be {%% view struct NAME \"header.h\" %%} or {%% view none %%}";
	const char *p = t->src, *close = strstr(p, "%}"), *eol = strchr(p, '\n');
	if (strncmp(p, "{%", 2) != 0 || !close || (eol && eol < close))
		fail_at(t->path, 1, usage);
	char *inner = trimmed_copy(p + 2, close);
	const char *rest = after_word(inner, "view"), *s;
	if (!rest)
		fail_at(t->path, 1, usage);
	if ((s = after_word(rest, "struct"))) {
		size_t n = ident_len(s, 0);
		const char *q = skip_space(s + n), *end = *q == '"' ? strchr(q + 1, '"') : NULL;
		if (n == 0 || !end || end == q + 1 || *skip_space(end + 1))
			fail_at(t->path, 1, usage);
		t->view = trimmed_copy(s, s + n);
		t->view_header = trimmed_copy(q + 1, end);
	} else if (!after_word(rest, "none") || *skip_space(rest + 4)) {
		fail_at(t->path, 1, usage);
	}
	free(inner);
	for (p = close + 2; *p == ' ' || *p == '\t' || *p == '\r'; p++)
		;
	if (*p && *p != '\n')
		fail_at(t->path, 1, "nothing may follow {%% view %%} on the first line");
	return *p ? p + 1 : p;
}

static size_t add_token(struct template_file *t, enum token_kind kind, int line)
{
	if (t->count == t->alloc)
		t->tokens =
		    grow(t->tokens, (t->alloc = t->alloc ? t->alloc * 2 : 64) * sizeof *t->tokens);
	memset(&t->tokens[t->count], 0, sizeof *t->tokens);
	t->tokens[t->count].kind = kind;
	t->tokens[t->count].line = line;
	return t->count++;
}

/* {{ EXPR }}, {{ int EXPR }}, {{ html EXPR }} or {{ slot EXPR }}. */
static void add_value(struct template_file *t, int line, const char *s, const char *e)
{
	/* Index first: add_token may move t->tokens, and the order in which an
	 * expression like &t->tokens[add_token(…)] reads t->tokens is unspecified. */
	size_t at = add_token(t, TOK_VALUE, line);
	struct token *k = &t->tokens[at];
	char *inner = trimmed_copy(s, e);
	const char *expr = inner, *rest;
	if ((rest = after_word(inner, "int"))) {
		k->value = VALUE_INT;
		expr = rest;
	} else if ((rest = after_word(inner, "html"))) {
		k->value = VALUE_HTML;
		expr = rest;
	} else if ((rest = after_word(inner, "slot"))) {
		k->value = VALUE_SLOT;
		expr = rest;
	}
	if (!*expr)
		fail_at(t->path, line, "{{ }} needs an expression");
	k->expr = trimmed_copy(expr, expr + strlen(expr));
	free(inner);
}

/* The last comma outside brackets and quotes in s, or NULL: it ends ARRAY in a for. */
static char *last_top_comma(char *s)
{
	char *comma = NULL, quote = 0;
	int depth = 0;
	for (; *s; s++) {
		if (quote) {
			if (*s == '\\' && s[1])
				s++;
			else if (*s == quote)
				quote = 0;
		} else if (*s == '"' || *s == '\'') {
			quote = *s;
		} else if (strchr("([{", *s)) {
			depth++;
		} else if (strchr(")]}", *s)) {
			depth--;
		} else if (*s == ',' && depth == 0) {
			comma = s;
		}
	}
	return comma;
}

/* One {% … %} tag; stack holds the open if/elif/else/for tokens, innermost last. */
static void add_directive(struct template_file *t, int line, const char *s, const char *e,
                          size_t *stack, size_t *depth)
{
	char *inner = trimmed_copy(s, e);
	const char *rest;
	size_t top = *depth ? stack[*depth - 1] : 0, i;
	int in_if = *depth && (t->tokens[top].kind == TOK_IF || t->tokens[top].kind == TOK_ELIF);
	if ((rest = after_word(inner, "if")) || (rest = after_word(inner, "elif"))) {
		int is_elif = inner[0] == 'e';
		if (!*rest)
			fail_at(t->path, line, "{%% %s %%} needs a condition",
			        is_elif ? "elif" : "if");
		if (is_elif && !in_if)
			fail_at(t->path, line, "{%% elif %%} without an open {%% if %%}");
		i = add_token(t, is_elif ? TOK_ELIF : TOK_IF, line);
		t->tokens[i].expr = trimmed_copy(rest, rest + strlen(rest));
		if (is_elif) {
			t->tokens[top].next = i;
			stack[*depth - 1] = i;
		}
	} else if ((rest = after_word(inner, "else")) || (rest = after_word(inner, "end"))) {
		int is_else = inner[1] == 'l';
		if (*rest)
			fail_at(t->path, line, "unexpected text after %s",
			        is_else ? "else" : "end");
		if (is_else ? !in_if : *depth == 0)
			fail_at(t->path, line,
			        is_else ? "{%% else %%} without an open {%% if %%}"
			                : "{%% end %%} without an open {%% if %%} or {%% for %%}");
		i = add_token(t, is_else ? TOK_ELSE : TOK_END, line);
		t->tokens[top].next = i;
		if (is_else)
			stack[*depth - 1] = i;
		else
			(*depth)--;
	} else if ((rest = after_word(inner, "for"))) {
		size_t n = ident_len(rest, 0);
		const char *in = after_word(skip_space(rest + n), "in");
		char *list = in ? trimmed_copy(in, in + strlen(in)) : NULL;
		char *comma = list ? last_top_comma(list) : NULL;
		i = add_token(t, TOK_FOR, line);
		if (comma) {
			t->tokens[i].name = trimmed_copy(rest, rest + n);
			t->tokens[i].expr = trimmed_copy(list, comma);
			t->tokens[i].count = trimmed_copy(comma + 1, comma + strlen(comma));
		}
		if (n == 0 || !comma || !*t->tokens[i].expr || !*t->tokens[i].count)
			fail_at(t->path, line, "expected {%% for NAME in ARRAY, COUNT %%}");
		free(list);
	} else if ((rest = after_word(inner, "include"))) {
		size_t n = ident_len(rest, 1);
		const char *arg = skip_space(rest + n);
		if (n == 0 || (rest[n] && rest[n] != ' ' && rest[n] != '\t'))
			fail_at(t->path, line,
			        "expected {%% include NAME %%} or {%% include NAME EXPR %%}");
		i = add_token(t, TOK_INCLUDE, line);
		t->tokens[i].name = trimmed_copy(rest, rest + n);
		t->tokens[i].expr = *arg ? trimmed_copy(arg, arg + strlen(arg)) : NULL;
	} else if (after_word(inner, "view")) {
		fail_at(t->path, line, "{%% view %%} belongs on the first line only");
	} else {
		fail_at(t->path, line, "unknown directive {%% %s %%}", inner);
	}
	if (t->tokens[i].kind == TOK_IF || t->tokens[i].kind == TOK_FOR) {
		if (*depth == MAX_DEPTH)
			fail_at(t->path, line, "blocks nested more than %d deep", MAX_DEPTH);
		stack[(*depth)++] = i;
	}
	free(inner);
}

/* Walks p forward to q counting lines, so each token learns its line in one pass. */
static int line_at(const char **p, int *line, const char *q)
{
	for (; *p < q; (*p)++)
		*line += **p == '\n';
	return *line;
}

/*
 * A line holding only whitespace and one {% %} or {# #} tag is dropped whole, so block
 * tags on lines of their own leave no blank lines in the page: widens [*start, *end)
 * from the tag to the whole line when that is the case.
 */
static void widen_to_line(const char *body, const char **start, const char **end)
{
	const char *s = *start, *e = *end;
	while (s > body && (s[-1] == ' ' || s[-1] == '\t'))
		s--;
	if (s > body && s[-1] != '\n')
		return;
	while (*e == ' ' || *e == '\t' || *e == '\r')
		e++;
	if (*e == '\n')
		e++;
	else if (*e)
		return;
	*start = s;
	*end = e;
}

/* Splits a template into literal text, values and directives, and pairs up the blocks. */
static void parse_template(struct template_file *t)
{
	const char *body = parse_view(t), *text = body, *open, *counted = t->src;
	int line = 1;
	size_t stack[MAX_DEPTH], depth = 0;
	for (open = body; (open = strchr(open, '{')); open++) {
		if (open[1] != '{' && open[1] != '%' && open[1] != '#')
			continue;
		int text_line = line_at(&counted, &line, text);
		int tag_line = line_at(&counted, &line, open);
		const char *close = strstr(open + 2, open[1] == '{'   ? "}}"
		                                     : open[1] == '%' ? "%}"
		                                                      : "#}");
		if (!close)
			fail_at(t->path, tag_line, "unclosed %.2s", open);
		const char *text_end = open, *after = close + 2;
		if (open[1] != '{')
			widen_to_line(body, &text_end, &after);
		if (text_end > text) {
			size_t i = add_token(t, TOK_TEXT, text_line);
			t->tokens[i].text = text;
			t->tokens[i].len = (size_t)(text_end - text);
		}
		if (open[1] == '{')
			add_value(t, tag_line, open + 2, close);
		else if (open[1] == '%')
			add_directive(t, tag_line, open + 2, close, stack, &depth);
		text = after;
		open = after - 1;
	}
	if (*text) {
		size_t i = add_token(t, TOK_TEXT, line_at(&counted, &line, text));
		t->tokens[i].text = text;
		t->tokens[i].len = strlen(text);
	}
	if (depth)
		fail_at(t->path, t->tokens[stack[depth - 1]].line, "unclosed {%% %s %%}",
		        t->tokens[stack[depth - 1]].kind == TOK_FOR ? "for" : "if");
}

/* Appends a lowercased character to a short name buffer; the length stays exact. */
static void name_add(char *name, size_t size, size_t *len, char c)
{
	if (*len < size - 1)
		name[*len] = (char)(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
	(*len)++;
}

static int name_is(const char *name, size_t len, const char *word)
{
	return len == strlen(word) && memcmp(name, word, len) == 0;
}

/* Ends an attribute: back to "between attributes" in the same tag. */
static void leave_attr(struct html_ctx *c)
{
	memset(c->attr, 0, sizeof c->attr);
	c->attr_len = 0;
	c->attr_kind = ATTR_PLAIN;
	c->url_start = 0;
	c->state = HTML_IN_TAG;
}

static void start_attr(struct html_ctx *c, char ch)
{
	leave_attr(c);
	c->state = HTML_ATTR_NAME;
	name_add(c->attr, sizeof c->attr, &c->attr_len, ch);
}

/* '>' ends a tag: <script> and <style> start raw text, anything else returns to text. */
static void close_tag(struct html_ctx *c)
{
	struct html_ctx next = {0};
	if (!c->end_tag &&
	    (name_is(c->tag, c->tag_len, "script") || name_is(c->tag, c->tag_len, "style"))) {
		next.state = HTML_RAW;
		memcpy(next.tag, c->tag, sizeof next.tag);
		next.tag_len = c->tag_len;
	}
	*c = next;
}

/*
 * How a quoted attribute value is escaped, decided by its name: URL attributes get the
 * scheme check; event handlers, style and srcdoc hold script, CSS or markup that
 * entity-escaping does not make safe, so values are refused there.
 */
static enum attr_kind classify_attr(const struct html_ctx *c)
{
	static const char *const url_attrs[] = {"href",       "src",    "action",
	                                        "formaction", "poster", "cite"};
	if ((c->attr_len > 2 && memcmp(c->attr, "on", 2) == 0) ||
	    name_is(c->attr, c->attr_len, "style") || name_is(c->attr, c->attr_len, "srcdoc"))
		return ATTR_REFUSED;
	for (size_t i = 0; i < sizeof url_attrs / sizeof url_attrs[0]; i++)
		if (name_is(c->attr, c->attr_len, url_attrs[i]))
			return ATTR_URL;
	return ATTR_PLAIN;
}

/* Feeds literal template text to the tokenizer. */
static void html_scan(struct html_ctx *c, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char ch = s[i];
		int space = ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r' || ch == '\f';
		char lower = (char)(ch >= 'A' && ch <= 'Z' ? ch - 'A' + 'a' : ch);
		switch (c->state) {
		case HTML_TEXT:
			if (ch == '<')
				c->state = HTML_LT;
			break;
		case HTML_LT:
			if (ch == '!' || ch == '?') {
				c->state = ch == '!' ? HTML_DECL : HTML_BOGUS;
			} else if (ch == '/') {
				c->state = HTML_TAG_NAME;
				c->end_tag = 1;
			} else if (lower >= 'a' && lower <= 'z') {
				c->state = HTML_TAG_NAME;
				name_add(c->tag, sizeof c->tag, &c->tag_len, ch);
			} else if (ch != '<') {
				c->state = HTML_TEXT; /* a lone '<' is text */
			}
			break;
		case HTML_TAG_NAME:
			if (space || ch == '/')
				c->state = HTML_IN_TAG;
			else if (ch == '>')
				close_tag(c);
			else
				name_add(c->tag, sizeof c->tag, &c->tag_len, ch);
			break;
		case HTML_IN_TAG:
			if (ch == '>')
				close_tag(c);
			else if (!space && ch != '/')
				start_attr(c, ch);
			break;
		case HTML_ATTR_NAME:
		case HTML_AFTER_NAME:
			if (ch == '=')
				c->state = HTML_BEFORE_VALUE;
			else if (ch == '>')
				close_tag(c);
			else if (ch == '/')
				leave_attr(c);
			else if (space)
				c->state = HTML_AFTER_NAME;
			else if (c->state == HTML_AFTER_NAME)
				start_attr(c, ch);
			else
				name_add(c->attr, sizeof c->attr, &c->attr_len, ch);
			break;
		case HTML_BEFORE_VALUE:
			if (ch == '"' || ch == '\'') {
				c->state = ch == '"' ? HTML_VALUE_DQ : HTML_VALUE_SQ;
				c->attr_kind = classify_attr(c);
				c->url_start = c->attr_kind == ATTR_URL;
			} else if (ch == '>') {
				close_tag(c);
			} else if (!space) {
				c->state = HTML_VALUE_UNQ;
			}
			break;
		case HTML_VALUE_DQ:
		case HTML_VALUE_SQ:
			if (ch == (c->state == HTML_VALUE_DQ ? '"' : '\''))
				leave_attr(c);
			else if ((unsigned char)ch > 0x20) /* browsers skip leading whitespace */
				c->url_start = 0;
			break;
		case HTML_VALUE_UNQ:
			if (space)
				leave_attr(c);
			else if (ch == '>')
				close_tag(c);
			break;
		case HTML_DECL:
			if (ch == '-' && ++c->matched == 2) {
				c->state = HTML_COMMENT;
				c->matched = 0;
			} else if (ch != '-') {
				c->state = HTML_BOGUS;
				c->matched = 0;
				i--; /* this byte may already be the closing '>' */
			}
			break;
		case HTML_COMMENT:
			if (ch == '>' && c->matched == 2)
				close_tag(c);
			else
				c->matched = ch == '-' ? (c->matched < 2 ? c->matched + 1 : 2) : 0;
			break;
		case HTML_BOGUS:
			if (ch == '>')
				close_tag(c);
			break;
		case HTML_RAW: {
			/* Looks for "</script" (or "</style") followed by a space, '/' or '>'. */
			size_t want = 2 + c->tag_len;
			if (c->matched == want && (space || ch == '/' || ch == '>')) {
				c->end_tag = 1;
				c->matched = 0;
				c->state = HTML_IN_TAG;
				if (ch == '>')
					close_tag(c);
			} else if (c->matched < want &&
			           lower == (c->matched == 0   ? '<'
			                     : c->matched == 1 ? '/'
			                                       : c->tag[c->matched - 2])) {
				c->matched++;
			} else {
				c->matched = ch == '<';
			}
			break;
		}
		}
	}
}

/* Names the context for error messages. */
static const char *context_name(const struct html_ctx *c)
{
	switch (c->state) {
	case HTML_TEXT:
		return "text";
	case HTML_LT:
	case HTML_TAG_NAME:
		return "tag name";
	case HTML_IN_TAG:
	case HTML_ATTR_NAME:
	case HTML_AFTER_NAME:
		return "attribute name";
	case HTML_BEFORE_VALUE:
	case HTML_VALUE_UNQ:
		return "unquoted attribute value";
	case HTML_VALUE_DQ:
	case HTML_VALUE_SQ:
		return c->attr_kind == ATTR_REFUSED ? "event handler, style or srcdoc attribute"
		                                    : "attribute value";
	case HTML_DECL:
	case HTML_COMMENT:
	case HTML_BOGUS:
		return "comment";
	case HTML_RAW:
		return c->tag;
	}
	return "?";
}

/* The html_* function for a value of kind in context c, or NULL where no escaper is safe. */
static const char *escaper_for(struct html_ctx *c, enum value_kind kind)
{
	if (c->state == HTML_TEXT)
		return kind == VALUE_INT    ? "html_int"
		       : kind == VALUE_HTML ? "html_safe"
		       : kind == VALUE_SLOT ? "html_slot"
		                            : "html_text";
	if ((c->state != HTML_VALUE_DQ && c->state != HTML_VALUE_SQ) ||
	    c->attr_kind == ATTR_REFUSED || kind == VALUE_HTML || kind == VALUE_SLOT)
		return NULL;
	if (kind == VALUE_INT) {
		c->url_start = 0;
		return "html_int";
	}
	/* url_start stays set: a value that writes nothing leaves the next one first in the URL. */
	return c->url_start ? "html_url" : "html_attr";
}

static int ctx_same(const struct html_ctx *a, const struct html_ctx *b)
{
	return a->state == b->state && a->tag_len == b->tag_len && a->end_tag == b->end_tag &&
	       a->attr_len == b->attr_len && a->attr_kind == b->attr_kind &&
	       a->matched == b->matched && memcmp(a->tag, b->tag, sizeof a->tag) == 0 &&
	       memcmp(a->attr, b->attr, sizeof a->attr) == 0;
}

/* Adds the contexts of from to s; contexts differing only in url_start merge, keeping it set. */
static void set_union(struct ctx_set *s, const struct ctx_set *from, const struct template_file *t,
                      int line)
{
	for (size_t i = 0; i < from->n; i++) {
		size_t j = 0;
		while (j < s->n && !ctx_same(&s->c[j], &from->c[i]))
			j++;
		if (j == s->n) {
			if (s->n == MAX_CONTEXTS)
				fail_at(t->path, line,
				        "markup here can be in too many HTML contexts");
			s->c[s->n++] = from->c[i];
		}
		s->c[j].url_start |= from->c[i].url_start;
	}
}

/*
 * Follows the markup through tokens [i, stop) from the contexts in s, choosing each value's
 * escaper so it is safe in every context that value can be reached in. {% if %} branches
 * start from the same contexts and their ends are joined; a loop body is checked again
 * from the contexts it ends in until that set stops growing.
 */
static void check_range(struct template_file *t, size_t i, size_t stop, struct ctx_set *s)
{
	while (i < stop) {
		struct token *k = &t->tokens[i];
		if (k->kind == TOK_TEXT) {
			struct ctx_set before = *s;
			s->n = 0;
			for (size_t j = 0; j < before.n; j++)
				html_scan(&before.c[j], k->text, k->len);
			set_union(s, &before, t, k->line);
		} else if (k->kind == TOK_VALUE) {
			k->escaper = NULL;
			for (size_t j = 0; j < s->n; j++) {
				const char *e = escaper_for(&s->c[j], k->value);
				if (!e)
					fail_at(t->path, k->line, "{{ }} not allowed here (%s)",
					        (s->c[j].state != HTML_VALUE_DQ &&
					         s->c[j].state != HTML_VALUE_SQ)
					            ? context_name(&s->c[j])
					        : k->value == VALUE_HTML
					            ? "html value in an attribute"
					        : k->value == VALUE_SLOT ? "slot in an attribute"
					                                 : context_name(&s->c[j]));
				if (!k->escaper || strcmp(e, "html_url") == 0)
					k->escaper = e;
			}
		} else if (k->kind == TOK_INCLUDE) {
			const struct template_file *target = find_template(k->name);
			if (!target)
				fail_at(t->path, k->line,
				        "{%% include %s %%}: no template %s.html in this build",
				        k->name, k->name);
			if (!target->view != !k->expr)
				fail_at(t->path, k->line, "{%% include %s %%}: %s takes %s",
				        k->name, k->name,
				        target->view ? "a view argument" : "no argument");
			for (size_t j = 0; j < s->n; j++)
				if (s->c[j].state != HTML_TEXT)
					fail_at(t->path, k->line,
					        "{%% include %%} not allowed here (%s)",
					        context_name(&s->c[j]));
		} else if (k->kind == TOK_IF) {
			struct ctx_set start = *s, branch;
			int has_else = 0;
			size_t j = i;
			s->n = 0;
			for (; t->tokens[j].kind != TOK_END; j = t->tokens[j].next) {
				has_else |= t->tokens[j].kind == TOK_ELSE;
				branch = start;
				check_range(t, j + 1, t->tokens[j].next, &branch);
				set_union(s, &branch, t, k->line);
			}
			if (!has_else)
				set_union(s, &start, t, k->line);
			i = j;
		} else if (k->kind == TOK_FOR) {
			for (;;) {
				struct ctx_set body = *s, grown = *s;
				check_range(t, i + 1, k->next, &body);
				set_union(&grown, &body, t, k->line);
				int same = grown.n == s->n;
				for (size_t j = 0; same && j < s->n; j++)
					same = grown.c[j].url_start == s->c[j].url_start;
				if (same)
					break;
				*s = grown;
			}
			i = k->next;
		}
		i++;
	}
}

/* Output with the line-number bookkeeping #line directives need. */
struct out {
	FILE *f;
	const char *path; /* of the template being written, for #line */
	int line;         /* template line the compiler will give the next output line; 0: none */
};

/* Writes formatted text, counting newlines. */
__attribute__((format(printf, 2, 3))) static void emit(struct out *o, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	char *s = grow(NULL, (size_t)n + 1);
	va_start(ap, fmt);
	vsnprintf(s, (size_t)n + 1, fmt, ap);
	va_end(ap);
	fputs(s, o->f);
	for (char *p = s; o->line && (p = strchr(p, '\n')); p++)
		o->line++;
	free(s);
}

/* Points the compiler at template line `line` unless it already is; only statements holding
 * template expressions need it, as nothing else can fail to compile. */
static void sync_line(struct out *o, int line)
{
	if (o->line == line)
		return;
	fprintf(o->f, "#line %d \"", line);
	for (const char *p = o->path; *p; p++)
		fprintf(o->f, *p == '"' || *p == '\\' ? "\\%c" : "%c", *p);
	fprintf(o->f, "\"\n");
	o->line = line;
}

static void indent(struct out *o, int depth)
{
	for (int i = 0; i < depth; i++)
		fputc('\t', o->f);
}

/*
 * Writes literal text as tpl_literal calls: one string piece per template line (so the C reads
 * like the template), pieces of at most 80 bytes, and calls of at most LITERAL_MAX bytes.
 * Bytes outside printable ASCII become octal escapes, and '?' after '?' is escaped so no
 * trigraph can form.
 */
static void emit_literal(struct out *o, int depth, const char *s, size_t n)
{
	while (n > 0) {
		size_t chunk = n < LITERAL_MAX ? n : LITERAL_MAX, col = 0;
		emit(o, "tpl_literal(out, \"");
		for (size_t i = 0; i < chunk; i++) {
			unsigned char ch = (unsigned char)s[i];
			if (i > 0 && (s[i - 1] == '\n' || col >= 80)) {
				emit(o, "\"\n");
				for (int d = 0; d <= depth; d++)
					emit(o, "\t");
				emit(o, "\"");
				col = 0;
			}
			if (ch == '\n')
				col += fprintf(o->f, "\\n");
			else if (ch == '\t')
				col += fprintf(o->f, "\\t");
			else if (ch == '"' || ch == '\\' || (ch == '?' && i > 0 && s[i - 1] == '?'))
				col += fprintf(o->f, "\\%c", ch);
			else if (ch < 0x20 || ch >= 0x7f)
				col += fprintf(o->f, "\\%03o", ch);
			else
				col += fprintf(o->f, "%c", ch);
		}
		emit(o, "\", %zu);\n", chunk);
		s += chunk;
		n -= chunk;
		if (n)
			indent(o, depth);
	}
}

static void emit_signature(FILE *f, const struct template_file *t)
{
	fprintf(f, "void tpl_%s(struct buf *out", t->name);
	if (t->view)
		fprintf(f, ", const struct %s *v", t->view);
	fprintf(f, ")");
}

/* Writes one template's function. */
static void emit_template(struct out *o, const struct template_file *t)
{
	int depth = 1;
	o->path = t->path;
	o->line = 0;
	sync_line(o, 1);
	emit_signature(o->f, t);
	emit(o, "\n{\n");
	if (t->view)
		emit(o, "\t(void)v;\n");
	if (t->count == 0)
		emit(o, "\t(void)out;\n");
	for (size_t i = 0; i < t->count; i++) {
		const struct token *k = &t->tokens[i];
		if (k->kind == TOK_ELIF || k->kind == TOK_ELSE || k->kind == TOK_END)
			depth--;
		if (k->expr || k->kind == TOK_FOR)
			sync_line(o, k->line);
		indent(o, depth);
		switch (k->kind) {
		case TOK_TEXT:
			emit_literal(o, depth, k->text, k->len);
			break;
		case TOK_VALUE:
			if (k->value == VALUE_INT)
				emit(o, "html_int(out, (long long)(%s));\n", k->expr);
			else
				emit(o, "%s(out, %s);\n", k->escaper, k->expr);
			break;
		case TOK_IF:
			emit(o, "if (%s) {\n", k->expr);
			break;
		case TOK_ELIF:
			emit(o, "} else if (%s) {\n", k->expr);
			break;
		case TOK_ELSE:
			emit(o, "} else {\n");
			break;
		case TOK_END:
			emit(o, "}\n");
			break;
		case TOK_FOR:
			emit(o, "for (size_t %s_i = 0; %s_i < (size_t)(%s); %s_i++) {\n", k->name,
			     k->name, k->count, k->name);
			sync_line(o, k->line);
			indent(o, depth + 1);
			emit(o, "const __typeof__((%s)[0]) *%s = &(%s)[%s_i];\n", k->expr, k->name,
			     k->expr, k->name);
			indent(o, depth + 1);
			emit(o, "(void)%s;\n", k->name);
			break;
		case TOK_INCLUDE:
			emit(o, "tpl_%s(out%s%s);\n", k->name, k->expr ? ", " : "",
			     k->expr ? k->expr : "");
			break;
		}
		if (k->kind == TOK_IF || k->kind == TOK_ELIF || k->kind == TOK_ELSE ||
		    k->kind == TOK_FOR)
			depth++;
	}
	emit(o, "}\n\n");
}

static const char *base_name(const char *path)
{
	return strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
}

/* The include guard for the header at path: its file name in capitals. */
static void write_guard(FILE *f, const char *directive, const char *h_path)
{
	fprintf(f, "%s SHOAL_TPL_", directive);
	for (const char *p = base_name(h_path); *p; p++)
		fputc(isalnum((unsigned char)*p) ? toupper((unsigned char)*p) : '_', f);
	fputc('\n', f);
}

/* The header: a prototype per template, with the view structs declared but not defined. */
static void write_header(FILE *f, const char *h_path)
{
	fprintf(f,
	        "/* Generated by tools/tplc.c from the templates named below; do not edit. */\n");
	write_guard(f, "#ifndef", h_path);
	write_guard(f, "#define", h_path);
	fprintf(f, "\n#include \"core/buf.h\"\n\n");
	for (size_t i = 0; i < n_templates; i++) {
		int seen = !templates[i].view;
		for (size_t j = 0; j < i && !seen; j++)
			seen =
			    templates[j].view && strcmp(templates[j].view, templates[i].view) == 0;
		if (!seen)
			fprintf(f, "struct %s;\n", templates[i].view);
	}
	for (size_t i = 0; i < n_templates; i++) {
		fprintf(f, "\n/** Renders %s. */\n", templates[i].path);
		emit_signature(f, &templates[i]);
		fprintf(f, ";\n");
	}
	fprintf(f, "\n#endif\n");
}

/* The source: the headers the views need, then a function per template. */
static void write_source(FILE *f, const char *h_path)
{
	struct out o = {f, NULL, 0};
	fprintf(f, "/* Generated by tools/tplc.c; do not edit: change the templates instead. */\n");
	fprintf(f, "#include \"render/html.h\"\n#include \"%s\"\n\n", base_name(h_path));
	for (size_t i = 0; i < n_templates; i++) {
		int seen = !templates[i].view_header;
		for (size_t j = 0; j < i && !seen; j++)
			seen = templates[j].view_header &&
			       strcmp(templates[j].view_header, templates[i].view_header) == 0;
		if (!seen)
			fprintf(f, "#include \"%s\"\n", templates[i].view_header);
	}
	fprintf(f, "\n#include <stddef.h>\n#include <string.h>\n\n");
	/* A page is a thousand or more literal pieces, nearly always with room in the buffer
	 * already: a short one is copied in place, with no call, unless the buffer must grow
	 * (buf_add's fast path, forced inline here only). Longer ones call buf_add_grow, where
	 * the call costs little beside the copy: inline, their copies made the compiled
	 * templates twice the size. n is a constant at each call: the test costs nothing. */
	fprintf(
	    f,
	    "__attribute__((always_inline)) static inline void tpl_literal(struct buf *out,\n"
	    "                                                            const char *s, size_t n)\n"
	    "{\n"
	    "\tif (n <= 32 && n < out->alloc - out->len) {\n"
	    "\t\tmemcpy(out->data + out->len, s, n);\n"
	    "\t\tout->len += n;\n"
	    "\t\tout->data[out->len] = '\\0';\n"
	    "\t} else {\n"
	    "\t\tbuf_add_grow(out, s, n);\n"
	    "\t}\n"
	    "}\n\n");
	for (size_t i = 0; i < n_templates; i++)
		emit_template(&o, &templates[i]);
}

/* Opens a new temporary file beside path, to be renamed over it once complete. */
static FILE *open_temp(const char *path, char **tmp_path)
{
	size_t n = strlen(path);
	char *tmp = grow(NULL, n + sizeof ".XXXXXX");
	memcpy(tmp, path, n);
	memcpy(tmp + n, ".XXXXXX", sizeof ".XXXXXX");
	int fd = mkstemp(tmp);
	FILE *f = fd < 0 ? NULL : fdopen(fd, "w");
	if (!f) {
		if (fd >= 0) {
			close(fd);
			unlink(tmp);
		}
		free(tmp);
		return NULL;
	}
	*tmp_path = tmp;
	return f;
}

/* Writes both outputs to temporary files and renames them into place only when complete. */
static int write_outputs(const char *c_path, const char *h_path)
{
	char *c_tmp = NULL, *h_tmp = NULL;
	FILE *c = NULL, *h = NULL;
	int bad;
	if (!(h = open_temp(h_path, &h_tmp)) || !(c = open_temp(c_path, &c_tmp)))
		goto fail;
	write_header(h, h_path);
	write_source(c, h_path);
	bad = ferror(h) || ferror(c);
	bad |= fclose(h) != 0;
	h = NULL;
	bad |= fclose(c) != 0;
	c = NULL;
	if (bad || rename(h_tmp, h_path) < 0 || rename(c_tmp, c_path) < 0)
		goto fail;
	free(c_tmp);
	free(h_tmp);
	return 0;
fail:
	perror("tplc: writing output");
	if (h)
		fclose(h);
	if (c)
		fclose(c);
	if (h_tmp)
		unlink(h_tmp);
	if (c_tmp)
		unlink(c_tmp);
	free(c_tmp);
	free(h_tmp);
	return -1;
}

static int ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);
	return n > m && strcmp(s + n - m, suffix) == 0;
}

int main(int argc, char **argv)
{
	/* The suffix check keeps a swapped argument from overwriting a template. */
	if (argc < 4 || !ends_with(argv[1], ".c") || !ends_with(argv[2], ".h")) {
		fprintf(stderr, "usage: tplc OUT.c OUT.h TEMPLATE.html...\n");
		return 2;
	}
	n_templates = (size_t)argc - 3;
	templates = grow(NULL, n_templates * sizeof *templates);
	memset(templates, 0, n_templates * sizeof *templates);
	for (size_t i = 0; i < n_templates; i++)
		load_template(&templates[i], argv[i + 3]);
	for (size_t i = 0; i < n_templates; i++)
		parse_template(&templates[i]);
	for (size_t i = 0; i < n_templates; i++) {
		struct template_file *t = &templates[i];
		struct ctx_set s = {1, {{0}}}; /* a template starts, and must end, in text */
		check_range(t, 0, t->count, &s);
		for (size_t j = 0; j < s.n; j++)
			if (s.c[j].state != HTML_TEXT)
				fail_at(t->path, t->last_line, "template ends inside %s",
				        context_name(&s.c[j]));
	}
	return write_outputs(argv[1], argv[2]) < 0 ? 1 : 0;
}
