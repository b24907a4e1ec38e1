/*
 * config.c — INI file (inih) < SHOAL_* environment < --flags (see config.h).
 */
#include "core/config.h"

#include <ctype.h>
#include <errno.h>
#include <ini.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum setting_type { SETTING_TEXT, SETTING_UINT, SETTING_BOOL };

struct setting {
	const char *name;    /* flag name and, upper-cased, SHOAL_<NAME> */
	const char *section; /* INI section */
	const char *key;     /* INI key */
	enum setting_type type;
	size_t offset;
	unsigned max; /* for SETTING_UINT */
};

/* clang-format off */
static const struct setting settings[] = {
	{"db",        "database", "url",      SETTING_TEXT, offsetof(struct config, db), 0},
	{"db-pool",   "database", "pool",     SETTING_UINT, offsetof(struct config, db_pool), 256},
	{"listen",    "server",   "listen",   SETTING_TEXT, offsetof(struct config, listen), 0},
	{"threads",   "server",   "threads",  SETTING_UINT, offsetof(struct config, threads), 256},
	{"base-url",  "server",   "base_url", SETTING_TEXT, offsetof(struct config, base_url), 0},
	{"smtp-url",  "mail",     "smtp_url", SETTING_TEXT, offsetof(struct config, smtp_url), 0},
	{"mail-from", "mail",     "from",     SETTING_TEXT, offsetof(struct config, mail_from), 0},
	{"mail-dir",  "mail",     "dir",      SETTING_TEXT, offsetof(struct config, mail_dir), 0},
	{"trusted-proxies", "server", "trusted_proxies", SETTING_TEXT, offsetof(struct config, trusted_proxies), 0},
	{"metrics-from", "server", "metrics_from", SETTING_TEXT, offsetof(struct config, metrics_from), 0},
	{"quiet",     "log",      "quiet",    SETTING_BOOL, offsetof(struct config, quiet), 1},
};
/* clang-format on */

void config_defaults(struct config *c)
{
	memset(c, 0, sizeof *c);
	strcpy(c->db, "sqlite:var/shoal.db");
	strcpy(c->listen, "127.0.0.1:8080");
	strcpy(c->base_url, "http://127.0.0.1:8080");
	strcpy(c->mail_from, "Shoal <shoal@localhost>");
	strcpy(c->mail_dir, "var/mail");
	strcpy(c->metrics_from, "127.0.0.1,::1");
}

int config_listen_parts(const struct config *c, char *host, size_t hostlen, unsigned *port)
{
	const char *colon = strrchr(c->listen, ':');
	if (!colon || colon == c->listen || (size_t)(colon - c->listen) >= hostlen)
		return -1;
	char *end;
	errno = 0;
	unsigned long p = strtoul(colon + 1, &end, 10);
	if (errno || end == colon + 1 || *end || p > 65535)
		return -1;
	memcpy(host, c->listen, (size_t)(colon - c->listen));
	host[colon - c->listen] = '\0';
	*port = (unsigned)p;
	return 0;
}

/* Checks a text setting whose form matters; returns a reason or NULL. */
static const char *check_text(const struct config *c, const char *name)
{
	if (!strcmp(name, "db")) {
		if (!strncmp(c->db, "sqlite:", 7) && c->db[7])
			return NULL;
		if (!strncmp(c->db, "postgresql://", 13) || !strncmp(c->db, "postgres://", 11))
			return NULL;
		return "expected sqlite:PATH or postgresql://…";
	}
	if (!strcmp(name, "base-url"))
		return strncmp(c->base_url, "http://", 7) && strncmp(c->base_url, "https://", 8)
		           ? "expected http://… or https://…"
		           : NULL;
	if (!strcmp(name, "smtp-url"))
		return c->smtp_url[0] && strncmp(c->smtp_url, "smtp://", 7) &&
		               strncmp(c->smtp_url, "smtps://", 8)
		           ? "expected smtp://HOST:PORT or smtps://HOST:PORT (or empty)"
		           : NULL;
	if (!strcmp(name, "listen")) {
		char host[256];
		unsigned port;
		return config_listen_parts(c, host, sizeof host, &port) ? "expected HOST:PORT"
		                                                        : NULL;
	}
	return NULL;
}

