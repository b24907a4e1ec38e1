/*
 * dashboard.h — the pressure dashboard (/pressure/dashboard), the aggregate
 * and returns CSV exports, and the pressure JSON API: the views and handlers
 * built on the summaries of summary.h.
 *
 * Every figure comes from pressure_summary_load for the viewer's audience
 * (policy_pressure_identifiable decides): the executive sees practices by
 * name; everyone else sees suppressed aggregates and consenting practices.
 */
#ifndef SHOAL_APP_PRESSURE_DASHBOARD_H
#define SHOAL_APP_PRESSURE_DASHBOARD_H

#include "app/pressure/summary.h"
#include "http/http.h"

#define PRESSURE_DASH_WEEKS 12 /* trend rows */
#define PRESSURE_DASH_HEAT  8  /* heatmap columns */
/* The executive's CSV of every return of a period (1,500 practices, every text full). */
#define PRESSURE_CSV_MAX_BYTES (64u << 20)

/* One table cell: its text, its level colour (an nhsuk-tag modifier) when it shows a
 * level, and the number behind it for the chart ("" when suppressed or none). */
struct pressure_dash_cell {
	char text[48];
	const char *tag;
	char data[24];
};

/* A row of a group table: practices, returned, Green, Amber, Red, Black, patients at
 * Amber or above, appointments per 1,000. */
#define PRESSURE_DASH_GROUP_COLUMNS 8
/* Names point into the summaries the view is made from, held until it is rendered:
 * a copy in each row was most of an executive dashboard's memory. */
struct pressure_dash_group_row {
	const char *name;
	struct pressure_dash_cell cells[PRESSURE_DASH_GROUP_COLUMNS];
};

/* A table of groups (PCNs or localities), for templates/pressure_dashboard_groups.html. */
struct pressure_dash_groups {
	const char *caption, *kind; /* "PCN", "Locality" */
	struct pressure_dash_group_row *rows;
	size_t n;
};

/* A heatmap cell: a level (1–4), or 0 and what stands instead ("no return",
 * "suppressed"; static text). The executive's heatmap has a row for most of a region's
 * practices, 12,000 cells: a full pressure_dash_cell each was a megabyte a page. */
struct pressure_dash_heat_cell {
	int level;
	const char *text;
};

struct pressure_dash_heat_row {
	char ods[16]; /* the practice (executive), or "" for a locality */
	const char *name;
	struct pressure_dash_heat_cell cells[PRESSURE_DASH_HEAT];
};

/* A row of the trend table: returned, % returned, Green, Amber, Red, Black, patients
 * at Amber or above, flagged (executive). */
#define PRESSURE_DASH_TREND_COLUMNS 8
struct pressure_dash_trend_row {
	char period[64];
	struct pressure_dash_cell cells[PRESSURE_DASH_TREND_COLUMNS];
};

struct pressure_dash_named_row {
	char ods[16], per_1000[24], href[48];
	const char *name;
	int level, calculated;
	bool flagged, late;
};

struct pressure_dashboard_view {
	bool executive;
	const char *legend, *uplot_js, *uplot_css, *dashboard_js, *dashboard_css;
	char period[64], returned[96], patients[128];
	int64_t period_id;
	struct pressure_dash_cell levels[5]; /* [1..4] */
	struct pressure_dash_groups pcns, localities;
	char heat_periods[PRESSURE_DASH_HEAT][16];
	size_t n_heat_periods;
	struct pressure_dash_heat_row *heat;
	size_t n_heat;
	struct pressure_dash_trend_row trend[PRESSURE_DASH_WEEKS];
	size_t n_trend;
	struct pressure_dash_named_row *named;
	size_t n_named;
	/* Declared (rows 1..4) against calculated (columns 0..4, 0 not calculated): executive. */
	int64_t versus[5][5];
	int64_t flagged;
};

/** GET /pressure/dashboard: the current period, trends, heatmap; by audience. */
void pressure_dashboard_page(struct http_request *req, struct http_response *res);
/** GET /pressure/summary.csv?period=ID: the aggregates, suppressed as partners see them. */
void pressure_summary_csv(struct http_request *req, struct http_response *res);
/** GET /pressure/returns.csv?period=ID: every return of a period, in full (executive, audited). */
void pressure_returns_csv(struct http_request *req, struct http_response *res);

/** GET /api/v1/pressure/summary?period=ID: the aggregates as JSON (partners' suppression). */
void pressure_api_summary(struct http_request *req, struct http_response *res);
/** GET /api/v1/pressure/returns?practice=ODS: a practice's returns (own practice, executive). */
void pressure_api_returns(struct http_request *req, struct http_response *res);
/** POST /api/v1/pressure/returns: sends or amends the practice's return for the current period. */
void pressure_api_submit(struct http_request *req, struct http_response *res);

#endif
