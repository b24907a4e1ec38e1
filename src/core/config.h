/*
 * config.h — settings from an INI file, overridden by environment variables,
 * overridden by command-line flags.
 *
 * Each setting has one name used everywhere: the INI key (in its section), the
 * environment variable SHOAL_<NAME> and the flag --<name>. A bad value stops
 * the program with one line that names the setting and where it came from.
 */
#ifndef SHOAL_CORE_CONFIG_H
#define SHOAL_CORE_CONFIG_H

#include <stddef.h>

#include "core/limits.h"

struct config {
	char db[LIMIT_CONFIG_VALUE_BYTES];        /* sqlite:PATH or postgresql://… */
	char listen[LIMIT_CONFIG_VALUE_BYTES];    /* HOST:PORT; port 0 picks a free one */
	char base_url[LIMIT_CONFIG_VALUE_BYTES];  /* how users reach Shoal, for links in emails */
	char smtp_url[LIMIT_CONFIG_VALUE_BYTES];  /* smtp://host:port or smtps://…; empty = write
	                                             files */
	char mail_from[LIMIT_CONFIG_VALUE_BYTES]; /* the From: address of Shoal's mail */
	char mail_dir[LIMIT_CONFIG_VALUE_BYTES];  /* where .eml files go when smtp_url is empty */
	char trusted_proxies[LIMIT_CONFIG_VALUE_BYTES]; /* addresses whose X-Forwarded-For is
	                                                   believed */
	char metrics_from[LIMIT_CONFIG_VALUE_BYTES];    /* addresses that may read /metrics */
	unsigned threads;                               /* HTTP worker threads; 0 = four per core */
	unsigned db_pool;                               /* database connections; 0 = threads + 2 */
	int quiet;                                      /* no access log or info lines */
};

/** Fills c with the defaults. */
void config_defaults(struct config *c);
/** Reads an INI file into c. On error writes one line to err and returns -1. */
int config_load_file(struct config *c, const char *path, char *err, size_t errlen);
/** Reads INI text (named name in messages) into c, as config_load_file does. */
int config_load_string(struct config *c, const char *text, const char *name, char *err,
                       size_t errlen);
/** Applies SHOAL_* environment variables. On a bad value writes one line to err, returns -1. */
int config_load_env(struct config *c, char *err, size_t errlen);
/**
 * Applies one flag value (name without the leading dashes). Returns 0, -1 for a
 * bad value (err says why), or 1 when name is not a setting.
 */
int config_set(struct config *c, const char *name, const char *value, const char *source, char *err,
               size_t errlen);
/** Splits c->listen into host and port. Returns 0 or -1. */
int config_listen_parts(const struct config *c, char *host, size_t hostlen, unsigned *port);

#endif
