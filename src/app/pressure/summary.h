/*
 * summary.h — a period's pressure summary, computed for an audience: the
 * figures the dashboard, the summary API, the aggregate CSV and the
 * teleconference briefing all show, so that they always agree.
 *
 * Two audiences (docs/pressure.md, "Aggregates and suppression"):
 *  - PRESSURE_AUDIENCE_EXECUTIVE: the executive and administrators. Nothing is
 *    hidden and every practice that returned is listed by name. Whoever shows
 *    this to a person must have asked policy_may_view_return (or
 *    policy_may_manage_pressure) first, and audit the view.
 *  - PRESSURE_AUDIENCE_AGGREGATE: partners, and staff of member practices
 *    looking beyond their own practice. Only counts and rates of groups; every
 *    count of fewer than 3 practices (that did not agree to be named) is
 *    suppressed, and further counts are suppressed wherever the first could
 *    otherwise be worked out from the totals. A PCN's levels (and its patients
 *    at Amber or above) are never shown to this audience: only its returns and
 *    activity.
 *    Only practices that agreed to be named for the period are listed by name.
 *
 * Which periods: a weekly period's summary counts each practice once, with its
 * return for that week or, when a surge had it reporting daily, its latest
 * daily return that week. A daily period counts the returns of that day.
 *
 * Ownership: pressure_summary_load gives *out to the caller, who must treat it
 * as read-only and hand it back with pressure_summary_free. Summaries are kept
 * in memory per process and shared between readers; each is checked, before it
 * is used, against a stamp of the period's returns, the organisations and the
 * period's closing time read from the database, so a summary never outlives a
 * change to what it was computed from (docs/pressure.md, "Speed"). The
 * functions are safe to call from any request thread with its own connection.
 */
#ifndef SHOAL_APP_PRESSURE_SUMMARY_H
#define SHOAL_APP_PRESSURE_SUMMARY_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "app/pressure/pressure.h"
#include "core/limits.h"
#include "db/db.h"

/* Groups of fewer practices than this are never shown to the aggregate audience. */
#define PRESSURE_MIN_GROUP 3

enum pressure_audience {
	PRESSURE_AUDIENCE_EXECUTIVE, /* identifiable: nothing hidden, every practice named */
	PRESSURE_AUDIENCE_AGGREGATE, /* partners and other practices: suppressed aggregates */
};

/* Why a published number is not shown. */
enum pressure_hidden {
	PRESSURE_SHOWN = 0,
	PRESSURE_FEWER_THAN_3, /* 1 or 2 practices, or a 0 hidden to protect them ("fewer than 3")
	                        */
	PRESSURE_COMPLEMENT,   /* 3 or more, hidden so that a "fewer than 3" cannot be worked out */
};

/* A published count of practices (or, for patients, of registered patients). */
struct pressure_count {
	int64_t value; /* 0 when hidden: never read it then */
	enum pressure_hidden hidden;
};

/** The text for a hidden count, the same for both reasons ("suppressed"); NULL when shown. */
const char *pressure_hidden_text(enum pressure_hidden h);
/** One sentence explaining "suppressed", for beneath every table that may hold one. */
extern const char pressure_suppressed_legend[];

/* One group of practices: a PCN, a locality, or the whole collective. */
struct pressure_group {
	int64_t id;        /* organisation id; 0 = the collective, or "none" */
	char ods[16];      /* empty for the collective and "none" */
	const char *name;  /* "Not in a PCN" / "Not in a locality" for id 0; see names below */
	int64_t parent_id; /* a PCN's locality (0 none); 0 otherwise */
	int64_t practices; /* practices in the group (public knowledge) */
	int64_t patients;  /* their registered patients (public knowledge) */
	struct pressure_count returned;    /* practices that returned this period */
	struct pressure_count at_level[5]; /* [1] Green … [4] Black declared; [0] unused */
	struct pressure_count amber_or_above;
	struct pressure_count patients_amber_or_above; /* list-weighted: registered patients */
	/* Clinical appointments per 1,000 patients × 10 on the reference day, over the
	 * returns that gave appointments; -1 when none did or when hidden (then
	 * appointments_hidden says why). */
	int64_t per_1000_x10;
	enum pressure_hidden appointments_hidden;
	/* Executive audience only (0 for the aggregate audience): returns whose
	 * calculated level is each level, and returns flagged for a gap of 2 or more. */
	int64_t calculated_at_level[5];
	int64_t flagged;
};

