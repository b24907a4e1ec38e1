/*
 * main.c — the `shoal` command: parses the command line and dispatches.
 *
 *   shoal serve | migrate | demo | version | help   [--db URL] [--listen HOST:PORT] …
 *
 * Settings come from an INI file (--config FILE or SHOAL_CONFIG), then SHOAL_*
 * environment variables, then flags; each later source wins. Every error is one
 * line on standard error naming what is wrong, and a non-zero exit status.
 */
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "app/app.h"
#include "app/demo/demo.h"
#include "app/organisations/organisations.h"
#include "app/access.h"
#include "app/api/tokens.h"
#include "app/audit/audit.h"
#include "app/page.h"
#include "app/people/people.h"
#include "app/pressure/briefing.h"
#include "app/notifications/notifications.h"
#include "app/pressure/pressure.h"
#include "auth/crypto.h"
#include "auth/password.h"
#include "core/cli.h"
#include "core/config.h"
#include "core/log.h"
#include "db/backup.h"
#include "db/migrate.h"
#include "http/server.h"
#include "jobs/jobs.h"
#include "mail/mail.h"
#include "shoal_version.h"

enum exit_code { EXIT_OK = 0, EXIT_FAILED = 1, EXIT_USAGE = 2 };

/* Which settings a command reads, for its --help and for refusing the others. */
enum uses { USES_NOTHING = 0, USES_DB = 1, USES_SERVER = 2 };

struct command {
	const char *name; /* one or two words: "serve", "user add" */
	int (*run)(struct cli *cli);
	const char *summary;
	unsigned uses;                    /* enum uses */
	const struct cli_option *options; /* its own options, ending with {0} */
	const char *arguments;            /* positional arguments, for --help: "FILE.csv" */
	int n_arguments;                  /* how many it needs */
};

static const char db_help[] =
    "  --db URL            database: sqlite:PATH or postgresql://… (default sqlite:var/shoal.db)\n"
    "  --db-pool N         database connections to keep (default: threads + 2)\n";
static const char server_help[] =
    "  --listen HOST:PORT  address to listen on (default 127.0.0.1:8080; port 0 picks one)\n"
    "  --threads N         HTTP worker threads (default: four per core)\n"
    "  --quiet             no access log\n"
    "  --base-url URL      how people reach Shoal, for links in emails (default "
    "http://127.0.0.1:8080)\n"
    "  --smtp-url URL      smtp://HOST:PORT or smtps://HOST:PORT; empty writes mail to files\n"
    "  --mail-from FROM    the From: of Shoal's mail (default Shoal <shoal@localhost>)\n"
    "  --mail-dir DIR      where mail files go without SMTP (default var/mail)\n"
    "  --trusted-proxies A,B  reverse proxies whose X-Forwarded-For names the client\n"
    "  --metrics-from A,B  addresses that may read /metrics (default 127.0.0.1,::1)\n";
static const char config_help[] =
    "  --config FILE       read settings from an INI file first (also SHOAL_CONFIG)\n"
    "  --help              show this help\n"
    "Each setting can also be given as SHOAL_<NAME> in the environment (SHOAL_DB, SHOAL_LISTEN…);\n"
    "flags win over the environment, which wins over the file.\n";

/*
 * HTTP worker threads: four per core unless set. A request spends more of its
 * time waiting on the database (a WAL flush shared with other writers, a round
 * trip to PostgreSQL) than computing, and with one thread per core the cores sat
 * idle in those waits: on 2 cores, 8 threads served 1.9× the PostgreSQL thread
 * pages and 2× the durable SQLite posts of 2 threads (make bench, one run).
 */
static unsigned worker_threads(const struct config *c)
{
	long cores = sysconf(_SC_NPROCESSORS_ONLN);
	return c->threads ? c->threads : 4 * (unsigned)(cores > 0 ? cores : 1);
}

static unsigned pool_size(const struct config *c)
{
	return c->db_pool ? c->db_pool : worker_threads(c) + 2;
}

static int open_db(const struct config *c, struct db **db)
{
	char err[512];
	if (db_open(c->db, pool_size(c), db, err, sizeof err)) {
		fprintf(stderr, "shoal: %s\n", err);
		return -1;
	}
	return 0;
}

