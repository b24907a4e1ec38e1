/*
 * cli.h — what a `shoal` command receives: the settings, and its own options
 * and arguments, already checked against the options it declares.
 */
#ifndef SHOAL_CORE_CLI_H
#define SHOAL_CORE_CLI_H

#include "core/config.h"

#define CLI_MAX_ARGS 16

/* An option a command takes beyond the settings (--db, --listen, …). */
struct cli_option {
	const char *name;     /* without the dashes: "email" */
	const char *argument; /* "E" for --email E; NULL for a flag such as --password-stdin */
	const char *help;
};

struct cli {
	struct config *config;
	const char *args[CLI_MAX_ARGS]; /* positional arguments, in order */
	int n_args;
	const char *names[CLI_MAX_ARGS]; /* options given, with their values ("1" for flags) */
	const char *values[CLI_MAX_ARGS];
	int n_options;
};

/** The value of option name, or NULL when it was not given. */
const char *cli_get(const struct cli *cli, const char *name);

#endif
