/*
 * dashboard.c — the pressure dashboard (see dashboard.h): the current week,
 * the trend of the last weeks, a heatmap by period, and declared against
 * calculated levels. Everything is read from summaries (summary.h) for the
 * viewer's audience, so partners see exactly what the summary API gives them.
 *
 * Every chart is drawn by web/dashboard.js from the table beside it (uPlot);
 * the page is complete without JavaScript.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "app/access.h"
#include "app/app.h"
#include "app/pressure/dashboard.h"
#include "auth/policy.h"
#include "core/gate.h"
#include "core/log.h"
#include "core/xmalloc.h"
#include "http/static.h"
#include "templates.h"

/* "12,345" */
static void thousands(int64_t n, char *out, size_t len)
{
	char digits[32];
	snprintf(digits, sizeof digits, "%lld", (long long)(n < 0 ? -n : n));
	size_t d = strlen(digits), o = 0;
	if (n < 0 && o + 1 < len)
		out[o++] = '-';
	for (size_t i = 0; i < d && o + 1 < len; i++) {
		if (i && (d - i) % 3 == 0 && o + 1 < len)
			out[o++] = ',';
		out[o++] = digits[i];
	}
	out[o] = '\0';
}

static void cell_count(struct pressure_dash_cell *c, const struct pressure_count *n)
{
	memset(c, 0, sizeof *c);
	if (n->hidden) {
		snprintf(c->text, sizeof c->text, "%s", pressure_hidden_text(n->hidden));
		return;
	}
	thousands(n->value, c->text, sizeof c->text);
	snprintf(c->data, sizeof c->data, "%lld", (long long)n->value);
}

static void cell_int(struct pressure_dash_cell *c, int64_t n)
{
	struct pressure_count k = {n, PRESSURE_SHOWN};
	cell_count(c, &k);
}

static void cell_rate(struct pressure_dash_cell *c, int64_t x10, enum pressure_hidden hidden)
{
	memset(c, 0, sizeof *c);
	if (hidden)
		snprintf(c->text, sizeof c->text, "%s", pressure_hidden_text(hidden));
	else if (x10 < 0)
		snprintf(c->text, sizeof c->text, "not given");
	else {
		snprintf(c->text, sizeof c->text, "%lld.%lld", (long long)(x10 / 10),
		         (long long)(x10 % 10));
		snprintf(c->data, sizeof c->data, "%lld.%lld", (long long)(x10 / 10),
		         (long long)(x10 % 10));
	}
}

static void group_row(struct pressure_dash_group_row *r, const struct pressure_group *g)
{
	r->name = g->name;
	cell_int(&r->cells[0], g->practices);
	cell_count(&r->cells[1], &g->returned);
	for (int l = 1; l <= 4; l++)
		cell_count(&r->cells[1 + l], &g->at_level[l]);
	cell_count(&r->cells[6], &g->patients_amber_or_above);
	cell_rate(&r->cells[7], g->per_1000_x10, g->appointments_hidden);
}

/* The level that stands for a group in the heatmap: the median of its returns' levels,
 * when its count of returns is shown (3 or more that may be counted). */
static struct pressure_dash_heat_cell group_heat(const struct pressure_group *g)
{
	if (g->returned.hidden || g->returned.value == 0)
		return (struct pressure_dash_heat_cell){
		    0,
		    g->returned.hidden ? pressure_hidden_text(g->returned.hidden) : "no returns"};
	int64_t seen = 0, middle = (g->returned.value + 1) / 2;
	for (int l = 1; l <= 4; l++) {
		/* A suppressed level count leaves the median unknown: say so rather than guess. */
		if (g->at_level[l].hidden)
			return (struct pressure_dash_heat_cell){
			    0, pressure_hidden_text(g->at_level[l].hidden)};
		seen += g->at_level[l].value;
		if (seen >= middle)
			return (struct pressure_dash_heat_cell){l, NULL};
	}
	return (struct pressure_dash_heat_cell){1, NULL};
}

/* A practice's level in one week: 1–4, or none returned. */
static struct pressure_dash_heat_cell heat_level(int level)
{
	if (level < 1 || level > 4)
		return (struct pressure_dash_heat_cell){0, "no return"};
	return (struct pressure_dash_heat_cell){level, NULL};
}