/*
 * One malloc arena a core, not glibc's eight. Each arena keeps the high-water mark of
 * what its threads allocated, so with a dozen threads the server's memory was several
 * arenas' worth of the same peaks: submitting returns under 32 connections held 42 MB,
 * 32 MB with two arenas, at the same speed (make bench, one sitting; thread pages too).
 */
static void fewer_malloc_arenas(void)
{
#ifdef M_ARENA_MAX
	long cores = sysconf(_SC_NPROCESSORS_ONLN);
	mallopt(M_ARENA_MAX, cores > 0 ? (int)cores : 1);
#endif
}

static int cmd_serve(struct cli *cli)
{
	struct config *c = cli->config;
	char err[512], host[256];
	unsigned port;
	struct db *db;
	fewer_malloc_arenas();
	if (config_listen_parts(c, host, sizeof host, &port)) {
		fprintf(stderr, "shoal: bad setting listen: \"%s\": expected HOST:PORT\n",
		        c->listen);
		return EXIT_USAGE;
	}
	if (password_load_common(NULL) < 0) {
		fprintf(stderr,
		        "shoal: cannot initialise password checks (is john-data installed?)\n");
		return EXIT_FAILED;
	}
	if (open_db(c, &db))
		return EXIT_FAILED;
	struct app app = {.db = db, .config = c};
	if (migrate_check(db, err, sizeof err) || app_load_settings(&app, err, sizeof err)) {
		fprintf(stderr, "shoal: %s\n", err);
		db_close(db);
		return EXIT_FAILED;
	}
	/* Block the stop signals in every thread; this one waits for them below. */
	sigset_t stop;
	sigemptyset(&stop);
	sigaddset(&stop, SIGTERM);
	sigaddset(&stop, SIGINT);
	pthread_sigmask(SIG_BLOCK, &stop, NULL);
	signal(SIGPIPE, SIG_IGN);
	struct http_server_options opt = {
	    .host = host,
	    .port = port,
	    .threads = worker_threads(c),
	    .routes = app_routes,
	    .n_routes = app_n_routes,
	    .app = &app,
	    .error_page = page_error,
	    .trusted_proxies = c->trusted_proxies,
	    .before = access_before,
	    .after = access_after,
	    .quiet = c->quiet,
	    .body_limits = app_body_limits,
	    .n_body_limits = app_n_body_limits,
	    .may_send_large_body = access_may_upload,
	};
	app.server = http_server_start(&opt, err, sizeof err);
	if (!app.server) {
		fprintf(stderr, "shoal: %s\n", err);
		db_close(db);
		return EXIT_FAILED;
	}
	if (jobs_start(db, c))
		log_error("mail and other background jobs will not run");
	if (pressure_live_start(db, c->db))
		log_error("live updates of pressure figures will not run");
	printf("shoal %s: serving %s on http://%s:%u/ (database %s)\n", SHOAL_VERSION,
	       app.collective_name, host, http_server_port(app.server),
	       db_kind(db) == DB_SQLITE ? c->db : "postgresql");
	fflush(stdout);
	int sig;
	sigwait(&stop, &sig);
	log_info("received %s: finishing requests in progress, then stopping",
	         sig == SIGTERM ? "SIGTERM" : "SIGINT");
	http_server_stop(app.server);
	pressure_live_stop();
	briefing_pdf_shutdown();
	jobs_stop();
	db_close(db);
	log_info("stopped");
	return EXIT_OK;
}

static int cmd_migrate(struct cli *cli)
{
	struct config *c = cli->config;
	char err[512];
	struct db *db;
	int applied;
	if (open_db(c, &db))
		return EXIT_FAILED;
	int rc = migrate_apply(db, &applied, err, sizeof err);
	db_close(db);
	if (rc) {
		fprintf(stderr, "shoal: %s\n", err);
		return EXIT_FAILED;
	}
	printf("shoal: database at schema version %d (%d migration%s applied)\n", migrate_latest(),
	       applied, applied == 1 ? "" : "s");
	return EXIT_OK;
}

static int cmd_demo(struct cli *cli)
{
	struct config *c = cli->config;
	char err[512];
	struct db *db;
	int n;
	if (cli_get(cli, "accounts")) {
		demo_print_accounts(stdout);
		return EXIT_OK;
	}
	if (open_db(c, &db))
		return EXIT_FAILED;
	int rc = migrate_check(db, err, sizeof err);
	if (!rc)
		rc = demo_load(db, &n, err, sizeof err);
	db_close(db);
	if (rc) {
		fprintf(stderr, "shoal: %s\n", err);
		return EXIT_FAILED;
	}
	printf("shoal: loaded the fictional demo collective (%d organisations)\n", n);
	return EXIT_OK;
}

