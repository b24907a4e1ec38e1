/*
 * test_organisations.c — importing organisations from CSV, on the database
 * SHOAL_TEST_DB names (a fresh, empty database; without it a temporary SQLite
 * file): a good import, re-imports that update in place, and every kind of bad
 * file, each reported on the right lines with nothing written (not even to the
 * audit trail, which records every import that changed something).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "app/organisations/organisations.h"
#include "core/buf.h"
#include "core/limits.h"
#include "db/db.h"
#include "db/migrate.h"

#define HEADER ORGANISATIONS_CSV_HEADER "\n"

static struct db *db;
static struct import_report *report;
static const struct organisations_actor system_actor = {0, "system", NULL};

/* A small collective: 12 organisations, every kind, parents after children on purpose
 * (the import must write parents first whatever the order of the file). */
static const char good[] = HEADER "Z80001,Riverside Medical Centre,practice,U90001,14210\n"
                                  "Z80002,Bridge Street Surgery,practice,U90001,8930\n"
                                  "Z80003,Castlegate Surgery,practice,U90002,17880\n"
                                  "U90001,Riverside PCN,pcn,LOCZ1,\n"
                                  "U90002,Castlegate PCN,pcn,LOCZ2,\n"
                                  "LOCZ1,North Wyvern locality,locality,QZZ,\n"
                                  "LOCZ2,South Wyvern locality,locality,QZZ,\n"
                                  "QZZ,NHS Wyvern Vale ICB,icb,,\n"
                                  "FEDZ1,Wyvern GP Federation,federation,,\n"
                                  "LMCZ1,Wyvern LMC,lmc,,\n"
                                  "RZZ,Wyvern Vale Hospitals,trust,QZZ,\n"
                                  "PHZ01,Wyvern Public Health,public-health,LAZ01,\n"
                                  "LAZ01,Wyvern Vale Council,council,,\n";
#define GOOD_ROWS 13

static int setup(void **state)
{
	(void)state;
	char url[1024], err[512];
	const char *env = getenv("SHOAL_TEST_DB");
	if (env && *env) {
		snprintf(url, sizeof url, "%s", env);
	} else {
		char dir[] = "/tmp/shoal-test-org-XXXXXX";
		if (!mkdtemp(dir))
			return -1;
		snprintf(url, sizeof url, "sqlite:%s/test.db", dir);
	}
	if (db_open(url, 2, &db, err, sizeof err)) {
		fprintf(stderr, "%s\n", err);
		return -1;
	}
	int applied;
	if (migrate_apply(db, &applied, err, sizeof err)) {
		fprintf(stderr, "%s\n", err);
		return -1;
	}
	report = malloc(sizeof *report);
	return report ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	db_close(db);
	free(report);
	return 0;
}

/* Each test starts from an empty table. */
static int empty_table(void **state)
{
	(void)state;
	struct db_conn *c = db_acquire(db);
	int rc = db_exec(c, "UPDATE organisations SET parent_id = NULL; DELETE FROM organisations");
	db_release(c);
	return rc;
}

static int import(const char *csv)
{
	return organisations_import(db, csv, strlen(csv), &system_actor, report, NULL);
}

static int64_t count_sql(const char *sql)
{
	struct db_conn *c = db_acquire(db);
	struct db_stmt *st = db_prepare(c, sql);
	assert_non_null(st);
	assert_int_equal(db_step(st), DB_ROW);
	int64_t n = db_col_int(st, 0);
	db_reset(st);
	db_release(c);
	return n;
}

static int64_t count_rows(void)
{
	return count_sql("SELECT COUNT(*) FROM organisations");
}

static int64_t count_audit(void)
{
	return count_sql("SELECT COUNT(*) FROM audit_log WHERE action = 'organisations-imported'");
}