/* "23 Nov 2026" from a period's reference day. */
static void short_date(const char *day, char *out, size_t len)
{
	static const char *months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
	                               "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
	int y, m, d;
	if (pressure_parse_date(day, &y, &m, &d))
		snprintf(out, len, "%s", day);
	else
		snprintf(out, len, "%d %s %d", d, months[m - 1], y);
}

static int by_ods(const void *a, const void *b)
{
	return strcmp(((const struct pressure_dash_heat_row *)a)->ods,
	              ((const struct pressure_dash_heat_row *)b)->ods);
}

static int by_name(const void *a, const void *b)
{
	return strcmp(((const struct pressure_dash_heat_row *)a)->name,
	              ((const struct pressure_dash_heat_row *)b)->name);
}

static int by_ods_key(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The heatmap: practices (executive) or PCNs and localities (everyone else) by week,
 * oldest week on the left. */
static void heatmap(struct pressure_dashboard_view *v, struct pressure_summary **weeks, size_t n)
{
	size_t cols = n < PRESSURE_DASH_HEAT ? n : PRESSURE_DASH_HEAT;
	v->n_heat_periods = cols;
	for (size_t k = 0; k < cols; k++)
		short_date(weeks[cols - 1 - k]->period.reference_day, v->heat_periods[k],
		           sizeof v->heat_periods[k]);
	if (!cols)
		return;
	const struct pressure_summary *latest = weeks[0];
	if (v->executive) {
		/* Practices at Red or Black in any week shown (at region scale a row for each of
		 * 1,500 practices would bury them; every return is in the CSV): gathered as keys,
		 * sorted by ODS code and made unique, so that a practice Red for weeks on end is
		 * one row and each week's returns find their row by bsearch. */
		size_t cap = 0;
		for (size_t k = 0; k < cols; k++)
			for (size_t i = 0; i < weeks[k]->n_named; i++)
				cap += weeks[k]->named[i].level >= PRESSURE_RED;
		struct heat_key {
			const char *ods, *name;
		} *keys = xcalloc(cap ? cap : 1, sizeof *keys);
		size_t n_keys = 0;
		for (size_t k = 0; k < cols; k++)
			for (size_t i = 0; i < weeks[k]->n_named; i++)
				if (weeks[k]->named[i].level >= PRESSURE_RED)
					keys[n_keys++] = (struct heat_key){weeks[k]->named[i].ods,
					                                   weeks[k]->named[i].name};
		qsort(keys, n_keys, sizeof *keys, by_ods_key);
		size_t unique = 0;
		for (size_t i = 0; i < n_keys; i++)
			unique += !i || strcmp(keys[i - 1].ods, keys[i].ods);
		v->heat = xcalloc(unique ? unique : 1, sizeof *v->heat);
		for (size_t i = 0; i < n_keys; i++) {
			if (i && !strcmp(keys[i - 1].ods, keys[i].ods))
				continue;
			struct pressure_dash_heat_row *r = &v->heat[v->n_heat++];
			snprintf(r->ods, sizeof r->ods, "%s", keys[i].ods);
			r->name = keys[i].name;
		}
		free(keys);
		for (size_t i = 0; i < v->n_heat; i++)
			for (size_t c = 0; c < cols; c++)
				v->heat[i].cells[c] = heat_level(0);
		for (size_t k = 0; k < cols; k++) {
			const struct pressure_summary *s = weeks[cols - 1 - k];
			for (size_t i = 0; i < s->n_named; i++) {
				struct pressure_dash_heat_row key;
				memcpy(key.ods, s->named[i].ods, sizeof key.ods);
				struct pressure_dash_heat_row *r =
				    bsearch(&key, v->heat, v->n_heat, sizeof *v->heat, by_ods);
				if (r)
					r->cells[k] = heat_level(s->named[i].level);
			}
		}
		qsort(v->heat, v->n_heat, sizeof *v->heat, by_name);
		return;
	}
	/* Localities only: PCNs' levels are not shown to this audience (summary.c). */
	v->heat = xcalloc(latest->n_localities + 1, sizeof *v->heat);
	for (size_t kind = 1; kind < 2; kind++) {
		size_t n_groups = kind ? latest->n_localities : latest->n_pcns;
		for (size_t i = 0; i < n_groups; i++) {
			const struct pressure_group *g =
			    kind ? &latest->localities[i] : &latest->pcns[i];
			struct pressure_dash_heat_row *r = &v->heat[v->n_heat++];
			r->name = g->name;
			for (size_t k = 0; k < cols; k++) {
				const struct pressure_summary *s = weeks[cols - 1 - k];
				const struct pressure_group *list = kind ? s->localities : s->pcns;
				size_t n_list = kind ? s->n_localities : s->n_pcns;
				r->cells[k] = heat_level(0);
				for (size_t j = 0; j < n_list; j++)
					if (list[j].id == g->id)
						r->cells[k] = group_heat(&list[j]);
			}
		}
	}
}

static void render_dashboard(struct buf *out, const void *v)
{
	tpl_pressure_dashboard(out, v);
}

/* About how many bytes render_dashboard writes, so that the page is one allocation:
 * some 40 KB of summary, trend, group tables and charts, and per heatmap row its name
 * and link and a tag per week (measured: 1,500 practices over 8 weeks, 0.9 MB). */
static size_t dashboard_bytes(const struct pressure_dashboard_view *v)
{
	return 40960 + (v->pcns.n + v->localities.n) * 1024 +
	       v->n_heat * (160 + 64 * v->n_heat_periods);
}

static void trend_row(struct pressure_dash_trend_row *r, const struct pressure_summary *s,
                      bool executive)
{
	snprintf(r->period, sizeof r->period, "%s", s->label);
	cell_count(&r->cells[0], &s->all.returned);
	memset(&r->cells[1], 0, sizeof r->cells[1]);
	if (!s->all.returned.hidden && s->all.practices) {
		int64_t pct = s->all.returned.value * 100 / s->all.practices;
		snprintf(r->cells[1].text, sizeof r->cells[1].text, "%lld%%", (long long)pct);
		snprintf(r->cells[1].data, sizeof r->cells[1].data, "%lld", (long long)pct);
	} else {
		snprintf(r->cells[1].text, sizeof r->cells[1].text, "%s",
		         s->all.returned.hidden ? pressure_hidden_text(s->all.returned.hidden)
		                                : "none");
	}
	for (int l = 1; l <= 4; l++)
		cell_count(&r->cells[1 + l], &s->all.at_level[l]);
	cell_count(&r->cells[6], &s->all.patients_amber_or_above);
	if (executive)
		cell_int(&r->cells[7], s->all.flagged);
}

void pressure_dashboard_page(struct http_request *req, struct http_response *res)
{
	struct app *app = req->app;
	const struct viewer *viewer = access_viewer(req);
	if (!policy_may_see_pressure_summary(viewer)) {
		res->status = 403;
		return;
	}
	struct db_conn *c = db_acquire(app->db);
	if (!c) {
		res->status = 503;
		return;
	}
	gate_enter(); /* summaries and a large page: all CPU, one a core (core/gate.h) */
	bool executive = policy_pressure_identifiable(viewer);
	enum pressure_audience audience =
	    executive ? PRESSURE_AUDIENCE_EXECUTIVE : PRESSURE_AUDIENCE_AGGREGATE;
	struct pressure_dashboard_view *v = xcalloc(1, sizeof *v);
	struct pressure_summary *weeks[PRESSURE_DASH_WEEKS] = {0};
	size_t n_weeks = 0;
	int64_t ids[PRESSURE_DASH_WEEKS];
	struct pressure_period current;
	int64_t now = (int64_t)time(NULL);
	if (pressure_summary_current_week(c, now, &current) ||
	    pressure_summary_recent_weeks(c, now, ids, PRESSURE_DASH_WEEKS, &n_weeks))
		goto fail;
	for (size_t k = 0; k < n_weeks; k++)
		if (pressure_summary_load(c, ids[k], audience, &weeks[k]) <= 0)
			goto fail;
	if (!n_weeks)
		goto fail; /* the current week was just made: there is always one */
	if (executive &&
	    pressure_audit(c, req, "pressure-return-viewed", "pressure-dashboard", "dashboard"))
		goto fail;
	db_release(c);
	c = NULL;

	const struct pressure_summary *s = weeks[0];
	v->executive = executive;
	v->legend = pressure_suppressed_legend;
	v->uplot_js = static_url("uPlot.iife.min.js");
	v->uplot_css = static_url("uPlot.min.css");
	v->dashboard_js = static_url("dashboard.js");
	v->dashboard_css = static_url("dashboard.css");
	v->period_id = s->period.id;
	snprintf(v->period, sizeof v->period, "%s", s->label);
	if (s->all.returned.hidden) {
		snprintf(v->returned, sizeof v->returned, "%s of %lld practices",
		         pressure_hidden_text(s->all.returned.hidden), (long long)s->all.practices);
	} else {
		snprintf(v->returned, sizeof v->returned, "%lld of %lld practices (%lld%%)",
		         (long long)s->all.returned.value, (long long)s->all.practices,
		         (long long)(s->all.practices
		                         ? s->all.returned.value * 100 / s->all.practices
		                         : 0));
	}
	if (s->all.patients_amber_or_above.hidden) {
		snprintf(v->patients, sizeof v->patients, "%s",
		         pressure_hidden_text(s->all.patients_amber_or_above.hidden));
	} else {
		char a[32], b[32];
		thousands(s->all.patients_amber_or_above.value, a, sizeof a);
		thousands(s->all.patients, b, sizeof b);
		snprintf(v->patients, sizeof v->patients, "%s of %s registered patients (%lld%%)",
		         a, b,
		         (long long)(s->all.patients ? s->all.patients_amber_or_above.value * 100 /
		                                           s->all.patients
		                                     : 0));
	}
	for (int l = 1; l <= 4; l++) {
		cell_count(&v->levels[l], &s->all.at_level[l]);
		v->levels[l].tag = pressure_level_tag(l);
	}
	v->pcns = (struct pressure_dash_groups){"Practices by PCN", "PCN",
	                                        xcalloc(s->n_pcns + 1, sizeof *v->pcns.rows), 0};
	for (size_t i = 0; i < s->n_pcns; i++)
		group_row(&v->pcns.rows[v->pcns.n++], &s->pcns[i]);
	v->localities = (struct pressure_dash_groups){
	    "Practices by locality", "Locality",
	    xcalloc(s->n_localities + 1, sizeof *v->localities.rows), 0};
	for (size_t i = 0; i < s->n_localities; i++)
		group_row(&v->localities.rows[v->localities.n++], &s->localities[i]);
	/* Oldest first, as a trend reads. */
	for (size_t k = 0; k < n_weeks; k++)
		trend_row(&v->trend[v->n_trend++], weeks[n_weeks - 1 - k], executive);
	heatmap(v, weeks, n_weeks);
	v->named = xcalloc(s->n_named + 1, sizeof *v->named);
	for (size_t i = 0; i < s->n_named; i++) {
		const struct pressure_named *p = &s->named[i];
		if (executive && p->level >= 1 && p->level <= 4 && p->calculated >= 0 &&
		    p->calculated <= 4)
			v->versus[p->level][p->calculated]++;
		/* The executive's list: returns at Red or Black, or flagged (all are in the CSV).
		 */
		if (executive && p->level < PRESSURE_RED && !p->flagged)
			continue;
		struct pressure_dash_named_row *r = &v->named[v->n_named++];
		snprintf(r->ods, sizeof r->ods, "%s", p->ods);
		r->name = p->name;
		r->level = p->level;
		r->calculated = p->calculated;
		r->flagged = p->flagged;
		r->late = p->late;
		if (p->per_1000_x10 >= 0)
			snprintf(r->per_1000, sizeof r->per_1000, "%lld.%lld",
			         (long long)(p->per_1000_x10 / 10),
			         (long long)(p->per_1000_x10 % 10));
		else
			snprintf(r->per_1000, sizeof r->per_1000, "not given");
		if (executive && p->return_id)
			snprintf(r->href, sizeof r->href, "/pressure/returns/%lld",
			         (long long)p->return_id);
	}
	v->flagged = s->all.flagged;
	/* Rendered straight into the response: the executive's page is about a megabyte
	 * at region scale (the heatmap), and rendering it apart held it twice. */
	page_render_view(req, res, "Pressure dashboard", (struct html_slot){render_dashboard, v},
	                 dashboard_bytes(v));
	goto done;
fail:
	log_error("request %s: cannot show the pressure dashboard: %s", req->id,
	          c ? db_errmsg(c) : "");
	res->status = 500;
done:
	db_release(c);
	for (size_t k = 0; k < n_weeks; k++)
		pressure_summary_free(weeks[k]);
	free(v->pcns.rows);
	free(v->localities.rows);
	free(v->heat);
	free(v->named);
	free(v);
	gate_leave();
}
