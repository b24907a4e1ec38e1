/*
 * people.c — the people model and `shoal user add` (see people.h).
 */
#include "app/people/people.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "auth/audit.h"
#include "db/migrate.h"
#include "http/form.h"

int people_normalise_email(const char *in, char out[LIMIT_EMAIL_BYTES + 1])
{
	while (isspace((unsigned char)*in))
		in++;
	size_t n = strlen(in);
	while (n && isspace((unsigned char)in[n - 1]))
		n--;
	if (n == 0 || n > LIMIT_EMAIL_BYTES || !utf8_valid(in, n))
		return -1;
	int ats = 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)in[i];
		if (ch <= ' ' || ch == 0x7f || strchr("<>()[],;:\\\"", ch))
			return -1;
		ats += ch == '@';
		out[i] = (char)tolower(ch);
	}
	out[n] = '\0';
	const char *at = strchr(out, '@');
	/* One @, something before it, a dot in the domain, not at either end. */
	if (ats != 1 || at == out || !strchr(at, '.') || at[1] == '.' || out[n - 1] == '.')
		return -1;
	return 0;
}

bool people_role_valid(const char *s)
{
	return s &&
	       (!strcmp(s, "member") || !strcmp(s, "practice-lead") || !strcmp(s, "executive") ||
	        !strcmp(s, "administrator") || !strcmp(s, "partner"));
}

int people_create(struct db_conn *c, const struct person_new *p, int64_t *id)
{
	int64_t now = (int64_t)time(NULL);
	bool lead = !strcmp(p->role, "practice-lead");
	struct db_stmt *st = db_prepare(
	    c, "INSERT INTO people (email, name, role, password_hash, created_at, updated_at) "
	       "VALUES ($1, $2, $3, $4, $5, $5) RETURNING id");
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, p->email);
	db_bind_text(st, 2, p->name);
	db_bind_text(st, 3, lead ? "member" : p->role);
	db_bind_text(st, 4, p->password_hash);
	db_bind_int(st, 5, now);
	int rc = db_step(st);
	if (rc == DB_ROW) {
		*id = db_col_int(st, 0);
		rc = db_step(st);
	}
	db_reset(st);
	if (rc != DB_DONE || !p->organisation_id)
		return rc == DB_DONE ? DB_OK : rc < 0 ? rc : DB_ERR;
	st = db_prepare(c, "INSERT INTO memberships (person_id, organisation_id, lead, created_at) "
	                   "VALUES ($1, $2, $3, $4)");
	if (!st)
		return DB_ERR;
	db_bind_int(st, 1, *id);
	db_bind_int(st, 2, p->organisation_id);
	db_bind_int(st, 3, lead);
	db_bind_int(st, 4, now);
	rc = db_step(st);
	db_reset(st);
	return rc == DB_DONE ? DB_OK : rc < 0 ? rc : DB_ERR;
}

int people_find_for_sign_in(struct db_conn *c, const char *email, int64_t *id,
                            char hash[PASSWORD_HASH_BYTES], bool *has_totp)
{
	struct db_stmt *st =
	    db_prepare(c, "SELECT id, password_hash, totp_secret IS NOT NULL "
	                  "FROM people WHERE email = $1 AND deactivated_at IS NULL");
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, email);
	int rc = db_step(st);
	if (rc == DB_ROW) {
		*id = db_col_int(st, 0);
		const char *h = db_col_text(st, 1);
		snprintf(hash, PASSWORD_HASH_BYTES, "%s", h ? h : "");
		*has_totp = db_col_int(st, 2) != 0;
	}
	db_reset(st);
	return rc == DB_ROW ? 1 : rc == DB_DONE ? 0 : rc;
}

int people_set_password(struct db_conn *c, int64_t id, const char *hash)
{
	struct db_stmt *st =
	    db_prepare(c, "UPDATE people SET password_hash = $1, updated_at = $2 WHERE id = $3");
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, hash);
	db_bind_int(st, 2, (int64_t)time(NULL));
	db_bind_int(st, 3, id);
	int rc = db_step(st);
	db_reset(st);
	return rc == DB_DONE ? DB_OK : rc;
}

int people_organisation_id(struct db_conn *c, const char *ods_code, int64_t *id)
{
	char code[32];
	size_t i;
	for (i = 0; ods_code[i] && i < sizeof code - 1; i++)
		code[i] = (char)toupper((unsigned char)ods_code[i]);
	code[i] = '\0';
	struct db_stmt *st = db_prepare(c, "SELECT id FROM organisations WHERE ods_code = $1");
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, code);
	int rc = db_step(st);
	if (rc == DB_ROW)
		*id = db_col_int(st, 0);
	db_reset(st);
	return rc == DB_ROW ? 1 : rc == DB_DONE ? 0 : rc;
}

