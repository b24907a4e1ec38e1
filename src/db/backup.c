/*
 * backup.c — online backup and restore of an SQLite database (see backup.h).
 */
#include "db/backup.h"

#include <errno.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "db/db.h"
#include "db/migrate.h"

/* The path of an sqlite: URL, or NULL (with a message) for anything else. */
static const char *sqlite_path(const char *url, const char *command)
{
	if (!strncmp(url, "sqlite:", 7))
		return url + 7;
	fprintf(stderr,
	        "shoal %s: only the embedded SQLite database can be copied this way; for "
	        "PostgreSQL use pg_dump and base backups (docs/deployment.md)\n",
	        command);
	return NULL;
}

/* Copies every page of from into to in one step, so in one read transaction: Shoal's
 * database is in WAL mode, where a reader never blocks writers, and one step sees one
 * snapshot. (Copying in several steps lets each write by the server restart the copy, so
 * a busy server could keep a backup from ever finishing.) Retries while a lock is held. */
static int copy_database(sqlite3 *from, sqlite3 *to)
{
	sqlite3_backup *b = sqlite3_backup_init(to, "main", from, "main");
	if (!b)
		return sqlite3_errcode(to);
	int rc;
	do {
		rc = sqlite3_backup_step(b, -1);
		if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED) {
			struct timespec nap = {0, 20 * 1000 * 1000};
			nanosleep(&nap, NULL);
		}
	} while (rc == SQLITE_OK || rc == SQLITE_BUSY || rc == SQLITE_LOCKED);
	int finish = sqlite3_backup_finish(b);
	return rc == SQLITE_DONE ? finish : rc;
}

/* "ok", or the first problem PRAGMA integrity_check finds, into out. */
static int check_integrity(sqlite3 *db, char *out, size_t len)
{
	sqlite3_stmt *st;
	snprintf(out, len, "cannot run the integrity check");
	if (sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &st, NULL) != SQLITE_OK)
		return -1;
	int ok = -1;
	if (sqlite3_step(st) == SQLITE_ROW) {
		snprintf(out, len, "%s", (const char *)sqlite3_column_text(st, 0));
		ok = strcmp(out, "ok") ? -1 : 0;
	}
	sqlite3_finalize(st);
	return ok;
}

/* Opens path; flags as sqlite3_open_v2. Reports failure as one line. */
static sqlite3 *open_or_say(const char *path, int flags, const char *command)
{
	sqlite3 *db = NULL;
	if (sqlite3_open_v2(path, &db, flags, NULL) != SQLITE_OK) {
		fprintf(stderr, "shoal %s: cannot open %s: %s\n", command, path,
		        db ? sqlite3_errmsg(db) : "out of memory");
		sqlite3_close(db);
		return NULL;
	}
	sqlite3_busy_timeout(db, 10000);
	return db;
}

/* Makes an empty file that must not exist yet: never overwrite a backup or a database. */
static int create_new(const char *path, const char *command)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
	if (fd < 0) {
		fprintf(stderr, "shoal %s: cannot create %s: %s\n", command, path,
		        errno == EEXIST ? "it already exists (choose a new name)"
		                        : strerror(errno));
		return -1;
	}
	close(fd);
	return 0;
}

/* Copies from_path into the new file to_path and checks the result. */
static int copy_checked(const char *from_path, const char *to_path, const char *command)
{
	char problem[256];
	struct stat st;
	if (stat(from_path, &st)) {
		fprintf(stderr, "shoal %s: cannot read %s: %s\n", command, from_path,
		        strerror(errno));
		return 1;
	}
	if (create_new(to_path, command))
		return 1;
	sqlite3 *from = open_or_say(from_path, SQLITE_OPEN_READONLY, command);
	sqlite3 *to = from ? open_or_say(to_path, SQLITE_OPEN_READWRITE, command) : NULL;
	int rc = 1;
	if (!to)
		goto done;
	int copied = copy_database(from, to);
	if (copied != SQLITE_OK) {
		fprintf(stderr, "shoal %s: the copy failed: %s\n", command, sqlite3_errstr(copied));
		goto done;
	}
	if (check_integrity(to, problem, sizeof problem)) {
		fprintf(stderr, "shoal %s: the copy is not sound: %s\n", command, problem);
		goto done;
	}
	rc = 0;
done:
	sqlite3_close(to);
	sqlite3_close(from);
	if (rc)
		unlink(to_path);
	return rc;
}

int cmd_backup(struct cli *cli)
{
	const char *from = sqlite_path(cli->config->db, "backup");
	if (!from)
		return 2;
	int rc = copy_checked(from, cli->args[0], "backup");
	if (!rc)
		printf("shoal: backed up %s to %s (integrity checked)\n", from, cli->args[0]);
	return rc;
}

int cmd_restore(struct cli *cli)
{
	const char *to = sqlite_path(cli->config->db, "restore");
	if (!to)
		return 2;
	int rc = copy_checked(cli->args[0], to, "restore");
	if (rc)
		return rc;
	/* A backup from a newer shoal must not be served by this one. */
	char err[512];
	struct db *db;
	int version = 0;
	if (db_open(cli->config->db, 1, &db, err, sizeof err) ||
	    migrate_version(db, &version, err, sizeof err)) {
		fprintf(stderr, "shoal restore: %s\n", err);
		return 1;
	}
	db_close(db);
	if (version > migrate_latest()) {
		fprintf(stderr,
		        "shoal restore: restored into %s, but the backup is at schema version %d, "
		        "newer "
		        "than this shoal knows (%d): serve it with a newer shoal\n",
		        to, version, migrate_latest());
		return 1;
	}
	printf("shoal: restored %s into %s (schema version %d%s)\n", cli->args[0], to, version,
	       version < migrate_latest() ? "; run `shoal migrate` before serving it" : "");
	return 0;
}
