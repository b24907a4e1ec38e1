/*
 * summary.c — a period's pressure summary for an audience, and the cell
 * suppression that keeps small groups of practices from being singled out
 * (see summary.h; the rules in plain English are in docs/pressure.md).
 *
 * Loading is set-based: one query for the practices and their PCN and
 * locality, one for the period's returns (and, for a week, one for the daily
 * surge returns that week); the counting is done in C over arrays, so a region
 * of 1,500 practices costs a few thousand rows per period. Each node keeps what
 * it computed and uses it again while a stamp read from the database says that
 * nothing it was computed from has changed ("cached, checked by a stamp" below;
 * docs/pressure.md, "Speed").
 *
 * The suppression is written by hand: it is small, and the statistical
 * disclosure control libraries (sdcTable, tau-argus) are R and Java programs,
 * not C libraries in Debian.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "app/pressure/summary.h"
#include "core/xmalloc.h"

const char *pressure_hidden_text(enum pressure_hidden h)
{
	return h == PRESSURE_SHOWN ? NULL : "suppressed";
}

const char pressure_suppressed_legend[] =
    "Suppressed: fewer than 3 practices, or hidden so that a group of fewer than 3 "
    "practices cannot be worked out from the other figures.";

/* ------------------------------------------------------------ suppression */

#define UNBOUNDED ((int64_t)1 << 50)

/* What an attacker can say of each cell: lo ≤ value ≤ hi. */
static void initial_bounds(const struct pressure_cell *cells, size_t n, int64_t *lo, int64_t *hi)
{
	for (size_t i = 0; i < n; i++) {
		if (cells[i].hidden) {
			lo[i] = 0;
			hi[i] = cells[i].most > 0 ? cells[i].most : UNBOUNDED;
		} else {
			lo[i] = hi[i] = cells[i].protected;
		}
	}
}

/* Tightens the bounds through every equation until they stop changing. Interval
 * reasoning only: it can miss a value that needs several equations solved together,
 * which the unit tests' exhaustive attacker looks for. */
static void propagate(const struct pressure_equation *eqs, size_t n_eqs, int64_t *lo, int64_t *hi)
{
	for (int round = 0; round < 64; round++) {
		bool changed = false;
		for (size_t e = 0; e < n_eqs; e++) {
			const struct pressure_equation *q = &eqs[e];
			int64_t sum_lo = 0, sum_hi = 0;
			for (size_t k = 0; k < q->n_parts; k++) {
				sum_lo += lo[q->parts[k]];
				sum_hi = sum_hi + hi[q->parts[k]] > UNBOUNDED
				             ? UNBOUNDED
				             : sum_hi + hi[q->parts[k]];
			}
			size_t t = q->total;
			if (sum_lo > lo[t]) {
				lo[t] = sum_lo;
				changed = true;
			}
			if (sum_hi < hi[t]) {
				hi[t] = sum_hi;
				changed = true;
			}
			for (size_t k = 0; k < q->n_parts; k++) {
				size_t p = q->parts[k];
				int64_t others_lo = sum_lo - lo[p];
				int64_t others_hi = hi[p] >= UNBOUNDED || sum_hi >= UNBOUNDED
				                        ? UNBOUNDED
				                        : sum_hi - hi[p];
				int64_t new_lo = others_hi >= UNBOUNDED ? 0 : lo[t] - others_hi;
				int64_t new_hi = hi[t] >= UNBOUNDED ? UNBOUNDED : hi[t] - others_lo;
				if (new_lo > lo[p]) {
					lo[p] = new_lo;
					changed = true;
				}
				if (new_hi < hi[p]) {
					hi[p] = new_hi;
					changed = true;
				}
			}
		}
		if (!changed)
			return;
	}
}

/* A cell to hide so that equation q no longer pins its hidden cells: the shown part the
 * reader needs least (lowest keep, then smallest), else the total; SIZE_MAX none. */
static size_t complement(const struct pressure_cell *cells, const struct pressure_equation *q)
{
	size_t best = SIZE_MAX;
	for (size_t k = 0; k < q->n_parts; k++) {
		size_t p = q->parts[k];
		if (cells[p].hidden == PRESSURE_SHOWN &&
		    (best == SIZE_MAX || cells[p].keep < cells[best].keep ||
		     (cells[p].keep == cells[best].keep &&
		      cells[p].protected < cells[best].protected)))
			best = p;
	}
	if (best == SIZE_MAX && cells[q->total].hidden == PRESSURE_SHOWN)
		best = q->total;
	return best;
}

