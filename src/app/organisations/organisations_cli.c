/*
 * organisations_cli.c — `shoal import organisations FILE.csv`.
 *
 * The command an administrator runs to load or refresh the collective's
 * organisations from a spreadsheet. It prints each problem as FILE:LINE:
 * message (the form editors and `grep -n` use, so that a person can jump to the
 * line), or one line saying what was imported. The file is read whole, after
 * its size is checked, because the import checks every line before writing any.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "app/organisations/organisations.h"
#include "core/limits.h"
#include "core/xmalloc.h"
#include "db/migrate.h"

#define COMMAND "shoal import organisations"

/* Reads the whole file into *data (NUL-terminated, caller frees), refusing one over
 * LIMIT_IMPORT_BYTES before reading it where the size is known, and while reading otherwise
 * (a pipe). Returns 0, or -1 with err saying why. */
static int read_csv_file(const char *path, char **data, size_t *len, char *err, size_t errlen)
{
	char *text = NULL;
	size_t n = 0, alloc = 0;
	struct stat sb;
	FILE *f = fopen(path, "rb");
	if (!f) {
		snprintf(err, errlen, "cannot read %s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fileno(f), &sb) == 0 && S_ISDIR(sb.st_mode)) {
		snprintf(err, errlen, "cannot read %s: it is a directory", path);
		goto fail;
	}
	if (fstat(fileno(f), &sb) == 0 && S_ISREG(sb.st_mode) && sb.st_size > LIMIT_IMPORT_BYTES)
		goto too_large;
	for (;;) {
		if (n == alloc) {
			alloc = alloc ? alloc * 2 : 64 * 1024;
			if (alloc > LIMIT_IMPORT_BYTES + 1)
				alloc = LIMIT_IMPORT_BYTES + 1;
			text = xrealloc(text, alloc + 1);
		}
		size_t got = fread(text + n, 1, alloc - n, f);
		n += got;
		if (n > LIMIT_IMPORT_BYTES)
			goto too_large;
		if (got == 0)
			break;
	}
	if (ferror(f)) {
		snprintf(err, errlen, "cannot read %s: %s", path, strerror(errno));
		goto fail;
	}
	fclose(f);
	text[n] = '\0';
	*data = text;
	*len = n;
	return 0;
too_large:
	snprintf(err, errlen, "%s is larger than %u MB: split it into smaller files", path,
	         LIMIT_IMPORT_BYTES >> 20);
fail:
	fclose(f);
	free(text);
	return -1;
}

int cmd_import_organisations(struct cli *cli)
{
	const char *path = cli->args[0];
	char err[512];
	char *data = NULL;
	size_t len = 0;
	struct db *db = NULL;
	struct import_report *report = xmalloc(sizeof *report);
	int status = 1;
	if (read_csv_file(path, &data, &len, err, sizeof err)) {
		fprintf(stderr, COMMAND ": %s\n", err);
		goto done;
	}
	/* One connection: the import is one transaction. */
	if (db_open(cli->config->db, 1, &db, err, sizeof err) ||
	    migrate_check(db, err, sizeof err)) {
		fprintf(stderr, "shoal: %s\n", err);
		goto done;
	}
	struct organisations_actor system = {0, "system", NULL};
	int rc = organisations_import(db, data, len, &system, report, NULL);
	if (rc == IMPORT_OK) {
		size_t total = report->added + report->updated + report->unchanged;
		printf("imported %zu organisation%s (%zu added, %zu updated, %zu unchanged)\n",
		       total, total == 1 ? "" : "s", report->added, report->updated,
		       report->unchanged);
		status = 0;
		goto done;
	}
	for (size_t i = 0; i < report->n_kept; i++) {
		const struct import_problem *p = &report->problems[i];
		if (p->line)
			fprintf(stderr, "%s:%lu: %s\n", path, p->line, p->message);
		else
			fprintf(stderr, "%s: %s\n", path, p->message);
	}
	if (report->n_problems > report->n_kept)
		fprintf(stderr, "%s: and %zu more problem%s\n", path,
		        report->n_problems - report->n_kept,
		        report->n_problems - report->n_kept == 1 ? "" : "s");
	if (rc == IMPORT_INVALID)
		fprintf(stderr, COMMAND ": %zu problem%s in %s; nothing was imported\n",
		        report->n_problems, report->n_problems == 1 ? "" : "s", path);
	else
		fprintf(stderr, COMMAND ": nothing was imported\n");
done:
	if (db)
		db_close(db);
	free(data);
	free(report);
	return status;
}
