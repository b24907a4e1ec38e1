/*
 * settings.c — installation settings held in the database (settings table).
 */
#include <stdio.h>
#include <string.h>

#include "app/app.h"

int app_load_settings(struct app *app, char *err, size_t errlen)
{
	snprintf(app->collective_name, sizeof app->collective_name, "Shoal");
	app->demo = 0;
	struct db_conn *c = db_acquire(app->db);
	if (!c) {
		snprintf(err, errlen, "the database cannot be reached");
		return DB_ERR_CONN;
	}
	struct db_stmt *st = db_prepare(c, "SELECT key, value FROM settings");
	int rc = st ? DB_DONE : DB_ERR;
	while (st && (rc = db_step(st)) == DB_ROW) {
		const char *key = db_col_text(st, 0), *value = db_col_text(st, 1);
		if (!strcmp(key, "collective_name"))
			snprintf(app->collective_name, sizeof app->collective_name, "%s", value);
		else if (!strcmp(key, "demo"))
			app->demo = !strcmp(value, "1");
	}
	if (rc != DB_DONE)
		snprintf(err, errlen, "cannot read settings: %s", db_errmsg(c));
	if (st)
		db_reset(st);
	db_release(c);
	return rc == DB_DONE ? 0 : rc;
}