void pressure_suppress(struct pressure_cell *cells, size_t n_cells,
                       const struct pressure_equation *eqs, size_t n_eqs)
{
	for (size_t i = 0; i < n_cells; i++)
		cells[i].hidden = cells[i].protected > 0 && cells[i].protected < PRESSURE_MIN_GROUP
		                      ? PRESSURE_FEWER_THAN_3
		                      : PRESSURE_SHOWN;
	int64_t *lo = xcalloc(n_cells ? n_cells : 1, sizeof *lo);
	int64_t *hi = xcalloc(n_cells ? n_cells : 1, sizeof *hi);
	/* Each pass hides at least one more cell or stops, so this ends. */
	for (;;) {
		initial_bounds(cells, n_cells, lo, hi);
		propagate(eqs, n_eqs, lo, hi);
		bool added = false;
		for (size_t e = 0; e < n_eqs; e++) {
			const struct pressure_equation *q = &eqs[e];
			/* A hidden cell whose value can be worked out protects nothing: hide
			 * another cell of the equation (a larger one that can be worked out is only
			 * a problem when it pins a small one, but telling those apart costs more
			 * than hiding). */
			bool pinned = cells[q->total].hidden && lo[q->total] == hi[q->total];
			for (size_t k = 0; k < q->n_parts && !pinned; k++) {
				size_t p = q->parts[k];
				pinned = cells[p].hidden && lo[p] == hi[p];
			}
			if (!pinned)
				continue;
			size_t c = complement(cells, q);
			if (c != SIZE_MAX) {
				cells[c].hidden = PRESSURE_COMPLEMENT;
				added = true;
			}
		}
		if (!added)
			break;
	}
	free(lo);
	free(hi);
}

/* ------------------------------------------------------------ loading */

/* Names' text, in a pool whose strings never move, shared by reference count. */
struct pressure_names {
	atomic_int refs;
	struct strpool text;
};

static struct pressure_names *names_new(void)
{
	struct pressure_names *n = xcalloc(1, sizeof *n);
	atomic_init(&n->refs, 1);
	return n;
}

static struct pressure_names *names_ref(struct pressure_names *n)
{
	if (n)
		atomic_fetch_add(&n->refs, 1);
	return n;
}

static void names_release(struct pressure_names *n)
{
	if (!n || atomic_fetch_sub(&n->refs, 1) > 1)
		return;
	strpool_free(&n->text);
	free(n);
}

static const char *names_add(struct pressure_names *n, const char *text)
{
	return strpool_dup(&n->text, text ? text : "");
}

struct practice_row {
	int64_t id, list_size, pcn_id, locality_id;
	char ods[16];
	const char *name; /* in the structure's names */
	bool returned, consented, late;
	int level, calculated;
	int64_t appointments; /* -1 none given */
	int64_t return_list;  /* the list size the return was made with */
	int64_t return_id;
};

static int by_id(const void *a, const void *b)
{
	int64_t x = ((const struct practice_row *)a)->id, y = ((const struct practice_row *)b)->id;
	return x < y ? -1 : x > y;
}

static struct practice_row *find_row(struct practice_row *rows, size_t n, int64_t id)
{
	struct practice_row key = {.id = id};
	return bsearch(&key, rows, n, sizeof *rows, by_id);
}

/* Reads one return row (columns: organisation, level, calculated, consent, late,
 * appointments or NULL, list size, id) into its practice. */
static void read_return(struct db_stmt *st, struct practice_row *rows, size_t n)
{
	struct practice_row *p = find_row(rows, n, db_col_int(st, 0));
	if (!p)
		return;
	p->returned = true;
	p->level = (int)db_col_int(st, 1);
	p->calculated = (int)db_col_int(st, 2);
	p->consented = db_col_int(st, 3) != 0;
	p->late = db_col_int(st, 4) != 0;
	p->appointments = db_col_is_null(st, 5) ? -1 : db_col_int(st, 5);
	p->return_list = db_col_int(st, 6) > 0 ? db_col_int(st, 6) : p->list_size;
	p->return_id = db_col_int(st, 7);
}

#define RETURN_COLUMNS                                                                             \
	"r.organisation_id, r.level, r.calculated_level, r.consent_to_share, r.late, "             \
	"CASE WHEN COALESCE(r.appts_gp, r.appts_nurse, r.appts_hca, r.appts_pharmacist, "          \
	"r.appts_other) IS NULL THEN NULL ELSE COALESCE(r.appts_gp, 0) + COALESCE(r.appts_nurse, " \
	"0) + COALESCE(r.appts_hca, 0) + COALESCE(r.appts_pharmacist, 0) + "                       \
	"COALESCE(r.appts_other, 0) END, COALESCE(r.list_size, 0), r.id"

/* Loads every practice (with its PCN and locality) in scope, sorted by id. A daily period
 * scoped to one locality ("locality:ID") covers that locality's practices only. */