static int cmd_version(struct cli *cli)
{
	(void)cli;
	printf("shoal %s (schema version %d)\n", SHOAL_VERSION, migrate_latest());
	return EXIT_OK;
}

static int cmd_help(struct cli *cli);

static const struct command commands[] = {
    {"serve", cmd_serve, "Serve the web application", USES_DB | USES_SERVER, NULL, NULL, 0},
    {"migrate", cmd_migrate, "Apply pending database migrations", USES_DB, NULL, NULL, 0},
    {"demo", cmd_demo, "Load the fictional demo collective (safe to repeat)", USES_DB, demo_options,
     NULL, 0},
    {"user add", cmd_user_add, "Add a person (the first administrator, or anyone in scripts)",
     USES_DB, user_add_options, NULL, 0},
    {"import organisations", cmd_import_organisations, "Import organisations from a CSV file",
     USES_DB, NULL, "FILE.csv", 1},
    {"mail test", cmd_mail_test, "Send a test email through the outbox", USES_DB | USES_SERVER,
     mail_test_options, NULL, 0},
    {"digest send", cmd_digest_send, "Send the discussion digests due now (or --at a time)",
     USES_DB | USES_SERVER, digest_send_options, NULL, 0},
    {"token create", cmd_token_create, "Make an API token for a person and print it once", USES_DB,
     token_create_options, NULL, 0},
    {"audit verify", cmd_audit_verify, "Check that no audit trail entry was changed or removed",
     USES_DB, NULL, NULL, 0},
    {"backup", cmd_backup, "Copy the SQLite database while Shoal runs", USES_DB, NULL, "FILE", 1},
    {"restore", cmd_restore, "Restore a backup into a new SQLite database", USES_DB, NULL, "FILE",
     1},
    {"version", cmd_version, "Print the version", USES_NOTHING, NULL, NULL, 0},
    {"help", cmd_help, "Show this help", USES_NOTHING, NULL, NULL, 0},
};
#define N_COMMANDS (sizeof commands / sizeof commands[0])

static void usage(FILE *out)
{
	fprintf(out, "Usage: shoal COMMAND [options]\n\nShoal, the members-only network of a "
	             "general practice collective.\n\nCommands:\n");
	for (size_t i = 0; i < N_COMMANDS; i++)
		fprintf(out, "  %-20s %s\n", commands[i].name, commands[i].summary);
	fprintf(out, "\nRun `shoal COMMAND --help` for a command's options.\n");
}

static void command_usage(const struct command *cmd)
{
	printf("Usage: shoal %s [options]%s%s\n\n%s.\n\nOptions:\n", cmd->name,
	       cmd->arguments ? " " : "", cmd->arguments ? cmd->arguments : "", cmd->summary);
	for (const struct cli_option *o = cmd->options; o && o->name; o++) {
		char left[64];
		snprintf(left, sizeof left, "--%s%s%s", o->name, o->argument ? " " : "",
		         o->argument ? o->argument : "");
		printf("  %-19s %s\n", left, o->help);
	}
	if (cmd->uses & USES_SERVER)
		fputs(server_help, stdout);
	if (cmd->uses & USES_DB)
		fputs(db_help, stdout);
	if (cmd->uses)
		fputs(config_help, stdout);
	else
		printf("  --help              show this help\n");
}

static int cmd_help(struct cli *cli)
{
	(void)cli;
	usage(stdout);
	return EXIT_OK;
}

/* Finds the command named by argv[1] (and argv[2] for two-word commands). */
static const struct command *find_command(int argc, char **argv, int *words)
{
	for (size_t i = 0; i < N_COMMANDS; i++) {
		const char *name = commands[i].name, *space = strchr(name, ' ');
		if (!space && !strcmp(name, argv[1])) {
			*words = 1;
			return &commands[i];
		}
		if (space && argc > 2 && !strncmp(name, argv[1], (size_t)(space - name)) &&
		    argv[1][space - name] == '\0' && !strcmp(space + 1, argv[2])) {
			*words = 2;
			return &commands[i];
		}
	}
	return NULL;
}

