/*
 * briefing_pdf.c — the teleconference briefing as an A4 PDF, drawn with cairo
 * and laid out with pango (which wraps text and finds fonts for any script).
 *
 * It prints the same strings as the page (struct briefing), in the same order,
 * so that the PDF and the page agree. One page is the aim; a long list of
 * themes flows onto a second rather than being cut.
 *
 * Shoal does not link cairo and pango: the first PDF loads them with dlopen.
 * Linked, they and what they pull in (glib, gio, fontconfig, freetype, harfbuzz,
 * pixman, X11…) mapped about 4.4 MB into every Shoal process at start and added
 * to its start-up, for a page an executive prints a few times a week. The
 * headers still declare every function, so each call keeps its type through
 * __typeof__. The libraries stay loaded once loaded (glib cannot be unloaded).
 */
#include <cairo-pdf.h>
#include <cairo.h>
#include <dlfcn.h>
#include <fontconfig/fontconfig.h>
#include <glib.h>
#include <pango/pangocairo.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "app/pressure/briefing.h"
#include "core/log.h"

#define PAGE_WIDTH  595.28 /* A4 in points */
#define PAGE_HEIGHT 841.89
#define MARGIN      48.0
#define FONT        "DejaVu Sans"

/* Debian's libpangocairo-1.0-0, which the build's libpango1.0-dev brings; cairo,
 * pango, glib and fontconfig are in its dependencies, where dlsym finds them. */
#define PDF_LIBRARY "libpangocairo-1.0.so.0"

#define PDF_FUNCTIONS(X)                                                                           \
	X(cairo_create)                                                                            \
	X(cairo_destroy)                                                                           \
	X(cairo_move_to)                                                                           \
	X(cairo_show_page)                                                                         \
	X(cairo_pdf_surface_create_for_stream)                                                     \
	X(cairo_pdf_surface_set_metadata)                                                          \
	X(cairo_surface_destroy)                                                                   \
	X(cairo_surface_finish)                                                                    \
	X(cairo_surface_status)                                                                    \
	X(cairo_debug_reset_static_data)                                                           \
	X(pango_cairo_create_layout)                                                               \
	X(pango_cairo_show_layout)                                                                 \
	X(pango_font_description_from_string)                                                      \
	X(pango_font_description_free)                                                             \
	X(pango_layout_set_font_description)                                                       \
	X(pango_layout_set_width)                                                                  \
	X(pango_layout_set_wrap)                                                                   \
	X(pango_layout_set_tabs)                                                                   \
	X(pango_layout_set_markup)                                                                 \
	X(pango_layout_get_pixel_size)                                                             \
	X(pango_tab_array_new)                                                                     \
	X(pango_tab_array_set_tab)                                                                 \
	X(pango_tab_array_free)                                                                    \
	X(g_object_unref)                                                                          \
	X(g_markup_escape_text)                                                                    \
	X(g_free)                                                                                  \
	X(FcFini)

#define PDF_POINTER(f) __typeof__(&f) f;
static struct {
	PDF_FUNCTIONS(PDF_POINTER)
	int loaded;
} lib;
static pthread_once_t lib_once = PTHREAD_ONCE_INIT;