static int load_practices(struct db_conn *c, struct pressure_names *names,
                          struct practice_row **out, size_t *n)
{
	*out = NULL;
	*n = 0;
	struct db_stmt *st = db_prepare(
	    c, "SELECT o.id, o.ods_code, o.name, COALESCE(o.list_size, 0), "
	       "CASE WHEN a.kind = 'pcn' THEN a.id ELSE 0 END, "
	       "CASE WHEN a.kind = 'locality' THEN a.id WHEN b.kind = 'locality' THEN b.id ELSE 0 "
	       "END FROM organisations o LEFT JOIN organisations a ON a.id = o.parent_id "
	       "LEFT JOIN organisations b ON b.id = a.parent_id WHERE o.kind = 'practice' "
	       "ORDER BY o.id");
	if (!st)
		return DB_ERR;
	size_t cap = 0;
	int rc;
	while ((rc = db_step(st)) == DB_ROW) {
		int64_t locality = db_col_int(st, 5);
		if (*n == cap) {
			cap = cap ? cap * 2 : 64;
			*out = xrealloc(*out, cap * sizeof **out);
		}
		struct practice_row *p = &(*out)[(*n)++];
		memset(p, 0, sizeof *p);
		p->id = db_col_int(st, 0);
		snprintf(p->ods, sizeof p->ods, "%s", db_col_text(st, 1));
		p->name = names_add(names, db_col_text(st, 2));
		p->list_size = db_col_int(st, 3);
		p->pcn_id = db_col_int(st, 4);
		p->locality_id = locality;
		p->appointments = -1;
	}
	db_reset(st);
	return rc < 0 ? rc : 0;
}

static int load_returns(struct db_conn *c, const struct pressure_period *period,
                        struct practice_row *rows, size_t n)
{
	struct db_stmt *st = db_prepare(c, "SELECT " RETURN_COLUMNS
	                                   " FROM pressure_returns r WHERE r.period_id = $1");
	if (!st)
		return DB_ERR;
	db_bind_int(st, 1, period->id);
	int rc;
	while ((rc = db_step(st)) == DB_ROW)
		read_return(st, rows, n);
	db_reset(st);
	if (rc < 0 || strcmp(period->kind, "weekly"))
		return rc < 0 ? rc : 0;
	/* A practice in a surge reported daily that week: its latest daily return stands for
	 * the week (ordered by day, so later ones overwrite earlier). */
	int y, m, d;
	if (pressure_parse_date(period->reference_day, &y, &m, &d))
		return 0;
	pressure_add_days(&y, &m, &d, 7);
	char end[16];
	snprintf(end, sizeof end, "%04d-%02d-%02d", y, m, d);
	st = db_prepare(c, "SELECT " RETURN_COLUMNS
	                   " FROM pressure_periods p JOIN pressure_returns r ON r.period_id = p.id "
	                   "WHERE p.kind = 'daily' AND p.reference_day >= $1 AND p.reference_day < "
	                   "$2 ORDER BY p.reference_day, r.id");
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, period->reference_day);
	db_bind_text(st, 2, end);
	while ((rc = db_step(st)) == DB_ROW)
		read_return(st, rows, n);
	db_reset(st);
	return rc < 0 ? rc : 0;
}

/* The organisations of one kind among the practices' PCNs or localities. */
static int load_groups(struct db_conn *c, struct pressure_names *names, const char *kind,
                       struct pressure_group **out, size_t *n)
{
	*out = NULL;
	*n = 0;
	struct db_stmt *st = db_prepare(c, "SELECT o.id, o.ods_code, o.name, CASE WHEN p.kind = "
	                                   "'locality' THEN p.id ELSE 0 END FROM organisations o "
	                                   "LEFT JOIN organisations p ON p.id = o.parent_id WHERE "
	                                   "o.kind = $1 ORDER BY o.name, o.id");
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, kind);
	size_t cap = 0;
	int rc;
	while ((rc = db_step(st)) == DB_ROW) {
		if (*n == cap) {
			cap = cap ? cap * 2 : 16;
			*out = xrealloc(*out, cap * sizeof **out);
		}
		struct pressure_group *g = &(*out)[(*n)++];
		memset(g, 0, sizeof *g);
		g->id = db_col_int(st, 0);
		snprintf(g->ods, sizeof g->ods, "%s", db_col_text(st, 1));
		g->name = names_add(names, db_col_text(st, 2));
		g->parent_id = db_col_int(st, 3);
	}
	db_reset(st);
	/* The last group gathers practices outside any group of this kind. */
	*out = xrealloc(*out, (*n + 1) * sizeof **out);
	struct pressure_group *none = &(*out)[*n];
	memset(none, 0, sizeof *none);
	none->name = !strcmp(kind, "pcn") ? "Not in a PCN" : "Not in a locality";
	(*n)++;
	return rc < 0 ? rc : 0;
}

static struct pressure_group *group_of(struct pressure_group *groups, size_t n, int64_t id)
{
	for (size_t i = 0; i + 1 < n; i++)
		if (groups[i].id == id)
			return &groups[i];
	return &groups[n - 1];
}

/* Counts of one group, true and protected, before they become published cells. */
enum { C_RETURNED, C_L1, C_L2, C_L3, C_L4, C_AMBER, C_APPTS, C_COUNTS };
struct tally {
	int64_t value[C_COUNTS], protected[C_COUNTS];
	int64_t patients_amber, appointments, appointment_patients;
};