/* Everything the table holds, as one string, to show that a refused import changed nothing. */
static char *snapshot(void)
{
	struct buf out;
	buf_init(&out, 1 << 20);
	struct db_conn *c = db_acquire(db);
	struct db_stmt *st =
	    db_prepare(c, "SELECT o.id, o.ods_code, o.name, o.kind, COALESCE(p.ods_code, ''), "
	                  "COALESCE(o.list_size, -1), o.updated_at FROM organisations o "
	                  "LEFT JOIN organisations p ON p.id = o.parent_id ORDER BY o.ods_code");
	assert_non_null(st);
	while (db_step(st) == DB_ROW)
		buf_printf(&out, "%lld|%s|%s|%s|%s|%lld|%lld\n", (long long)db_col_int(st, 0),
		           db_col_text(st, 1), db_col_text(st, 2), db_col_text(st, 3),
		           db_col_text(st, 4), (long long)db_col_int(st, 5),
		           (long long)db_col_int(st, 6));
	db_reset(st);
	db_release(c);
	return buf_take(&out);
}

struct org_row {
	int64_t id, list_size; /* -1: NULL */
	char name[256], kind[32], parent[16];
};

/* Reads one organisation; returns 0, or -1 if there is none with that code. */
static int get_org(const char *code, struct org_row *out)
{
	struct db_conn *c = db_acquire(db);
	struct db_stmt *st = db_prepare(
	    c, "SELECT o.id, o.name, o.kind, COALESCE(p.ods_code, ''), COALESCE(o.list_size, -1) "
	       "FROM organisations o LEFT JOIN organisations p ON p.id = o.parent_id "
	       "WHERE o.ods_code = $1");
	assert_non_null(st);
	db_bind_text(st, 1, code);
	int rc = db_step(st) == DB_ROW ? 0 : -1;
	if (!rc) {
		out->id = db_col_int(st, 0);
		snprintf(out->name, sizeof out->name, "%s", db_col_text(st, 1));
		snprintf(out->kind, sizeof out->kind, "%s", db_col_text(st, 2));
		snprintf(out->parent, sizeof out->parent, "%s", db_col_text(st, 3));
		out->list_size = db_col_int(st, 4);
	}
	db_reset(st);
	db_release(c);
	return rc;
}

static void print_problems(void)
{
	for (size_t i = 0; i < report->n_kept; i++)
		fprintf(stderr, "  line %lu: %s\n", report->problems[i].line,
		        report->problems[i].message);
}

/* Asserts that a problem on line says words. */
static void assert_problem(unsigned long line, const char *words)
{
	for (size_t i = 0; i < report->n_kept; i++)
		if (report->problems[i].line == line && strstr(report->problems[i].message, words))
			return;
	fprintf(stderr, "no problem on line %lu saying \"%s\"; the problems were:\n", line, words);
	print_problems();
	fail();
}

/* Imports a file that must be refused; asserts nothing changed and exactly n problems. */
static void refused(const char *csv, size_t n)
{
	char *before = snapshot();
	int64_t audit = count_audit();
	int rc = import(csv);
	if (rc != IMPORT_INVALID || report->n_problems != n) {
		fprintf(stderr, "rc %d, %zu problems (expected %zu):\n", rc, report->n_problems, n);
		print_problems();
	}
	assert_int_equal(rc, IMPORT_INVALID);
	assert_int_equal(report->n_problems, n);
	assert_int_equal(report->added + report->updated + report->unchanged, 0);
	char *after = snapshot();
	assert_string_equal(before, after);
	assert_int_equal(count_audit(), audit);
	free(before);
	free(after);
}

static void imported(const char *csv)
{
	int rc = import(csv);
	if (rc != IMPORT_OK)
		print_problems();
	assert_int_equal(rc, IMPORT_OK);
}

/* ---- good files ---- */

static void test_good_import(void **state)
{
	(void)state;
	imported(good);
	assert_int_equal(report->added, GOOD_ROWS);
	assert_int_equal(report->updated + report->unchanged, 0);
	assert_int_equal(count_rows(), GOOD_ROWS);
	struct org_row o;
	assert_int_equal(get_org("Z80001", &o), 0);
	assert_string_equal(o.name, "Riverside Medical Centre");
	assert_string_equal(o.kind, "practice");
	assert_string_equal(o.parent, "U90001");
	assert_int_equal(o.list_size, 14210);
	assert_int_equal(get_org("U90001", &o), 0);
	assert_string_equal(o.parent, "LOCZ1");
	assert_int_equal(o.list_size, -1);
	assert_int_equal(get_org("PHZ01", &o), 0);
	assert_string_equal(o.kind, "public-health");
	assert_string_equal(o.parent, "LAZ01");
}

