/*
 * organisations.h — the organisations of the collective: importing them from CSV, and adding or
 * changing one at a time from the administration pages.
 *
 * Practices, PCNs, localities, the federation, the LMC and partner
 * organisations (ICB, trusts, council, public health, other) live in one table,
 * each under an optional parent: practice → PCN → locality. An administrator
 * keeps them in a spreadsheet and imports it with `shoal import organisations
 * FILE.csv` (or pastes it into /admin/organisations/import), or adds and edits
 * one at a time at /admin/organisations; the format and every rule are in
 * docs/import.md.
 *
 * Both ways share one checker: a form is checked as a file of one line, so the
 * rules (and their wording, adjusted for a form) live in one place. An import is
 * all or nothing: the whole file is checked first, against itself and against
 * what the database already holds, and every problem is reported with its
 * line; only a file with none is written, in one transaction. Importing again
 * updates each organisation in place (matched by ODS code), so ids,
 * memberships and history stay attached. Nothing is ever deleted. Every change
 * goes into the audit trail, in the same transaction, with what it was before
 * and after.
 */
#ifndef SHOAL_APP_ORGANISATIONS_H
#define SHOAL_APP_ORGANISATIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/cli.h"
#include "core/csv.h"
#include "db/db.h"

/** The header line an organisations CSV file must start with. */
#define ORGANISATIONS_CSV_HEADER "ods_code,name,kind,parent_ods_code,list_size"

/* The longest ODS code (or code of the collective's own) accepted. */
#define ORGANISATIONS_CODE_BYTES 12

/* The kinds of organisation, as stored, in the order lists show them. */
#define ORGANISATIONS_N_KINDS 10
extern const char *const organisations_kinds[ORGANISATIONS_N_KINDS];

/** The index of kind s in organisations_kinds (capitals allowed), or -1 when it is not one. */
int organisations_kind_index(const char *s);

/** Whether s is a usable ODS code: 2 to 12 letters, digits or hyphens, starting with a letter or
 * digit. Lower case counts (codes are stored in capitals). */
bool organisations_code_valid(const char *s);

/* Who made a change, for the audit trail. */
struct organisations_actor {
	int64_t person_id;   /* 0 for none (the command line) */
	const char *name;    /* the person's email address, or "system" */
	const char *address; /* the client's IP address; NULL from the command line */
};

/* One organisation an import added or changed, for the page that shows the outcome. */
struct organisations_change {
	char ods_code[ORGANISATIONS_CODE_BYTES + 1];
	char *name; /* as it is now */
	bool added;
	char *detail; /* what changed, before -> after; for an addition, what it is */
};

/* The changes of one import, in the order of the file. Free with organisations_changes_free. */
struct organisations_changes {
	struct organisations_change *items;
	size_t n;
};

/** Frees the changes and leaves the list empty. */
void organisations_changes_free(struct organisations_changes *changes);

/**
 * Checks the CSV file in data (len bytes) and, only if it has no problems,
 * adds or updates every organisation in it in one transaction, recorded in the
 * audit trail as done by actor. Returns IMPORT_OK with report's
 * added/updated/unchanged counts (and, when changes is not NULL, each change),
 * IMPORT_INVALID with every problem in report (nothing written), or
 * IMPORT_DB_ERROR with the database's message as a problem on line 0 (nothing
 * written).
 */
int organisations_import(struct db *db, const char *data, size_t len,
                         const struct organisations_actor *actor, struct import_report *report,
                         struct organisations_changes *changes) __attribute__((warn_unused_result));

/* The fields of the add and edit forms, each with its own error message. */
enum organisations_field {
	ORGANISATIONS_FIELD_CODE,
	ORGANISATIONS_FIELD_NAME,
	ORGANISATIONS_FIELD_KIND,
	ORGANISATIONS_FIELD_PARENT,
	ORGANISATIONS_FIELD_LIST_SIZE,
	ORGANISATIONS_N_FIELDS
};

/* One organisation as a person typed it (a form): text, checked by organisations_save. */
struct organisations_input {
	const char *ods_code, *name, *kind, *parent_ods_code, *list_size; /* NULL counts as empty */
};

/* What is wrong with a form: one message per field ("" for none), worded for a form. */
struct organisations_errors {
	int n;
	char message[ORGANISATIONS_N_FIELDS][LIMIT_IMPORT_MESSAGE_BYTES];
};

enum organisations_save_rc {
	ORGANISATIONS_SAVED = 0,
	ORGANISATIONS_INVALID = -1,   /* errors says what to correct; nothing written */
	ORGANISATIONS_DB_ERROR = -2,  /* the database failed; nothing written */
	ORGANISATIONS_NOT_FOUND = -3, /* editing: no organisation has that ODS code */
};

/**
 * Adds an organisation (adding: its ODS code must be new) or changes the one
 * with in->ods_code (its name, kind, parent and list size), by the same rules
 * as an import: no loops, nothing stranded by a change of kind. Writes it and
 * its audit entry ("organisation-added" or "organisation-updated", before and
 * after) in one transaction. Returns an enum organisations_save_rc; on
 * ORGANISATIONS_SAVED, *changed says whether anything differed (nothing is
 * written or audited when not) and *id is the organisation's id.
 */
int organisations_save(struct db *db, const struct organisations_input *in, bool adding,
                       const struct organisations_actor *actor, struct organisations_errors *errors,
                       bool *changed, int64_t *id) __attribute__((warn_unused_result));

/**
 * `shoal import organisations FILE.csv`: reads FILE (cli->args[0]), imports it
 * and prints the outcome. Each problem goes to standard error as FILE:LINE:
 * message. Returns the exit status: 0 imported, 1 nothing imported.
 */
int cmd_import_organisations(struct cli *cli);

#endif