/* Whether a setting flag applies to this command. */
static int setting_applies(const struct command *cmd, const char *name)
{
	if (!strcmp(name, "db") || !strcmp(name, "db-pool"))
		return cmd->uses & USES_DB;
	return cmd->uses & USES_SERVER;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))
		return cmd_help(NULL);
	if (!strcmp(argv[1], "--version"))
		return cmd_version(NULL);
	if (auth_crypto_init()) {
		fprintf(stderr, "shoal: cannot initialise libsodium\n");
		return EXIT_FAILED;
	}
	int words;
	const struct command *cmd = find_command(argc, argv, &words);
	if (!cmd) {
		fprintf(stderr, "shoal: unknown command \"%.80s\" (try shoal --help)\n", argv[1]);
		return EXIT_USAGE;
	}
	struct config c;
	struct cli cli = {.config = &c};
	char err[512];
	config_defaults(&c);
	const char *config_file = getenv("SHOAL_CONFIG");
	for (int i = 1 + words; i < argc; i++) {
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			command_usage(cmd);
			return EXIT_OK;
		}
		if (!strcmp(argv[i], "--config") && i + 1 < argc)
			config_file = argv[i + 1];
		else if (!strncmp(argv[i], "--config=", 9))
			config_file = argv[i] + 9;
	}
	if (cmd->uses && config_file && *config_file &&
	    config_load_file(&c, config_file, err, sizeof err)) {
		fprintf(stderr, "shoal: %s\n", err);
		return EXIT_USAGE;
	}
	if (cmd->uses && config_load_env(&c, err, sizeof err)) {
		fprintf(stderr, "shoal: %s\n", err);
		return EXIT_USAGE;
	}
	for (int i = 1 + words; i < argc; i++) {
		const char *arg = argv[i];
		if (strncmp(arg, "--", 2)) {
			if (cli.n_args == cmd->n_arguments || cli.n_args == CLI_MAX_ARGS) {
				fprintf(stderr, "shoal %s: unexpected argument \"%.80s\"\n",
				        cmd->name, arg);
				return EXIT_USAGE;
			}
			cli.args[cli.n_args++] = arg;
			continue;
		}
		char name[64];
		const char *eq = strchr(arg, '=');
		size_t len = eq ? (size_t)(eq - arg - 2) : strlen(arg + 2);
		if (len >= sizeof name) {
			fprintf(stderr, "shoal %s: unknown option \"%.80s\"\n", cmd->name, arg);
			return EXIT_USAGE;
		}
		memcpy(name, arg + 2, len);
		name[len] = '\0';
		const struct cli_option *own = NULL;
		for (const struct cli_option *o = cmd->options; o && o->name; o++)
			if (!strcmp(o->name, name))
				own = o;
		int is_flag = (own && !own->argument) || (!own && !strcmp(name, "quiet"));
		const char *value = eq ? eq + 1 : is_flag ? "1" : i + 1 < argc ? argv[++i] : NULL;
		if (!value) {
			fprintf(stderr, "shoal %s: option --%s needs a value\n", cmd->name, name);
			return EXIT_USAGE;
		}
		if (own) {
			if (cli.n_options == CLI_MAX_ARGS || cli_get(&cli, name)) {
				fprintf(stderr, "shoal %s: option --%s given twice\n", cmd->name,
				        name);
				return EXIT_USAGE;
			}
			cli.names[cli.n_options] = own->name;
			cli.values[cli.n_options++] = value;
			continue;
		}
		if (!strcmp(name, "config") && cmd->uses)
			continue;
		char source[80];
		snprintf(source, sizeof source, "--%s", name);
		int rc = setting_applies(cmd, name)
		             ? config_set(&c, name, value, source, err, sizeof err)
		             : 1;
		if (rc < 0) {
			fprintf(stderr, "shoal: %s\n", err);
			return EXIT_USAGE;
		}
		if (rc > 0) {
			fprintf(stderr, "shoal %s: unknown option --%s (try shoal %s --help)\n",
			        cmd->name, name, cmd->name);
			return EXIT_USAGE;
		}
	}
	if (cli.n_args < cmd->n_arguments) {
		fprintf(stderr, "shoal %s: missing %s (try shoal %s --help)\n", cmd->name,
		        cmd->arguments, cmd->name);
		return EXIT_USAGE;
	}
	log_set_quiet(c.quiet);
	return cmd->run(&cli);
}