static void test_spreadsheet_habits_are_accepted(void **state)
{
	(void)state;
	/* A byte-order mark, CRLF, upper-case header and kinds, spaces around values, lower-case
	 * codes, a quoted name with a comma and quotes, blank and cleared rows, a 200-byte name,
	 * and no line break at the end. */
	char name200[201];
	memset(name200, 'n', 200);
	name200[200] = '\0';
	char csv[2048];
	snprintf(csv, sizeof csv,
	         "\xEF\xBB\xBFODS_Code, Name ,KIND,parent_ods_code,List_Size\r\n"
	         "\r\n"
	         " u90001 , Riverside PCN ,PCN,,\r\n"
	         ",,,,\r\n"
	         "z80001,\"Riverside \"\"Old\"\" Surgery, Main St\",Practice, u90001 , 14210 \r\n"
	         "ab-12,%s,other,,\r\n"
	         "Z80002,Caf\xC3\xA9 Surgery,practice,U90001,1",
	         name200);
	imported(csv);
	assert_int_equal(report->added, 4);
	struct org_row o;
	assert_int_equal(get_org("Z80001", &o), 0);
	assert_string_equal(o.name, "Riverside \"Old\" Surgery, Main St");
	assert_string_equal(o.kind, "practice");
	assert_string_equal(o.parent, "U90001");
	assert_int_equal(o.list_size, 14210);
	assert_int_equal(get_org("U90001", &o), 0);
	assert_string_equal(o.name, "Riverside PCN");
	assert_int_equal(get_org("AB-12", &o), 0);
	assert_string_equal(o.name, name200);
	assert_int_equal(get_org("Z80002", &o), 0);
	assert_string_equal(o.name, "Caf\xC3\xA9 Surgery");
}

static void test_header_only_imports_nothing(void **state)
{
	(void)state;
	imported(HEADER);
	assert_int_equal(report->added + report->updated + report->unchanged, 0);
	assert_int_equal(count_rows(), 0);
}

static void test_reimport_updates_in_place(void **state)
{
	(void)state;
	imported(good);
	struct org_row before, after;
	assert_int_equal(get_org("Z80002", &before), 0);

	int64_t audit = count_audit();
	imported(good);
	assert_int_equal(report->unchanged, GOOD_ROWS);
	assert_int_equal(report->added + report->updated, 0);
	assert_int_equal(count_audit(), audit); /* nothing changed: nothing to record */

	/* Renamed, resized and moved to another PCN; one new practice; the rest left out of the
	 * file, which must not remove them. */
	imported(HEADER "Z80002,Bridge Street Medical Practice,practice,U90002,9100\n"
	                "Z80001,Riverside Medical Centre,practice,U90001,14210\n"
	                "Z80004,Weir Lane Practice,practice,U90002,6150\n");
	assert_int_equal(report->added, 1);
	assert_int_equal(report->updated, 1);
	assert_int_equal(report->unchanged, 1);
	assert_int_equal(count_audit(), audit + 1);
	assert_int_equal(count_sql("SELECT COUNT(*) FROM audit_log WHERE detail = '1 added, 1 "
	                           "updated, 1 unchanged, from a CSV file\n"
	                           "updated Z80002: name: \"Bridge Street Surgery\" -> "
	                           "\"Bridge Street Medical Practice\"; parent: U90001 -> U90002; "
	                           "list size: 8930 -> 9100\n"
	                           "added Z80004: name: \"Weir Lane Practice\"; kind: practice; "
	                           "parent: U90002; list size: 6150' AND actor = 'system'"),
	                 1);
	assert_int_equal(count_rows(), GOOD_ROWS + 1);
	assert_int_equal(get_org("Z80002", &after), 0);
	assert_int_equal(after.id, before.id);
	assert_string_equal(after.name, "Bridge Street Medical Practice");
	assert_string_equal(after.parent, "U90002");
	assert_int_equal(after.list_size, 9100);
	assert_int_equal(get_org("Z80003", &after), 0); /* not in the file: untouched */
	assert_string_equal(after.name, "Castlegate Surgery");

	/* A PCN moved to the other locality, and a partner losing its parent. */
	imported(HEADER "U90001,Riverside PCN,pcn,LOCZ2,\nRZZ,Wyvern Vale Hospitals,trust,,\n");
	assert_int_equal(report->updated, 2);
	assert_int_equal(get_org("U90001", &after), 0);
	assert_string_equal(after.parent, "LOCZ2");
	assert_int_equal(get_org("RZZ", &after), 0);
	assert_string_equal(after.parent, "");

	/* A kind may change when nothing is stranded by it. */
	imported(HEADER "FEDZ1,Wyvern GP Federation CIC,other,,\n");
	assert_int_equal(get_org("FEDZ1", &after), 0);
	assert_string_equal(after.kind, "other");
	assert_int_equal(count_rows(), GOOD_ROWS + 1);
}

