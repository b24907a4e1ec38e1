/*
 * tokens_cli.c — `shoal token create`: an operator makes a token for a person
 * (see tokens.h). Kept apart from the model so that unit tests can link the
 * model without the command line.
 */
#include <stdio.h>
#include <string.h>

#include "app/api/tokens.h"
#include "app/people/people.h"
#include "auth/audit.h"
#include "auth/policy.h"
#include "auth/session.h"
#include "db/migrate.h"

const struct cli_option token_create_options[] = {
    {"email", "E", "the email address of the person the token acts as (required)"},
    {"scope", "SCOPE", "read (the default) or write; partners may hold read tokens only"},
    {"name", "N", "what the token is for (default: \"Created on the command line\")"},
    {0, 0, 0},
};

/* Finds a person by email for the command line, which may say why not. Returns
 * 1 (active, viewer filled), 0 (no one), 2 (deactivated) or < 0. */
static int find_holder(struct db_conn *c, const char *email, struct viewer *holder)
{
	struct db_stmt *st =
	    db_prepare(c, "SELECT id, deactivated_at IS NOT NULL FROM people WHERE email = $1");
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, email);
	int rc = db_step(st);
	int64_t id = rc == DB_ROW ? db_col_int(st, 0) : 0;
	bool deactivated = rc == DB_ROW && db_col_int(st, 1);
	db_reset(st);
	if (rc != DB_ROW)
		return rc == DB_DONE ? 0 : rc;
	if (deactivated)
		return 2;
	return session_load_person(c, id, holder);
}

int cmd_token_create(struct cli *cli)
{
	char email[LIMIT_EMAIL_BYTES + 1], name[TOKENS_NAME_MAX_BYTES + 1], err[512];
	const char *scope = cli_get(cli, "scope") ? cli_get(cli, "scope") : "read";
	const char *raw_name =
	    cli_get(cli, "name") ? cli_get(cli, "name") : "Created on the command line";
	if (!cli_get(cli, "email") || people_normalise_email(cli_get(cli, "email"), email)) {
		fprintf(stderr, "shoal token create: --email needs a valid email address\n");
		return 2;
	}
	if (strcmp(scope, "read") && strcmp(scope, "write")) {
		fprintf(stderr, "shoal token create: --scope must be read or write\n");
		return 2;
	}
	const char *problem = tokens_clean_name(raw_name, name);
	if (problem) {
		fprintf(stderr, "shoal token create: --name: %s\n", problem);
		return 2;
	}
	bool write = !strcmp(scope, "write");
	struct db *db;
	if (db_open(cli->config->db, 1, &db, err, sizeof err) ||
	    migrate_check(db, err, sizeof err)) {
		fprintf(stderr, "shoal: %s\n", err);
		return 1;
	}
	struct db_conn *c = db_acquire(db);
	struct viewer holder = {0};
	char token[TOKENS_CHARS + 1];
	int64_t id = 0;
	int rc = c ? db_begin(c) : DB_ERR_CONN;
	if (rc == DB_OK) {
		int found = find_holder(c, email, &holder);
		if (found == 0 || found == 2) {
			fprintf(stderr, "shoal token create: %s %s\n", email,
			        found ? "is deactivated" : "has no account");
			rc = DB_ERR;
			goto done;
		}
		rc = found < 0 ? found : DB_OK;
	}
	if (rc >= 0 && !policy_may_hold_token(&holder, write)) {
		fprintf(stderr, "shoal token create: partners may hold read tokens only: use "
		                "--scope read\n");
		rc = DB_ERR;
		goto done;
	}
	if (rc >= 0 && (rc = tokens_create(c, holder.person_id, name, write, token, &id)) ==
	                   TOKENS_ERR_TOO_MANY) {
		fprintf(stderr,
		        "shoal token create: %s already holds %d tokens, the most allowed: they "
		        "can revoke one on their account page\n",
		        email, TOKENS_MAX_PER_PERSON);
		goto done;
	}
	if (rc == DB_OK) {
		char subject[32], detail[TOKENS_NAME_MAX_BYTES + 96];
		snprintf(subject, sizeof subject, "person:%lld", (long long)holder.person_id);
		snprintf(detail, sizeof detail, "token %lld (%s) \"%s\", from the command line",
		         (long long)id, scope, name);
		struct audit_entry e = {0, "system", "token-created", subject, detail, NULL};
		rc = audit_record(c, &e);
	}
	if (rc == DB_OK)
		rc = db_commit(c);
	if (rc == TOKENS_ERR_NO_PERSON)
		fprintf(stderr, "shoal token create: %s is deactivated\n", email);
	else if (rc != DB_OK)
		fprintf(stderr, "shoal token create: %s\n",
		        c ? db_errmsg(c) : "the database cannot be reached");
	else
		printf("%s\n", token);
done:
	db_release(c);
	db_close(db);
	return rc == DB_OK ? 0 : 1;
}