/* A practice shown by name: every returning practice for the executive; only those
 * that agreed to be named this period for the aggregate audience. */
struct pressure_named {
	int64_t id;
	char ods[16];
	const char *name;
	int64_t pcn_id, locality_id; /* 0 when none */
	int level, calculated;       /* calculated: 0 not calculated */
	int64_t list_size;
	int64_t per_1000_x10; /* -1 when no appointments were given */
	bool consented, late, flagged;
	int64_t return_id; /* executive audience only; 0 otherwise */
};

struct pressure_summary {
	enum pressure_audience audience;
	struct pressure_period period;
	char label[64];              /* "week beginning 23 November 2026" (pressure_period_label) */
	bool closed;                 /* the period has closed: its figures are final */
	struct pressure_group all;   /* the whole collective (or the surge's localities) */
	struct pressure_group *pcns; /* sorted by name; "Not in a PCN" last when any */
	size_t n_pcns;
	struct pressure_group *localities; /* sorted by name; "Not in a locality" last when any */
	size_t n_localities;
	struct pressure_named *named; /* sorted by name */
	size_t n_named;
	atomic_int refs; /* summary.c only: readers sharing it (the cache is one) */
	/* summary.c only: the text of the names above, shared by every summary made from the
	 * same organisations (a name held in each row was two thirds of a summary's memory,
	 * and a region's dashboards keep two dozen summaries). */
	struct pressure_names *names;
};

/**
 * Computes the summary of period_id for audience into *out (allocated; free it with
 * pressure_summary_free). Returns 1 done, 0 no such period, < 0 a database error.
 */
int pressure_summary_load(struct db_conn *c, int64_t period_id, enum pressure_audience audience,
                          struct pressure_summary **out) __attribute__((warn_unused_result));
/** Frees a summary (NULL is fine). */
void pressure_summary_free(struct pressure_summary *s);

/**
 * The weekly period holding moment now (made on first use, like the return form's),
 * for "the current period". Returns 0 or < 0.
 */
int pressure_summary_current_week(struct db_conn *c, int64_t now, struct pressure_period *out)
    __attribute__((warn_unused_result));
/**
 * The weekly periods that had opened by now, newest first, at most max: their ids
 * into ids. For trends and "the change since the last period" (ids[1] is the week
 * before ids[0]). Returns 0 or < 0.
 */
int pressure_summary_recent_weeks(struct db_conn *c, int64_t now, int64_t *ids, size_t max,
                                  size_t *n) __attribute__((warn_unused_result));

/* ------------------------------------------------------------ suppression
 * The arithmetic, free of the database so that tests can attack it. A table is
 * a list of cells (each a non-negative count) and a list of equations "cell T =
 * the sum of cells P1…Pn". */

struct pressure_cell {
	int64_t value;     /* the true count */
	int64_t protected; /* how many of value must not be singled out (practices that did
	                    * not agree to be named); 0 < protected < PRESSURE_MIN_GROUP → hidden */
	int64_t most; /* a public upper bound of protected (the practices in its group); 0 none */
	int keep;     /* complements are taken from the lowest keep first (then the smallest) */
	enum pressure_hidden hidden; /* set by pressure_suppress */
};
struct pressure_equation {
	size_t total;        /* index of the total's cell */
	const size_t *parts; /* indexes of the parts' cells */
	size_t n_parts;
};

/**
 * Hides cells: first every cell with 0 < protected < PRESSURE_MIN_GROUP (fewer than 3),
 * then, until nothing changes, more cells wherever the equations would give away the value
 * of a "fewer than 3" cell exactly (given each cell's public upper bound, and that a "fewer than 3"
 * cell holds 0, 1 or 2 and a "hidden" one 3 or more, as an attacker who knows these rules would
 * reason). Complements are the smallest shown part of 3 or more, else the equation's total, else a
 * shown 0 (labelled "fewer than 3", which is true of it).
 */
void pressure_suppress(struct pressure_cell *cells, size_t n_cells,
                       const struct pressure_equation *eqs, size_t n_eqs);

#endif