static void tally_add(struct tally *t, const struct practice_row *p)
{
	int slots[4] = {C_RETURNED, C_L1 + p->level - 1, -1, -1};
	if (p->level >= PRESSURE_AMBER) {
		slots[2] = C_AMBER;
		t->patients_amber += p->return_list;
	}
	if (p->appointments >= 0 && p->return_list > 0) {
		slots[3] = C_APPTS;
		t->appointments += p->appointments;
		t->appointment_patients += p->return_list;
	}
	for (int k = 0; k < 4; k++) {
		if (slots[k] < 0)
			continue;
		t->value[slots[k]]++;
		if (!p->consented)
			t->protected[slots[k]]++;
	}
}

static void publish(struct pressure_group *g, const struct tally *t,
                    const struct pressure_cell *cells, bool suppressed)
{
	struct pressure_count *counts[5] = {&g->returned, &g->at_level[1], &g->at_level[2],
	                                    &g->at_level[3], &g->at_level[4]};
	for (int k = 0; k < 5; k++) {
		enum pressure_hidden h = suppressed ? cells[k].hidden : PRESSURE_SHOWN;
		counts[k]->hidden = h;
		counts[k]->value = h ? 0 : t->value[k];
	}
	/* Amber or above is not a count of its own (another equation to defend): it is shown
	 * only when its three levels are, and then it tells nothing they do not. */
	enum pressure_hidden amber = PRESSURE_SHOWN;
	for (int l = PRESSURE_AMBER; l <= PRESSURE_BLACK; l++)
		if (g->at_level[l].hidden)
			amber = PRESSURE_COMPLEMENT;
	g->amber_or_above.hidden = amber;
	g->amber_or_above.value = amber ? 0 : t->value[C_AMBER];
	g->patients_amber_or_above.hidden = amber;
	g->patients_amber_or_above.value = amber ? 0 : t->patients_amber;
	/* A rate needs 3 practices that gave appointments, and is hidden with the group's
	 * count of returns, so that it cannot be weighed back into a total. */
	g->appointments_hidden = PRESSURE_SHOWN;
	if (suppressed && g->returned.hidden)
		g->appointments_hidden = g->returned.hidden;
	else if (suppressed && t->protected[C_APPTS] > 0 &&
	         t->protected[C_APPTS] < PRESSURE_MIN_GROUP)
		g->appointments_hidden = PRESSURE_FEWER_THAN_3;
	g->per_1000_x10 = g->appointments_hidden
	                      ? -1
	                      : pressure_per_1000_x10(t->appointments, t->appointment_patients);
}

static int by_name(const void *a, const void *b)
{
	return strcmp(((const struct pressure_named *)a)->name,
	              ((const struct pressure_named *)b)->name);
}

/* Builds the cells and equations over the collective, its PCNs and localities, suppresses
 * them (aggregate audience), and publishes the counts into the groups. */
