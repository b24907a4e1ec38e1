/*
 * briefing.c — what the teleconference briefing says (see briefing.h): the
 * period's figures from the summary, compared with the period before, the
 * hotspots, and the executive's words.
 */
#include "app/pressure/briefing.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/format.h"
#include "core/time.h"

static const char *const kind_names[BRIEFING_KINDS] = {"theme", "ask", "action"};

const char *briefing_kind_name(enum briefing_kind k)
{
	return kind_names[k];
}

int briefing_kind_from_name(const char *s)
{
	for (int k = 0; s && k < BRIEFING_KINDS; k++)
		if (!strcmp(s, kind_names[k]))
			return k;
	return -1;
}

/* A published count as text: the number, or why it is not shown. */
static void count_text(const struct pressure_count *n, char *out, size_t len)
{
	const char *hidden = pressure_hidden_text(n->hidden);
	if (hidden)
		snprintf(out, len, "%s", hidden);
	else
		format_thousands(out, (long long)n->value);
}

/* "3 (25%)" of a count over a known total of practices. */
static void share_text(const struct pressure_count *n, int64_t of, char *out, size_t len)
{
	char number[32];
	count_text(n, number, sizeof number);
	if (n->hidden || of <= 0)
		snprintf(out, len, "%s", number);
	else
		snprintf(out, len, "%s (%lld%%)", number,
		         (long long)((n->value * 100 + of / 2) / of));
}

static void change_text(const struct pressure_count *now, const struct pressure_count *before,
                        char *out, size_t len)
{
	if (now->hidden || before->hidden)
		snprintf(out, len, "not shown");
	else if (now->value == before->value)
		snprintf(out, len, "no change");
	else
		snprintf(out, len, "%+lld", (long long)(now->value - before->value));
}

/* The period before p of the same kind and scope: its id, 0 none, < 0 error. */
static int64_t previous_period(struct db_conn *c, int64_t period_id)
{
	struct db_stmt *st = db_prepare(
	    c, "SELECT b.id FROM pressure_periods p JOIN pressure_periods b ON b.kind = p.kind AND "
	       "b.scope = p.scope AND b.reference_day < p.reference_day WHERE p.id = $1 "
	       "ORDER BY b.reference_day DESC LIMIT 1");
	if (!st)
		return DB_ERR;
	db_bind_int(st, 1, period_id);
	int rc = db_step(st);
	int64_t id = rc == DB_ROW ? db_col_int(st, 0) : rc == DB_DONE ? 0 : DB_ERR;
	db_reset(st);
	return id;
}

/* Hotspots: the groups with the largest shown share of returning practices at
 * Amber or above, localities and PCNs together. A group whose figure is hidden
 * is never ranked: ranking it would say something about it. */
static void add_hotspots(struct briefing *b, const struct pressure_group *groups, size_t n,
                         const char *kind)
{
	for (size_t i = 0; i < n; i++) {
		const struct pressure_group *g = &groups[i];
		if (g->amber_or_above.hidden || g->returned.hidden ||
		    g->amber_or_above.value <= 0 || g->returned.value <= 0)
			continue;
		/* Insertion into a short list sorted by share, then count. */
		double share = (double)g->amber_or_above.value / (double)g->returned.value;
		size_t at = b->n_hotspots;
		while (at > 0) {
			const struct briefing_hotspot *h = &b->hotspots[at - 1];
			double hs = (double)h->n_amber_or_above / (double)h->n_returned;
			if (hs >= share)
				break;
			at--;
		}
		if (at >= BRIEFING_MAX_HOTSPOTS)
			continue;
		size_t last = b->n_hotspots < BRIEFING_MAX_HOTSPOTS ? b->n_hotspots
		                                                    : BRIEFING_MAX_HOTSPOTS - 1;
		memmove(&b->hotspots[at + 1], &b->hotspots[at],
		        (last - at) * sizeof b->hotspots[0]);
		struct briefing_hotspot *h = &b->hotspots[at];
		memset(h, 0, sizeof *h);
		snprintf(h->name, sizeof h->name, "%s", g->name);
		h->kind = kind;
		h->n_returned = g->returned.value;
		h->n_amber_or_above = g->amber_or_above.value;
		format_thousands(h->returned, (long long)g->returned.value);
		share_text(&g->amber_or_above, g->returned.value, h->amber_or_above,
		           sizeof h->amber_or_above);
		count_text(&g->patients_amber_or_above, h->patients, sizeof h->patients);
		if (b->n_hotspots < BRIEFING_MAX_HOTSPOTS)
			b->n_hotspots++;
	}
}