static void test_parent_in_database_only(void **state)
{
	(void)state;
	imported(good);
	imported(HEADER "Z80009,New Surgery,practice,U90002,5000\n");
	struct org_row o;
	assert_int_equal(get_org("Z80009", &o), 0);
	assert_string_equal(o.parent, "U90002");
}

/* ---- bad files: nothing written, every problem on its line ---- */

static void test_header_problems(void **state)
{
	(void)state;
	imported(good);
	refused("", 1);
	assert_problem(1, "the file is empty");
	refused("\n\n", 1);
	assert_problem(1, "the file is empty");
	refused("Z80001,Riverside,practice,U90001,100\n", 1);
	assert_problem(1, "the header line is missing");
	refused("ods_code,name,kind,parent,list_size\nZ80001,R,practice,U90001,1\n", 1);
	assert_problem(1, "column 4 of the header is \"parent\"; it must be \"parent_ods_code\"");
	refused("ods_code,name,kind,parent_ods_code,list_size,notes\n", 1);
	assert_problem(1, "the header has 6 columns");
	refused("\n\nods_code,name,kind\n", 1);
	assert_problem(3, "the header has 3 columns");
	refused("name,ods_code,kind,parent_ods_code,list_size\n", 2);
	assert_problem(1, "column 1 of the header is \"name\"");
	assert_problem(1, "column 2 of the header is \"ods_code\"");
}

static void test_wrong_number_of_fields(void **state)
{
	(void)state;
	refused(HEADER "Z80001,Riverside,practice,U90001\n"
	               "Z80002,Bridge Street, Surgery,practice,U90001,10\n"
	               "U90001,Riverside PCN,pcn,,\n"
	               "Z80003\n",
	        3);
	assert_problem(2, "the line has 4 fields; it must have 5");
	assert_problem(3, "the line has 6 fields");
	assert_problem(3, "a name with a comma must be in quotes");
	assert_problem(5, "the line has 1 field;");
}

static void test_duplicate_codes(void **state)
{
	(void)state;
	refused(HEADER "U90001,Riverside PCN,pcn,,\n"
	               "Z80001,Riverside,practice,U90001,100\n"
	               "z80001,Riverside again,practice,U90001,100\n"
	               "Z80001,Riverside thrice,practice,U90001,100\n",
	        2);
	assert_problem(4, "ODS code Z80001 is also on line 3");
	assert_problem(5, "ODS code Z80001 is also on line 3");
}

static void test_unknown_parents(void **state)
{
	(void)state;
	imported(good);
	refused(HEADER "Z80009,New Surgery,practice,U99999,100\n"
	               "X1,Something,other,NOWHERE,\n"
	               "X2,Else,other,U90001,\n", /* a PCN: wrong kind, but known */
	        3);
	assert_problem(2, "parent U99999 is not in this file or in the database");
	assert_problem(3, "parent NOWHERE is not in this file or in the database");
	assert_problem(4, "the parent of an organisation of kind other cannot be a practice or "
	                  "a PCN, but U90001 is a PCN");
}

static void test_list_sizes(void **state)
{
	(void)state;
	imported(good);
	refused(HEADER "Z80011,A,practice,U90001,12k\n"
	               "Z80012,B,practice,U90001,-5\n"
	               "Z80013,C,practice,U90001,1000001\n"
	               "Z80014,D,practice,U90001,99999999999999999999999\n"
	               "Z80015,E,practice,U90001,\n"
	               "Z80016,F,practice,U90001,0\n"
	               "Z80017,G,practice,U90001,\"1,000\"\n"
	               "Z80018,H,practice,U90001,12.5\n"
	               "U90009,I,pcn,LOCZ1,40000\n"
	               "Z80019,J,practice,U90001,1000000\n", /* the most allowed: fine */
	        9);
	assert_problem(2, "list size \"12k\" must be a whole number");
	assert_problem(3, "cannot be negative");
	assert_problem(4, "list size 1000001 is more than 1,000,000 patients");
	assert_problem(5, "is more than 1,000,000");
	assert_problem(6, "a practice needs a list size");
	assert_problem(7, "the list size must be at least 1");
	assert_problem(8, "list size \"1,000\" must be a whole number");
	assert_problem(9, "list size \"12.5\"");
	assert_problem(10, "only practices have a list size: leave it empty for a PCN");
}

