/*
 * briefing_pdf.c — the teleconference briefing as an A4 PDF, drawn with cairo
 * and laid out with pango (which wraps text and finds fonts for any script).
 *
 * It prints the same strings as the page (struct briefing), in the same order,
 * so that the PDF and the page agree. One page is the aim; a long list of
 * themes flows onto a second rather than being cut.
 */
#include <cairo-pdf.h>
#include <cairo.h>
#include <fontconfig/fontconfig.h>
#include <glib.h>
#include <pango/pangocairo.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "app/pressure/briefing.h"

#define PAGE_WIDTH  595.28 /* A4 in points */
#define PAGE_HEIGHT 841.89
#define MARGIN      48.0
#define FONT        "DejaVu Sans"

struct pen {
	cairo_t *cr;
	double y;
	int pages;
};

static cairo_status_t write_to_buf(void *closure, const unsigned char *data, unsigned int length)
{
	struct buf *out = closure;
	return buf_add(out, data, length) ? CAIRO_STATUS_WRITE_ERROR : CAIRO_STATUS_SUCCESS;
}

/* Lays out markup at the pen, starting a new page when it would not fit. tabs: tab
 * stops in points (NULL for none). */
static void block(struct pen *p, const char *markup, double size, const double *tabs, int n_tabs,
                  double space_after)
{
	PangoLayout *layout = pango_cairo_create_layout(p->cr);
	char font[64];
	snprintf(font, sizeof font, FONT " %.1f", size);
	PangoFontDescription *desc = pango_font_description_from_string(font);
	pango_layout_set_font_description(layout, desc);
	pango_font_description_free(desc);
	pango_layout_set_width(layout, (int)((PAGE_WIDTH - 2 * MARGIN) * PANGO_SCALE));
	pango_layout_set_wrap(layout, PANGO_WRAP_WORD_CHAR);
	if (tabs) {
		PangoTabArray *t = pango_tab_array_new(n_tabs, TRUE);
		for (int i = 0; i < n_tabs; i++)
			pango_tab_array_set_tab(t, i, PANGO_TAB_LEFT, (int)tabs[i]);
		pango_layout_set_tabs(layout, t);
		pango_tab_array_free(t);
	}
	pango_layout_set_markup(layout, markup, -1);
	int w, h;
	pango_layout_get_pixel_size(layout, &w, &h);
	if (p->y + h > PAGE_HEIGHT - MARGIN && p->y > MARGIN) {
		cairo_show_page(p->cr);
		p->pages++;
		p->y = MARGIN;
	}
	cairo_move_to(p->cr, MARGIN, p->y);
	pango_cairo_show_layout(p->cr, layout);
	p->y += h + space_after;
	g_object_unref(layout);
}

/* Appends printf-style text, escaped for pango markup, to a GString. */
__attribute__((format(printf, 2, 3))) static void add(GString *s, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *text = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	char *escaped = g_markup_escape_text(text, -1);
	g_string_append(s, escaped);
	g_free(escaped);
	g_free(text);
}

static void heading(struct pen *p, const char *text)
{
	GString *s = g_string_new("<b>");
	add(s, "%s", text);
	g_string_append(s, "</b>");
	p->y += 6;
	block(p, s->str, 12.5, NULL, 0, 4);
	g_string_free(s, TRUE);
}

static void items(struct pen *p, const struct briefing *b, enum briefing_kind k, const char *none)
{
	if (!b->n_items[k]) {
		GString *s = g_string_new("<i>");
		add(s, "%s", none);
		g_string_append(s, "</i>");
		block(p, s->str, 9.5, NULL, 0, 2);
		g_string_free(s, TRUE);
		return;
	}
	for (size_t i = 0; i < b->n_items[k]; i++) {
		GString *s = g_string_new(NULL);
		add(s, "•  %s", b->items[k][i].body);
		block(p, s->str, 9.5, NULL, 0, 3);
		g_string_free(s, TRUE);
	}
}

