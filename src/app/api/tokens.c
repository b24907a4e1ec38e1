/*
 * tokens.c — the API token model (see tokens.h).
 */
#include "app/api/tokens.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "http/form.h"

const char *tokens_clean_name(const char *in, char out[TOKENS_NAME_MAX_BYTES + 1])
{
	out[0] = '\0';
	if (!in)
		return "Enter a name that says what the token is for";
	while (isspace((unsigned char)*in))
		in++;
	size_t n = strlen(in);
	while (n && isspace((unsigned char)in[n - 1]))
		n--;
	if (n == 0)
		return "Enter a name that says what the token is for";
	if (!utf8_valid(in, n))
		return "Token name must be plain text";
	size_t chars = 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)in[i];
		if (ch < ' ' || ch == 0x7f)
			return "Token name must be on one line, without tabs";
		chars += (ch & 0xc0) != 0x80; /* count characters, not bytes */
	}
	if (chars > TOKENS_NAME_MAX_CHARS || n > TOKENS_NAME_MAX_BYTES)
		return "Token name must be 100 characters or fewer";
	memcpy(out, in, n);
	out[n] = '\0';
	return NULL;
}

void tokens_generate(char out[TOKENS_CHARS + 1])
{
	char random[AUTH_TOKEN_CHARS + 1];
	auth_random_token(random);
	snprintf(out, TOKENS_CHARS + 1, TOKENS_PREFIX "%s", random);
}

int tokens_create(struct db_conn *c, int64_t person_id, const char *name, bool write,
                  char token[TOKENS_CHARS + 1], int64_t *id)
{
	/* Touching the person's row first serialises token creation per person on
	 * PostgreSQL (the row lock is held to commit), so two requests at once
	 * cannot both pass the count below; SQLite's BEGIN IMMEDIATE already does. */
	struct db_stmt *st = db_prepare(c, "UPDATE people SET updated_at = updated_at "
	                                   "WHERE id = $1 AND deactivated_at IS NULL RETURNING id");
	if (!st)
		return DB_ERR;
	db_bind_int(st, 1, person_id);
	int rc = db_step(st);
	db_reset(st);
	if (rc != DB_ROW)
		return rc == DB_DONE ? TOKENS_ERR_NO_PERSON : rc;
	st = db_prepare(
	    c, "SELECT count(*) FROM api_tokens WHERE person_id = $1 AND revoked_at IS NULL");
	if (!st)
		return DB_ERR;
	db_bind_int(st, 1, person_id);
	rc = db_step(st);
	int64_t live = rc == DB_ROW ? db_col_int(st, 0) : 0;
	db_reset(st);
	if (rc != DB_ROW)
		return rc < 0 ? rc : DB_ERR;
	if (live >= TOKENS_MAX_PER_PERSON)
		return TOKENS_ERR_TOO_MANY;
	char hash[AUTH_HASH_CHARS + 1];
	tokens_generate(token);
	auth_hash_token(token, hash);
	st =
	    db_prepare(c, "INSERT INTO api_tokens (person_id, name, token_hash, scope, created_at) "
	                  "VALUES ($1, $2, $3, $4, $5) RETURNING id");
	if (!st)
		return DB_ERR;
	db_bind_int(st, 1, person_id);
	db_bind_text(st, 2, name);
	db_bind_text(st, 3, hash);
	db_bind_text(st, 4, write ? "write" : "read");
	db_bind_int(st, 5, (int64_t)time(NULL));
	rc = db_step(st);
	if (rc == DB_ROW) {
		*id = db_col_int(st, 0);
		rc = db_step(st);
	}
	db_reset(st);
	return rc == DB_DONE ? DB_OK : rc < 0 ? rc : DB_ERR;
}

/* Columns 1-4 of the queries below: name, scope, created_at, last_used_at. */
static void row_fill(struct db_stmt *st, struct token_row *row)
{
	const char *name = db_col_text(st, 1), *scope = db_col_text(st, 2);
	snprintf(row->name, sizeof row->name, "%s", name ? name : "");
	row->write = scope && !strcmp(scope, "write");
	row->created_at = db_col_int(st, 3);
	row->last_used_at = db_col_int(st, 4);
}

int tokens_list(struct db_conn *c, int64_t person_id, struct token_row out[TOKENS_MAX_PER_PERSON],
                int *n)
{
	*n = 0;
	struct db_stmt *st =
	    db_prepare(c, "SELECT id, name, scope, created_at, last_used_at FROM api_tokens "
	                  "WHERE person_id = $1 AND revoked_at IS NULL "
	                  "ORDER BY created_at DESC, id DESC LIMIT $2");
	if (!st)
		return DB_ERR;
	db_bind_int(st, 1, person_id);
	db_bind_int(st, 2, TOKENS_MAX_PER_PERSON);
	int rc;
	while ((rc = db_step(st)) == DB_ROW && *n < TOKENS_MAX_PER_PERSON) {
		out[*n].id = db_col_int(st, 0);
		row_fill(st, &out[*n]);
		(*n)++;
	}
	db_reset(st);
	return rc < 0 ? rc : DB_OK;
}

int tokens_find(struct db_conn *c, int64_t id, int64_t *owner, struct token_row *row)
{
	struct db_stmt *st = db_prepare(c, "SELECT person_id, name, scope, created_at, "
	                                   "last_used_at FROM api_tokens WHERE id = $1");
	if (!st)
		return DB_ERR;
	db_bind_int(st, 1, id);
	int rc = db_step(st);
	if (rc == DB_ROW) {
		*owner = db_col_int(st, 0);
		row->id = id;
		row_fill(st, row);
	}
	db_reset(st);
	return rc == DB_ROW ? 1 : rc == DB_DONE ? 0 : rc;
}

int tokens_revoke(struct db_conn *c, int64_t id)
{
	struct db_stmt *st = db_prepare(c, "UPDATE api_tokens SET revoked_at = $2 "
	                                   "WHERE id = $1 AND revoked_at IS NULL RETURNING id");
	if (!st)
		return DB_ERR;
	db_bind_int(st, 1, id);
	db_bind_int(st, 2, (int64_t)time(NULL));
	int rc = db_step(st);
	if (rc == DB_ROW)
		rc = db_step(st) == DB_DONE ? 1 : DB_ERR;
	db_reset(st);
	return rc == 1 ? 1 : rc == DB_DONE ? 0 : rc;
}