static void test_names_and_kinds(void **state)
{
	(void)state;
	char name201[202], csv[1024];
	memset(name201, 'n', 201);
	name201[201] = '\0';
	snprintf(csv, sizeof csv,
	         HEADER "A1,,other,,\n"
	                "A2,   ,other,,\n"
	                "A3,%s,other,,\n"
	                "A4,\"two\nlines\",other,,\n"
	                "A5,Bell\x07,other,,\n"
	                "A6,Surgery,surgery,,\n"
	                "A7,Nothing,,,\n"
	                "A8,\"St Aidan's\",Public Health,,\n",
	         name201);
	refused(csv, 8);
	assert_problem(2, "the name is empty");
	assert_problem(3, "the name is empty");
	assert_problem(4, "the name is 201 bytes long; the most is 200");
	assert_problem(5, "the name contains a line break");
	assert_problem(7, "the name contains a line break or another control character");
	assert_problem(8, "kind \"surgery\" is not a kind of organisation");
	assert_problem(9, "the kind is empty");
	assert_problem(10, "kind \"Public Health\""); /* it is "public-health" */
}

static void test_ods_code_format(void **state)
{
	(void)state;
	refused(HEADER "A,One letter,other,,\n"
	               "ABCDEFGHIJKLM,Thirteen,other,,\n"
	               "A B,Space,other,,\n"
	               "-AB,Hyphen first,other,,\n"
	               "AB_1,Underscore,other,,\n"
	               ",No code,other,,\n"
	               "OK1,Bad parent,other,A!,\n"
	               "ABCDEFGHIJKL,Twelve is fine,other,,\n",
	        7);
	assert_problem(2, "ODS code \"A\" must be 2 to 12 letters, digits or hyphens");
	assert_problem(3, "ODS code \"ABCDEFGHIJKLM\"");
	assert_problem(4, "ODS code \"A B\"");
	assert_problem(5, "ODS code \"-AB\"");
	assert_problem(6, "ODS code \"AB_1\"");
	assert_problem(7, "the ODS code is empty");
	assert_problem(8, "parent ODS code \"A!\" must be");
}

static void test_parent_loops(void **state)
{
	(void)state;
	refused(HEADER "A1,A,other,B1,\n"
	               "B1,B,other,A1,\n"
	               "C1,C,other,C1,\n"
	               "D1,D,other,E1,\n"
	               "E1,E,other,F1,\n"
	               "F1,F,other,D1,\n"
	               "G1,G,other,D1,\n", /* under a loop, not in it: no problem of its own */
	        3);
	assert_problem(2, "the parents go round in a loop: A1 -> B1 -> A1");
	assert_problem(4, "C1 cannot be its own parent");
	assert_problem(5, "loop: D1 -> E1 -> F1 -> D1");

	/* Through the database: X1 is under Y1 there; the file puts Y1 under X1. */
	imported(HEADER "Y1,Y,other,,\nX1,X,other,Y1,\n");
	refused(HEADER "Y1,Y,other,X1,\n", 1);
	assert_problem(2, "the parents go round in a loop: Y1 -> X1 -> Y1");
}

static void test_parent_kinds(void **state)
{
	(void)state;
	imported(good);
	refused(HEADER "Z80009,Under a locality,practice,LOCZ1,100\n"
	               "Z80010,Under a practice,practice,Z80001,100\n"
	               "U90009,PCN under the ICB,pcn,QZZ,\n"
	               "LOCZ9,Locality under a PCN,locality,U90001,\n"
	               "FEDZ9,Federation under a practice,federation,Z80001,\n"
	               "Z80011,No PCN is allowed,practice,,100\n"
	               "U90008,No locality is allowed,pcn,,\n",
	        5);
	assert_problem(2, "the parent of a practice must be a PCN, but LOCZ1 is a locality");
	assert_problem(3, "the parent of a practice must be a PCN, but Z80001 is a practice");
	assert_problem(4, "the parent of a PCN must be a locality, but QZZ is an ICB");
	assert_problem(5, "the parent of a locality cannot be a practice or a PCN");
	assert_problem(6, "but Z80001 is a practice");
}