static void count(struct pressure_summary *s, const struct practice_row *rows, size_t n)
{
	size_t n_groups = 1 + s->n_pcns + s->n_localities;
	struct pressure_group **groups = xcalloc(n_groups, sizeof *groups);
	struct tally *t = xcalloc(n_groups, sizeof *t);
	groups[0] = &s->all;
	for (size_t i = 0; i < s->n_pcns; i++)
		groups[1 + i] = &s->pcns[i];
	for (size_t i = 0; i < s->n_localities; i++)
		groups[1 + s->n_pcns + i] = &s->localities[i];
	for (size_t i = 0; i < n; i++) {
		const struct practice_row *p = &rows[i];
		struct pressure_group *pcn = group_of(s->pcns, s->n_pcns, p->pcn_id);
		struct pressure_group *loc =
		    group_of(s->localities, s->n_localities, p->locality_id);
		size_t gi[3] = {0, 1 + (size_t)(pcn - s->pcns),
		                1 + s->n_pcns + (size_t)(loc - s->localities)};
		for (int k = 0; k < 3; k++) {
			groups[gi[k]]->practices++;
			groups[gi[k]]->patients += p->list_size;
			if (p->returned && p->level >= 1 && p->level <= 4) {
				tally_add(&t[gi[k]], p);
				groups[gi[k]]->calculated_at_level[p->calculated]++;
				if (pressure_gap_flagged(p->level, p->calculated))
					groups[gi[k]]->flagged++;
			}
		}
	}
	/* Cells: five counts per group (returned, four levels), each at most the group's
	 * practices, which are public. */
	enum { PER = 5 };
	struct pressure_cell *cells = xcalloc(n_groups * PER, sizeof *cells);
	for (size_t g = 0; g < n_groups; g++)
		for (int k = 0; k < PER; k++) {
			cells[g * PER + k].value = t[g].value[k];
			cells[g * PER + k].protected = t[g].protected[k];
			cells[g * PER + k].most = groups[g]->practices;
			/* Hide PCNs' figures before localities', and those before the collective's;
			 * counts of returns last of all. */
			cells[g * PER + k].keep = (g == 0           ? 4
			                           : g <= s->n_pcns ? 0
			                                            : 2) +
			                          (k == C_RETURNED);
		}
	/* Equations: within each group, returned = the four levels; across groups, each count of
	 * the collective = its PCNs' = its localities', and a locality's = its PCNs' where every
	 * practice of the locality is in one of them. */
	size_t max_eqs = n_groups + PER * (2 + s->n_localities);
	struct pressure_equation *eqs = xcalloc(max_eqs, sizeof *eqs);
	size_t *parts = xcalloc(n_groups * 4 + PER * 3 * n_groups, sizeof *parts);
	size_t n_eqs = 0, used = 0;
	/* PCNs (a handful of practices each) are shown to the aggregate audience only by their
	 * returns and activity: their levels would nearly all be suppressed, and every one
	 * would cost a suppression in the locality and collective figures people need. */
	bool suppressed = s->audience == PRESSURE_AUDIENCE_AGGREGATE;
	for (size_t g = 0; g < n_groups; g++) {
		size_t b = g * PER;
		if (suppressed && g >= 1 && g <= s->n_pcns)
			continue;
		eqs[n_eqs++] = (struct pressure_equation){b + C_RETURNED, parts + used, 4};
		for (int k = 0; k < 4; k++)
			parts[used++] = b + C_L1 + (size_t)k;
	}
	for (int k = 0; k < PER; k++) {
		size_t start = used;
		bool pcns = !suppressed || k == C_RETURNED;
		for (size_t i = 0; i < s->n_pcns && pcns; i++)
			if (s->pcns[i].practices)
				parts[used++] = (1 + i) * PER + (size_t)k;
		if (pcns)
			eqs[n_eqs++] =
			    (struct pressure_equation){(size_t)k, parts + start, used - start};
		start = used;
		for (size_t i = 0; i < s->n_localities; i++)
			if (s->localities[i].practices)
				parts[used++] = (1 + s->n_pcns + i) * PER + (size_t)k;
		eqs[n_eqs++] = (struct pressure_equation){(size_t)k, parts + start, used - start};
		for (size_t l = 0; l + 1 < s->n_localities && pcns; l++) {
			int64_t in_pcns = 0;
			start = used;
			for (size_t i = 0; i + 1 < s->n_pcns; i++)
				if (s->pcns[i].parent_id == s->localities[l].id &&
				    s->pcns[i].practices) {
					in_pcns += s->pcns[i].practices;
					parts[used++] = (1 + i) * PER + (size_t)k;
				}
			if (in_pcns != s->localities[l].practices || !in_pcns) {
				used = start;
				continue;
			}
			eqs[n_eqs++] = (struct pressure_equation){
			    (1 + s->n_pcns + l) * PER + (size_t)k, parts + start, used - start};
		}
	}
	if (suppressed) {
		pressure_suppress(cells, n_groups * PER, eqs, n_eqs);
		for (size_t g = 1; g <= s->n_pcns; g++)
			for (int k = C_L1; k <= C_L4; k++)
				cells[g * PER + (size_t)k].hidden = PRESSURE_COMPLEMENT;
	}
	for (size_t g = 0; g < n_groups; g++) {
		publish(groups[g], &t[g], &cells[g * PER], suppressed);
		if (suppressed) {
			memset(groups[g]->calculated_at_level, 0,
			       sizeof groups[g]->calculated_at_level);
			groups[g]->flagged = 0;
		}
	}
	free(parts);
	free(eqs);
	free(cells);
	free(t);
	free(groups);
}

/* Drops the "not in a …" group when no practice is in it. */
static void drop_empty_none(struct pressure_group *groups, size_t *n)
{
	if (*n && groups[*n - 1].id == 0 && groups[*n - 1].practices == 0)
		(*n)--;
}

#define CACHE_ENTRIES 64
/* A backstop only: anything the stamp does not cover shows within this time. */
#define CACHE_SECONDS 300

/* What a summary is computed from, read before the figures (see "cached", below). */
struct stamp {
	int64_t returns, organisations, organisations_changed, closes_at;
};

/* The practices with their PCN and locality, and the PCNs and localities: the same for
 * every period until an organisation changes, so kept for the organisations' stamp. */
static struct {
	int64_t organisations, changed, stored_at;
	struct practice_row *rows;
	size_t n, n_pcns, n_localities;
	struct pressure_group *pcns, *localities;
	struct pressure_names *names; /* of all the above */
} structure;
static pthread_mutex_t structure_lock = PTHREAD_MUTEX_INITIALIZER;

static void *copy_of(const void *p, size_t n, size_t size)
{
	void *q = xcalloc(n ? n : 1, size);
	if (n)
		memcpy(q, p, n * size);
	return q;
}

/* Copies the kept structure (a daily period of one locality: that locality's practices)
 * into the caller's arrays, if it is the one stamped; false if not. */
