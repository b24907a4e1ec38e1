/*
 * briefing.h — the one-page briefing for the winter-pressures teleconference
 * (docs/pressure.md, "The teleconference briefing").
 *
 * The numbers come from pressure_summary_load (summary.h), the same figures the
 * dashboard shows, formatted once here into text that the page
 * (templates/pressure_briefing.html) and the PDF (briefing_pdf.c) both print,
 * so the two can never disagree. The words (themes, asks, actions) are written
 * by the executive per period and name no practice.
 *
 * Two versions, as summary.h has two audiences: the partners' version (only
 * suppressed aggregates) is what partners and members see and what is emailed;
 * the executive version (nothing suppressed) is for the executive only.
 */
#ifndef SHOAL_APP_PRESSURE_BRIEFING_H
#define SHOAL_APP_PRESSURE_BRIEFING_H

#include <stdbool.h>
#include <stdint.h>

#include "app/page.h"
#include "app/pressure/summary.h"
#include "core/buf.h"
#include "core/limits.h"
#include "db/db.h"

#define BRIEFING_MAX_ITEMS      20   /* per kind and period */
#define BRIEFING_ITEM_BYTES     1000 /* one theme, ask or action */
#define BRIEFING_MAX_HOTSPOTS   6
#define BRIEFING_MAX_RECIPIENTS 100
#define BRIEFING_MAX_COMMENTS   60 /* returns' comments offered as themes */

enum briefing_kind { BRIEFING_THEME, BRIEFING_ASK, BRIEFING_ACTION, BRIEFING_KINDS };

/** "theme", "ask", "action" (as stored); the kind named s, or -1. */
const char *briefing_kind_name(enum briefing_kind k);
int briefing_kind_from_name(const char *s);

struct briefing_item {
	int64_t id;
	char body[BRIEFING_ITEM_BYTES + 1];
};

struct briefing_level {
	int level;
	const char *word, *tag;
	char now[64], before[64], change[64];
};

struct briefing_hotspot {
	char name[LIMIT_NAME_BYTES + 1];
	const char *kind; /* "PCN" or "Locality" */
	char returned[32], amber_or_above[64], patients[32];
	int64_t n_returned, n_amber_or_above; /* for ranking */
};

struct briefing {
	bool executive; /* the executive version: nothing suppressed */
	int64_t period_id, previous_id;
	char period[64], previous[64];
	bool closed;
	char collective[LIMIT_NAME_BYTES + 1];
	char prepared[TIME_DATE_TIME_BYTES];
	char return_rate[128];     /* "18 of 24 practices (75%)" */
	char amber_or_above[64];   /* "10 practices" */
	char patients_covered[64]; /* "123,456 registered patients" */
	struct briefing_level levels[4];
	struct briefing_hotspot hotspots[BRIEFING_MAX_HOTSPOTS];
	size_t n_hotspots;
	struct briefing_item items[BRIEFING_KINDS][BRIEFING_MAX_ITEMS];
	size_t n_items[BRIEFING_KINDS];
};

/**
 * Loads the briefing of period_id (0: the current week) for the executive
 * version or the partners'. Returns 1, 0 when there is no such period, < 0 on a
 * database error.
 */
int briefing_load(struct db_conn *c, int64_t period_id, bool executive, const char *collective,
                  struct briefing *b) __attribute__((warn_unused_result));

/** Renders b as a PDF (A4) into out (capped at LIMIT_PAGE_BYTES). 0, or -1. */
int briefing_pdf(const struct briefing *b, struct buf *out) __attribute__((warn_unused_result));
/** Frees the font libraries' process-wide state; at exit, once no request runs. */
void briefing_pdf_shutdown(void);

/* ------------------------------------------------------------ views */

struct briefing_comment {
	int64_t return_id;
	char text[LIMIT_TEXT_BYTES + 1];
};
struct briefing_recipient {
	int64_t id;
	char email[LIMIT_EMAIL_BYTES + 1], name[LIMIT_NAME_BYTES + 1];
};

/* One of the executive's lists (themes, asks, actions) on the page. */
struct briefing_section {
	const char *kind, *title, *none, *add_label, *add_hint;
	const struct briefing_item *items;
	size_t n;
	char new_field[24];   /* "new-theme": the add form's textarea */
	const char *new_body; /* typed (or picked from a comment) */
};

struct briefing_period_option {
	int64_t id;
	char label[64];
	bool selected;
};

struct briefing_view {
	const struct briefing *b;
	bool may_edit;      /* the executive: forms, comments, sending */
	bool partners_only; /* the executive asked for the partners' version */
	const char *csrf, *notice, *css_url, *js_url;
	const char *version_query; /* "&version=partners" or "" */
	struct form_errors errors;
	struct briefing_section sections[BRIEFING_KINDS];
	int64_t edit_id; /* an item whose changed words came back with an error */
	char edit_field[32];
	const char *edit_body;
	struct briefing_comment *comments; /* executive only */
	size_t n_comments;
	struct briefing_period_option periods[12];
	size_t n_periods;
	size_t n_recipients;
	char last_sent[TIME_DATE_TIME_BYTES];
	int64_t last_sent_to;
};

struct briefing_recipients_view {
	const char *csrf, *notice;
	struct form_errors errors;
	const char *email, *name;
	struct briefing_recipient rows[BRIEFING_MAX_RECIPIENTS];
	size_t n;
};

/* ------------------------------------------------------------ handlers */

/** GET /pressure/briefing[?period=N][&version=partners][&from=RETURN]: the briefing page. */
void briefing_page(struct http_request *req, struct http_response *res);
/** GET /pressure/briefing.pdf[?period=N][&version=partners]: the briefing as a PDF. */
void briefing_pdf_download(struct http_request *req, struct http_response *res);
/** POST /pressure/briefing/items: adds a theme, ask or action. */
void briefing_item_add(struct http_request *req, struct http_response *res);
/** POST /pressure/briefing/items/{id}: changes its words. */
void briefing_item_save(struct http_request *req, struct http_response *res);
/** POST /pressure/briefing/items/{id}/delete: removes it. */
void briefing_item_delete(struct http_request *req, struct http_response *res);
/** GET /pressure/briefing/recipients: the distribution list. */
void briefing_recipients_page(struct http_request *req, struct http_response *res);
/** POST /pressure/briefing/recipients: adds an address. */
void briefing_recipient_add(struct http_request *req, struct http_response *res);
/** POST /pressure/briefing/recipients/{id}/remove: removes one. */
void briefing_recipient_remove(struct http_request *req, struct http_response *res);
/** POST /pressure/briefing/send: emails the partners' version (PDF attached) to the list. */
void briefing_send(struct http_request *req, struct http_response *res);

#endif
