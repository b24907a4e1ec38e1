/*
 * mail_cli.c — `shoal mail test`: lets an IT lead check the mail settings
 * without waiting for a real invitation, and lets the tests drive delivery.
 *
 *   shoal mail test --to ADDRESS              queue a test message, deliver due mail now
 *   shoal mail test --to ADDRESS --queue-only queue it for a running `shoal serve`
 *
 * The test message goes through the outbox like any other, so a success here
 * means invitations and resets will go out the same way.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "core/cli.h"
#include "db/migrate.h"
#include "mail/mail.h"

/* main.c's exit statuses. */
enum { MAIL_CLI_OK = 0, MAIL_CLI_FAILED = 1, MAIL_CLI_USAGE = 2 };

const struct cli_option mail_test_options[] = {
    {"to", "ADDRESS", "where to send the test message (required)"},
    {"queue-only", NULL, "only queue it, for a running shoal serve to deliver"},
    {0},
};

static const char test_subject[] = "Shoal test message";
static const char test_text[] =
    "This is a test message from Shoal.\n\n"
    "If it reached you, Shoal can send invitations, password resets and security\n"
    "notices. No action is needed.\n";
static const char test_html[] =
    "<!DOCTYPE html>\n<html lang=\"en-GB\"><body>\n"
    "<p>This is a test message from Shoal.</p>\n"
    "<p>If it reached you, Shoal can send invitations, password resets and security "
    "notices. No action is needed.</p>\n</body></html>\n";

/* Whether the test message went out; if not, its last error goes to why. */
static int test_message_sent(struct db *db, int64_t id, char *why, size_t whylen)
{
	int sent = 0;
	snprintf(why, whylen, "it is still waiting (another shoal may be sending it)");
	struct db_conn *c = db_acquire(db);
	if (!c) {
		snprintf(why, whylen, "the database cannot be reached");
		return 0;
	}
	struct db_stmt *st = db_prepare(c, "SELECT sent_at, last_error FROM outbox WHERE id = $1");
	if (st) {
		db_bind_int(st, 1, id);
		if (db_step(st) == DB_ROW) {
			sent = !db_col_is_null(st, 0);
			if (!sent && db_col_text(st, 1))
				snprintf(why, whylen, "%s", db_col_text(st, 1));
		}
		db_reset(st);
	}
	db_release(c);
	return sent;
}

int cmd_mail_test(struct cli *cli)
{
	const struct config *cfg = cli->config;
	const char *to = cli_get(cli, "to");
	char err[512];
	struct db *db = NULL;
	int64_t id = 0;
	int status = MAIL_CLI_FAILED;
	if (!to) {
		fprintf(stderr, "shoal mail test: --to ADDRESS is required\n");
		return MAIL_CLI_USAGE;
	}
	if (!mail_address_valid(to)) {
		/* Echo it without control characters: the error stays one line. */
		char shown[81];
		snprintf(shown, sizeof shown, "%s", to);
		for (char *p = shown; *p; p++)
			if ((unsigned char)*p < 0x20 || *p == 0x7f)
				*p = '?';
		fprintf(stderr, "shoal mail test: \"%s\" is not one email address\n", shown);
		return MAIL_CLI_USAGE;
	}
	if (db_open(cfg->db, 2, &db, err, sizeof err) || migrate_check(db, err, sizeof err)) {
		fprintf(stderr, "shoal: %s\n", err);
		goto done;
	}
	struct db_conn *c = db_acquire(db);
	if (!c) {
		fprintf(stderr, "shoal: the database cannot be reached\n");
		goto done;
	}
	int rc = mail_queue_get_id(c, to, test_subject, test_text, test_html, &id);
	if (rc)
		fprintf(stderr, "shoal: cannot queue the test message: %s\n", db_errmsg(c));
	db_release(c);
	if (rc)
		goto done;
	if (cli_get(cli, "queue-only")) {
		printf("shoal: queued test message %" PRId64 " to %s\n", id, to);
		status = MAIL_CLI_OK;
		goto done;
	}
	int sent = 0, failed = 0;
	rc = mail_deliver(db, cfg, NULL, &sent, &failed, err, sizeof err);
	printf("shoal: delivered due mail: %d sent, %d failed\n", sent, failed);
	if (rc) {
		fprintf(stderr, "shoal: %s\n", err);
		goto done;
	}
	char why[512];
	if (!test_message_sent(db, id, why, sizeof why)) {
		fprintf(stderr, "shoal: the test message was not delivered: %s\n", why);
		goto done;
	}
	if (cfg->smtp_url[0])
		printf("shoal: test message %" PRId64 " sent to %s over SMTP\n", id, to);
	else
		printf("shoal: test message %" PRId64 " written to %s (no smtp_url is set)\n", id,
		       cfg->mail_dir);
	status = MAIL_CLI_OK;
done:
	if (db)
		db_close(db);
	return status;
}