int briefing_pdf(const struct briefing *b, struct buf *out)
{
	buf_init(out, LIMIT_PAGE_BYTES);
	cairo_surface_t *surface =
	    cairo_pdf_surface_create_for_stream(write_to_buf, out, PAGE_WIDTH, PAGE_HEIGHT);
	char title[160];
	snprintf(title, sizeof title, "Winter pressures briefing: %s", b->period);
	cairo_pdf_surface_set_metadata(surface, CAIRO_PDF_METADATA_TITLE, title);
	cairo_pdf_surface_set_metadata(surface, CAIRO_PDF_METADATA_CREATOR, "Shoal");
	cairo_t *cr = cairo_create(surface);
	struct pen p = {.cr = cr, .y = MARGIN, .pages = 1};
	GString *s = g_string_new(NULL);

	add(s, "%s", b->collective);
	block(&p, s->str, 9.5, NULL, 0, 2);
	g_string_assign(s, "<b>");
	add(s, "Winter pressures briefing: general practice");
	g_string_append(s, "</b>");
	block(&p, s->str, 17, NULL, 0, 2);
	g_string_assign(s, "");
	add(s, "%s%s. Prepared %s.", b->period,
	    b->closed ? " (final figures)" : " (figures so far)", b->prepared);
	block(&p, s->str, 10, NULL, 0, 2);
	g_string_assign(s, "<i>");
	if (b->executive)
		add(s, "Executive version: not for circulation. Small groups are not suppressed.");
	else
		add(s, "Aggregates only. %s", pressure_suppressed_legend);
	g_string_append(s, "</i>");
	block(&p, s->str, 9, NULL, 0, 8);

	heading(&p, "This period");
	g_string_assign(s, "");
	add(s,
	    "Return rate: %s\nPractices at Amber or above: %s\nRegistered patients covered by "
	    "practices at Amber or above: %s",
	    b->return_rate, b->amber_or_above, b->patients_covered);
	block(&p, s->str, 10, NULL, 0, 4);

	heading(&p, "Practices at each level, and the change since the last period");
	const double level_tabs[] = {110, 250, 400};
	g_string_assign(s, "<b>");
	add(s, "Level\tThis period\tLast period\tChange");
	g_string_append(s, "</b>");
	for (int i = 0; i < 4; i++) {
		const struct briefing_level *l = &b->levels[i];
		g_string_append(s, "\n");
		add(s, "%s (OPEL %d)\t%s\t%s\t%s", l->word, l->level, l->now, l->before, l->change);
	}
	block(&p, s->str, 10, level_tabs, 3, 2);
	if (b->previous_id) {
		g_string_assign(s, "<i>");
		add(s, "Last period: %s.", b->previous);
		g_string_append(s, "</i>");
		block(&p, s->str, 8.5, NULL, 0, 2);
	}

	heading(&p, "Hotspots by locality and PCN");
	if (!b->n_hotspots) {
		block(&p,
		      "<i>No locality or PCN has a shown share of practices at Amber or above.</i>",
		      9.5, NULL, 0, 2);
	} else {
		const double hot_tabs[] = {200, 260, 340, 450};
		g_string_assign(s, "<b>");
		add(s, "Locality or PCN\tKind\tReturned\tAmber or above\tPatients covered");
		g_string_append(s, "</b>");
		for (size_t i = 0; i < b->n_hotspots; i++) {
			const struct briefing_hotspot *h = &b->hotspots[i];
			g_string_append(s, "\n");
			add(s, "%s\t%s\t%s\t%s\t%s", h->name, h->kind, h->returned,
			    h->amber_or_above, h->patients);
		}
		block(&p, s->str, 9.5, hot_tabs, 4, 2);
	}

	heading(&p, "Themes from practices");
	items(&p, b, BRIEFING_THEME, "No themes recorded for this period.");
	heading(&p, "What general practice asks of the system");
	items(&p, b, BRIEFING_ASK, "No asks recorded for this period.");
	heading(&p, "Actions from the last call");
	items(&p, b, BRIEFING_ACTION, "No actions recorded for this period.");

	g_string_free(s, TRUE);
	cairo_destroy(cr);
	cairo_surface_finish(surface);
	cairo_status_t status = cairo_surface_status(surface);
	cairo_surface_destroy(surface);
	if (status != CAIRO_STATUS_SUCCESS || out->overflow) {
		buf_free(out);
		return -1;
	}
	return 0;
}

void briefing_pdf_shutdown(void)
{
	/* fontconfig keeps its configuration for the life of the process; giving it
	 * back at exit keeps the leak checker's report to our own mistakes. */
	cairo_debug_reset_static_data();
	FcFini();
}
