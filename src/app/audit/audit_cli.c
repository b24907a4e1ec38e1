/*
 * audit_cli.c — `shoal audit verify` (see audit.h).
 *
 * For an IT lead or a scheduled job: one line on standard output, and an exit
 * status a script can test (0 intact, 1 broken or unreadable). Counts are plain digits so
 * scripts can read them.
 */
#include "app/audit/audit.h"

#include <inttypes.h>
#include <stdio.h>

#include "auth/audit.h"
#include "db/migrate.h"

int cmd_audit_verify(struct cli *cli)
{
	struct config *c = cli->config;
	char err[512];
	struct db *db;
	int64_t bad, checked;
	/* The pool's size does not matter: the walk uses one connection. */
	if (db_open(c->db, 1, &db, err, sizeof err)) {
		fprintf(stderr, "shoal: %s\n", err);
		return 1;
	}
	if (migrate_check(db, err, sizeof err)) {
		fprintf(stderr, "shoal: %s\n", err);
		db_close(db);
		return 1;
	}
	int rc = audit_verify(db, &bad, &checked, err, sizeof err);
	db_close(db);
	if (rc < 0) {
		fprintf(stderr, "shoal audit verify: %s\n", err);
		return 1;
	}
	if (rc > 0) {
		printf("audit trail broken at entry %" PRId64 ": %s (the %" PRId64
		       " entries before it are intact)\n",
		       bad, err, checked);
		return 1;
	}
	printf("audit trail intact: %" PRId64 " entries\n", checked);
	return 0;
}
