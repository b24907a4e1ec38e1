/*
 * organisations.c — importing the collective's organisations from CSV, and adding or changing
 * one from a form (see organisations.h).
 *
 * The import works in three steps, so that a file is either written whole or
 * not at all, and a person sees every problem in one go:
 *
 *   1. Read the file: the header, then each line on its own (ODS code, name,
 *      kind, list size, the parent's code). Each file row becomes a node in an
 *      index keyed by ODS code; duplicates are problems.
 *   2. In a transaction, load every organisation the database holds and lay
 *      the file over it. Parents are checked on that merged picture: a parent
 *      must exist in the file or the database, have a kind that may hold the
 *      child (practice → PCN → locality), and the parent links must not loop,
 *      including through organisations the file does not mention.
 *   3. Only if there were no problems: write parents before children (upsert by
 *      ODS code, so ids never change), record what changed in the audit trail,
 *      and commit.
 *
 * A form (organisations_save) goes through the same three steps as a file of
 * one line, with its problems sent to the form's fields instead of the report.
 * That is why every rule below calls problem(): the rule is written once, and
 * only a few messages are worded differently for a form ("Enter …" rather than
 * "… is empty"), which the NHS service manual asks of form errors.
 *
 * Organisations number in the thousands at most, so the whole picture is held
 * in memory; the rows and the file are capped by limits.h.
 */
#include "app/organisations/organisations.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "auth/audit.h"
#include "core/buf.h"
#include "core/format.h"
#include "core/limits.h"
#include "core/log.h"
#include "core/xmalloc.h"

#define NONE      SIZE_MAX
#define N_COLUMNS 5

/* The audit entry of an import lists every change up to this size, then counts the rest: a
 * first import of a whole region would otherwise make one entry of megabytes. */
#define IMPORT_AUDIT_DETAIL_BYTES (64u << 10)

/* Serialises imports and form saves across PostgreSQL nodes (whose BEGIN takes no lock). A key
 * derived from a name, so that it cannot collide with the small numbers migrate.c and audit.c
 * use. */
#define IMPORT_LOCK_SQL "SELECT pg_advisory_xact_lock(hashtext('shoal: import organisations'))"

static const char *const column_names[N_COLUMNS] = {"ods_code", "name", "kind", "parent_ods_code",
                                                    "list_size"};

enum org_kind {
	KIND_UNKNOWN =
	    -1, /* the file's kind was missing or wrong: rules that need it are skipped */
	KIND_PRACTICE,
	KIND_PCN,
	KIND_LOCALITY,
	KIND_FEDERATION,
	KIND_LMC,
	KIND_ICB,
	KIND_TRUST,
	KIND_COUNCIL,
	KIND_PUBLIC_HEALTH,
	KIND_OTHER,
	N_KINDS
};

/* As stored (the CHECK in migration 0001), and as written in the file. */
const char *const organisations_kinds[ORGANISATIONS_N_KINDS] = {
    "practice", "pcn",   "locality", "federation",    "lmc",
    "icb",      "trust", "council",  "public-health", "other"};
_Static_assert(N_KINDS == ORGANISATIONS_N_KINDS, "one name per kind");

/* As said in a message, without and with an article. */
static const char *const kind_plain[N_KINDS] = {
    "practice", "PCN",   "locality", "federation",         "LMC",
    "ICB",      "trust", "council",  "public health body", "organisation"};
static const char *const kind_words[N_KINDS] = {
    "a practice", "a PCN",   "a locality", "a federation",         "an LMC",
    "an ICB",     "a trust", "a council",  "a public health body", "an organisation of kind other"};

/* One organisation: from the file, from the database, or both. */
struct org {
	char *code;         /* ODS code, upper-case */
	unsigned long line; /* its line in the file; 0 when only the database has it */
	char *name;         /* the file's name, or the database's */
	int kind;           /* enum org_kind */
	int64_t list_size;  /* -1 for none */
	char *parent_code;  /* the file's parent, upper-case; NULL for none (or a bad one) */
	size_t parent;      /* index of the parent in the merged picture, or NONE */
	bool in_db;         /* the database has it already */
	int64_t id;         /* its id in the database (after writing, for new ones) */
	char *db_name;      /* what the database holds, to tell updated from unchanged */
	int db_kind;        /* enum org_kind */
	int64_t db_list_size;
	char *db_parent_code;
	size_t db_parent;
	size_t bad_children; /* database-only children this file's change of kind would strand */
	size_t first_bad_child;
	int mark; /* loop search: 0 not seen, 1 on the current path, 2 done */
	bool written;
	enum { OUTCOME_NONE, OUTCOME_UNCHANGED, OUTCOME_ADDED, OUTCOME_UPDATED } outcome;
};

struct import {
	struct org *orgs;
	size_t n, alloc;
	size_t *index; /* open addressing over orgs by code; NONE marks an empty slot */
	size_t index_size;
	struct import_report *report;      /* a file's problems and counts */
	struct organisations_errors *form; /* a form's problems, by field; NULL for a file */
};

/* ---- small helpers ---- */