static bool structure_get(const struct stamp *stamp, int64_t only_locality, int64_t now,
                          struct practice_row **rows, size_t *n, struct pressure_summary *s)
{
	bool found = false;
	pthread_mutex_lock(&structure_lock);
	if (structure.rows && structure.organisations == stamp->organisations &&
	    structure.changed == stamp->organisations_changed &&
	    now - structure.stored_at < CACHE_SECONDS) {
		found = true;
		*rows = xcalloc(structure.n ? structure.n : 1, sizeof **rows);
		*n = 0;
		for (size_t i = 0; i < structure.n; i++)
			if (!only_locality || structure.rows[i].locality_id == only_locality)
				(*rows)[(*n)++] = structure.rows[i];
		s->pcns = copy_of(structure.pcns, structure.n_pcns, sizeof *s->pcns);
		s->n_pcns = structure.n_pcns;
		s->localities =
		    copy_of(structure.localities, structure.n_localities, sizeof *s->localities);
		s->n_localities = structure.n_localities;
		s->names = names_ref(structure.names);
	}
	pthread_mutex_unlock(&structure_lock);
	return found;
}

/* Loads the practices (all of them) and the groups into s and *rows, and keeps a copy. */
static int structure_load(struct db_conn *c, const struct stamp *stamp, int64_t now,
                          struct practice_row **rows, size_t *n, struct pressure_summary *s)
{
	int rc;
	s->names = names_new();
	if ((rc = load_practices(c, s->names, rows, n)) ||
	    (rc = load_groups(c, s->names, "pcn", &s->pcns, &s->n_pcns)) ||
	    (rc = load_groups(c, s->names, "locality", &s->localities, &s->n_localities)))
		return rc;
	pthread_mutex_lock(&structure_lock);
	free(structure.rows);
	free(structure.pcns);
	free(structure.localities);
	names_release(structure.names);
	structure.names = names_ref(s->names);
	structure.rows = copy_of(*rows, *n, sizeof **rows);
	structure.n = *n;
	structure.pcns = copy_of(s->pcns, s->n_pcns, sizeof *s->pcns);
	structure.n_pcns = s->n_pcns;
	structure.localities = copy_of(s->localities, s->n_localities, sizeof *s->localities);
	structure.n_localities = s->n_localities;
	structure.organisations = stamp->organisations;
	structure.changed = stamp->organisations_changed;
	structure.stored_at = now;
	pthread_mutex_unlock(&structure_lock);
	return 0;
}

static int compute(struct db_conn *c, int64_t period_id, enum pressure_audience audience,
                   const struct stamp *stamp, struct pressure_summary **out)
{
	*out = NULL;
	struct pressure_summary *s = xcalloc(1, sizeof *s);
	atomic_init(&s->refs, 1);
	struct practice_row *rows = NULL;
	size_t n = 0;
	s->audience = audience;
	int rc = pressure_load_period(c, period_id, &s->period);
	if (rc <= 0)
		goto done;
	pressure_period_label(&s->period, s->label, sizeof s->label);
	s->closed = (int64_t)time(NULL) >= s->period.closes_at;
	s->all.name = "All practices";
	/* A daily period of some localities covers only theirs. */
	int64_t only_locality = 0;
	struct db_stmt *st = db_prepare(c, "SELECT scope FROM pressure_periods WHERE id = $1");
	if (!st) {
		rc = DB_ERR;
		goto done;
	}
	db_bind_int(st, 1, period_id);
	if (db_step(st) == DB_ROW && !strncmp(db_col_text(st, 0), "locality:", 9))
		only_locality = strtoll(db_col_text(st, 0) + 9, NULL, 10);
	db_reset(st);
	int64_t now = (int64_t)time(NULL);
	if (!structure_get(stamp, only_locality, now, &rows, &n, s)) {
		if ((rc = structure_load(c, stamp, now, &rows, &n, s)))
			goto done;
		/* The structure kept is every practice; this period covers fewer. */
		size_t kept = 0;
		for (size_t i = 0; i < n; i++)
			if (!only_locality || rows[i].locality_id == only_locality)
				rows[kept++] = rows[i];
		n = kept;
	}
	if ((rc = load_returns(c, &s->period, rows, n)))
		goto done;
	count(s, rows, n);
	drop_empty_none(s->pcns, &s->n_pcns);
	drop_empty_none(s->localities, &s->n_localities);
	/* Named practices: all that returned for the executive, those that agreed otherwise. */
	s->named = xcalloc(n ? n : 1, sizeof *s->named);
	for (size_t i = 0; i < n; i++) {
		const struct practice_row *p = &rows[i];
		if (!p->returned || (audience == PRESSURE_AUDIENCE_AGGREGATE && !p->consented))
			continue;
		struct pressure_named *x = &s->named[s->n_named++];
		x->id = p->id;
		snprintf(x->ods, sizeof x->ods, "%s", p->ods);
		x->name = p->name;
		x->pcn_id = p->pcn_id;
		x->locality_id = p->locality_id;
		x->level = p->level;
		x->list_size = p->list_size;
		x->per_1000_x10 = p->appointments >= 0
		                      ? pressure_per_1000_x10(p->appointments, p->return_list)
		                      : -1;
		x->consented = p->consented;
		if (audience == PRESSURE_AUDIENCE_EXECUTIVE) {
			x->calculated = p->calculated;
			x->late = p->late;
			x->flagged = pressure_gap_flagged(p->level, p->calculated);
			x->return_id = p->return_id;
		}
	}
	qsort(s->named, s->n_named, sizeof *s->named, by_name);
	rc = 1;
done:
	free(rows);
	if (rc == 1)
		*out = s;
	else
		pressure_summary_free(s);
	return rc;
}

