/*
 * demo.c — the fictional "Wyvern Vale" collective used by `make run` and the tests.
 *
 * Every name and code here is invented and marked so: the codes use prefixes
 * that no real English practice or PCN has (practices Z8…, PCNs U9…), and the
 * collective's name says "(fictional)". Later features add their demo data here.
 */
#include "app/demo/demo.h"

#include "app/discussions/discussions.h"
#include "app/people/people.h"
#include "app/pressure/pressure.h"
#include "auth/password.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

struct demo_org {
	const char *ods_code, *name, *kind, *parent; /* parent: ods_code or NULL */
	long long list_size;                         /* practices only; 0 = none */
};

/* Parents come before children so that each parent row already exists. */
static const struct demo_org orgs[] = {
    {"QZZ", "NHS Wyvern Vale Integrated Care Board", "icb", NULL, 0},
    {"RZZ", "Wyvern Vale Hospitals NHS Foundation Trust", "trust", NULL, 0},
    {"RZY", "Wyvern Community Health NHS Trust", "trust", NULL, 0},
    {"LAZ01", "Wyvern Vale Council (adult social care)", "council", NULL, 0},
    {"PHZ01", "Wyvern Vale Public Health", "public-health", NULL, 0},
    {"FEDZ1", "Wyvern GP Federation", "federation", NULL, 0},
    {"LMCZ1", "Wyvern Local Medical Committee", "lmc", NULL, 0},
    {"LOCZ1", "North Wyvern locality", "locality", NULL, 0},
    {"LOCZ2", "South Wyvern locality", "locality", NULL, 0},
    {"U90001", "Riverside PCN", "pcn", "LOCZ1", 0},
    {"U90002", "Castlegate PCN", "pcn", "LOCZ1", 0},
    {"U90003", "Moorland PCN", "pcn", "LOCZ1", 0},
    {"U90004", "Harbour PCN", "pcn", "LOCZ2", 0},
    {"U90005", "Three Valleys PCN", "pcn", "LOCZ2", 0},
    {"Z80001", "Riverside Medical Centre", "practice", "U90001", 14210},
    {"Z80002", "Bridge Street Surgery", "practice", "U90001", 8930},
    {"Z80003", "Millbrook Health Centre", "practice", "U90001", 11420},
    {"Z80004", "Weir Lane Practice", "practice", "U90001", 6150},
    {"Z80005", "Castlegate Surgery", "practice", "U90002", 17880},
    {"Z80006", "Old Market Medical Practice", "practice", "U90002", 9640},
    {"Z80007", "Abbey View Surgery", "practice", "U90002", 7310},
    {"Z80008", "Kingsway Family Practice", "practice", "U90002", 12760},
    {"Z80009", "Tor Moor Surgery", "practice", "U90003", 4820},
    {"Z80010", "Heatherdale Medical Group", "practice", "U90003", 10390},
    {"Z80011", "Fellside Practice", "practice", "U90003", 3460},
    {"Z80012", "Highcross Surgery", "practice", "U90003", 8120},
    {"Z80013", "Moorgate Health Centre", "practice", "U90003", 15230},
    {"Z80014", "Harbour Medical Practice", "practice", "U90004", 16540},
    {"Z80015", "Quayside Surgery", "practice", "U90004", 9870},
    {"Z80016", "Lighthouse Road Surgery", "practice", "U90004", 7640},
    {"Z80017", "Anchor Health Centre", "practice", "U90004", 11980},
    {"Z80018", "Seafield Practice", "practice", "U90004", 5290},
    {"Z80019", "Three Valleys Medical Centre", "practice", "U90005", 13450},
    {"Z80020", "Elmbridge Surgery", "practice", "U90005", 6720},
    {"Z80021", "Holloway Green Practice", "practice", "U90005", 9010},
    {"Z80022", "Cwm Road Surgery", "practice", "U90005", 4370},
    {"Z80023", "Ashdown Medical Practice", "practice", "U90005", 10860},
    {"Z80024", "St Aidan's Surgery", "practice", "U90005", 8240},
};

/* Demo accounts, one or more of every role. All share DEMO_PASSWORD; the
 * executive and the administrator must use two-step sign-in, so they come
 * enrolled with DEMO_TOTP_SECRET (add it to an authenticator app to sign in). */
static const struct {
	const char *email, *name, *role, *organisation;
	int mfa;
	int deactivated;
} demo_people[] = {
    {"admin@wyvern.example", "Alex Admin", "administrator", "FEDZ1", 1, 0},
    {"chair@wyvern.example", "Dr Priya Shah (LMC chair)", "executive", "LMCZ1", 1, 0},
    {"lead@riverside.wyvern.example", "Sam Patel (practice manager)", "practice-lead", "Z80001", 0,
     0},
    {"gp@riverside.wyvern.example", "Dr Morgan Lee", "member", "Z80001", 0, 0},
    {"nurse@castlegate.wyvern.example", "Jo Evans (practice nurse)", "member", "Z80005", 0, 0},
    {"lead@harbour.wyvern.example", "Chris O'Neill (practice manager)", "practice-lead", "Z80014",
     0, 0},
    {"partner@icb.wyvern.example", "Rowan Hughes (ICB primary care lead)", "partner", "QZZ", 0, 0},
    {"left@riverside.wyvern.example", "Former Staff", "member", "Z80001", 0, 1},
};

static const char *const settings[][2] = {
    {"collective_name", "Wyvern Vale GP Collective (fictional)"},
    {"demo", "1"},
};

