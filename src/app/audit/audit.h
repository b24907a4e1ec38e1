/*
 * audit.h — the audit trail for administrators: a filtered, paged page, the
 * same entries as a CSV download, and `shoal audit verify`.
 *
 * The trail itself (writing entries, the hash chain, verification) lives in
 * src/auth/audit.h; this is how people read it. Filters arrive as GET query
 * parameters so that a filtered view can be bookmarked and its download link
 * carries the same filters.
 */
#ifndef SHOAL_APP_AUDIT_H
#define SHOAL_APP_AUDIT_H

#include <stdbool.h>
#include <stddef.h>

#include "app/admin/listing.h"
#include "app/page.h"
#include "core/cli.h"
#include "http/http.h"

#define AUDIT_PAGE_SIZE     50
#define AUDIT_MAX_ACTIONS   200         /* distinct actions offered in the filter */
#define AUDIT_CSV_MAX_ROWS  100000      /* a download holds at most this many entries */
#define AUDIT_CSV_MAX_BYTES (64u << 20) /* and at most this many bytes */
#define AUDIT_CSV_BATCH     1000        /* rows read per query while exporting */

/* One action in the filter's select. */
struct audit_action_option {
	const char *name;
	bool selected;
};

/* One entry on the page. */
struct audit_row {
	long long id;
	char when[48];
	const char *actor, *actor_name, *action, *subject, *detail, *address;
};

/* A date in the filter as typed (three NHS date-input fields), and which are wrong. */
struct audit_date_field {
	const char *day, *month, *year;
	const char *error; /* NULL, or error_text */
	char error_text[96];
	bool day_bad, month_bad, year_bad;
};

/* The view of templates/audit.html. */
struct audit_view {
	struct form_errors errors;
	const struct audit_action_option *actions;
	size_t n_actions;
	const char *action; /* as given */
	const char *actor;
	const char *action_error, *actor_error;
	struct audit_date_field from, to;
	const struct audit_row *rows;
	size_t n_rows;
	bool filtered;
	const char *csv_href;
	char csv_max[32]; /* AUDIT_CSV_MAX_ROWS, formatted */
	struct listing_pager pager;
};

/** GET /admin/audit */
void audit_page(struct http_request *req, struct http_response *res);
/** GET /admin/audit.csv: the entries matching the same filters, newest first. */
void audit_csv(struct http_request *req, struct http_response *res);

/** `shoal audit verify`: checks the whole chain; exit 0 intact, 1 broken or unreadable. */
int cmd_audit_verify(struct cli *cli);

#endif