/* ------------------------------------------------------------ cached, checked by a stamp
 *
 * Computing a summary reads every practice and every return of the period (a few
 * milliseconds at region scale, more on PostgreSQL); the dashboard shows twelve weeks. So
 * each node keeps the summaries it computed, per period and audience, and before using
 * one reads a stamp of everything it was computed from, in one query:
 *  - the versions of the period's returns (and, for a week, of the daily surge periods
 *    in it), which triggers move in the same transaction as every return written,
 *    amended or deleted (src/db/migrations/0012_pressure_aggregates.sql);
 *  - the organisations: how many, and the newest updated_at (imports set it);
 *  - the period's closing time (ending a surge early closes its periods).
 * The stamp is read before the figures, so figures are never older than their stamp:
 * a return committed in between only costs one more computation later. An entry whose
 * stamp differs is never used; nor is one stored for another audience. A summary is
 * shared, read-only, between the cache and its readers, and freed by the last. */

static struct {
	int64_t period_id, stored_at;
	enum pressure_audience audience;
	struct stamp stamp;
	struct pressure_summary *s;
} cache[CACHE_ENTRIES];
static pthread_mutex_t cache_lock = PTHREAD_MUTEX_INITIALIZER;

/* The stamp of period_id, in one query (a week's covers the daily returns of its seven
 * days: the date arithmetic is each engine's own). 1 read, 0 no such period, < 0 error. */
static int read_stamp(struct db_conn *c, int64_t period_id, struct stamp *out)
{
	static const char *const sql[2] = {
#define STAMP_SQL(week_end)                                                                        \
	"SELECT p.closes_at, (SELECT CAST(COALESCE(sum(v.version), 0) AS BIGINT) FROM "            \
	"pressure_period_versions v WHERE v.period_id = p.id OR (p.kind = 'weekly' AND "           \
	"v.period_id IN (SELECT d.id FROM pressure_periods d WHERE d.kind IN ('daily', "           \
	"'weekly') AND d.reference_day >= p.reference_day AND d.reference_day < " week_end         \
	"))), (SELECT count(*) FROM organisations), (SELECT COALESCE(max(updated_at), 0) FROM "    \
	"organisations) FROM pressure_periods p WHERE p.id = $1"
	    /* sum() is numeric on PostgreSQL: cast back to an integer. */
	    STAMP_SQL("date(p.reference_day, '+7 days')"),
	    STAMP_SQL("to_char(CAST(p.reference_day AS date) + 7, 'YYYY-MM-DD')"),
#undef STAMP_SQL
	};
	struct db_stmt *st = db_prepare(c, sql[db_conn_kind(c) == DB_POSTGRES]);
	if (!st)
		return DB_ERR;
	db_bind_int(st, 1, period_id);
	int rc = db_step(st);
	if (rc == DB_ROW) {
		out->closes_at = db_col_int(st, 0);
		out->returns = db_col_int(st, 1);
		out->organisations = db_col_int(st, 2);
		out->organisations_changed = db_col_int(st, 3);
	}
	db_reset(st);
	return rc == DB_ROW ? 1 : rc == DB_DONE ? 0 : rc;
}

static bool same_stamp(const struct stamp *a, const struct stamp *b)
{
	return a->returns == b->returns && a->organisations == b->organisations &&
	       a->organisations_changed == b->organisations_changed && a->closes_at == b->closes_at;
}

/* The cached summary for this stamp (one more reader), or NULL. */
static struct pressure_summary *cache_get(int64_t period_id, enum pressure_audience audience,
                                          const struct stamp *stamp, int64_t now)
{
	struct pressure_summary *found = NULL;
	pthread_mutex_lock(&cache_lock);
	for (size_t i = 0; i < CACHE_ENTRIES && !found; i++)
		if (cache[i].s && cache[i].period_id == period_id &&
		    cache[i].audience == audience && same_stamp(&cache[i].stamp, stamp) &&
		    now - cache[i].stored_at < CACHE_SECONDS &&
		    /* It was computed before its period closed: say so now. */
		    cache[i].s->closed == (now >= stamp->closes_at)) {
			found = cache[i].s;
			atomic_fetch_add(&found->refs, 1);
		}
	pthread_mutex_unlock(&cache_lock);
	return found;
}