const struct cli_option user_add_options[] = {
    {"email", "E", "the person's email address (required)"},
    {"name", "N", "their full name (required)"},
    {"role", "ROLE", "member, practice-lead, executive, administrator or partner (required)"},
    {"organisation", "ODS", "the organisation they belong to (required for members and leads)"},
    {"password-stdin", NULL, "read a password from standard input (else they use a reset link)"},
    {0, 0, 0},
};

/* Reads one line from standard input as the password, refusing what NCSC would. */
static int read_password(char hash[PASSWORD_HASH_BYTES])
{
	char line[LIMIT_PASSWORD_BYTES + 2];
	if (!fgets(line, sizeof line, stdin)) {
		fprintf(stderr, "shoal user add: no password on standard input\n");
		return -1;
	}
	line[strcspn(line, "\r\n")] = '\0';
	if (password_load_common(NULL) < 0)
		return -1;
	const char *problem = password_problem(line);
	if (problem) {
		fprintf(stderr, "shoal user add: %s\n", problem);
		return -1;
	}
	return password_hash(line, hash);
}

int cmd_user_add(struct cli *cli)
{
	char email[LIMIT_EMAIL_BYTES + 1], hash[PASSWORD_HASH_BYTES] = "", err[512];
	const char *name = cli_get(cli, "name"), *role = cli_get(cli, "role");
	const char *ods = cli_get(cli, "organisation");
	if (!cli_get(cli, "email") || people_normalise_email(cli_get(cli, "email"), email)) {
		fprintf(stderr, "shoal user add: --email needs a valid email address\n");
		return 2;
	}
	if (!name || !*name || strlen(name) > LIMIT_NAME_BYTES || !utf8_valid(name, strlen(name))) {
		fprintf(stderr, "shoal user add: --name needs the person's name (up to %d bytes)\n",
		        LIMIT_NAME_BYTES);
		return 2;
	}
	if (!people_role_valid(role)) {
		fprintf(stderr, "shoal user add: --role must be member, practice-lead, executive, "
		                "administrator or partner\n");
		return 2;
	}
	if (!ods && (!strcmp(role, "member") || !strcmp(role, "practice-lead"))) {
		fprintf(stderr, "shoal user add: a %s needs --organisation ODS\n", role);
		return 2;
	}
	if (cli_get(cli, "password-stdin") && read_password(hash))
		return 2;
	struct db *db;
	if (db_open(cli->config->db, 1, &db, err, sizeof err) ||
	    migrate_check(db, err, sizeof err)) {
		fprintf(stderr, "shoal: %s\n", err);
		return 1;
	}
	struct db_conn *c = db_acquire(db);
	int64_t org = 0, id = 0;
	int rc = c ? db_begin(c) : DB_ERR_CONN;
	if (rc == DB_OK && ods && (rc = people_organisation_id(c, ods, &org)) == 0) {
		fprintf(stderr, "shoal user add: no organisation has ODS code %s\n", ods);
		rc = DB_ERR;
		goto done;
	}
	if (rc >= 0) {
		struct person_new p = {email, name, role, hash[0] ? hash : NULL, org};
		rc = people_create(c, &p, &id);
		if (rc == DB_ERR_CONSTRAINT) {
			fprintf(stderr, "shoal user add: %s already has an account\n", email);
			goto done;
		}
	}
	if (rc == DB_OK) {
		char subject[32], detail[300];
		snprintf(subject, sizeof subject, "person:%lld", (long long)id);
		snprintf(detail, sizeof detail, "role %s, added from the command line", role);
		struct audit_entry e = {0, "system", "person-added", subject, detail, NULL};
		rc = audit_record(c, &e);
	}
	if (rc == DB_OK)
		rc = db_commit(c);
	if (rc != DB_OK)
		fprintf(stderr, "shoal user add: %s\n",
		        c ? db_errmsg(c) : "the database cannot be reached");
	else
		printf("shoal: added %s (%s)%s\n", email, role,
		       hash[0]
		           ? ""
		           : "; they can set a password with the reset link on the sign-in page");
done:
	db_release(c);
	db_close(db);
	return rc == DB_OK ? 0 : 1;
}