/* Adds demo person i unless their email is taken (the demo may be loaded twice). */
static int demo_person(struct db_conn *c, size_t i, const char *hash, int64_t now)
{
	int64_t org = 0, id = 0;
	int rc = people_organisation_id(c, demo_people[i].organisation, &org);
	if (rc < 0)
		return rc;
	struct db_stmt *st = db_prepare(c, "SELECT id FROM people WHERE email = $1");
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, demo_people[i].email);
	rc = db_step(st);
	db_reset(st);
	if (rc == DB_ROW)
		return DB_OK;
	struct person_new p = {demo_people[i].email, demo_people[i].name, demo_people[i].role, hash,
	                       org};
	rc = people_create(c, &p, &id);
	if (rc)
		return rc;
	st = db_prepare(c, "UPDATE people SET totp_secret = $2, deactivated_at = $3, "
	                   "visible_to_partners = $4 WHERE id = $1");
	if (!st)
		return DB_ERR;
	db_bind_int(st, 1, id);
	db_bind_text(st, 2, demo_people[i].mfa ? DEMO_TOTP_SECRET : NULL);
	if (demo_people[i].deactivated)
		db_bind_int(st, 3, now);
	else
		db_bind_null(st, 3);
	db_bind_int(st, 4, !strcmp(demo_people[i].role, "practice-lead"));
	rc = db_step(st);
	db_reset(st);
	return rc == DB_DONE ? DB_OK : rc;
}

int demo_load(struct db *db, int *n_organisations, char *err, size_t errlen)
{
	*n_organisations = 0;
	struct db_conn *c = db_acquire(db);
	if (!c) {
		snprintf(err, errlen, "the database cannot be reached");
		return DB_ERR_CONN;
	}
	int64_t now = (int64_t)time(NULL);
	int rc = db_begin(c);
	for (size_t i = 0; rc == DB_OK && i < sizeof settings / sizeof settings[0]; i++) {
		struct db_stmt *st =
		    db_prepare(c, "INSERT INTO settings (key, value) VALUES ($1, $2) "
		                  "ON CONFLICT (key) DO UPDATE SET value = excluded.value");
		if (!st) {
			rc = DB_ERR;
			break;
		}
		db_bind_text(st, 1, settings[i][0]);
		db_bind_text(st, 2, settings[i][1]);
		rc = db_step(st) == DB_DONE ? DB_OK : DB_ERR;
		db_reset(st);
	}
	for (size_t i = 0; rc == DB_OK && i < sizeof orgs / sizeof orgs[0]; i++) {
		const struct demo_org *o = &orgs[i];
		struct db_stmt *st = db_prepare(
		    c,
		    "INSERT INTO organisations (ods_code, name, kind, parent_id, list_size, "
		    "created_at, updated_at) "
		    "VALUES ($1, $2, $3, (SELECT id FROM organisations WHERE ods_code = $4), $5, "
		    "$6, $6) "
		    "ON CONFLICT (ods_code) DO UPDATE SET name = excluded.name, kind = "
		    "excluded.kind, parent_id = excluded.parent_id, list_size = "
		    "excluded.list_size, updated_at = excluded.updated_at");
		if (!st) {
			rc = DB_ERR;
			break;
		}
		db_bind_text(st, 1, o->ods_code);
		db_bind_text(st, 2, o->name);
		db_bind_text(st, 3, o->kind);
		db_bind_text(st, 4, o->parent);
		if (o->list_size)
			db_bind_int(st, 5, o->list_size);
		else
			db_bind_null(st, 5);
		db_bind_int(st, 6, now);
		rc = db_step(st) == DB_DONE ? DB_OK : DB_ERR;
		db_reset(st);
		if (rc == DB_OK)
			(*n_organisations)++;
	}
	char hash[PASSWORD_HASH_BYTES];
	if (rc == DB_OK && password_hash(DEMO_PASSWORD, hash))
		rc = DB_ERR;
	for (size_t i = 0; rc == DB_OK && i < sizeof demo_people / sizeof demo_people[0]; i++)
		rc = demo_person(c, i, hash, now);
	if (rc == DB_OK) /* a few pressure returns: src/app/pressure/demo.c */
		rc = pressure_demo_load(c, now);
	if (rc == DB_OK) /* spaces, threads and replies: src/app/discussions/demo.c */
		rc = discussions_demo_load(c, now);
	if (rc == DB_OK)
		rc = db_commit(c);
	if (rc != DB_OK) {
		snprintf(err, errlen, "cannot load the demo collective: %s", db_errmsg(c));
		db_rollback(c);
	}
	db_release(c);
	return rc;
}

const struct cli_option demo_options[] = {
    {"accounts", NULL, "only print the demo accounts and how to sign in"},
    {0, 0, 0},
};

void demo_print_accounts(FILE *out)
{
	fprintf(out, "  Demo accounts (all fictional), password %s:\n", DEMO_PASSWORD);
	for (size_t i = 0; i < sizeof demo_people / sizeof demo_people[0]; i++) {
		if (demo_people[i].deactivated)
			continue;
		fprintf(out, "    %-15s %-34s %s\n", demo_people[i].role, demo_people[i].email,
		        demo_people[i].mfa ? "(two-step sign-in)" : "");
	}
	fprintf(out,
	        "  For two-step sign-in, add the key %s to an authenticator app\n"
	        "  (or compute the code with: oathtool --totp -b %s).\n",
	        DEMO_TOTP_SECRET, DEMO_TOTP_SECRET);
}