static void test_kind_change_that_strands_children(void **state)
{
	(void)state;
	imported(good);
	/* U90001 has two practices in the database; turning it into a locality strands them. */
	refused(HEADER "U90001,Riverside,locality,,\n", 1);
	assert_problem(2, "U90001 cannot become a locality: practice Z8000");
	assert_problem(2, "and 1 other sit under it in the database but are not in this file");
	/* Moving them in the same file makes it fine. */
	imported(HEADER "U90001,Riverside,locality,,\n"
	                "Z80001,Riverside Medical Centre,practice,U90002,14210\n"
	                "Z80002,Bridge Street Surgery,practice,U90002,8930\n");
	struct org_row o;
	assert_int_equal(get_org("U90001", &o), 0);
	assert_string_equal(o.kind, "locality");
}

static void test_encoding_problems(void **state)
{
	(void)state;
	/* Windows-1252 on line 3; line 4 names that line's code as its parent and is not
	 * reported as well (nor is its parent's kind checked: that line could not be read). */
	refused(HEADER "U90001,Riverside PCN,pcn,,\n"
	               "Z80001,Caf\xE9 Surgery,practice,U90001,100\n"
	               "Z80002,Child,other,Z80001,\n"
	               "Z80003,Fine,practice,U90001,100\n",
	        1);
	assert_problem(3, "byte 0xE9 is not UTF-8 text");
	refused(HEADER "A1,\"multi\nline \xC0\xAF name\",other,,\n", 1);
	assert_problem(3, "byte 0xC0"); /* the line the byte is on, not where the record starts */
}

static void test_csv_structure_problems(void **state)
{
	(void)state;
	refused(HEADER "A1,Bad \"quote\",other,,\n"
	               "A2,\"Text\" after,other,,\n"
	               "A3,Fine,other,,\n"
	               "A4,\"Never closed,other,,\n"
	               "A5,Unreachable,other,,\n",
	        3);
	assert_problem(2, "has a quote but does not start with one");
	assert_problem(3, "text after its closing quote");
	assert_problem(5, "has no closing quote");
}

static void test_caps(void **state)
{
	(void)state;
	/* Too many rows: one problem, on the first row past the cap. */
	size_t cap = 64 + (LIMIT_IMPORT_ROWS + 1) * 32;
	char *csv = malloc(cap);
	assert_non_null(csv);
	size_t n = (size_t)snprintf(csv, cap, HEADER);
	for (int i = 0; i <= LIMIT_IMPORT_ROWS; i++)
		n += (size_t)snprintf(csv + n, cap - n, "X%05d,N,other,,\n", i);
	refused(csv, 1);
	assert_problem(LIMIT_IMPORT_ROWS + 2, "more than 20,000 organisations");
	free(csv);

	/* Too large: refused before reading. */
	size_t big = LIMIT_IMPORT_BYTES + 1;
	csv = malloc(big);
	assert_non_null(csv);
	memset(csv, '\n', big);
	memcpy(csv, HEADER, strlen(HEADER));
	assert_int_equal(organisations_import(db, csv, big, &system_actor, report, NULL),
	                 IMPORT_INVALID);
	assert_problem(0, "larger than 5 MB");
	free(csv);
	assert_int_equal(count_rows(), 0);

	/* Many problems: the first LIMIT_IMPORT_PROBLEMS lines are listed, all are counted. */
	cap = 64 + 300 * 32;
	csv = malloc(cap);
	assert_non_null(csv);
	n = (size_t)snprintf(csv, cap, HEADER);
	for (int i = 0; i < 300; i++)
		n += (size_t)snprintf(csv + n, cap - n, "X%d,,other,,\n", i);
	refused(csv, 300);
	assert_int_equal(report->n_kept, LIMIT_IMPORT_PROBLEMS);
	assert_int_equal(report->problems[0].line, 2);
	assert_int_equal(report->problems[LIMIT_IMPORT_PROBLEMS - 1].line,
	                 LIMIT_IMPORT_PROBLEMS + 1);
	free(csv);
}