static int load_items(struct db_conn *c, struct briefing *b)
{
	struct db_stmt *st = db_prepare(c, "SELECT id, kind, body FROM briefing_items WHERE "
	                                   "period_id = $1 ORDER BY id");
	if (!st)
		return DB_ERR;
	db_bind_int(st, 1, b->period_id);
	int rc;
	while ((rc = db_step(st)) == DB_ROW) {
		int k = briefing_kind_from_name(db_col_text(st, 1));
		if (k < 0 || b->n_items[k] >= BRIEFING_MAX_ITEMS)
			continue;
		struct briefing_item *it = &b->items[k][b->n_items[k]++];
		it->id = db_col_int(st, 0);
		snprintf(it->body, sizeof it->body, "%s", db_col_text(st, 2));
	}
	db_reset(st);
	return rc == DB_DONE ? 0 : DB_ERR;
}

int briefing_load(struct db_conn *c, int64_t period_id, bool executive, const char *collective,
                  struct briefing *b)
{
	memset(b, 0, sizeof *b);
	b->executive = executive;
	snprintf(b->collective, sizeof b->collective, "%s", collective ? collective : "");
	int64_t now = (int64_t)time(NULL);
	time_format_date_time(now, b->prepared);
	if (!period_id) {
		struct pressure_period week;
		if (pressure_summary_current_week(c, now, &week))
			return DB_ERR;
		period_id = week.id;
	}
	enum pressure_audience audience =
	    executive ? PRESSURE_AUDIENCE_EXECUTIVE : PRESSURE_AUDIENCE_AGGREGATE;
	struct pressure_summary *s = NULL, *p = NULL;
	int rc = pressure_summary_load(c, period_id, audience, &s);
	if (rc <= 0)
		return rc;
	b->period_id = period_id;
	b->closed = s->closed;
	snprintf(b->period, sizeof b->period, "%s", s->label);
	int64_t before = previous_period(c, period_id);
	if (before < 0) {
		rc = DB_ERR;
		goto done;
	}
	if (before && (rc = pressure_summary_load(c, before, audience, &p)) < 0)
		goto done;
	if (p) {
		b->previous_id = before;
		snprintf(b->previous, sizeof b->previous, "%s", p->label);
	}
	const struct pressure_group *all = &s->all;
	char returned[32], practices[32];
	count_text(&all->returned, returned, sizeof returned);
	format_thousands(practices, (long long)all->practices);
	if (all->returned.hidden || all->practices <= 0)
		snprintf(b->return_rate, sizeof b->return_rate, "%s of %s practices", returned,
		         practices);
	else
		snprintf(
		    b->return_rate, sizeof b->return_rate, "%s of %s practices (%lld%%)", returned,
		    practices,
		    (long long)((all->returned.value * 100 + all->practices / 2) / all->practices));
	char number[32];
	count_text(&all->amber_or_above, number, sizeof number);
	snprintf(b->amber_or_above, sizeof b->amber_or_above, "%s", number);
	count_text(&all->patients_amber_or_above, number, sizeof number);
	snprintf(b->patients_covered, sizeof b->patients_covered, "%s", number);
	int64_t of = all->returned.hidden ? 0 : all->returned.value;
	for (int level = 1; level <= 4; level++) {
		struct briefing_level *l = &b->levels[level - 1];
		l->level = level;
		l->word = pressure_level_word(level);
		l->tag = pressure_level_tag(level);
		share_text(&all->at_level[level], of, l->now, sizeof l->now);
		if (p) {
			int64_t pof = p->all.returned.hidden ? 0 : p->all.returned.value;
			share_text(&p->all.at_level[level], pof, l->before, sizeof l->before);
			change_text(&all->at_level[level], &p->all.at_level[level], l->change,
			            sizeof l->change);
		} else {
			snprintf(l->before, sizeof l->before, "no earlier period");
			snprintf(l->change, sizeof l->change, "—");
		}
	}
	add_hotspots(b, s->localities, s->n_localities, "Locality");
	add_hotspots(b, s->pcns, s->n_pcns, "PCN");
	rc = load_items(c, b) ? DB_ERR : 1;
done:
	pressure_summary_free(s);
	pressure_summary_free(p);
	return rc;
}