static int apply(struct config *c, const struct setting *s, const char *value, const char *source,
                 char *err, size_t errlen)
{
	char *field = (char *)c + s->offset;
	const char *why = NULL;
	if (strlen(value) >= LIMIT_CONFIG_VALUE_BYTES) {
		why = "too long";
	} else if (s->type == SETTING_TEXT) {
		char saved[LIMIT_CONFIG_VALUE_BYTES];
		memcpy(saved, field, LIMIT_CONFIG_VALUE_BYTES);
		strcpy(field, value);
		why = check_text(c, s->name);
		if (why)
			memcpy(field, saved, LIMIT_CONFIG_VALUE_BYTES);
	} else if (s->type == SETTING_BOOL) {
		if (!strcmp(value, "1") || !strcmp(value, "true") || !strcmp(value, "yes"))
			*(int *)field = 1;
		else if (!strcmp(value, "0") || !strcmp(value, "false") || !strcmp(value, "no"))
			*(int *)field = 0;
		else
			why = "expected true or false";
	} else {
		char *end;
		errno = 0;
		unsigned long v = strtoul(value, &end, 10);
		if (errno || end == value || *end || !isdigit((unsigned char)value[0]) ||
		    v > s->max)
			why = "expected a whole number";
		else
			*(unsigned *)field = (unsigned)v;
	}
	if (!why)
		return 0;
	snprintf(err, errlen, "bad setting %s (from %s): \"%.80s\": %s", s->name, source, value,
	         why);
	return -1;
}

int config_set(struct config *c, const char *name, const char *value, const char *source, char *err,
               size_t errlen)
{
	for (size_t i = 0; i < sizeof settings / sizeof settings[0]; i++)
		if (!strcmp(settings[i].name, name))
			return apply(c, &settings[i], value, source, err, errlen);
	return 1;
}

struct ini_state {
	struct config *c;
	const char *path;
	char *err;
	size_t errlen;
	int failed;
};

static int on_ini_line(void *user, const char *section, const char *key, const char *value)
{
	struct ini_state *st = user;
	if (st->failed)
		return 0;
	char source[512];
	snprintf(source, sizeof source, "%s [%s] %s", st->path, section, key);
	for (size_t i = 0; i < sizeof settings / sizeof settings[0]; i++) {
		const struct setting *s = &settings[i];
		if (!strcmp(s->section, section) && !strcmp(s->key, key)) {
			if (apply(st->c, s, value, source, st->err, st->errlen) == 0)
				return 1;
			st->failed = 1;
			return 0;
		}
	}
	snprintf(st->err, st->errlen, "config file %s: unknown setting [%s] %s", st->path, section,
	         key);
	st->failed = 1;
	return 0;
}

/* Turns inih's answer into one line in err: the first bad setting, the file
 * that cannot be read, or the line that is not INI. */
static int ini_result(const struct ini_state *st, int rc, const char *path, char *err,
                      size_t errlen)
{
	if (st->failed)
		return -1;
	if (rc == -1) {
		snprintf(err, errlen, "cannot read config file %s: %s", path, strerror(errno));
		return -1;
	}
	if (rc != 0) {
		snprintf(err, errlen, "config file %s line %d: not a valid INI line", path, rc);
		return -1;
	}
	return 0;
}

int config_load_file(struct config *c, const char *path, char *err, size_t errlen)
{
	struct ini_state st = {c, path, err, errlen, 0};
	return ini_result(&st, ini_parse(path, on_ini_line, &st), path, err, errlen);
}

int config_load_string(struct config *c, const char *text, const char *name, char *err,
                       size_t errlen)
{
	struct ini_state st = {c, name, err, errlen, 0};
	return ini_result(&st, ini_parse_string(text, on_ini_line, &st), name, err, errlen);
}

int config_load_env(struct config *c, char *err, size_t errlen)
{
	for (size_t i = 0; i < sizeof settings / sizeof settings[0]; i++) {
		char var[64] = "SHOAL_";
		size_t n = 6;
		for (const char *p = settings[i].name; *p && n < sizeof var - 1; p++)
			var[n++] = *p == '-' ? '_' : (char)toupper((unsigned char)*p);
		var[n] = '\0';
		const char *v = getenv(var);
		if (v && apply(c, &settings[i], v, var, err, errlen))
			return -1;
	}
	return 0;
}