static void test_every_problem_in_one_file(void **state)
{
	(void)state;
	imported(good);
	int64_t rows = count_rows();
	refused(HEADER "Z80020,Good one,practice,U90001,100\n"
	               "Z80021,,practice,U90001,100\n"
	               "Z80022,No size,practice,U90001,\n"
	               "Z80020,Again,practice,U90001,100\n"
	               "Z80023,Lost,practice,U00000,100\n"
	               "Z80024,Wrong,clinic,U90001,100\n",
	        5);
	assert_problem(3, "the name is empty");
	assert_problem(4, "a practice needs a list size");
	assert_problem(5, "also on line 2");
	assert_problem(6, "parent U00000");
	assert_problem(7, "kind \"clinic\"");
	assert_int_equal(count_rows(), rows);
	assert_int_equal(get_org("Z80020", &(struct org_row){0}), -1);
}

/* ---- one organisation from a form: the same rules, by field ---- */

static const struct organisations_actor admin_actor = {0, "admin@wyvern.example", "127.0.0.1"};

static int save(const char *code, const char *name, const char *kind, const char *parent,
                const char *size, bool adding, struct organisations_errors *errors, bool *changed)
{
	struct organisations_input in = {code, name, kind, parent, size};
	int64_t id;
	return organisations_save(db, &in, adding, &admin_actor, errors, changed, &id);
}

static void test_form_adds_and_edits(void **state)
{
	(void)state;
	struct organisations_errors e;
	bool changed;
	imported(good);
	int64_t rows = count_rows();
	assert_int_equal(
	    save(" z80099 ", " New Surgery ", "practice", "u90001", "5000", true, &e, &changed),
	    ORGANISATIONS_SAVED);
	assert_true(changed);
	struct org_row o;
	assert_int_equal(get_org("Z80099", &o), 0);
	assert_string_equal(o.name, "New Surgery");
	assert_string_equal(o.parent, "U90001");
	assert_int_equal(o.list_size, 5000);
	assert_int_equal(count_rows(), rows + 1);
	assert_int_equal(count_sql("SELECT COUNT(*) FROM audit_log WHERE action = "
	                           "'organisation-added' AND actor = 'admin@wyvern.example' AND "
	                           "detail = 'Z80099: name: \"New Surgery\"; kind: practice; "
	                           "parent: U90001; list size: 5000'"),
	                 1);

	/* Edit: moved and resized; the audit entry says before and after. */
	assert_int_equal(
	    save("Z80099", "New Surgery", "practice", "U90002", "5100", false, &e, &changed),
	    ORGANISATIONS_SAVED);
	assert_true(changed);
	assert_int_equal(count_sql("SELECT COUNT(*) FROM audit_log WHERE action = "
	                           "'organisation-updated' AND detail = 'Z80099: parent: U90001 "
	                           "-> U90002; list size: 5000 -> 5100'"),
	                 1);
	/* The same again changes nothing and records nothing. */
	int64_t audit = count_sql("SELECT COUNT(*) FROM audit_log");
	assert_int_equal(
	    save("Z80099", "New Surgery", "practice", "U90002", "5100", false, &e, &changed),
	    ORGANISATIONS_SAVED);
	assert_false(changed);
	assert_int_equal(count_sql("SELECT COUNT(*) FROM audit_log"), audit);

	assert_int_equal(save("Z80098", "X", "practice", "U90002", "1", false, &e, &changed),
	                 ORGANISATIONS_NOT_FOUND);
	assert_int_equal(save("not a code", "X", "practice", "", "1", false, &e, &changed),
	                 ORGANISATIONS_NOT_FOUND);
}