static bool is_alnum(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

static char to_upper(char c)
{
	return c >= 'a' && c <= 'z' ? (char)(c - 'a' + 'A') : c;
}

static char to_lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

static bool equal_ignoring_case(const char *a, const char *b)
{
	for (; *a && *b; a++, b++)
		if (to_lower(*a) != to_lower(*b))
			return false;
	return *a == *b;
}

/* A copy of s (NULL counts as empty) without the spaces and tabs around it (spreadsheets and
 * hands add them). */
static char *trimmed(const char *s)
{
	if (!s)
		s = "";
	while (*s == ' ' || *s == '\t')
		s++;
	size_t n = strlen(s);
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		n--;
	return xstrndup(s, n);
}

/* ODS codes, and the codes the collective assigns where there is none: letters, digits and
 * hyphens, starting with a letter or digit (a leading '-' would read as a formula). */
bool organisations_code_valid(const char *s)
{
	size_t n = strlen(s);
	if (n < 2 || n > ORGANISATIONS_CODE_BYTES || !is_alnum(s[0]))
		return false;
	for (size_t i = 0; i < n; i++)
		if (!is_alnum(s[i]) && s[i] != '-')
			return false;
	return true;
}

static void upper_case(char *s)
{
	for (; *s; s++)
		*s = to_upper(*s);
}

/* Writes s into out for a message: at most about 40 bytes (cut between UTF-8 characters), with
 * control characters shown as '?' so that a file cannot drive the terminal. */
static const char *shown(char out[64], const char *s)
{
	size_t o = 0, i = 0;
	for (; s[i] && o < 40; i++)
		out[o++] = (unsigned char)s[i] < 0x20 || s[i] == 0x7F ? '?' : s[i];
	if (s[i]) {
		while (o && ((unsigned char)out[o - 1] & 0xC0) == 0x80)
			o--; /* drop a partial character's continuation bytes */
		if (o && (unsigned char)out[o - 1] >= 0xC0)
			o--; /* and its first byte */
		memcpy(out + o, "...", 3);
		o += 3;
	}
	out[o] = '\0';
	return out;
}

static int kind_from_name(const char *s)
{
	for (int k = 0; k < N_KINDS; k++)
		if (equal_ignoring_case(s, organisations_kinds[k]))
			return k;
	return KIND_UNKNOWN;
}

int organisations_kind_index(const char *s)
{
	return s ? kind_from_name(s) : KIND_UNKNOWN;
}

/*
 * Records a problem found on line: in the report for a file, or as the message
 * of field for a form (the first one found for each field, with a capital
 * letter). Every rule reports through here.
 */
static void problem(struct import *im, unsigned long line, enum organisations_field field,
                    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static void problem(struct import *im, unsigned long line, enum organisations_field field,
                    const char *fmt, ...)
{
	char text[LIMIT_IMPORT_MESSAGE_BYTES];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(text, sizeof text, fmt, ap);
	va_end(ap);
	if (!im->form) {
		import_report_add(im->report, line, "%s", text);
		return;
	}
	char *m = im->form->message[field];
	if (*m)
		return;
	snprintf(m, sizeof im->form->message[field], "%s", text);
	m[0] = to_upper(m[0]);
	im->form->n++;
}

/* ---- the index by ODS code ---- */

static uint64_t hash_code(const char *s)
{
	uint64_t h = 1469598103934665603u; /* FNV-1a */
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211u;
	return h;
}

static size_t find_org(const struct import *im, const char *code)
{
	if (!im->index_size)
		return NONE;
	size_t mask = im->index_size - 1;
	for (size_t h = (size_t)hash_code(code) & mask;; h = (h + 1) & mask) {
		size_t k = im->index[h];
		if (k == NONE || !strcmp(im->orgs[k].code, code))
			return k;
	}
}

static void index_put(struct import *im, size_t k)
{
	size_t mask = im->index_size - 1;
	size_t h = (size_t)hash_code(im->orgs[k].code) & mask;
	while (im->index[h] != NONE)
		h = (h + 1) & mask;
	im->index[h] = k;
}

/* Adds an organisation (taking ownership of code, which must not be there yet); returns its
 * index. Pointers into im->orgs do not survive this call. */
static size_t add_org(struct import *im, char *code)
{
	if (im->n == im->alloc) {
		im->alloc = im->alloc ? im->alloc * 2 : 64;
		im->orgs = xrealloc(im->orgs, im->alloc * sizeof *im->orgs);
	}
	if ((im->n + 1) * 2 > im->index_size) {
		free(im->index);
		im->index_size = im->index_size ? im->index_size * 2 : 128;
		im->index = xmalloc(im->index_size * sizeof *im->index);
		for (size_t i = 0; i < im->index_size; i++)
			im->index[i] = NONE;
		for (size_t i = 0; i < im->n; i++)
			index_put(im, i);
	}
	size_t k = im->n++;
	memset(&im->orgs[k], 0, sizeof im->orgs[k]);
	struct org *o = &im->orgs[k];
	o->code = code;
	o->kind = o->db_kind = KIND_UNKNOWN;
	o->list_size = o->db_list_size = -1;
	o->parent = o->db_parent = NONE;
	index_put(im, k);
	return k;
}

static void import_free(struct import *im)
{
	for (size_t i = 0; i < im->n; i++) {
		struct org *o = &im->orgs[i];
		free(o->code);
		free(o->name);
		free(o->parent_code);
		free(o->db_name);
		free(o->db_parent_code);
	}
	free(im->orgs);
	free(im->index);
}

/* ---- step 1: the file (or the form) ---- */

/* Checks the header line; returns 0 when it is exactly the expected columns. */
static int check_header(struct import *im, const struct csv_record *rec)
{
	char a[64];
	bool all_match = rec->n_fields == N_COLUMNS, any_column_name = false;
	char *fields[LIMIT_CSV_FIELDS] = {0};
	for (size_t i = 0; i < rec->n_fields; i++) {
		fields[i] = trimmed(rec->fields[i]);
		bool match = i < N_COLUMNS && equal_ignoring_case(fields[i], column_names[i]);
		all_match = all_match && match;
		for (int c = 0; c < N_COLUMNS; c++)
			any_column_name =
			    any_column_name || equal_ignoring_case(fields[i], column_names[c]);
	}
	if (all_match)
		goto done;
	if (!any_column_name && rec->n_fields && organisations_code_valid(fields[0])) {
		import_report_add(im->report, rec->line,
		                  "the header line is missing: the first line must be "
		                  "\"" ORGANISATIONS_CSV_HEADER "\"");
	} else if (rec->n_fields != N_COLUMNS) {
		import_report_add(im->report, rec->line,
		                  "the header has %zu column%s; it must be exactly "
		                  "\"" ORGANISATIONS_CSV_HEADER "\"",
		                  rec->n_fields, rec->n_fields == 1 ? "" : "s");
	} else {
		for (size_t i = 0; i < N_COLUMNS; i++)
			if (!equal_ignoring_case(fields[i], column_names[i]))
				import_report_add(
				    im->report, rec->line,
				    "column %zu of the header is \"%s\"; it must be \"%s\" "
				    "(the header is \"" ORGANISATIONS_CSV_HEADER "\")",
				    i + 1, shown(a, fields[i]), column_names[i]);
	}
done:
	for (size_t i = 0; i < rec->n_fields; i++)
		free(fields[i]);
	return all_match ? 0 : -1;
}

/* Checks the list size given for an organisation of this kind; returns it, or -1 for none. */
static int64_t check_list_size(struct import *im, unsigned long line, const char *s, int kind)
{
	const enum organisations_field f = ORGANISATIONS_FIELD_LIST_SIZE;
	char a[64], limit[32];
	if (!*s) {
		if (kind == KIND_PRACTICE)
			problem(im, line, f, "%s",
			        im->form ? "enter the practice's list size (its number of "
			                   "registered patients)"
			                 : "a practice needs a list size (its number of registered "
			                   "patients)");
		return -1;
	}
	/* A PCN's or locality's list is the sum of its practices'; storing another figure would
	 * let the two disagree. */
	if (kind != KIND_PRACTICE && kind != KIND_UNKNOWN) {
		problem(im, line, f, "only practices have a list size: leave it empty for %s",
		        kind_words[kind]);
		return -1;
	}
	size_t digits = strspn(s, "0123456789");
	if (s[0] == '-' && s[1] && strspn(s + 1, "0123456789") == strlen(s + 1)) {
		problem(im, line, f, "the list size cannot be negative (%s)", shown(a, s));
		return -1;
	}
	if (s[digits]) {
		problem(im, line, f,
		        "list size \"%s\" must be a whole number of patients, such as 8930 "
		        "(no commas or decimal point)",
		        shown(a, s));
		return -1;
	}
	/* Stops as soon as the cap is passed, so a long run of digits cannot overflow. */
	int64_t v = 0;
	for (size_t i = 0; i < digits && v <= LIMIT_LIST_SIZE; i++)
		v = v * 10 + (s[i] - '0');
	if (v > LIMIT_LIST_SIZE) {
		problem(im, line, f, "list size %s is more than %s patients: check it", shown(a, s),
		        format_thousands(limit, LIMIT_LIST_SIZE));
		return -1;
	}
	if (v == 0) {
		problem(im, line, f, "the list size must be at least 1");
		return -1;
	}
	return v;
}

/*
 * Checks one organisation's fields (a line of a file, or a form) and adds it to
 * the picture; returns its index there, or NONE when its code is unusable.
 * quiet: the line's problems are already reported (bad UTF-8, a wrong number of
 * fields), so only its ODS code is taken, if usable, so that lines naming it as
 * their parent are not reported as well.
 */
static size_t check_fields(struct import *im, unsigned long line,
                           const struct organisations_input *in, bool quiet)
{
	char a[64];
	char *code = NULL, *name = NULL, *kind_text = NULL, *parent = NULL, *list_size = NULL;
	code = trimmed(in->ods_code);
	bool code_ok = organisations_code_valid(code);
	upper_case(code);
	if (!code_ok && !quiet) {
		if (!*code)
			problem(im, line, ORGANISATIONS_FIELD_CODE, "%s",
			        im->form ? "enter the ODS code, such as C84001"
			                 : "the ODS code is empty");
		else
			problem(
			    im, line, ORGANISATIONS_FIELD_CODE,
			    "ODS code \"%s\" must be 2 to 12 letters, digits or hyphens, starting "
			    "with a letter or digit",
			    shown(a, code));
	}
	size_t dup = code_ok ? find_org(im, code) : NONE;
	if (dup != NONE && !quiet)
		problem(im, line, ORGANISATIONS_FIELD_CODE, "ODS code %s is also on line %lu",
		        shown(a, code), im->orgs[dup].line);
	size_t k = NONE;
	if (code_ok && dup == NONE) {
		k = add_org(im, code);
		im->orgs[k].line = line;
		code = NULL; /* the picture owns it now */
	} else if (im->form && !quiet) {
		/* A form with a bad code still has its other fields checked against the database:
		 * "?" is no ODS code, so it can be no one's parent. */
		k = add_org(im, xstrdup("?"));
		im->orgs[k].line = line;
	}
	if (quiet)
		goto done;

	const enum organisations_field fname = ORGANISATIONS_FIELD_NAME;
	name = trimmed(in->name);
	size_t name_len = strlen(name);
	if (!name_len)
		problem(im, line, fname, "%s",
		        im->form ? "enter the organisation's name" : "the name is empty");
	else if (name_len > LIMIT_NAME_BYTES)
		problem(im, line, fname, "the name is %zu bytes long; the most is %d (\"%s\")",
		        name_len, LIMIT_NAME_BYTES, shown(a, name));
	for (const char *p = name; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7F) {
			problem(im, line, fname,
			        "the name contains a line break or another control character");
			break;
		}

	kind_text = trimmed(in->kind);
	int kind = kind_from_name(kind_text);
	if (kind == KIND_UNKNOWN && im->form)
		problem(im, line, ORGANISATIONS_FIELD_KIND, "select the kind of organisation");
	else if (kind == KIND_UNKNOWN)
		problem(im, line, ORGANISATIONS_FIELD_KIND,
		        "%s%s%s is not a kind of organisation; the kinds are practice, pcn, "
		        "locality, federation, lmc, icb, trust, council, public-health and "
		        "other",
		        *kind_text ? "kind \"" : "the kind is empty, which",
		        *kind_text ? shown(a, kind_text) : "", *kind_text ? "\"" : "");

	const enum organisations_field fparent = ORGANISATIONS_FIELD_PARENT;
	parent = trimmed(in->parent_ods_code);
	upper_case(parent);
	if (*parent && !organisations_code_valid(parent)) {
		problem(im, line, fparent,
		        "parent ODS code \"%s\" must be 2 to 12 letters, digits or hyphens, "
		        "starting with a letter or digit",
		        shown(a, parent));
		free(parent);
		parent = NULL;
	} else if (*parent && code_ok && !strcmp(parent, k != NONE ? im->orgs[k].code : code)) {
		problem(im, line, fparent, "%s cannot be its own parent%s", shown(a, parent),
		        im->form ? ": enter another code, or leave it empty" : "");
		free(parent);
		parent = NULL;
	} else if (!*parent) {
		free(parent);
		parent = NULL;
	}

	list_size = trimmed(in->list_size);
	int64_t size = check_list_size(im, line, list_size, kind);

	if (k != NONE) {
		struct org *o = &im->orgs[k];
		o->name = name;
		o->kind = kind;
		o->parent_code = parent;
		o->list_size = size;
		name = parent = NULL;
	}
done:
	free(code);
	free(name);
	free(kind_text);
	free(parent);
	free(list_size);
	return k;
}

/* Checks one data line of a file and adds it to the picture. quiet: as check_fields. */
static void check_row(struct import *im, const struct csv_record *rec, bool quiet)
{
	if (rec->n_fields != N_COLUMNS && !quiet)
		import_report_add(
		    im->report, rec->line,
		    "the line has %zu field%s; it must have %d "
		    "(" ORGANISATIONS_CSV_HEADER ")%s",
		    rec->n_fields, rec->n_fields == 1 ? "" : "s", N_COLUMNS,
		    rec->n_fields > N_COLUMNS ? ": a name with a comma must be in quotes" : "");
	/* A line of the wrong length cannot be trusted: take the code, if any, and stop. */
	quiet = quiet || rec->n_fields != N_COLUMNS;
	struct organisations_input in = {.ods_code = rec->fields[0]};
	if (!quiet)
		in = (struct organisations_input){rec->fields[0], rec->fields[1], rec->fields[2],
		                                  rec->fields[3], rec->fields[4]};
	check_fields(im, rec->line, &in, quiet);
}

/* Whether every field of a record is empty or blank (a spreadsheet's cleared row). */
static bool blank_record(const struct csv_record *rec)
{
	for (size_t i = 0; i < rec->n_fields; i++)
		if (rec->fields[i][strspn(rec->fields[i], " \t")])
			return false;
	return true;
}

/* Step 1. Returns 0 when the lines could be read (problems may still have been found), or -1
 * when the file cannot be checked further (no usable header, a quote never closed, too long). */
static int read_file(struct import *im, const char *data, size_t len)
{
	struct csv_reader r;
	struct csv_record rec;
	char limit[32];
	int result = -1;
	csv_reader_init(&r, data, len, LIMIT_CSV_FIELDS, LIMIT_CSV_FIELD_BYTES);
	int rc = csv_next(&r, &rec);
	if (rc == CSV_END) {
		import_report_add(im->report, 1,
		                  "the file is empty: its first line must be the header "
		                  "\"" ORGANISATIONS_CSV_HEADER "\"");
		goto fail;
	}
	if (rc < 0) {
		import_report_add(im->report, r.error_line, "%s", r.error);
		goto fail;
	}
	if (check_header(im, &rec))
		goto fail;
	size_t rows = 0;
	while ((rc = csv_next(&r, &rec)) != CSV_END) {
		if (rc < 0)
			import_report_add(im->report, r.error_line, "%s", r.error);
		if (rc == CSV_ERR_UNTERMINATED_QUOTE)
			goto fail;
		if (rc < 0 && rc != CSV_ERR_UTF8 && rc != CSV_ERR_NUL)
			continue;
		if (blank_record(&rec))
			continue;
		if (++rows > LIMIT_IMPORT_ROWS) {
			import_report_add(im->report, rec.line,
			                  "the file has more than %s organisations: split it into "
			                  "smaller files",
			                  format_thousands(limit, LIMIT_IMPORT_ROWS));
			goto fail;
		}
		check_row(im, &rec, rc < 0);
	}
	result = 0;
fail:
	csv_reader_free(&r);
	return result;
}

/* ---- step 2: the file laid over the database ---- */

static int load_database(struct import *im, struct db_conn *c)
{
	struct db_stmt *st =
	    db_prepare(c, "SELECT o.id, o.ods_code, o.name, o.kind, o.list_size, p.ods_code "
	                  "FROM organisations o LEFT JOIN organisations p ON p.id = o.parent_id "
	                  "ORDER BY o.id"); /* the same messages on every engine */
	if (!st)
		return DB_ERR;
	int rc;
	while ((rc = db_step(st)) == DB_ROW) {
		const char *code = db_col_text(st, 1);
		size_t k = find_org(im, code);
		if (k == NONE) {
			k = add_org(im, xstrdup(code));
			struct org *o = &im->orgs[k];
			o->name = xstrdup(db_col_text(st, 2));
			o->kind = kind_from_name(db_col_text(st, 3));
			o->list_size = db_col_is_null(st, 4) ? -1 : db_col_int(st, 4);
		}
		struct org *o = &im->orgs[k];
		o->in_db = true;
		o->id = db_col_int(st, 0);
		o->db_name = xstrdup(db_col_text(st, 2));
		o->db_kind = kind_from_name(db_col_text(st, 3));
		o->db_list_size = db_col_is_null(st, 4) ? -1 : db_col_int(st, 4);
		o->db_parent_code = db_col_is_null(st, 5) ? NULL : xstrdup(db_col_text(st, 5));
	}
	db_reset(st);
	if (rc != DB_DONE)
		return DB_ERR;
	for (size_t i = 0; i < im->n; i++) {
		struct org *o = &im->orgs[i];
		if (o->db_parent_code)
			o->db_parent = find_org(im, o->db_parent_code);
		if (!o->line)
			o->parent = o->db_parent; /* the file does not move it */
	}
	return DB_OK;
}

/* Whether an organisation of kind child may sit under one of kind parent: practice → PCN →
 * locality, and nothing else under a practice or a PCN. Unknown kinds pass (already reported). */
static bool parent_allowed(int child, int parent)
{
	if (child == KIND_UNKNOWN || parent == KIND_UNKNOWN)
		return true;
	if (child == KIND_PRACTICE)
		return parent == KIND_PCN;
	if (child == KIND_PCN)
		return parent == KIND_LOCALITY;
	return parent != KIND_PRACTICE && parent != KIND_PCN;
}

/* What an organisation of kind child may have as its parent, for a message. */
static const char *allowed_parent_words(int child)
{
	if (child == KIND_PRACTICE)
		return "must be a PCN";
	if (child == KIND_PCN)
		return "must be a locality";
	return "cannot be a practice or a PCN";
}

static void check_parents(struct import *im)
{
	char a[64], b[64];
	const enum organisations_field fparent = ORGANISATIONS_FIELD_PARENT;
	for (size_t i = 0; i < im->n; i++) {
		struct org *o = &im->orgs[i];
		if (!o->line || !o->parent_code)
			continue;
		size_t p = find_org(im, o->parent_code);
		if (p == NONE) {
			if (im->form)
				problem(
				    im, o->line, fparent,
				    "there is no organisation with ODS code %s: check the code, or "
				    "add that organisation first",
				    shown(a, o->parent_code));
			else
				problem(im, o->line, fparent,
				        "parent %s is not in this file or in the database",
				        shown(a, o->parent_code));
			continue;
		}
		o->parent = p;
		if (!parent_allowed(o->kind, im->orgs[p].kind))
			problem(im, o->line, fparent, "the parent of %s %s, but %s is %s",
			        kind_words[o->kind], allowed_parent_words(o->kind),
			        shown(a, o->parent_code), kind_words[im->orgs[p].kind]);
	}
	/* An organisation the file leaves alone may still be stranded by a parent the file gives a
	 * new kind (a PCN turned into a locality while practices still sit under it). */
	for (size_t i = 0; i < im->n; i++) {
		struct org *o = &im->orgs[i];
		if (o->line || o->parent == NONE)
			continue;
		struct org *p = &im->orgs[o->parent];
		if (p->line && !parent_allowed(o->kind, p->kind) && !p->bad_children++)
			p->first_bad_child = i;
	}
	for (size_t i = 0; i < im->n; i++) {
		struct org *p = &im->orgs[i];
		if (!p->bad_children)
			continue;
		const struct org *child = &im->orgs[p->first_bad_child];
		size_t others = p->bad_children - 1;
		char more[64] = "";
		if (others)
			snprintf(more, sizeof more, " and %zu other%s", others,
			         others == 1 ? "" : "s");
		if (im->form)
			problem(im, p->line, ORGANISATIONS_FIELD_KIND,
			        "%s cannot become %s while %s %s%s %s under it: move %s first, or "
			        "keep the kind",
			        shown(a, p->code), kind_words[p->kind], kind_plain[child->kind],
			        shown(b, child->code), more, others ? "sit" : "sits",
			        others ? "them" : "it");
		else
			problem(im, p->line, ORGANISATIONS_FIELD_KIND,
			        "%s cannot become %s: %s %s%s %s under it in the database but %s "
			        "not in this file (move %s in this file too)",
			        shown(a, p->code), kind_words[p->kind], kind_plain[child->kind],
			        shown(b, child->code), more, others ? "sit" : "sits",
			        others ? "are" : "is", others ? "them" : "it");
	}
}

/* Reports every loop in the parent links, once, on the earliest file line in it. */
static void check_loops(struct import *im)
{
	size_t *path = xmalloc((im->n ? im->n : 1) * sizeof *path);
	struct buf text;
	char a[64];
	buf_init(&text, LIMIT_IMPORT_MESSAGE_BYTES - 1);
	for (size_t i = 0; i < im->n; i++) {
		size_t len = 0, j = i;
		while (j != NONE && im->orgs[j].mark == 0) {
			im->orgs[j].mark = 1;
			path[len++] = j;
			j = im->orgs[j].parent;
		}
		if (j != NONE && im->orgs[j].mark == 1) {
			size_t start = 0;
			while (path[start] != j)
				start++;
			unsigned long line = 0;
			buf_clear(&text);
			for (size_t k = start; k < len; k++) {
				const struct org *o = &im->orgs[path[k]];
				if (o->line && (!line || o->line < line))
					line = o->line;
				buf_printf(&text, "%s -> ", shown(a, o->code));
			}
			buf_puts(&text, shown(a, im->orgs[j].code));
			if (im->form)
				problem(
				    im, line, ORGANISATIONS_FIELD_PARENT,
				    "that parent would make the parents go round in a loop (%s%s): "
				    "choose another parent",
				    text.data, text.overflow ? " ..." : "");
			else
				problem(im, line, ORGANISATIONS_FIELD_PARENT,
				        "the parents go round in a loop: %s%s", text.data,
				        text.overflow ? " ..." : "");
		}
		for (size_t k = 0; k < len; k++)
			im->orgs[path[k]].mark = 2;
	}
	buf_free(&text);
	free(path);
}

/* ---- step 3: writing ---- */

static int write_one(struct import *im, struct db_conn *c, size_t k, int64_t now)
{
	struct org *o = &im->orgs[k];
	o->written = true;
	if (o->in_db && !strcmp(o->name, o->db_name) && o->kind == o->db_kind &&
	    o->list_size == o->db_list_size && o->parent == o->db_parent) {
		o->outcome = OUTCOME_UNCHANGED;
		im->report->unchanged++;
		return DB_OK;
	}
	struct db_stmt *st =
	    db_prepare(c, "INSERT INTO organisations (ods_code, name, kind, parent_id, list_size, "
	                  "created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $6) "
	                  "ON CONFLICT (ods_code) DO UPDATE SET name = excluded.name, "
	                  "kind = excluded.kind, parent_id = excluded.parent_id, "
	                  "list_size = excluded.list_size, updated_at = excluded.updated_at "
	                  "RETURNING id");
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, o->code);
	db_bind_text(st, 2, o->name);
	db_bind_text(st, 3, organisations_kinds[o->kind]);
	if (o->parent != NONE)
		db_bind_int(st, 4, im->orgs[o->parent].id);
	else
		db_bind_null(st, 4);
	if (o->list_size >= 0)
		db_bind_int(st, 5, o->list_size);
	else
		db_bind_null(st, 5);
	db_bind_int(st, 6, now);
	int rc = db_step(st);
	if (rc == DB_ROW)
		o->id = db_col_int(st, 0);
	db_reset(st);
	if (rc != DB_ROW)
		return rc < 0 ? rc : DB_ERR;
	if (o->in_db) {
		o->outcome = OUTCOME_UPDATED;
		im->report->updated++;
	} else {
		o->outcome = OUTCOME_ADDED;
		im->report->added++;
	}
	return DB_OK;
}

/* Writes every file row, each after its parent, so that the parent's id is known. */
static int write_all(struct import *im, struct db_conn *c)
{
	int64_t now = (int64_t)time(NULL);
	size_t *chain = xmalloc((im->n ? im->n : 1) * sizeof *chain);
	int rc = DB_OK;
	for (size_t i = 0; i < im->n && rc == DB_OK; i++) {
		size_t len = 0;
		/* No loops (checked), so this climb ends. */
		for (size_t j = i; j != NONE && im->orgs[j].line && !im->orgs[j].written;
		     j = im->orgs[j].parent)
			chain[len++] = j;
		while (len && rc == DB_OK)
			rc = write_one(im, c, chain[--len], now);
	}
	free(chain);
	return rc;
}

/* ---- what changed, for the audit trail and the page ---- */

static const char *code_or_none(const struct import *im, size_t k)
{
	return k == NONE ? "(none)" : im->orgs[k].code;
}

static void describe_size(struct buf *out, int64_t size)
{
	if (size < 0)
		buf_puts(out, "(none)");
	else
		buf_printf(out, "%lld", (long long)size);
}

/* Writes what happened to organisation k, which was written: for an addition what it is, for an
 * update each field that changed, before -> after. */
static void describe_change(const struct import *im, size_t k, struct buf *out)
{
	const struct org *o = &im->orgs[k];
	if (o->outcome == OUTCOME_ADDED) {
		buf_printf(out, "name: \"%s\"; kind: %s; parent: %s; list size: ", o->name,
		           organisations_kinds[o->kind], code_or_none(im, o->parent));
		describe_size(out, o->list_size);
		return;
	}
	const char *sep = "";
	if (strcmp(o->name, o->db_name)) {
		buf_printf(out, "name: \"%s\" -> \"%s\"", o->db_name, o->name);
		sep = "; ";
	}
	if (o->kind != o->db_kind) {
		buf_printf(out, "%skind: %s -> %s", sep,
		           o->db_kind == KIND_UNKNOWN ? "(unknown)"
		                                      : organisations_kinds[o->db_kind],
		           organisations_kinds[o->kind]);
		sep = "; ";
	}
	if (o->parent != o->db_parent) {
		buf_printf(out, "%sparent: %s -> %s", sep, code_or_none(im, o->db_parent),
		           code_or_none(im, o->parent));
		sep = "; ";
	}
	if (o->list_size != o->db_list_size) {
		buf_printf(out, "%slist size: ", sep);
		describe_size(out, o->db_list_size);
		buf_puts(out, " -> ");
		describe_size(out, o->list_size);
	}
}

/* Adds the import to the audit trail, in its transaction, when it changed anything: the counts,
 * then each change in the order of the file (up to IMPORT_AUDIT_DETAIL_BYTES). Also fills
 * changes, when wanted. */
static int record_import(struct import *im, struct db_conn *c,
                         const struct organisations_actor *actor,
                         struct organisations_changes *changes)
{
	const struct import_report *report = im->report;
	if (!report->added && !report->updated)
		return DB_OK;
	struct buf detail, line;
	size_t left_out = 0;
	buf_init(&detail, IMPORT_AUDIT_DETAIL_BYTES);
	buf_init(&line, 4 * LIMIT_NAME_BYTES + 256);
	buf_printf(&detail, "%zu added, %zu updated, %zu unchanged, from a CSV file", report->added,
	           report->updated, report->unchanged);
	if (changes)
		changes->items = xcalloc(report->added + report->updated, sizeof *changes->items);
	for (size_t i = 0; i < im->n; i++) {
		const struct org *o = &im->orgs[i];
		if (o->outcome != OUTCOME_ADDED && o->outcome != OUTCOME_UPDATED)
			continue;
		buf_clear(&line);
		describe_change(im, i, &line);
		/* Whole lines only, with room kept for the count of those left out. */
		if (!left_out && detail.len + line.len + 64 <= IMPORT_AUDIT_DETAIL_BYTES)
			buf_printf(&detail, "\n%s %s: %s",
			           o->outcome == OUTCOME_ADDED ? "added" : "updated", o->code,
			           line.data);
		else
			left_out++;
		if (changes) {
			struct organisations_change *ch = &changes->items[changes->n++];
			snprintf(ch->ods_code, sizeof ch->ods_code, "%s", o->code);
			ch->name = xstrdup(o->name);
			ch->added = o->outcome == OUTCOME_ADDED;
			ch->detail = xstrdup(line.data);
		}
	}
	if (left_out)
		buf_printf(&detail, "\nand %zu more change%s", left_out, left_out == 1 ? "" : "s");
	struct audit_entry e = {actor->person_id, actor->name, "organisations-imported",
	                        "organisations",  detail.data, actor->address};
	int rc = audit_record(c, &e);
	buf_free(&line);
	buf_free(&detail);
	return rc;
}

void organisations_changes_free(struct organisations_changes *changes)
{
	for (size_t i = 0; i < changes->n; i++) {
		free(changes->items[i].name);
		free(changes->items[i].detail);
	}
	free(changes->items);
	changes->items = NULL;
	changes->n = 0;
}

/* Starts the transaction in which a file or form is checked and written. */
static int begin_checked_write(struct db_conn *c)
{
	/* Check against the same state that will be written to: on SQLite BEGIN IMMEDIATE holds
	 * the write lock from here; on PostgreSQL an advisory lock keeps other imports and
	 * saves out. */
	if (db_begin(c))
		return DB_ERR;
	if (db_conn_kind(c) == DB_POSTGRES && db_exec(c, IMPORT_LOCK_SQL))
		return DB_ERR;
	return DB_OK;
}

int organisations_import(struct db *db, const char *data, size_t len,
                         const struct organisations_actor *actor, struct import_report *report,
                         struct organisations_changes *changes)
{
	struct import im = {.report = report};
	struct db_conn *c = NULL;
	int rc = IMPORT_INVALID;
	import_report_init(report);
	if (changes)
		*changes = (struct organisations_changes){0};
	if (len > LIMIT_IMPORT_BYTES) {
		import_report_add(report, 0,
		                  "the file is larger than %u MB: split it into smaller files",
		                  LIMIT_IMPORT_BYTES >> 20);
		goto fail;
	}
	if (read_file(&im, data, len))
		goto fail;
	c = db_acquire(db);
	if (!c)
		goto fail_db;
	if (begin_checked_write(c) || load_database(&im, c))
		goto fail_db;
	check_parents(&im);
	check_loops(&im);
	if (report->n_problems) {
		db_rollback(c);
		goto fail;
	}
	if (write_all(&im, c) || record_import(&im, c, actor, changes) || db_commit(c))
		goto fail_db;
	db_release(c);
	import_free(&im);
	return IMPORT_OK;
fail_db:
	import_report_add(report, 0, "the database refused the import: %s",
	                  c ? db_errmsg(c) : "it cannot be reached");
	report->added = report->updated = report->unchanged = 0;
	if (changes)
		organisations_changes_free(changes);
	rc = IMPORT_DB_ERROR;
	if (c && db_in_transaction(c))
		db_rollback(c);
fail:
	if (c)
		db_release(c);
	import_free(&im);
	import_report_sort(report);
	return rc;
}

/* Adds one form's change to the audit trail: the organisation and its fields before -> after. */
static int record_save(struct import *im, struct db_conn *c, size_t k,
                       const struct organisations_actor *actor)
{
	const struct org *o = &im->orgs[k];
	char subject[48];
	struct buf detail;
	buf_init(&detail, 4 * LIMIT_NAME_BYTES + 256);
	snprintf(subject, sizeof subject, "organisation:%lld", (long long)o->id);
	buf_printf(&detail, "%s: ", o->code);
	describe_change(im, k, &detail);
	struct audit_entry e = {actor->person_id,
	                        actor->name,
	                        o->outcome == OUTCOME_ADDED ? "organisation-added"
	                                                    : "organisation-updated",
	                        subject,
	                        detail.data,
	                        actor->address};
	int rc = audit_record(c, &e);
	buf_free(&detail);
	return rc;
}

int organisations_save(struct db *db, const struct organisations_input *in, bool adding,
                       const struct organisations_actor *actor, struct organisations_errors *errors,
                       bool *changed, int64_t *id)
{
	/* Only the report's counts are used: problems go to errors. */
	struct import im = {.report = xcalloc(1, sizeof *im.report), .form = errors};
	struct db_conn *c = NULL;
	char a[64], b[64];
	int rc = ORGANISATIONS_INVALID;
	memset(errors, 0, sizeof *errors);
	*changed = false;
	*id = 0;
	if (!adding) {
		/* The code comes from the address, not from a field: one that cannot be an ODS
		 * code names no organisation. */
		char *code = trimmed(in->ods_code);
		bool valid = organisations_code_valid(code);
		free(code);
		if (!valid) {
			free(im.report);
			return ORGANISATIONS_NOT_FOUND;
		}
	}
	size_t k = check_fields(&im, 1, in, false);
	c = db_acquire(db);
	if (!c || begin_checked_write(c) || load_database(&im, c))
		goto fail_db;
	struct org *o = &im.orgs[k];
	if (!adding && !o->in_db) {
		rc = ORGANISATIONS_NOT_FOUND;
		goto fail;
	}
	if (adding && o->in_db)
		problem(&im, 1, ORGANISATIONS_FIELD_CODE,
		        "ODS code %s is already used by %s: change that organisation instead",
		        shown(a, o->code), shown(b, o->db_name));
	check_parents(&im);
	check_loops(&im);
	if (errors->n)
		goto fail;
	if (write_all(&im, c))
		goto fail_db;
	o = &im.orgs[k];
	*changed = o->outcome != OUTCOME_UNCHANGED;
	*id = o->id;
	if ((*changed && record_save(&im, c, k, actor)) || db_commit(c))
		goto fail_db;
	db_release(c);
	import_free(&im);
	free(im.report);
	return ORGANISATIONS_SAVED;
fail_db:
	log_error("cannot save organisation %s: %s", in->ods_code ? in->ods_code : "",
	          c ? db_errmsg(c) : "the database cannot be reached");
	rc = ORGANISATIONS_DB_ERROR;
	*changed = false;
	*id = 0;
fail:
	if (c && db_in_transaction(c))
		db_rollback(c);
	if (c)
		db_release(c);
	import_free(&im);
	free(im.report);
	return rc;
}