static void lib_load(void)
{
	void *h = dlopen(PDF_LIBRARY, RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		log_error("cannot draw PDFs: %s (Debian package libpangocairo-1.0-0)", dlerror());
		return;
	}
	/* POSIX's way to store dlsym's void * in a function pointer. */
#define PDF_LOOKUP(f)                                                                              \
	if (!(*(void **)&lib.f = dlsym(h, #f))) {                                                  \
		log_error("cannot draw PDFs: %s has no %s", PDF_LIBRARY, #f);                      \
		return;                                                                            \
	}
	PDF_FUNCTIONS(PDF_LOOKUP)
#undef PDF_LOOKUP
	lib.loaded = 1;
}

struct pen {
	cairo_t *cr;
	double y;
	int pages;
	int overflow; /* a paragraph passed the page cap: the PDF is refused, not cut */
};

static cairo_status_t write_to_buf(void *closure, const unsigned char *data, unsigned int length)
{
	struct buf *out = closure;
	return buf_add(out, data, length) ? CAIRO_STATUS_WRITE_ERROR : CAIRO_STATUS_SUCCESS;
}

/* Lays out markup at the pen, starting a new page when it would not fit. tabs: tab
 * stops in points (NULL for none). */
static void block(struct pen *p, const struct buf *markup, double size, const double *tabs,
                  int n_tabs, double space_after)
{
	PangoLayout *layout = lib.pango_cairo_create_layout(p->cr);
	char font[64];
	snprintf(font, sizeof font, FONT " %.1f", size);
	PangoFontDescription *desc = lib.pango_font_description_from_string(font);
	lib.pango_layout_set_font_description(layout, desc);
	lib.pango_font_description_free(desc);
	lib.pango_layout_set_width(layout, (int)((PAGE_WIDTH - 2 * MARGIN) * PANGO_SCALE));
	lib.pango_layout_set_wrap(layout, PANGO_WRAP_WORD_CHAR);
	if (tabs) {
		PangoTabArray *t = lib.pango_tab_array_new(n_tabs, TRUE);
		for (int i = 0; i < n_tabs; i++)
			lib.pango_tab_array_set_tab(t, i, PANGO_TAB_LEFT, (int)tabs[i]);
		lib.pango_layout_set_tabs(layout, t);
		lib.pango_tab_array_free(t);
	}
	p->overflow |= markup->overflow;
	lib.pango_layout_set_markup(layout, markup->data, (int)markup->len);
	int w, h;
	lib.pango_layout_get_pixel_size(layout, &w, &h);
	if (p->y + h > PAGE_HEIGHT - MARGIN && p->y > MARGIN) {
		lib.cairo_show_page(p->cr);
		p->pages++;
		p->y = MARGIN;
	}
	lib.cairo_move_to(p->cr, MARGIN, p->y);
	lib.pango_cairo_show_layout(p->cr, layout);
	p->y += h + space_after;
	(*lib.g_object_unref)(layout);
}

/* Appends printf-style text, escaped for pango markup (by glib's own escaper, which
 * also writes the control characters its markup parser would refuse as references). */
__attribute__((format(printf, 2, 0))) static void addv(struct buf *s, const char *fmt, va_list ap)
{
	struct buf text;
	buf_init(&text, LIMIT_PAGE_BYTES);
	buf_vprintf(&text, fmt, ap);
	char *escaped = lib.g_markup_escape_text(text.len ? text.data : "", -1);
	buf_puts(s, escaped);
	(*lib.g_free)(escaped); /* newer glib makes g_free( a macro */
	s->overflow |= text.overflow;
	buf_free(&text);
}

__attribute__((format(printf, 2, 3))) static void add(struct buf *s, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	addv(s, fmt, ap);
	va_end(ap);
}

/* Lays out one paragraph of printf-style text in a markup tag ("b", "i"; NULL for none). */
__attribute__((format(printf, 6, 7))) static void styled(struct pen *p, struct buf *s,
                                                         const char *tag, double size,
                                                         double space_after, const char *fmt, ...)
{
	buf_clear(s);
	if (tag)
		buf_printf(s, "<%s>", tag);
	va_list ap;
	va_start(ap, fmt);
	addv(s, fmt, ap);
	va_end(ap);
	if (tag)
		buf_printf(s, "</%s>", tag);
	block(p, s, size, NULL, 0, space_after);
}

static void heading(struct pen *p, struct buf *s, const char *text)
{
	p->y += 6;
	styled(p, s, "b", 12.5, 4, "%s", text);
}

static void items(struct pen *p, struct buf *s, const struct briefing *b, enum briefing_kind k,
                  const char *none)
{
	if (!b->n_items[k]) {
		styled(p, s, "i", 9.5, 2, "%s", none);
		return;
	}
	for (size_t i = 0; i < b->n_items[k]; i++) {
		buf_clear(s);
		add(s, "•  %s", b->items[k][i].body);
		block(p, s, 9.5, NULL, 0, 3);
	}
}

int briefing_pdf(const struct briefing *b, struct buf *out)
{
	pthread_once(&lib_once, lib_load);
	if (!lib.loaded)
		return -1;
	buf_init(out, LIMIT_PAGE_BYTES);
	cairo_surface_t *surface =
	    lib.cairo_pdf_surface_create_for_stream(write_to_buf, out, PAGE_WIDTH, PAGE_HEIGHT);
	char title[160];
	snprintf(title, sizeof title, "Winter pressures briefing: %s", b->period);
	lib.cairo_pdf_surface_set_metadata(surface, CAIRO_PDF_METADATA_TITLE, title);
	lib.cairo_pdf_surface_set_metadata(surface, CAIRO_PDF_METADATA_CREATOR, "Shoal");
	cairo_t *cr = lib.cairo_create(surface);
	struct pen p = {.cr = cr, .y = MARGIN, .pages = 1};
	struct buf s;
	buf_init(&s, LIMIT_PAGE_BYTES);

	styled(&p, &s, NULL, 9.5, 2, "%s", b->collective);
	styled(&p, &s, "b", 17, 2, "Winter pressures briefing: general practice");
	styled(&p, &s, NULL, 10, 2, "%s%s. Prepared %s.", b->period,
	       b->closed ? " (final figures)" : " (figures so far)", b->prepared);
	if (b->executive)
		styled(&p, &s, "i", 9, 8,
		       "Executive version: not for circulation. Small groups are not suppressed.");
	else
		styled(&p, &s, "i", 9, 8, "Aggregates only. %s", pressure_suppressed_legend);

	heading(&p, &s, "This period");
	buf_clear(&s);
	add(&s,
	    "Return rate: %s\nPractices at Amber or above: %s\nRegistered patients covered by "
	    "practices at Amber or above: %s",
	    b->return_rate, b->amber_or_above, b->patients_covered);
	block(&p, &s, 10, NULL, 0, 4);

	heading(&p, &s, "Practices at each level, and the change since the last period");
	const double level_tabs[] = {110, 250, 400};
	buf_clear(&s);
	buf_puts(&s, "<b>");
	add(&s, "Level\tThis period\tLast period\tChange");
	buf_puts(&s, "</b>");
	for (int i = 0; i < 4; i++) {
		const struct briefing_level *l = &b->levels[i];
		buf_puts(&s, "\n");
		add(&s, "%s (OPEL %d)\t%s\t%s\t%s", l->word, l->level, l->now, l->before,
		    l->change);
	}
	block(&p, &s, 10, level_tabs, 3, 2);
	if (b->previous_id) {
		styled(&p, &s, "i", 8.5, 2, "Last period: %s.", b->previous);
	}

	heading(&p, &s, "Hotspots by locality and PCN");
	if (!b->n_hotspots) {
		styled(&p, &s, "i", 9.5, 2,
		       "No locality or PCN has a shown share of practices at Amber or above.");
	} else {
		const double hot_tabs[] = {200, 260, 340, 450};
		buf_clear(&s);
		buf_puts(&s, "<b>");
		add(&s, "Locality or PCN\tKind\tReturned\tAmber or above\tPatients covered");
		buf_puts(&s, "</b>");
		for (size_t i = 0; i < b->n_hotspots; i++) {
			const struct briefing_hotspot *h = &b->hotspots[i];
			buf_puts(&s, "\n");
			add(&s, "%s\t%s\t%s\t%s\t%s", h->name, h->kind, h->returned,
			    h->amber_or_above, h->patients);
		}
		block(&p, &s, 9.5, hot_tabs, 4, 2);
	}

	heading(&p, &s, "Themes from practices");
	items(&p, &s, b, BRIEFING_THEME, "No themes recorded for this period.");
	heading(&p, &s, "What general practice asks of the system");
	items(&p, &s, b, BRIEFING_ASK, "No asks recorded for this period.");
	heading(&p, &s, "Actions from the last call");
	items(&p, &s, b, BRIEFING_ACTION, "No actions recorded for this period.");

	buf_free(&s);
	lib.cairo_destroy(cr);
	lib.cairo_surface_finish(surface);
	cairo_status_t status = lib.cairo_surface_status(surface);
	lib.cairo_surface_destroy(surface);
	if (status != CAIRO_STATUS_SUCCESS || out->overflow || p.overflow) {
		buf_free(out);
		return -1;
	}
	return 0;
}

void briefing_pdf_shutdown(void)
{
	if (!lib.loaded)
		return;
	/* fontconfig keeps its configuration for the life of the process; giving it
	 * back at exit keeps the leak checker's report to our own mistakes. */
	lib.cairo_debug_reset_static_data();
	lib.FcFini();
}