static void test_form_errors_by_field(void **state)
{
	(void)state;
	struct organisations_errors e;
	bool changed;
	imported(good);
	char *before = snapshot();
	int64_t audit = count_sql("SELECT COUNT(*) FROM audit_log");

	assert_int_equal(save("", "", "", "", "", true, &e, &changed), ORGANISATIONS_INVALID);
	assert_int_equal(e.n, 3);
	assert_string_equal(e.message[ORGANISATIONS_FIELD_CODE],
	                    "Enter the ODS code, such as C84001");
	assert_string_equal(e.message[ORGANISATIONS_FIELD_NAME], "Enter the organisation's name");
	assert_string_equal(e.message[ORGANISATIONS_FIELD_KIND], "Select the kind of organisation");

	/* A code already used; a parent of the wrong kind; a list size for a PCN. */
	assert_int_equal(save("z80001", "Again", "pcn", "QZZ", "100", true, &e, &changed),
	                 ORGANISATIONS_INVALID);
	assert_string_equal(e.message[ORGANISATIONS_FIELD_CODE],
	                    "ODS code Z80001 is already used by Riverside Medical Centre: change "
	                    "that organisation instead");
	assert_string_equal(e.message[ORGANISATIONS_FIELD_PARENT],
	                    "The parent of a PCN must be a locality, but QZZ is an ICB");
	assert_string_equal(e.message[ORGANISATIONS_FIELD_LIST_SIZE],
	                    "Only practices have a list size: leave it empty for a PCN");

	/* A bad code does not stop the parent being checked. */
	assert_int_equal(save("A!", "Name", "practice", "U99999", "12k", true, &e, &changed),
	                 ORGANISATIONS_INVALID);
	assert_non_null(strstr(e.message[ORGANISATIONS_FIELD_CODE], "ODS code \"A!\" must be"));
	assert_string_equal(e.message[ORGANISATIONS_FIELD_PARENT],
	                    "There is no organisation with ODS code U99999: check the code, or "
	                    "add that organisation first");
	assert_non_null(strstr(e.message[ORGANISATIONS_FIELD_LIST_SIZE], "List size \"12k\""));

	/* Edits: a loop through the database, its own parent, a kind that strands practices. */
	assert_int_equal(save("LOCZ1", "North", "locality", "U90001", "", false, &e, &changed),
	                 ORGANISATIONS_INVALID);
	assert_string_equal(e.message[ORGANISATIONS_FIELD_PARENT],
	                    "The parent of a locality cannot be a practice or a PCN, but U90001 "
	                    "is a PCN");
	assert_int_equal(save("QZZ", "ICB", "icb", "LOCZ1", "", false, &e, &changed),
	                 ORGANISATIONS_INVALID);
	assert_string_equal(e.message[ORGANISATIONS_FIELD_PARENT],
	                    "That parent would make the parents go round in a loop (QZZ -> LOCZ1 "
	                    "-> QZZ): choose another parent");
	assert_int_equal(save("QZZ", "ICB", "icb", "qzz", "", false, &e, &changed),
	                 ORGANISATIONS_INVALID);
	assert_string_equal(e.message[ORGANISATIONS_FIELD_PARENT],
	                    "QZZ cannot be its own parent: enter another code, or leave it empty");
	assert_int_equal(save("U90001", "Riverside", "locality", "", "", false, &e, &changed),
	                 ORGANISATIONS_INVALID);
	assert_string_equal(e.message[ORGANISATIONS_FIELD_KIND],
	                    "U90001 cannot become a locality while practice Z80001 and 1 other "
	                    "sit under it: move them first, or keep the kind");

	char *after = snapshot();
	assert_string_equal(before, after);
	assert_int_equal(count_sql("SELECT COUNT(*) FROM audit_log"), audit);
	free(before);
	free(after);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup(f, empty_table)
	const struct CMUnitTest tests[] = {
	    T(test_good_import),
	    T(test_spreadsheet_habits_are_accepted),
	    T(test_header_only_imports_nothing),
	    T(test_reimport_updates_in_place),
	    T(test_parent_in_database_only),
	    T(test_header_problems),
	    T(test_wrong_number_of_fields),
	    T(test_duplicate_codes),
	    T(test_unknown_parents),
	    T(test_list_sizes),
	    T(test_names_and_kinds),
	    T(test_ods_code_format),
	    T(test_parent_loops),
	    T(test_parent_kinds),
	    T(test_kind_change_that_strands_children),
	    T(test_encoding_problems),
	    T(test_csv_structure_problems),
	    T(test_caps),
	    T(test_every_problem_in_one_file),
	    T(test_form_adds_and_edits),
	    T(test_form_errors_by_field),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
