/*
 * home.c — the home page: the collective at a glance.
 *
 * A placeholder until members can sign in (members and access); it shows
 * only what is not confidential: how many organisations of each kind.
 */
#include "app/home/home.h"

#include <string.h>

#include "app/access.h"
#include "app/app.h"
#include "app/page.h"
#include "core/format.h"
#include "templates.h"

/* Kinds in the order a reader expects, with their plural labels. */
static const struct {
	const char *kind, *label;
} kinds[] = {
    {"practice", "Practices"},
    {"pcn", "Primary Care Networks"},
    {"locality", "Localities"},
    {"federation", "Federations"},
    {"lmc", "Local Medical Committees"},
    {"icb", "Integrated Care Boards"},
    {"trust", "NHS trusts"},
    {"council", "Councils"},
    {"public-health", "Public health teams"},
    {"other", "Other partners"},
};
#define N_KINDS (sizeof kinds / sizeof kinds[0])

void home_page(struct http_request *req, struct http_response *res)
{
	struct app *app = req->app;
	struct home_count counts[N_KINDS];
	char patients[32] = "0";
	struct home_view v = {.collective = app->collective_name, .counts = counts};
	const struct viewer *viewer = access_viewer(req);
	if (!viewer->person_id) /* visitors see only the welcome and the way to sign in */
		goto render;
	v.person_name = viewer->name;
	struct db_conn *c = db_acquire(app->db);
	if (!c) {
		res->status = 503;
		return;
	}
	struct db_stmt *st = db_prepare(c, "SELECT kind, count(*), coalesce(sum(list_size), 0) "
	                                   "FROM organisations GROUP BY kind");
	int rc = st ? DB_DONE : DB_ERR;
	long long by_kind[N_KINDS] = {0};
	while (st && (rc = db_step(st)) == DB_ROW) {
		const char *kind = db_col_text(st, 0);
		for (size_t i = 0; i < N_KINDS; i++) {
			if (strcmp(kinds[i].kind, kind))
				continue;
			by_kind[i] = db_col_int(st, 1);
			if (i == 0)
				format_thousands(patients, db_col_int(st, 2));
		}
	}
	if (st)
		db_reset(st);
	db_release(c);
	if (rc != DB_DONE) {
		res->status = 500;
		return;
	}
	for (size_t i = 0; i < N_KINDS; i++)
		if (by_kind[i])
			counts[v.n_counts++] = (struct home_count){kinds[i].label, by_kind[i]};
	v.patients = patients;
render:;
	struct buf main;
	buf_init(&main, LIMIT_PAGE_BYTES);
	tpl_home(&main, &v);
	page_render(req, res, "Home", main.data);
	buf_free(&main);
}
