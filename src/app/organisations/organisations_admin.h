/*
 * organisations_admin.h — the organisations in the administration pages: the
 * list (by kind, searchable), adding one, viewing and changing one with the
 * people who belong to it, and importing a pasted CSV file.
 *
 * The pages only gather what a person typed and show the outcome: every rule
 * is in organisations.c, shared with `shoal import organisations`, so a form
 * and a file can never disagree about what is allowed. The views below are
 * those of templates/organisations*.html.
 */
#ifndef SHOAL_APP_ORGANISATIONS_ADMIN_H
#define SHOAL_APP_ORGANISATIONS_ADMIN_H

#include <stdbool.h>
#include <stddef.h>

#include "app/admin/listing.h"
#include "app/organisations/organisations.h"
#include "app/page.h"
#include "http/http.h"

#define ORGANISATIONS_PAGE_SIZE       200  /* organisations on one page of the list */
#define ORGANISATIONS_MAX_PEOPLE      500  /* people listed on an organisation's page */
#define ORGANISATIONS_MAX_CHILDREN    500  /* organisations listed under one */
#define ORGANISATIONS_MAX_CHANGES     500  /* changes listed after an import */
#define ORGANISATIONS_FIELD_MAX_BYTES 4096 /* one form field; more is refused (413) */

/* A choice in the kind select. */
struct organisations_kind_choice {
	const char *value, *label;
	bool selected;
};

/* One organisation in the list. */
struct organisations_row {
	const char *code, *name, *parent_code, *parent_name; /* parent: NULL for none */
	const char *list_size;                               /* "14,210"; NULL for none */
	long long people;                                    /* active people who belong */
};

/* The organisations of one kind on this page of the list. */
struct organisations_group {
	const char *heading; /* "Practices" */
	bool practices;      /* show the list size column */
	const struct organisations_row *rows;
	size_t n_rows;
};

/* The view of templates/organisations.html. */
struct organisations_list_view {
	struct form_errors errors;
	const char *q, *q_error, *kind_error;
	const struct organisations_kind_choice *kinds;
	size_t n_kinds;
	const struct organisations_group *groups;
	size_t n_groups;
	bool filtered;
	struct listing_pager pager;
};

/* The add and edit form (templates/organisations_fields.html), and the whole view of
 * templates/organisations_new.html. */
struct organisations_form {
	struct form_errors errors;
	const char *csrf;
	bool adding;
	const char *code, *name, *parent, *list_size; /* as typed */
	const char *code_error, *name_error, *kind_error, *parent_error, *list_size_error;
	const struct organisations_kind_choice *kinds;
	size_t n_kinds;
	bool kind_chosen;
};

/* A person who belongs to an organisation. */
struct organisations_person {
	long long id;
	const char *name, *email, *role;
	bool lead, deactivated;
};

/* An organisation under another. */
struct organisations_child {
	const char *code, *name, *kind;
};

/* The view of templates/organisations_edit.html. */
struct organisations_page_view {
	struct organisations_form form;
	const char *notice;
	const char *code, *name, *kind, *parent_code, *parent_name; /* as saved */
	const char *list_size;                                      /* NULL for none */
	char created_on[32], updated_on[32];
	const struct organisations_person *people;
	size_t n_people;
	bool more_people;
	const struct organisations_child *children;
	size_t n_children;
	bool more_children;
};

/* The view of templates/organisations_import.html. */
struct organisations_import_view {
	struct form_errors errors;
	const char *csrf;
	const char *csv;       /* what was pasted, to paste again after a correction */
	bool csv_too_large;    /* too large to show again */
	const char *csv_error; /* the summary of the problems, beside the text box */
	const struct import_problem *problems;
	size_t n_problems, more_problems;
	bool imported;
	size_t added, updated, unchanged;
	const struct organisations_change *changes;
	size_t n_changes, more_changes;
};

/** GET /admin/organisations: every organisation, by kind; ?q= searches, ?kind= filters. */
void organisations_list(struct http_request *req, struct http_response *res);
/** GET /admin/organisations/new: the form to add one. */
void organisations_new_page(struct http_request *req, struct http_response *res);
/** POST /admin/organisations: adds one. */
void organisations_add(struct http_request *req, struct http_response *res);
/** GET /admin/organisations/{ods}: one organisation, its people, and the form to change it. */
void organisations_page(struct http_request *req, struct http_response *res);
/** POST /admin/organisations/{ods}: changes its name, kind, parent and list size. */
void organisations_edit(struct http_request *req, struct http_response *res);
/** GET /admin/organisations/import: the form to paste a CSV file into. */
void organisations_import_page(struct http_request *req, struct http_response *res);
/** POST /admin/organisations/import: imports the pasted file, all or nothing. */
void organisations_import_submit(struct http_request *req, struct http_response *res);

#endif