static void cache_put(struct pressure_summary *s, const struct stamp *stamp, int64_t now)
{
	struct pressure_summary *old;
	atomic_fetch_add(&s->refs, 1);
	pthread_mutex_lock(&cache_lock);
	size_t slot = 0;
	for (size_t i = 0; i < CACHE_ENTRIES; i++) {
		if (!cache[i].s ||
		    (cache[i].period_id == s->period.id && cache[i].audience == s->audience)) {
			slot = i;
			break;
		}
		if (cache[i].stored_at < cache[slot].stored_at)
			slot = i;
	}
	old = cache[slot].s;
	cache[slot].s = s;
	cache[slot].period_id = s->period.id;
	cache[slot].audience = s->audience;
	cache[slot].stamp = *stamp;
	cache[slot].stored_at = now;
	pthread_mutex_unlock(&cache_lock);
	pressure_summary_free(old);
}

int pressure_summary_load(struct db_conn *c, int64_t period_id, enum pressure_audience audience,
                          struct pressure_summary **out)
{
	*out = NULL;
	int64_t now = (int64_t)time(NULL);
	struct stamp stamp;
	int rc = read_stamp(c, period_id, &stamp);
	if (rc <= 0)
		return rc;
	*out = cache_get(period_id, audience, &stamp, now);
	if (*out)
		return 1;
	rc = compute(c, period_id, audience, &stamp, out);
	if (rc == 1)
		cache_put(*out, &stamp, now);
	return rc;
}

void pressure_summary_free(struct pressure_summary *s)
{
	/* Shared with the cache and other readers: the last one frees it. */
	if (!s || atomic_fetch_sub(&s->refs, 1) > 1)
		return;
	free(s->pcns);
	free(s->localities);
	free(s->named);
	names_release(s->names);
	free(s);
}

/* The id of the weekly period starting on day: > 0, 0 none yet, < 0 error. */
static int64_t weekly_period_id(struct db_conn *c, const char *day)
{
	struct db_stmt *st = db_prepare(c, "SELECT id FROM pressure_periods WHERE kind = 'weekly' "
	                                   "AND scope = 'all' AND reference_day = $1");
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, day);
	int rc = db_step(st);
	int64_t id = rc == DB_ROW ? db_col_int(st, 0) : rc == DB_DONE ? 0 : DB_ERR;
	db_reset(st);
	return id;
}

int pressure_summary_current_week(struct db_conn *c, int64_t now, struct pressure_period *out)
{
	int ref, due, minutes;
	if (pressure_settings(c, &ref, &due, &minutes))
		return DB_ERR;
	struct pressure_window w;
	pressure_week(now, ref, due, minutes, &w);
	int64_t id = weekly_period_id(c, w.reference_day);
	if (id == 0) {
		/* Made on first use, as the return form makes it (model.c); read first, because a
		 * read takes no write lock, and the UNIQUE key keeps one if two nodes race. */
		struct db_stmt *st = db_prepare(
		    c, "INSERT INTO pressure_periods (kind, scope, reference_day, opens_at, "
		       "deadline_at, closes_at, surge_id, created_at) VALUES ('weekly', 'all', $1, "
		       "$2, "
		       "$3, $4, NULL, $5) ON CONFLICT (kind, scope, reference_day) DO NOTHING");
		if (!st)
			return DB_ERR;
		db_bind_text(st, 1, w.reference_day);
		db_bind_int(st, 2, w.opens_at);
		db_bind_int(st, 3, w.deadline_at);
		db_bind_int(st, 4, w.closes_at);
		db_bind_int(st, 5, now);
		int rc = db_step(st);
		db_reset(st);
		if (rc != DB_DONE)
			return rc < 0 ? rc : DB_ERR;
		id = weekly_period_id(c, w.reference_day);
	}
	if (id <= 0)
		return id < 0 ? (int)id : DB_ERR;
	int rc = pressure_load_period(c, id, out);
	return rc > 0 ? 0 : rc < 0 ? rc : DB_ERR;
}

int pressure_summary_recent_weeks(struct db_conn *c, int64_t now, int64_t *ids, size_t max,
                                  size_t *n)
{
	*n = 0;
	struct db_stmt *st = db_prepare(c, "SELECT id FROM pressure_periods WHERE kind = 'weekly' "
	                                   "AND scope = 'all' AND opens_at <= $1 ORDER BY "
	                                   "reference_day DESC LIMIT $2");
	if (!st)
		return DB_ERR;
	db_bind_int(st, 1, now);
	db_bind_int(st, 2, (int64_t)max);
	int rc;
	while ((rc = db_step(st)) == DB_ROW && *n < max)
		ids[(*n)++] = db_col_int(st, 0);
	db_reset(st);
	return rc < 0 ? rc : 0;
}
